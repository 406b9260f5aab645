//! `Api<K>`: every REST verb for one typed kind, in one namespace or across all of them.
//!
//! `Api<K>` works for any [`Resource`]: the built-in kinds of `kinformer-typed` and a user's own
//! CRD types alike. Bodies are collected once into `Bytes` and decoded straight into `K` (or
//! `ObjectList<K>`); no `String` or `serde_json::Value` sits in between.
//!
//! ```no_run
//! # async fn example(client: kinformer_client::Client) -> kinformer_client::Result<()> {
//! use kinformer_client::Api;
//! use kinformer_meta::{ListOptions, PartialObjectMetadata};
//! # #[derive(Clone, serde::Serialize, serde::Deserialize)] struct Pod(PartialObjectMetadata);
//! # impl kinformer_meta::Object for Pod { fn metadata(&self) -> &kinformer_meta::ObjectMeta { &self.0.metadata } fn metadata_mut(&mut self) -> &mut kinformer_meta::ObjectMeta { &mut self.0.metadata } fn api_version(&self) -> std::borrow::Cow<'_, str> { "v1".into() } fn kind(&self) -> std::borrow::Cow<'_, str> { "Pod".into() } }
//! # impl kinformer_meta::Resource for Pod { const GROUP: &'static str = ""; const VERSION: &'static str = "v1"; const API_VERSION: &'static str = "v1"; const KIND: &'static str = "Pod"; const PLURAL: &'static str = "pods"; const SCOPE: kinformer_meta::Scope = kinformer_meta::Scope::Namespaced; }
//! let pods: Api<Pod> = Api::namespaced(client, "default");
//! let page = pods.list(&ListOptions::default().limit(50)).await?;
//! let everything = pods.list_all(&ListOptions::default()).await?; // walks limit/continue
//! # let _ = (page, everything); Ok(()) }
//! ```

use std::future::Future;
use std::marker::PhantomData;

use bytes::Bytes;
use kinformer_meta::{ListOptions, ObjectList, Resource, Scope, Status};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::request::{DeleteParams, GetParams, Patch, PatchParams, PostParams, Request};
use crate::watch::{WatchConfig, WatchStream};
use crate::Client;

/// The page size the pager asks for when the caller sets no `limit` (as client-go's pager).
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// What a delete answered: the server sends a `Status` when the object is gone at once, and
/// the object itself when deletion is pending (finalizers, a grace period).
#[derive(Clone, Debug, PartialEq)]
pub enum DeleteResponse<T> {
    /// The object still exists, marked for deletion.
    Pending(T),
    /// The object is gone; the Status says which.
    Deleted(Box<Status>),
}

/// Every REST verb for the typed kind `K`.
#[derive(Clone, Debug)]
pub struct Api<K> {
    raw: RawApi,
    _kind: PhantomData<fn() -> K>,
}

impl<K: Resource> Api<K> {
    /// Objects of `K` in `namespace`. Cluster-scoped kinds ignore the namespace.
    pub fn namespaced(client: Client, namespace: &str) -> Self {
        let namespace = (K::SCOPE == Scope::Namespaced).then_some(namespace);
        Api::with_namespace(client, namespace)
    }

    /// Objects of `K` in the client's default namespace (the kubeconfig context's, or the
    /// pod's own in-cluster).
    pub fn default_namespaced(client: Client) -> Self {
        let namespace = client.default_namespace().to_owned();
        Api::namespaced(client, &namespace)
    }

    /// Objects of `K` across all namespaces (list, watch), or a cluster-scoped kind.
    pub fn all(client: Client) -> Self {
        Api::with_namespace(client, None)
    }

    fn with_namespace(client: Client, namespace: Option<&str>) -> Self {
        let resource = K::api_resource();
        Api {
            raw: RawApi::new(client, &resource.gvr(), namespace, resource.scope),
            _kind: PhantomData,
        }
    }

    /// The namespace this Api is bound to, if any.
    pub fn namespace(&self) -> Option<&str> {
        self.raw.namespace.as_deref()
    }

    /// The request builder (collection path) this Api uses.
    pub fn request(&self) -> &Request {
        &self.raw.request
    }

    /// The client this Api sends through.
    pub fn client(&self) -> &Client {
        &self.raw.client
    }

    /// Reads one object.
    pub async fn get(&self, name: &str) -> Result<K> {
        self.raw.get(name, &GetParams::default()).await
    }

