//! Event handlers: what an informer calls when an object is added, updated or deleted, a
//! closures-based handler, and a filtering handler.
//!
//! A handler is called from its listener's task, one notification at a time, in the order the
//! informer saw the changes. Handlers should return quickly (typically by putting a key on a
//! work queue); a slow handler only delays its own notifications.

use std::sync::Arc;

use crate::delta_fifo::DeltaObject;

/// Receives the changes an informer sees.
///
/// `on_delete` gets a [`DeltaObject`]: the object's last state, or a
/// `DeletedFinalStateUnknown` tombstone when the deletion was found by a relist and the final
/// state is unknown.
pub trait ResourceEventHandler<K>: Send + Sync + 'static {
    /// An object was added; `is_in_initial_list` is true for objects of the informer's first
    /// list (and for the cache replay a late-registered handler gets).
    fn on_add(&self, object: Arc<K>, is_in_initial_list: bool);
    /// An object changed (or, for handlers with a resync period, was resynchronised).
    fn on_update(&self, old: Arc<K>, new: Arc<K>);
    /// An object was deleted.
    fn on_delete(&self, object: DeltaObject<K>);
}

impl<K: 'static, H: ResourceEventHandler<K> + ?Sized> ResourceEventHandler<K> for Arc<H> {
    fn on_add(&self, object: Arc<K>, is_in_initial_list: bool) {
        (**self).on_add(object, is_in_initial_list)
    }
    fn on_update(&self, old: Arc<K>, new: Arc<K>) {
        (**self).on_update(old, new)
    }
    fn on_delete(&self, object: DeltaObject<K>) {
        (**self).on_delete(object)
    }
}

type AddFn<K> = Box<dyn Fn(Arc<K>, bool) + Send + Sync>;
type UpdateFn<K> = Box<dyn Fn(Arc<K>, Arc<K>) + Send + Sync>;
type DeleteFn<K> = Box<dyn Fn(DeltaObject<K>) + Send + Sync>;

/// A handler made of closures; a missing closure ignores its notifications (client-go's
/// `ResourceEventHandlerFuncs`).
///
/// ```
/// use kinformer_cache::ResourceEventHandlerFuncs;
/// use kinformer_meta::PartialObjectMetadata;
///
/// let handler = ResourceEventHandlerFuncs::<PartialObjectMetadata>::default()
///     .add_func(|object, _initial| println!("Add: {}", object.metadata.name()))
///     .delete_func(|object| println!("Delete: {:?}", object.object().map(|o| o.metadata.name().to_owned())));
/// # drop(handler);
/// ```
pub struct ResourceEventHandlerFuncs<K> {
    add: Option<AddFn<K>>,
    update: Option<UpdateFn<K>>,
    delete: Option<DeleteFn<K>>,
}

impl<K> Default for ResourceEventHandlerFuncs<K> {
    fn default() -> Self {
        ResourceEventHandlerFuncs {
            add: None,
            update: None,
            delete: None,
        }
    }
}

impl<K> ResourceEventHandlerFuncs<K> {
    /// Sets the closure called for additions.
    pub fn add_func(mut self, f: impl Fn(Arc<K>, bool) + Send + Sync + 'static) -> Self {
        self.add = Some(Box::new(f));
        self
    }

    /// Sets the closure called for updates (old, new).
    pub fn update_func(mut self, f: impl Fn(Arc<K>, Arc<K>) + Send + Sync + 'static) -> Self {
        self.update = Some(Box::new(f));
        self
    }

    /// Sets the closure called for deletions.
    pub fn delete_func(mut self, f: impl Fn(DeltaObject<K>) + Send + Sync + 'static) -> Self {
        self.delete = Some(Box::new(f));
        self
    }
}

impl<K: Send + Sync + 'static> ResourceEventHandler<K> for ResourceEventHandlerFuncs<K> {
    fn on_add(&self, object: Arc<K>, is_in_initial_list: bool) {
        if let Some(add) = &self.add {
            add(object, is_in_initial_list)
        }
    }
    fn on_update(&self, old: Arc<K>, new: Arc<K>) {
        if let Some(update) = &self.update {
            update(old, new)
        }
    }
    fn on_delete(&self, object: DeltaObject<K>) {
        if let Some(delete) = &self.delete {
            delete(object)
        }
    }
}

/// A filter over objects: true when the object is of interest.
pub type FilterFunc<K> = Arc<dyn Fn(&K) -> bool + Send + Sync>;

/// Passes to an inner handler only the objects a filter accepts, as client-go's
/// `FilteringResourceEventHandler` does.
///
/// An update whose object starts to pass the filter reaches the inner handler as an add (not
/// in the initial list), one whose object stops passing as a delete of the old state; an
/// update where neither passes is dropped. A tombstone without a last known state cannot be
/// judged and is passed on.
pub struct FilteringResourceEventHandler<K, H> {
    filter: FilterFunc<K>,
    handler: H,
}

impl<K, H> FilteringResourceEventHandler<K, H> {
    /// Wraps `handler` behind `filter`.
    pub fn new(filter: impl Fn(&K) -> bool + Send + Sync + 'static, handler: H) -> Self {
        FilteringResourceEventHandler {
            filter: Arc::new(filter),
            handler,
        }
    }

