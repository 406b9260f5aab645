//! The metadata client: get, list, watch, patch and delete of any resource, receiving only
//! type and metadata ([`PartialObjectMetadata`]) over the wire (client-go's
//! `metadata.Interface`).
//!
//! ```no_run
//! # async fn example(client: kinformer_client::Client) -> kinformer_client::Result<()> {
//! use kinformer_client::metadata::MetadataClient;
//! use kinformer_meta::{ApiResource, GroupVersionKind, ListOptions, Scope};
//! let pods = ApiResource::from_gvk(&GroupVersionKind::new("", "v1", "Pod"), "pods", Scope::Namespaced);
//! let metadata = MetadataClient::new(client);
//! let page = metadata.resource(&pods).namespace("default").list(&ListOptions::default()).await?;
//! for pod in &page.items {
//!     println!("{} {:?}", pod.metadata.name.as_deref().unwrap_or(""), pod.metadata.labels);
//! }
//! # Ok(()) }
//! ```
//!
//! # What goes over the wire
//!
//! Lists ask for `Accept: application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,
//! application/json` ([`PARTIAL_OBJECT_METADATA_LIST_ACCEPT`]); get, watch, patch and delete
//! ask for `as=PartialObjectMetadata` ([`PARTIAL_OBJECT_METADATA_ACCEPT`]). A server that
//! supports it (every apiserver since 1.15, and the fake API server) answers with
//! `PartialObjectMetadata(List)` of `meta.k8s.io/v1`: names, labels, owners, no spec or status.
//!
//! # The fallback, as client-go's
//!
//! A server that ignores `as=` picks the trailing plain `application/json` and sends whole
//! objects. Like client-go, get, list, patch and delete then keep only the metadata of what
//! arrived; a get (patch, delete) whose object has none of name, generateName, uid or
//! creationTimestamp is [`Error::NotObjectMetadata`]. An answer of another `meta.k8s.io` kind
//! (a Table, a list where an object was asked for) or a `Status` with a success code is
//! [`Error::UnexpectedKind`], where client-go fails with "unexpected object".
//!
//! Watches differ from client-go on purpose: client-go cannot decode whole objects in a
//! metadata watch and ends the watch with an error event, so a metadata informer over such a
//! server lists and then fails every watch. Here every watch event goes through the same
//! fallback as a get: whole objects are reduced to their metadata, and an event whose object is
//! neither is an `Err` item ([`Error::UnexpectedKind`], [`Error::NotObjectMetadata`]) after
//! which the stream goes on, as after an undecodable frame.
//!
//! Whole objects are never held: every body is decoded straight into metadata, the rest of
//! each object is skipped by the parser.
//!
//! # kind and apiVersion
//!
//! The server labels every object `PartialObjectMetadata` / `meta.k8s.io/v1`, which says how
//! the object was sent, not what it is. This client hands out the described resource's own
//! `apiVersion` and `kind` instead (`v1` / `Pod`), so an object from a metadata list looks like
//! one from a typed or dynamic list, owner references can be built from it, and a cache of it
//! says what it holds. For a resource known only by group/version/resource
//! ([`MetadataClient::resource_for`]) the kind is unknown: objects keep their own type when the
//! server sent whole objects, take it from a whole list's kind (`PodList` -> `Pod`) when it
//! sent one, and otherwise stay `PartialObjectMetadata` / `meta.k8s.io/v1`. Either way no
//! object leaves this client without both fields.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures::Stream;
use http::header::ACCEPT;
use http::HeaderValue;
use kinformer_meta::{
    ApiResource, GroupVersionResource, ListMeta, ListOptions, ObjectList, ObjectMeta,
    PartialObjectMetadata, Scope, Status, TypeMeta, WatchEvent,
};
use serde::{Deserialize, Serialize};

use crate::api::{decode, list_all_pages, DeleteResponse, RawApi};
use crate::error::{Error, Result};
use crate::request::{DeleteParams, GetParams, Patch, PatchParams};
use crate::watch::{WatchConfig, WatchStream};
use crate::{Client, DynamicClient};

/// The `Accept` header of a metadata get, watch, patch or delete.
pub const PARTIAL_OBJECT_METADATA_ACCEPT: &str =
    "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json";

/// The `Accept` header of a metadata list.
pub const PARTIAL_OBJECT_METADATA_LIST_ACCEPT: &str =
    "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

