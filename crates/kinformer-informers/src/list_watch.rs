//! The factories' `ListWatch` implementations: a typed [`Api`] or a dynamic resource, with the
//! factory's list-options tweak applied to every list and watch.

use std::sync::Arc;

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use kinformer_cache::{ListWatch, WatchEventStream};
use kinformer_client::api::Api;
use kinformer_client::dynamic::DynamicResource;
use kinformer_dynamic::DynamicObject;
use kinformer_meta::{ListOptions, ObjectList, Resource};

/// Changes the options of every list and watch an informer sends (selectors, typically).
pub type TweakListOptions = Arc<dyn Fn(&mut ListOptions) + Send + Sync>;

/// `options` as the factory's tweak (if any) changes them.
pub(crate) fn tweaked(tweak: &Option<TweakListOptions>, mut options: ListOptions) -> ListOptions {
    if let Some(tweak) = tweak {
        tweak(&mut options);
    }
    options
}

/// Lists and watches a typed kind through an [`Api`].
pub(crate) struct TypedListWatch<K> {
    pub(crate) api: Api<K>,
    pub(crate) tweak: Option<TweakListOptions>,
}

impl<K: Resource> ListWatch<K> for TypedListWatch<K> {
    fn list(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<ObjectList<K>, kinformer_client::Error>> {
        let api = self.api.clone();
        let options = tweaked(&self.tweak, options);
        async move { api.list(&options).await }.boxed()
    }

    fn watch(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<WatchEventStream<K>, kinformer_client::Error>> {
        let api = self.api.clone();
        let options = tweaked(&self.tweak, options);
        async move { Ok(api.watch(&options).await?.boxed()) }.boxed()
    }
}

/// Lists and watches any resource as [`DynamicObject`]s.
pub(crate) struct DynamicListWatch {
    pub(crate) resource: DynamicResource,
    pub(crate) tweak: Option<TweakListOptions>,
}

impl ListWatch<DynamicObject> for DynamicListWatch {
    fn list(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<ObjectList<DynamicObject>, kinformer_client::Error>> {
        let resource = self.resource.clone();
        let options = tweaked(&self.tweak, options);
        async move { resource.list(&options).await }.boxed()
    }

    fn watch(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, Result<WatchEventStream<DynamicObject>, kinformer_client::Error>> {
        let resource = self.resource.clone();
        let options = tweaked(&self.tweak, options);
        async move { Ok(resource.watch(&options).await?.boxed()) }.boxed()
    }
}
