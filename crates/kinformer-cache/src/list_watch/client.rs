//! `ListWatch` over kinformer-client: [`ApiListWatch`] for any typed kind through `Api<K>`,
//! [`DynamicListWatch`] for any resource through the dynamic client.
//!
//! Both carry the selectors of the informer (label and field selector); the reflector supplies
//! everything else (resourceVersion, paging, timeout, bookmarks, streaming).

use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use kinformer_client::api::Api;
use kinformer_client::dynamic::DynamicResource;
use kinformer_dynamic::DynamicObject;
use kinformer_meta::{ListOptions, ObjectList, Resource};

use kinformer_client::request::Request;
use kinformer_client::watch::ListStream;

use super::{ListEventStream, ListWatch, WatchEventStream};

type ClientResult<T> = Result<T, kinformer_client::Error>;

/// The selectors an informer watches with.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Selectors {
    label_selector: Option<String>,
    field_selector: Option<String>,
}

impl Selectors {
    /// The reflector's options with the informer's selectors added.
    fn apply(&self, mut options: ListOptions) -> ListOptions {
        options.label_selector = self.label_selector.clone();
        options.field_selector = self.field_selector.clone();
        options
    }
}

/// Lists and watches the typed kind `K` through an [`Api`] (namespaced or cluster-wide).
#[derive(Clone, Debug)]
pub struct ApiListWatch<K> {
    api: Api<K>,
    selectors: Selectors,
}

impl<K> ApiListWatch<K> {
    /// Lists and watches everything `api` addresses.
    pub fn new(api: Api<K>) -> Self {
        ApiListWatch {
            api,
            selectors: Selectors::default(),
        }
    }

    /// Only objects whose labels match `selector`.
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.selectors.label_selector = Some(selector.into());
        self
    }

    /// Only objects whose fields match `selector`.
    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.selectors.field_selector = Some(selector.into());
        self
    }
}

impl<K: Resource> ListWatch<K> for ApiListWatch<K> {
    fn list(&self, options: ListOptions) -> BoxFuture<'static, ClientResult<ObjectList<K>>> {
        let api = self.api.clone();
        let options = self.selectors.apply(options);
        async move { api.list(&options).await }.boxed()
    }

    /// Decodes the page as it downloads: neither the whole body nor the whole decoded page is
    /// ever held.
    fn list_stream(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, ClientResult<ListEventStream<K>>> {
        let api = self.api.clone();
        let options = self.selectors.apply(options);
        async move {
            // Built as `Api::list` builds it, so a bad namespace fails here as it does there.
            let request =
                Request::for_resource(&K::api_resource().gvr(), api.namespace())?.list(&options)?;
            let response = api.client().send(request).await?;
            Ok(ListStream::<K>::from_body(response.into_body()).boxed())
        }
        .boxed()
    }

    fn watch(&self, options: ListOptions) -> BoxFuture<'static, ClientResult<WatchEventStream<K>>> {
        let api = self.api.clone();
        let options = self.selectors.apply(options);
        async move { Ok(api.watch(&options).await?.boxed()) }.boxed()
    }
}

/// Lists and watches one resource through the dynamic client.
#[derive(Clone, Debug)]
pub struct DynamicListWatch {
    resource: DynamicResource,
    selectors: Selectors,
}

impl DynamicListWatch {
    /// Lists and watches everything `resource` addresses (set its namespace first to narrow).
    pub fn new(resource: DynamicResource) -> Self {
        DynamicListWatch {
            resource,
            selectors: Selectors::default(),
        }
    }

    /// Only objects whose labels match `selector`.
    pub fn labels(mut self, selector: impl Into<String>) -> Self {
        self.selectors.label_selector = Some(selector.into());
        self
    }

    /// Only objects whose fields match `selector`.
    pub fn fields(mut self, selector: impl Into<String>) -> Self {
        self.selectors.field_selector = Some(selector.into());
        self
    }
}

impl ListWatch<DynamicObject> for DynamicListWatch {
    fn list(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, ClientResult<ObjectList<DynamicObject>>> {
        let resource = self.resource.clone();
        let options = self.selectors.apply(options);
        async move { resource.list(&options).await }.boxed()
    }

    fn watch(
        &self,
        options: ListOptions,
    ) -> BoxFuture<'static, ClientResult<WatchEventStream<DynamicObject>>> {
        let resource = self.resource.clone();
        let options = self.selectors.apply(options);
        async move { Ok(resource.watch(&options).await?.boxed()) }.boxed()
    }
}