/// The group/version the server labels metadata-only answers with.
pub const META_API_VERSION: &str = "meta.k8s.io/v1";

const OBJECT_KIND: &str = "PartialObjectMetadata";
const LIST_KIND: &str = "PartialObjectMetadataList";

/// Entry point of the metadata client.
#[derive(Clone, Debug)]
pub struct MetadataClient {
    client: Client,
}

impl MetadataClient {
    /// A metadata client sending through `client`.
    pub fn new(client: Client) -> Self {
        MetadataClient { client }
    }

    /// The client underneath.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Verbs on the resource `resource` describes (all namespaces until
    /// [`MetadataResource::namespace`] narrows it).
    pub fn resource(&self, resource: &ApiResource) -> MetadataResource {
        MetadataResource::new(self.client.clone(), resource.clone(), None)
    }

    /// Verbs on a group/version/resource whose kind is not known (see the module docs for the
    /// kind its objects carry).
    pub fn resource_for(&self, gvr: &GroupVersionResource, scope: Scope) -> MetadataResource {
        let resource = ApiResource {
            group: gvr.group.clone(),
            version: gvr.version.clone(),
            kind: String::new(),
            plural: gvr.resource.clone(),
            scope,
        };
        MetadataResource::new(self.client.clone(), resource, None)
    }
}

impl From<Client> for MetadataClient {
    fn from(client: Client) -> Self {
        MetadataClient::new(client)
    }
}

impl From<DynamicClient> for MetadataClient {
    fn from(dynamic: DynamicClient) -> Self {
        MetadataClient::new(dynamic.client().clone())
    }
}

/// The metadata verbs on one resource, in one namespace or across all of them.
#[derive(Clone, Debug)]
pub struct MetadataResource {
    resource: ApiResource,
    raw: RawApi,
}

impl MetadataResource {
    crate::api::resource_handle_methods!(MetadataResource);

    /// Reads the metadata of one object.
    pub async fn get(&self, name: &str) -> Result<PartialObjectMetadata> {
        self.get_with(name, &GetParams::default()).await
    }

    /// Reads the metadata of one object with options (`resourceVersion`).
    pub async fn get_with(&self, name: &str, params: &GetParams) -> Result<PartialObjectMetadata> {
        let request = self.get_request(name, params)?;
        let bytes = self.raw.send_bytes(request).await?;
        self.decode_object(&bytes)
    }

    /// One list page of metadata; every item carries kind and apiVersion.
    pub async fn list(&self, options: &ListOptions) -> Result<ObjectList<PartialObjectMetadata>> {
        let request = self.list_request(options)?;
        let bytes = self.raw.send_bytes(request).await?;
        self.decode_list(&bytes)
    }

    /// Every page of a list (see [`list_all_pages`]).
    pub async fn list_all(
        &self,
        options: &ListOptions,
    ) -> Result<ObjectList<PartialObjectMetadata>> {
        list_all_pages(options, |page| async move { self.list(&page).await }).await
    }

    /// Starts a metadata watch; the stream's idle timeout follows `timeoutSeconds` (see
    /// [`WatchConfig::for_server_timeout`]).
    pub async fn watch(&self, options: &ListOptions) -> Result<MetadataWatchStream> {
        let config = WatchConfig::for_server_timeout(options.timeout_seconds);
        self.watch_with(options, config).await
    }

    /// Starts a metadata watch with explicit stream settings.
    pub async fn watch_with(
        &self,
        options: &ListOptions,
        config: WatchConfig,
    ) -> Result<MetadataWatchStream> {
        let request = self.watch_request(options)?;
        let response = self.raw.client.send_watch(request).await?;
        Ok(MetadataWatchStream {
            inner: WatchStream::from_body(response.into_body(), config),
            types: self.types(),
        })
    }

    /// Patches an object and returns the metadata of the result.
    pub async fn patch<P: Serialize>(
        &self,
        name: &str,
        patch: &Patch<P>,
        params: &PatchParams,
    ) -> Result<PartialObjectMetadata> {
        self.raw.check(true)?;
        let request = self.raw.request.patch(name, patch, params)?;
        let bytes = self.send(request, PARTIAL_OBJECT_METADATA_ACCEPT).await?;
        self.decode_object(&bytes)
    }

