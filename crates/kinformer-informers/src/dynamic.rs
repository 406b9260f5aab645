//! `DynamicSharedInformerFactory`: shared informers for any resource, custom resources
//! included, keyed by group/version/resource, caching [`DynamicObject`]s whose `apiVersion`
//! and `kind` are always filled.

use std::sync::Arc;

use kinformer_cache::{Lister, SharedIndexInformer, TransformFunc};
use kinformer_client::dynamic::{DynamicClient, DynamicResource};
use kinformer_dynamic::DynamicObject;
use kinformer_meta::ApiResource;

use crate::error::Result;
use crate::informer_set::{informer_set_methods, FactoryInner};
use crate::list_watch::DynamicListWatch;
use crate::options::FactoryOptions;

/// Shared informers of [`DynamicObject`]s, one per resource (client-go's
/// `DynamicSharedInformerFactory`). Clones share the factory.
#[derive(Clone)]
pub struct DynamicSharedInformerFactory {
    inner: Arc<FactoryInner<DynamicClient>>,
}

impl DynamicSharedInformerFactory {
    /// A factory over `client` with options.
    pub fn new(client: DynamicClient, options: FactoryOptions) -> Self {
        DynamicSharedInformerFactory {
            inner: FactoryInner::new(client, options),
        }
    }

    /// The shared informer of `resource` (from discovery or the REST mapper), created (not
    /// started) on first request. Every cached object has `apiVersion` and `kind`, taken from
    /// `resource` when the server left them out.
    pub fn for_resource(
        &self,
        resource: &ApiResource,
    ) -> Result<SharedIndexInformer<DynamicObject>> {
        let gvr = resource.gvr();
        let inner = &self.inner;
        inner.informers.get_or_insert(&gvr, || {
            let list_watch = DynamicListWatch {
                resource: inner.resource(resource),
                tweak: inner.options.tweak.clone(),
            };
            let types = resource.clone();
            let fill_types: TransformFunc<DynamicObject> =
                Arc::new(move |object: Arc<DynamicObject>| {
                    let complete = object.types.as_ref().is_some_and(|t| !t.is_incomplete());
                    if complete {
                        return Ok(object);
                    }
                    let mut object = Arc::unwrap_or_clone(object);
                    object.fill_types(&types);
                    Ok(Arc::new(object))
                });
            // No expected type: objects are checked after their types are filled.
            let config = inner
                .options
                .informer_config::<DynamicObject>(&gvr, Some(fill_types));
            SharedIndexInformer::new(Arc::new(list_watch), config)
        })
    }

    /// A lister over `resource`'s informer (created on first request).
    pub fn lister(&self, resource: &ApiResource) -> Result<Lister<DynamicObject>> {
        Ok(self.for_resource(resource)?.lister())
    }

    // `start`, `wait_for_cache_sync`, `remove`, `shutdown` and `resources`, the same in every
    // factory.
    informer_set_methods!();
}

impl FactoryInner<DynamicClient> {
    /// The client of `resource`, limited to the factory's namespace when `resource` is
    /// namespaced.
    pub(crate) fn resource(&self, resource: &ApiResource) -> DynamicResource {
        let target = self.client.resource(resource);
        match (&self.options.namespace, resource.is_namespaced()) {
            (Some(namespace), true) => target.namespace(namespace),
            _ => target,
        }
    }
}