    /// The inner handler.
    pub fn inner(&self) -> &H {
        &self.handler
    }
}

impl<K, H> ResourceEventHandler<K> for FilteringResourceEventHandler<K, H>
where
    K: Send + Sync + 'static,
    H: ResourceEventHandler<K>,
{
    fn on_add(&self, object: Arc<K>, is_in_initial_list: bool) {
        if (self.filter)(&object) {
            self.handler.on_add(object, is_in_initial_list)
        }
    }

    fn on_update(&self, old: Arc<K>, new: Arc<K>) {
        match ((self.filter)(&old), (self.filter)(&new)) {
            (true, true) => self.handler.on_update(old, new),
            (true, false) => self.handler.on_delete(DeltaObject::Object(old)),
            (false, true) => self.handler.on_add(new, false),
            (false, false) => {}
        }
    }

    fn on_delete(&self, object: DeltaObject<K>) {
        let pass = match object.object() {
            Some(last) => (self.filter)(last),
            None => true,
        };
        if pass {
            self.handler.on_delete(object)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::delta_fifo::DeletedFinalStateUnknown;
    use crate::testing::pod;
    use kinformer_meta::PartialObjectMetadata;

    type Log = Arc<Mutex<Vec<String>>>;

    fn recorder(log: &Log) -> ResourceEventHandlerFuncs<PartialObjectMetadata> {
        let (a, u, d) = (log.clone(), log.clone(), log.clone());
        ResourceEventHandlerFuncs::default()
            .add_func(move |o: Arc<PartialObjectMetadata>, initial| {
                a.lock()
                    .unwrap()
                    .push(format!("add {} {initial}", o.metadata.name()))
            })
            .update_func(
                move |old: Arc<PartialObjectMetadata>, new: Arc<PartialObjectMetadata>| {
                    u.lock().unwrap().push(format!(
                        "update {} {}->{}",
                        new.metadata.name(),
                        old.metadata.resource_version().unwrap_or(""),
                        new.metadata.resource_version().unwrap_or("")
                    ))
                },
            )
            .delete_func(move |o: DeltaObject<PartialObjectMetadata>| {
                let name = o.object().map(|o| o.metadata.name().to_owned());
                d.lock().unwrap().push(format!(
                    "delete {} tombstone={}",
                    name.unwrap_or_default(),
                    o.is_tombstone()
                ))
            })
    }

    fn is_app_web(object: &PartialObjectMetadata) -> bool {
        object.metadata.labels.get("app") == Some("web")
    }

    #[test]
    fn closures_receive_each_kind_of_notification() {
        let log = Log::default();
        let handler = recorder(&log);
        handler.on_add(pod("ns", "a", "1", &[]), true);
        handler.on_update(pod("ns", "a", "1", &[]), pod("ns", "a", "2", &[]));
        handler.on_delete(DeltaObject::Object(pod("ns", "a", "2", &[])));
        assert_eq!(
            *log.lock().unwrap(),
            ["add a true", "update a 1->2", "delete a tombstone=false"]
        );
    }

    #[test]
    fn missing_closures_ignore_their_notifications() {
        let handler = ResourceEventHandlerFuncs::<PartialObjectMetadata>::default();
        handler.on_add(pod("ns", "a", "1", &[]), false);
        handler.on_delete(DeltaObject::Object(pod("ns", "a", "1", &[])));
    }

    #[test]
    fn filter_turns_updates_that_flip_into_adds_and_deletes() {
        let log = Log::default();
        let handler = FilteringResourceEventHandler::new(is_app_web, recorder(&log));
        let web = |rv| pod("ns", "a", rv, &[("app", "web")]);
        let other = |rv| pod("ns", "a", rv, &[("app", "db")]);
        handler.on_add(other("1"), true);
        handler.on_update(other("1"), web("2"));
        handler.on_update(web("2"), web("3"));
        handler.on_update(web("3"), other("4"));
        handler.on_update(other("4"), other("5"));
        handler.on_delete(DeltaObject::Object(other("5")));
        assert_eq!(
            *log.lock().unwrap(),
            ["add a false", "update a 2->3", "delete a tombstone=false"]
        );
    }

    #[test]
    fn filter_judges_tombstones_by_their_last_state_and_passes_unknown_ones() {
        let log = Log::default();
        let handler = FilteringResourceEventHandler::new(is_app_web, recorder(&log));
        let tombstone = |object| {
            DeltaObject::DeletedFinalStateUnknown(DeletedFinalStateUnknown {
                key: Arc::from("ns/a"),
                object,
            })
        };
        handler.on_delete(tombstone(Some(pod("ns", "a", "1", &[("app", "db")]))));
        handler.on_delete(tombstone(Some(pod("ns", "a", "1", &[("app", "web")]))));
        handler.on_delete(tombstone(None));
        assert_eq!(
            *log.lock().unwrap(),
            ["delete a tombstone=true", "delete  tombstone=true"]
        );
    }
}