    /// Deletes an object: the Status when it is gone, its metadata when deletion is pending.
    pub async fn delete(
        &self,
        name: &str,
        params: &DeleteParams,
    ) -> Result<DeleteResponse<PartialObjectMetadata>> {
        self.raw.check(true)?;
        let request = self.raw.request.delete(name, params)?;
        let bytes = self.send(request, PARTIAL_OBJECT_METADATA_ACCEPT).await?;
        self.decode_delete(&bytes)
    }

    async fn send(&self, request: http::Request<Bytes>, accept: &'static str) -> Result<Bytes> {
        self.raw.send_bytes(with_accept(request, accept)).await
    }

    fn get_request(&self, name: &str, params: &GetParams) -> Result<http::Request<Bytes>> {
        self.raw.check(true)?;
        let request = self.raw.request.get(name, params)?;
        Ok(with_accept(request, PARTIAL_OBJECT_METADATA_ACCEPT))
    }

    fn list_request(&self, options: &ListOptions) -> Result<http::Request<Bytes>> {
        self.raw.check(false)?;
        let request = self.raw.request.list(options)?;
        Ok(with_accept(request, PARTIAL_OBJECT_METADATA_LIST_ACCEPT))
    }

    fn watch_request(&self, options: &ListOptions) -> Result<http::Request<Bytes>> {
        self.raw.check(false)?;
        let request = self.raw.request.watch(options)?;
        Ok(with_accept(request, PARTIAL_OBJECT_METADATA_ACCEPT))
    }

    fn types(&self) -> Types {
        Types {
            resource: (!self.resource.kind.is_empty())
                .then(|| TypeMeta::new(self.resource.api_version(), &self.resource.kind)),
            api_version: self.resource.api_version(),
        }
    }

    fn decode_object(&self, bytes: &[u8]) -> Result<PartialObjectMetadata> {
        let wire: WireObject = decode(bytes)?;
        self.types().object(wire)
    }

    /// A delete answers with a Status when the object is gone, else with the object.
    fn decode_delete(&self, bytes: &[u8]) -> Result<DeleteResponse<PartialObjectMetadata>> {
        let wire: WireObject = decode(bytes)?;
        if wire.kind == "Status" && wire.api_version == "v1" {
            let status: Status = decode(bytes)?;
            return Ok(DeleteResponse::Deleted(Box::new(status)));
        }
        Ok(DeleteResponse::Pending(self.types().object(wire)?))
    }

    fn decode_list(&self, bytes: &[u8]) -> Result<ObjectList<PartialObjectMetadata>> {
        let list: WireList = decode(bytes)?;
        let list_kind = match classify(&list.api_version, &list.kind, LIST_KIND)? {
            Shape::Metadata => None,
            // A whole list: its kind names the items' kind (`PodList` -> `Pod`).
            Shape::Whole => list.kind.strip_suffix("List").filter(|k| !k.is_empty()),
        };
        let types = self.types();
        let items = list
            .items
            .into_iter()
            .map(|item| types.item(item, list_kind))
            .collect();
        Ok(ObjectList {
            metadata: list.metadata,
            items,
        })
    }
}

/// A metadata watch: a `Stream` of `Result<WatchEvent<PartialObjectMetadata>>`, yielding what
/// [`WatchStream`] yields (see its module docs), with every object reduced to metadata and
/// carrying kind and apiVersion. An event whose object is not metadata (see the module docs)
/// is an `Err` item; the stream goes on after it.
pub struct MetadataWatchStream {
    inner: WatchStream<WireObject>,
    types: Types,
}

impl MetadataWatchStream {
    /// Bytes received and not yet decoded.
    pub fn buffered_len(&self) -> usize {
        self.inner.buffered_len()
    }
}

impl std::fmt::Debug for MetadataWatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetadataWatchStream")
            .field("inner", &self.inner)
            .finish()
    }
}

impl Stream for MetadataWatchStream {
    type Item = Result<WatchEvent<PartialObjectMetadata>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let event = match Pin::new(&mut this.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(event))) => event,
            Poll::Ready(Some(Err(error))) => return Poll::Ready(Some(Err(error))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        let types = &this.types;
        let converted = match event {
            WatchEvent::Added(object) => types.object(object).map(WatchEvent::Added),
            WatchEvent::Modified(object) => types.object(object).map(WatchEvent::Modified),
            WatchEvent::Deleted(object) => types.object(object).map(WatchEvent::Deleted),
            WatchEvent::Bookmark(bookmark) => Ok(WatchEvent::Bookmark(bookmark)),
            WatchEvent::Error(status) => Ok(WatchEvent::Error(status)),
        };
        Poll::Ready(Some(converted))
    }
}

