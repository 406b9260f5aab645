//! `SharedInformerFactory`: one shared informer per typed kind, over a [`Clientset`], with the
//! factory's options; started, synced, shut down, and pruned one resource at a time.

use std::sync::Arc;
use std::time::Duration;

use kinformer_cache::{Lister, SharedIndexInformer};
use kinformer_client::api::Api;
use kinformer_client::clientset::Clientset;
use kinformer_meta::{GroupVersionResource, Object, Resource, Scope, TypeMeta};

use crate::error::{Error, Result};
use crate::informer_set::{downcast, informer_set_methods, ErasedInformer, FactoryInner};
use crate::list_watch::TypedListWatch;
use crate::options::FactoryOptions;
use crate::typed::typed_informer_for;

/// Shared informers for the typed kinds, one per resource, created on first request
/// (client-go's `SharedInformerFactory`). Clones share the factory.
///
/// ```no_run
/// # async fn demo(clientset: kinformer_client::clientset::Clientset) -> Result<(), Box<dyn std::error::Error>> {
/// use kinformer_informers::{FactoryOptions, SharedInformerFactory};
/// use kinformer_meta::labels::Selector;
/// use tokio_util::sync::CancellationToken;
///
/// let factory = SharedInformerFactory::with_options(clientset, FactoryOptions::default().namespace("default"));
/// let pods = factory.core_v1().pods();
/// pods.informer()?; // register before start
/// let cancel = CancellationToken::new();
/// factory.start(&cancel);
/// for (resource, result) in factory.wait_for_cache_sync(None).await {
///     result.map_err(|e| format!("{resource}: {e}"))?;
/// }
/// for pod in pods.lister()?.list(&Selector::everything()) {
///     println!("{}/{}", pod.metadata.namespace().unwrap_or(""), pod.metadata.name());
/// }
/// factory.shutdown().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct SharedInformerFactory {
    inner: Arc<FactoryInner<Clientset>>,
}

/// A factory informer whose object type is known only at run time (what
/// [`SharedInformerFactory::for_resource`] returns).
#[derive(Clone)]
pub struct GenericInformer {
    gvr: GroupVersionResource,
    informer: Arc<dyn ErasedInformer>,
}

impl SharedInformerFactory {
    /// A factory for every namespace with a default resync period (client-go's
    /// `NewSharedInformerFactory`).
    pub fn new(clientset: Clientset, default_resync: Option<Duration>) -> Self {
        Self::with_options(
            clientset,
            FactoryOptions::default().default_resync(default_resync),
        )
    }

    /// A factory with options (client-go's `NewSharedInformerFactoryWithOptions`).
    pub fn with_options(clientset: Clientset, options: FactoryOptions) -> Self {
        SharedInformerFactory {
            inner: FactoryInner::new(clientset, options),
        }
    }

    /// The factory's options.
    pub fn options(&self) -> &FactoryOptions {
        &self.inner.options
    }

    /// The shared informer of kind `K`, created (not started) on first request.
    pub fn informer_for<K: Resource>(&self) -> Result<SharedIndexInformer<K>> {
        let gvr = K::api_resource().gvr();
        let inner = &self.inner;
        inner.informers.get_or_insert(&gvr, || {
            let client = inner.client.client().clone();
            let api = match (&inner.options.namespace, K::SCOPE) {
                (Some(namespace), Scope::Namespaced) => Api::<K>::namespaced(client, namespace),
                _ => Api::<K>::all(client),
            };
            let list_watch = TypedListWatch {
                api,
                tweak: inner.options.tweak.clone(),
            };
            let config = inner
                .options
                .informer_config::<K>(&gvr, None)
                .expected_type(TypeMeta::new(K::API_VERSION, K::KIND));
            SharedIndexInformer::new(Arc::new(list_watch), config)
        })
    }

    /// A lister over kind `K`'s informer (created on first request).
    pub fn lister_for<K: Resource>(&self) -> Result<Lister<K>> {
        Ok(self.informer_for::<K>()?.lister())
    }

    /// The accessor of kind `K` (what `core_v1().pods()` returns).
    pub fn typed<K: Resource>(&self) -> TypedInformer<K> {
        TypedInformer {
            factory: self.clone(),
            kind: std::marker::PhantomData,
        }
    }

    /// The informer of a group/version/resource the typed kinds cover (client-go's
    /// `ForResource`); [`Error::UnknownResource`] for any other.
    pub fn for_resource(&self, gvr: &GroupVersionResource) -> Result<GenericInformer> {
        let informer = typed_informer_for(self, gvr)
            .ok_or_else(|| Error::UnknownResource { gvr: gvr.clone() })??;
        Ok(GenericInformer {
            gvr: gvr.clone(),
            informer,
        })
    }

    // `start`, `wait_for_cache_sync`, `remove`, `shutdown` and `resources`, the same in every
    // factory.
    informer_set_methods!();
}

impl GenericInformer {
    /// The resource served.
    pub fn gvr(&self) -> &GroupVersionResource {
        &self.gvr
    }

    /// True once the informer's cache has synced.
    pub fn has_synced(&self) -> bool {
        self.informer.has_synced()
    }

    /// The informer as its object type `K`; [`Error::TypeMismatch`] for another type.
    pub fn informer<K: Object>(&self) -> Result<SharedIndexInformer<K>> {
        downcast(self.informer.as_ref(), &self.gvr)
    }

    /// A lister of the informer's cache as `K` objects.
    pub fn lister<K: Object>(&self) -> Result<Lister<K>> {
        Ok(self.informer::<K>()?.lister())
    }
}

/// The informer and lister of one typed kind in a factory (client-go's `PodInformer` and its
/// siblings).
pub struct TypedInformer<K> {
    factory: SharedInformerFactory,
    kind: std::marker::PhantomData<fn() -> K>,
}

impl<K: Resource> TypedInformer<K> {
    /// The shared informer (created on first call; start it with the factory).
    pub fn informer(&self) -> Result<SharedIndexInformer<K>> {
        self.factory.informer_for::<K>()
    }

    /// A lister over the informer's cache.
    pub fn lister(&self) -> Result<Lister<K>> {
        self.factory.lister_for::<K>()
    }

    /// The kind's group/version/resource.
    pub fn gvr(&self) -> GroupVersionResource {
        K::api_resource().gvr()
    }
}
