//! Factory options (client-go's `SharedInformerOption`s): namespace, list-options tweak,
//! default and per-resource resync, transform, listener buffer size.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use kinformer_cache::{SharedInformerConfig, TransformFunc, DEFAULT_LISTENER_CAPACITY};
use kinformer_meta::{GroupResource, GroupVersionResource, ListOptions, Object, ObjectMeta};

use crate::list_watch::TweakListOptions;

/// A change applied to every object's metadata before it is cached (typically dropping
/// `managedFields` to save memory).
pub type MetadataTransform = Arc<dyn Fn(&mut ObjectMeta) + Send + Sync>;

/// The options of a factory, with chained setters.
#[derive(Clone)]
pub struct FactoryOptions {
    pub(crate) namespace: Option<String>,
    pub(crate) tweak: Option<TweakListOptions>,
    pub(crate) default_resync: Option<Duration>,
    pub(crate) custom_resync: HashMap<GroupVersionResource, Duration>,
    pub(crate) transform: Option<MetadataTransform>,
    pub(crate) listener_capacity: usize,
}

impl Default for FactoryOptions {
    fn default() -> Self {
        FactoryOptions {
            namespace: None,
            tweak: None,
            default_resync: None,
            custom_resync: HashMap::new(),
            transform: None,
            listener_capacity: DEFAULT_LISTENER_CAPACITY,
        }
    }
}

impl std::fmt::Debug for FactoryOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FactoryOptions")
            .field("namespace", &self.namespace)
            .field("tweak", &self.tweak.is_some())
            .field("default_resync", &self.default_resync)
            .field("custom_resync", &self.custom_resync)
            .field("transform", &self.transform.is_some())
            .field("listener_capacity", &self.listener_capacity)
            .finish()
    }
}

impl FactoryOptions {
    /// Watches only this namespace (client-go's `WithNamespace`); cluster-scoped kinds ignore it.
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = Some(namespace.into()).filter(|ns: &String| !ns.is_empty());
        self
    }

    /// Changes every list and watch request (client-go's `WithTweakListOptions`), for example
    /// to set a label selector.
    pub fn tweak_list_options(
        mut self,
        tweak: impl Fn(&mut ListOptions) + Send + Sync + 'static,
    ) -> Self {
        self.tweak = Some(Arc::new(tweak));
        self
    }

    /// The resync period of handlers added without one (default none).
    pub fn default_resync(mut self, period: Option<Duration>) -> Self {
        self.default_resync = period;
        self
    }

    /// A resync period for one resource (client-go's `WithCustomResyncConfig`).
    pub fn custom_resync(mut self, gvr: GroupVersionResource, period: Duration) -> Self {
        self.custom_resync.insert(gvr, period);
        self
    }

    /// A metadata transform applied to every object before it is cached (client-go's
    /// `WithTransform`, limited to metadata so one function serves every kind).
    pub fn transform(
        mut self,
        transform: impl Fn(&mut ObjectMeta) + Send + Sync + 'static,
    ) -> Self {
        self.transform = Some(Arc::new(transform));
        self
    }

    /// How many live notifications each handler's buffer holds before back-pressure.
    pub fn listener_capacity(mut self, capacity: usize) -> Self {
        self.listener_capacity = capacity.max(1);
        self
    }

    /// The informer settings for one resource.
    pub(crate) fn informer_config<K: Object>(
        &self,
        gvr: &GroupVersionResource,
        extra: Option<TransformFunc<K>>,
    ) -> SharedInformerConfig<K> {
        let resync = self.custom_resync.get(gvr).copied().or(self.default_resync);
        let mut config = SharedInformerConfig::default()
            .resource(GroupResource::new(&gvr.group, &gvr.resource))
            .default_resync(resync)
            .listener_capacity(self.listener_capacity);
        let metadata = self.transform.clone();
        if metadata.is_some() || extra.is_some() {
            config = config.transform(Arc::new(move |object: Arc<K>| {
                let object = match &extra {
                    Some(extra) => extra(object)?,
                    None => object,
                };
                Ok(match &metadata {
                    Some(change) => {
                        let mut object = Arc::unwrap_or_clone(object);
                        change(object.metadata_mut());
                        Arc::new(object)
                    }
                    None => object,
                })
            }));
        }
        config
    }
}