/// An object as the wire has it: type, metadata, and everything else skipped by the parser
/// (no `flatten`, which would buffer a whole object of the fallback before reading it).
#[derive(Deserialize)]
struct WireObject {
    #[serde(default, rename = "apiVersion")]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: ObjectMeta,
}

/// A list as the wire has it, metadata-only or whole.
#[derive(Deserialize)]
struct WireList {
    #[serde(default, rename = "apiVersion")]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: ListMeta,
    #[serde(
        default,
        deserialize_with = "kinformer_meta::object_meta::null_as_default"
    )]
    items: Vec<WireObject>,
}

/// What the server sent in place of the metadata asked for.
#[derive(Debug, PartialEq, Eq)]
enum Shape {
    /// The `meta.k8s.io` kind asked for.
    Metadata,
    /// Anything else outside `meta.k8s.io`: a whole object or list (the fallback).
    Whole,
}

/// Tells what arrived; another `meta.k8s.io` kind, or a Status, is an error.
fn classify(api_version: &str, kind: &str, expected: &'static str) -> Result<Shape> {
    let meta_group = api_version
        .strip_prefix("meta.k8s.io/")
        .is_some_and(|version| matches!(version, "v1" | "v1beta1"));
    let status = kind == "Status" && api_version == "v1";
    if meta_group && kind == expected {
        Ok(Shape::Metadata)
    } else if meta_group || status {
        Err(Error::UnexpectedKind {
            expected,
            found: describe(api_version, kind),
        })
    } else {
        Ok(Shape::Whole)
    }
}

fn describe(api_version: &str, kind: &str) -> String {
    format!("{kind} ({api_version})")
}

/// What client-go accepts as an object's metadata when a whole object arrived instead.
fn is_likely_object_metadata(metadata: &ObjectMeta) -> bool {
    let set = |field: &Option<String>| field.as_deref().is_some_and(|v| !v.is_empty());
    set(&metadata.name)
        || set(&metadata.generate_name)
        || set(&metadata.uid)
        || metadata.creation_timestamp.is_some()
}

/// The kind and apiVersion objects of one resource are handed out with.
#[derive(Clone, Debug)]
struct Types {
    /// The resource's own type, when its kind is known.
    resource: Option<TypeMeta>,
    /// The resource's group/version, for a kind learnt from a whole list.
    api_version: String,
}

impl Types {
    /// A single object (get, patch, delete, watch event): checked as client-go checks it.
    fn object(&self, wire: WireObject) -> Result<PartialObjectMetadata> {
        let shape = classify(&wire.api_version, &wire.kind, OBJECT_KIND)?;
        if shape == Shape::Whole && !is_likely_object_metadata(&wire.metadata) {
            return Err(Error::NotObjectMetadata {
                found: describe(&wire.api_version, &wire.kind),
            });
        }
        Ok(self.item(wire, None))
    }

    /// A list item: taken as it is (client-go checks no list item).
    fn item(&self, wire: WireObject, list_kind: Option<&str>) -> PartialObjectMetadata {
        let types = self.types_of(wire.api_version, wire.kind, list_kind);
        PartialObjectMetadata {
            types,
            metadata: wire.metadata,
        }
    }

    fn types_of(&self, api_version: String, kind: String, list_kind: Option<&str>) -> TypeMeta {
        if let Some(types) = &self.resource {
            return types.clone();
        }
        let own = TypeMeta { api_version, kind };
        let sent_metadata = own.kind == OBJECT_KIND && own.api_version.starts_with("meta.k8s.io/");
        if !own.is_incomplete() && !sent_metadata {
            return own;
        }
        match list_kind {
            Some(kind) => TypeMeta::new(&self.api_version, kind),
            None => TypeMeta::new(META_API_VERSION, OBJECT_KIND),
        }
    }
}

fn with_accept(mut request: http::Request<Bytes>, accept: &'static str) -> http::Request<Bytes> {
    request
        .headers_mut()
        .insert(ACCEPT, HeaderValue::from_static(accept));
    request
}

#[cfg(test)]
mod tests;