    /// Reads one object with options (`resourceVersion`).
    pub async fn get_with(&self, name: &str, params: &GetParams) -> Result<K> {
        self.raw.get(name, params).await
    }

    /// Reads one object; `Ok(None)` when it does not exist.
    pub async fn get_opt(&self, name: &str) -> Result<Option<K>> {
        match self.get(name).await {
            Ok(object) => Ok(Some(object)),
            Err(error) if error.is_not_found() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// One list page, decoded straight into `ObjectList<K>`.
    pub async fn list(&self, options: &ListOptions) -> Result<ObjectList<K>> {
        self.raw.list(options).await
    }

    /// Every page of a list, walking `limit`/`continue` (see [`list_all_pages`]).
    pub async fn list_all(&self, options: &ListOptions) -> Result<ObjectList<K>> {
        list_all_pages(options, |page| async move { self.raw.list(&page).await }).await
    }

    /// Creates an object.
    pub async fn create(&self, object: &K, params: &PostParams) -> Result<K> {
        self.raw.create(object, params).await
    }

    /// Replaces an object; its `metadata.resourceVersion` guards against lost updates.
    pub async fn replace(&self, name: &str, object: &K, params: &PostParams) -> Result<K> {
        self.raw.replace(name, None, object, params).await
    }

    /// Replaces the status subresource.
    pub async fn replace_status(&self, name: &str, object: &K, params: &PostParams) -> Result<K> {
        self.raw.replace(name, Some("status"), object, params).await
    }

    /// Patches an object with any patch type.
    pub async fn patch<P: Serialize>(
        &self,
        name: &str,
        patch: &Patch<P>,
        params: &PatchParams,
    ) -> Result<K> {
        self.raw.patch(name, None, patch, params).await
    }

    /// Patches the status subresource.
    pub async fn patch_status<P: Serialize>(
        &self,
        name: &str,
        patch: &Patch<P>,
        params: &PatchParams,
    ) -> Result<K> {
        self.raw.patch(name, Some("status"), patch, params).await
    }

    /// Deletes an object.
    pub async fn delete(&self, name: &str, params: &DeleteParams) -> Result<DeleteResponse<K>> {
        self.raw.delete(name, params).await
    }

    /// Deletes every object the list options select.
    pub async fn delete_collection(
        &self,
        params: &DeleteParams,
        options: &ListOptions,
    ) -> Result<DeleteResponse<ObjectList<K>>> {
        self.raw.delete_collection(params, options).await
    }

    /// Starts a watch; the stream's idle timeout is the options' `timeoutSeconds` plus a
    /// margin (see [`WatchConfig::for_server_timeout`]).
    pub async fn watch(&self, options: &ListOptions) -> Result<WatchStream<K>> {
        let config = WatchConfig::for_server_timeout(options.timeout_seconds);
        self.raw.watch(options, config).await
    }

    /// Starts a watch with explicit stream settings.
    pub async fn watch_with(
        &self,
        options: &ListOptions,
        config: WatchConfig,
    ) -> Result<WatchStream<K>> {
        self.raw.watch(options, config).await
    }
}

/// Lists every page: asks for `options.limit` items at a time ([`DEFAULT_PAGE_SIZE`] when
/// unset) and follows `continue` tokens, concatenating the items. The result carries the list
/// resourceVersion of the first page (a paginated list is one consistent snapshot).
///
/// When a later page answers 410 Expired (the snapshot was compacted away while paging), the
/// pager falls back to one unpaginated list at the original `resourceVersion` and
/// `resourceVersionMatch`, as client-go's pager does; that list replaces the pages read so far.
/// An expired first page is returned as the error it is.
pub async fn list_all_pages<T, F, Fut>(options: &ListOptions, mut fetch: F) -> Result<ObjectList<T>>
where
    F: FnMut(ListOptions) -> Fut,
    Fut: Future<Output = Result<ObjectList<T>>>,
{
    let mut page_options = options.clone();
    page_options.limit = Some(options.limit.unwrap_or(DEFAULT_PAGE_SIZE));
    let mut result = fetch(page_options.clone()).await?;
    while let Some(token) = result.continue_token().map(str::to_owned) {
        // The token encodes the snapshot; resourceVersion must not be sent alongside it.
        page_options.continue_token = Some(token);
        page_options.resource_version = None;
        page_options.resource_version_match = None;
        match fetch(page_options.clone()).await {
            Ok(page) => {
                result.items.extend(page.items);
                result.metadata.continue_token = page.metadata.continue_token;
                result.metadata.remaining_item_count = page.metadata.remaining_item_count;
            }
            Err(error) if error.is_gone() => {
                tracing::debug!(%error, "list continue token expired; falling back to a full list");
                let mut full = options.clone();
                full.limit = None;
                full.continue_token = None;
                return fetch(full).await;
            }
            Err(error) => return Err(error),
        }
    }
    result.metadata.remaining_item_count = None;
    Ok(result)
}

/// Generates what every resource handle built on [`RawApi`] has in common: the private `new`
/// (binding a namespace only for namespaced resources), `namespace`, `api_resource`,
/// `namespace_name` and `request`. The handle keeps its `ApiResource` in a field named
/// `resource` and its `RawApi` in a field named `raw`.
macro_rules! resource_handle_methods {
    ($handle:ident) => {
        fn new(
            client: $crate::Client,
            resource: ::kinformer_meta::ApiResource,
            namespace: Option<&str>,
        ) -> Self {
            let namespace =
                namespace.filter(|_| resource.scope == ::kinformer_meta::Scope::Namespaced);
            let raw = $crate::api::RawApi::new(client, &resource.gvr(), namespace, resource.scope);
            $handle { resource, raw }
        }

        /// The same resource in `namespace` (ignored for cluster-scoped resources).
        pub fn namespace(&self, namespace: &str) -> $handle {
            $handle::new(
                self.raw.client.clone(),
                self.resource.clone(),
                Some(namespace),
            )
        }

        /// The resource addressed.
        pub fn api_resource(&self) -> &::kinformer_meta::ApiResource {
            &self.resource
        }

        /// The namespace bound, if any.
        pub fn namespace_name(&self) -> Option<&str> {
            self.raw.namespace.as_deref()
        }

        /// The request builder (collection path) used.
        pub fn request(&self) -> &$crate::request::Request {
            &self.raw.request
        }
    };
}
pub(crate) use resource_handle_methods;

/// The untyped core shared by [`Api`] and the dynamic client: verbs over any serde type.
#[derive(Clone, Debug)]
pub(crate) struct RawApi {
    pub(crate) client: Client,
    pub(crate) request: Request,
    pub(crate) namespace: Option<String>,
    /// A namespaced resource addressed without a namespace can list and watch, nothing else.
    all_namespaces: bool,
    /// A problem found while building the path, reported by the first call.
    invalid: Option<String>,
}

impl RawApi {
    pub(crate) fn new(
        client: Client,
        gvr: &kinformer_meta::GroupVersionResource,
        namespace: Option<&str>,
        scope: Scope,
    ) -> Self {
        let namespace = namespace.filter(|ns| !ns.is_empty());
        let (request, invalid) = match Request::for_resource(gvr, namespace) {
            Ok(request) => (request, None),
            Err(error) => (
                Request::new(gvr.path(None, None, None)),
                Some(error.to_string()),
            ),
        };
        RawApi {
            client,
            request,
            namespace: namespace.map(str::to_owned),
            all_namespaces: scope == Scope::Namespaced && namespace.is_none(),
            invalid,
        }
    }

    pub(crate) fn check(&self, single_object: bool) -> Result<()> {
        if let Some(problem) = &self.invalid {
            return Err(Error::InvalidRequest(problem.clone()));
        }
        if single_object && self.all_namespaces {
            return Err(Error::InvalidRequest(format!(
                "{} is namespaced: name a namespace to address one object",
                self.request.collection_path()
            )));
        }
        Ok(())
    }

    pub(crate) async fn get<T: DeserializeOwned>(
        &self,
        name: &str,
        params: &GetParams,
    ) -> Result<T> {
        self.check(true)?;
        self.send(self.request.get(name, params)?).await
    }

    pub(crate) async fn list<T: DeserializeOwned>(
        &self,
        options: &ListOptions,
    ) -> Result<ObjectList<T>> {
        self.list_as(options).await
    }

    /// One list page decoded as any list shape `L`.
    pub(crate) async fn list_as<L: DeserializeOwned>(&self, options: &ListOptions) -> Result<L> {
        self.check(false)?;
        self.send(self.request.list(options)?).await
    }

    pub(crate) async fn create<T: Serialize, R: DeserializeOwned>(
        &self,
        object: &T,
        params: &PostParams,
    ) -> Result<R> {
        self.check(true)?;
        self.send(self.request.create(object, params)?).await
    }

    pub(crate) async fn replace<T: Serialize, R: DeserializeOwned>(
        &self,
        name: &str,
        subresource: Option<&str>,
        object: &T,
        params: &PostParams,
    ) -> Result<R> {
        self.check(true)?;
        let request = self
            .request
            .replace_subresource(name, subresource, object, params)?;
        self.send(request).await
    }

    pub(crate) async fn patch<P: Serialize, R: DeserializeOwned>(
        &self,
        name: &str,
        subresource: Option<&str>,
        patch: &Patch<P>,
        params: &PatchParams,
    ) -> Result<R> {
        self.check(true)?;
        let request = self
            .request
            .patch_subresource(name, subresource, patch, params)?;
        self.send(request).await
    }

    pub(crate) async fn delete<R: DeserializeOwned>(
        &self,
        name: &str,
        params: &DeleteParams,
    ) -> Result<DeleteResponse<R>> {
        self.check(true)?;
        let bytes = self.send_bytes(self.request.delete(name, params)?).await?;
        decode_delete(&bytes)
    }

    pub(crate) async fn delete_collection<R: DeserializeOwned>(
        &self,
        params: &DeleteParams,
        options: &ListOptions,
    ) -> Result<DeleteResponse<ObjectList<R>>> {
        self.delete_collection_as(params, options).await
    }

    /// A delete-collection whose list answer decodes as any list shape `L`.
    pub(crate) async fn delete_collection_as<L: DeserializeOwned>(
        &self,
        params: &DeleteParams,
        options: &ListOptions,
    ) -> Result<DeleteResponse<L>> {
        self.check(false)?;
        let request = self.request.delete_collection(params, options)?;
        let bytes = self.send_bytes(request).await?;
        decode_delete(&bytes)
    }

    pub(crate) async fn watch<T: DeserializeOwned>(
        &self,
        options: &ListOptions,
        config: WatchConfig,
    ) -> Result<WatchStream<T>> {
        self.check(false)?;
        let response = self.client.send_watch(self.request.watch(options)?).await?;
        Ok(WatchStream::from_body(response.into_body(), config))
    }

    async fn send<T: DeserializeOwned>(&self, request: http::Request<Bytes>) -> Result<T> {
        let bytes = self.send_bytes(request).await?;
        decode(&bytes)
    }

    pub(crate) async fn send_bytes(&self, request: http::Request<Bytes>) -> Result<Bytes> {
        self.client.send(request).await?.into_body().bytes().await
    }
}

/// Decodes a response body straight from its bytes into `T` (what every verb of [`Api`] does
/// with the collected body); a failure names the type and quotes the body's start.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T> {
    serde_json::from_slice(bytes).map_err(|source| Error::ResponseDecodeFailed {
        type_name: std::any::type_name::<T>(),
        excerpt: crate::watch::decoder::excerpt(bytes),
        source,
    })
}

/// A delete answers with a Status or with the object: look at `kind` to tell.
fn decode_delete<R: DeserializeOwned>(bytes: &[u8]) -> Result<DeleteResponse<R>> {
    #[derive(Deserialize)]
    struct Kind<'a> {
        #[serde(default, borrow)]
        kind: Option<std::borrow::Cow<'a, str>>,
        #[serde(default, rename = "apiVersion", borrow)]
        api_version: Option<std::borrow::Cow<'a, str>>,
    }
    let probe: Kind<'_> =
        serde_json::from_slice(bytes).map_err(|source| Error::ResponseDecodeFailed {
            type_name: "a delete response",
            excerpt: crate::watch::decoder::excerpt(bytes),
            source,
        })?;
    if probe.kind.as_deref() == Some("Status") && probe.api_version.as_deref() == Some("v1") {
        Ok(DeleteResponse::Deleted(Box::new(decode(bytes)?)))
    } else {
        Ok(DeleteResponse::Pending(decode(bytes)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    fn page(items: &[&str], rv: &str, next: Option<&str>) -> ObjectList<String> {
        let mut list = ObjectList {
            items: items.iter().map(|s| s.to_string()).collect(),
            ..ObjectList::default()
        };
        list.metadata.resource_version = Some(rv.into());
        list.metadata.continue_token = next.map(str::to_owned);
        list
    }

    fn expired() -> Error {
        Error::Api(Box::new(Status::failure(410, "Expired", "too old")))
    }

    #[tokio::test]
    async fn pager_follows_continue_tokens_without_resending_the_resource_version() {
        let seen = RefCell::new(Vec::new());
        let options = ListOptions::default().resource_version("5").limit(2);
        let list = list_all_pages(&options, |o| {
            seen.borrow_mut().push(o.clone());
            let answer = match o.continue_token.as_deref() {
                None => page(&["a", "b"], "6", Some("t1")),
                Some("t1") => page(&["c", "d"], "6", Some("t2")),
                Some(_) => page(&["e"], "6", None),
            };
            async move { Ok(answer) }
        })
        .await
        .unwrap();
        assert_eq!(list.items, ["a", "b", "c", "d", "e"]);
        assert_eq!(list.resource_version(), Some("6"));
        assert_eq!(list.continue_token(), None);
        let seen = seen.into_inner();
        assert_eq!(seen.len(), 3);
        assert_eq!(seen[0].resource_version.as_deref(), Some("5"));
        assert!(seen[1..]
            .iter()
            .all(|o| o.resource_version.is_none() && o.limit == Some(2)));
    }

    #[tokio::test]
    async fn pager_falls_back_to_one_full_list_when_a_later_page_expired() {
        let seen = RefCell::new(Vec::new());
        let options = ListOptions::default().resource_version("5");
        let list = list_all_pages(&options, |o| {
            seen.borrow_mut().push(o.clone());
            let answer = match (o.continue_token.as_deref(), o.limit) {
                (None, Some(_)) => Ok(page(&["a"], "6", Some("t1"))),
                (Some(_), _) => Err(expired()),
                (None, None) => Ok(page(&["a", "b", "c"], "9", None)),
            };
            async move { answer }
        })
        .await
        .unwrap();
        assert_eq!(list.items, ["a", "b", "c"]);
        let seen = seen.into_inner();
        assert_eq!(seen[0].limit, Some(DEFAULT_PAGE_SIZE));
        let fallback = seen.last().unwrap();
        assert_eq!(fallback.resource_version.as_deref(), Some("5"));
        assert_eq!(
            (fallback.limit, fallback.continue_token.as_deref()),
            (None, None)
        );
    }

    #[tokio::test]
    async fn pager_returns_an_expired_first_page_as_an_error() {
        let result: Result<ObjectList<String>> =
            list_all_pages(&ListOptions::default(), |_| async { Err(expired()) }).await;
        assert!(result.unwrap_err().is_gone());
    }

    #[test]
    fn api_futures_and_watch_streams_can_move_to_spawned_tasks() {
        fn assert_send<T: Send>(_: &T) {}
        fn assert_send_sync<T: Send + Sync + Clone>() {}
        assert_send_sync::<Api<kinformer_typed::ConfigMap>>();
        let client =
            Client::try_from(crate::Config::new("http://127.0.0.1:1".parse().unwrap())).unwrap();
        let api: Api<kinformer_typed::ConfigMap> = Api::namespaced(client, "ns");
        let options = ListOptions::default();
        assert_send(&api.list(&options));
        assert_send(&api.list_all(&options));
        assert_send(&api.watch(&options));
        assert_send(&api.get("x"));
        fn stream_is_send<T: Send>() {}
        stream_is_send::<WatchStream<kinformer_typed::ConfigMap>>();
    }

    #[test]
    fn delete_answers_are_told_apart_by_kind() {
        let status = br#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","details":{"name":"f5","kind":"flunders"}}"#;
        match decode_delete::<serde_json::Value>(status).unwrap() {
            DeleteResponse::Deleted(status) => {
                assert_eq!(status.details.unwrap().name.as_deref(), Some("f5"))
            }
            other => panic!("{other:?}"),
        }
        let object = br#"{"kind":"Pod","apiVersion":"v1","metadata":{"name":"p","deletionTimestamp":"2026-11-26T16:29:11Z"}}"#;
        assert!(matches!(
            decode_delete::<serde_json::Value>(object).unwrap(),
            DeleteResponse::Pending(v) if v["metadata"]["name"] == "p"
        ));
    }

    #[test]
    fn undecodable_bodies_name_the_type_and_quote_the_body() {
        let error = decode::<ObjectList<u32>>(b"{\"items\":[\"x\"]}").unwrap_err();
        match error {
            Error::ResponseDecodeFailed {
                type_name, excerpt, ..
            } => {
                assert!(type_name.contains("ObjectList"));
                assert!(excerpt.contains("items"));
            }
            other => panic!("{other:?}"),
        }
    }
}
