//! Request building: every REST verb of a resource as an `http::Request<Bytes>`, with the
//! query parameters and bodies Kubernetes expects. No I/O happens here.
//!
//! A [`Request`] is built from the collection path of a resource (`/api/v1/namespaces/ns/pods`,
//! `/apis/apps/v1/deployments`); each verb method returns a ready request whose URI is a path
//! and query, to be sent by [`Client`](crate::Client). Options are named as in Kubernetes:
//! [`ListOptions`] for list and watch, [`GetParams`], [`PostParams`], [`PatchParams`] with
//! [`Patch`], and [`DeleteParams`] with [`Preconditions`] and [`PropagationPolicy`].

use bytes::Bytes;
use http::header::{ACCEPT, CONTENT_TYPE};
use http::{Method, Request as HttpRequest};
use kinformer_meta::{GroupVersionResource, ListOptions};
use serde::Serialize;

use crate::error::{Error, Result};

/// The media type of every JSON request and response.
pub const JSON: &str = "application/json";

/// Builds the requests of one resource collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    collection_path: String,
}

/// Options of a GET of one object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GetParams {
    /// `resourceVersion`: `"0"` lets the server answer from its cache.
    pub resource_version: Option<String>,
}

/// Options of a create (POST) or replace (PUT).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PostParams {
    /// `dryRun=All`: validate and answer without persisting.
    pub dry_run: bool,
    /// `fieldManager`: who owns the fields written.
    pub field_manager: Option<String>,
}

/// The body of a PATCH, one variant per patch type the API server accepts.
#[derive(Clone, Debug, PartialEq)]
pub enum Patch<P> {
    /// RFC 6902 JSON patch: `P` serializes to an array of operations
    /// (`[{"op":"replace","path":"/spec/replicas","value":3}]`).
    Json(P),
    /// RFC 7386 JSON merge patch: `P` serializes to a partial object; `null` deletes a field.
    Merge(P),
    /// Strategic merge patch: like a merge patch, but lists merge by their key (built-in kinds).
    Strategic(P),
    /// Server-side apply: `P` is the full intent of one field manager; needs
    /// [`PatchParams::field_manager`].
    Apply(P),
}

/// Options of a PATCH.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PatchParams {
    /// `dryRun=All`: validate and answer without persisting.
    pub dry_run: bool,
    /// `fieldManager`: required for server-side apply.
    pub field_manager: Option<String>,
    /// `force=true`: take ownership of conflicting fields (server-side apply only).
    pub force: bool,
}

/// How dependents are handled when an owner is deleted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum PropagationPolicy {
    /// Leave dependents in place, removing the owner reference.
    Orphan,
    /// Delete dependents in the background after the owner is gone.
    Background,
    /// Delete dependents first; the owner stays (with a finalizer) until they are gone.
    Foreground,
}

/// Conditions the object must meet for a delete to proceed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Preconditions {
    /// The object's UID must be this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// The object's resourceVersion must be this.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

/// Options of a DELETE, sent as a `DeleteOptions` body.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeleteParams {
    /// `dryRun=All`: validate and answer without deleting.
    pub dry_run: bool,
    /// Seconds before the object is removed; `0` deletes at once.
    pub grace_period_seconds: Option<u32>,
    /// What happens to dependents.
    pub propagation_policy: Option<PropagationPolicy>,
    /// Conditions on uid and resourceVersion.
    pub preconditions: Option<Preconditions>,
}

impl PostParams {
    /// Sets dryRun.
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// Sets the field manager.
    pub fn field_manager(mut self, manager: impl Into<String>) -> Self {
        self.field_manager = Some(manager.into());
        self
    }

    fn query(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if self.dry_run {
            pairs.push(("dryRun", "All".to_owned()));
        }
        if let Some(manager) = &self.field_manager {
            pairs.push(("fieldManager", manager.clone()));
        }
        pairs
    }
}

impl PatchParams {
    /// Parameters of a server-side apply by `manager`.
    pub fn apply(manager: impl Into<String>) -> Self {
        PatchParams {
            field_manager: Some(manager.into()),
            ..PatchParams::default()
        }
    }

    /// Takes ownership of conflicting fields (server-side apply).
    pub fn force(mut self) -> Self {
        self.force = true;
        self
    }

    /// Sets dryRun.
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    fn query<P>(&self, patch: &Patch<P>) -> Result<Vec<(&'static str, String)>> {
        let is_apply = matches!(patch, Patch::Apply(_));
        if self.force && !is_apply {
            return Err(invalid(
                "force is only allowed with a server-side apply patch",
            ));
        }
        if is_apply && self.field_manager.as_deref().is_none_or(str::is_empty) {
            return Err(invalid("a server-side apply patch needs a field manager"));
        }
        let mut pairs = Vec::new();
        if self.dry_run {
            pairs.push(("dryRun", "All".to_owned()));
        }
        if let Some(manager) = &self.field_manager {
            pairs.push(("fieldManager", manager.clone()));
        }
        if self.force {
            pairs.push(("force", "true".to_owned()));
        }
        Ok(pairs)
    }
}

impl<P> Patch<P> {
    /// The Content-Type the API server expects for this patch type.
    pub fn content_type(&self) -> &'static str {
        match self {
            Patch::Json(_) => "application/json-patch+json",
            Patch::Merge(_) => "application/merge-patch+json",
            Patch::Strategic(_) => "application/strategic-merge-patch+json",
            Patch::Apply(_) => "application/apply-patch+yaml",
        }
    }

    /// The patch document.
    pub fn body(&self) -> &P {
        match self {
            Patch::Json(body)
            | Patch::Merge(body)
            | Patch::Strategic(body)
            | Patch::Apply(body) => body,
        }
    }
}

impl DeleteParams {
    /// Deletes dependents in the background.
    pub fn background() -> Self {
        DeleteParams {
            propagation_policy: Some(PropagationPolicy::Background),
            ..DeleteParams::default()
        }
    }

    /// Deletes dependents first.
    pub fn foreground() -> Self {
        DeleteParams {
            propagation_policy: Some(PropagationPolicy::Foreground),
            ..DeleteParams::default()
        }
    }

    /// Orphans dependents.
    pub fn orphan() -> Self {
        DeleteParams {
            propagation_policy: Some(PropagationPolicy::Orphan),
            ..DeleteParams::default()
        }
    }

    /// Sets the grace period.
    pub fn grace_period(mut self, seconds: u32) -> Self {
        self.grace_period_seconds = Some(seconds);
        self
    }

    /// Sets preconditions.
    pub fn preconditions(mut self, preconditions: Preconditions) -> Self {
        self.preconditions = Some(preconditions);
        self
    }

    /// Sets dryRun.
    pub fn dry_run(mut self) -> Self {
        self.dry_run = true;
        self
    }

    /// The `DeleteOptions` body.
    fn body(&self) -> Result<Bytes> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct DeleteOptions<'a> {
            kind: &'static str,
            api_version: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            grace_period_seconds: Option<u32>,
            #[serde(skip_serializing_if = "Option::is_none")]
            propagation_policy: Option<PropagationPolicy>,
            #[serde(skip_serializing_if = "Option::is_none")]
            preconditions: Option<&'a Preconditions>,
            #[serde(skip_serializing_if = "<[_]>::is_empty")]
            dry_run: &'a [&'a str],
        }
        let options = DeleteOptions {
            kind: "DeleteOptions",
            api_version: "v1",
            grace_period_seconds: self.grace_period_seconds,
            propagation_policy: self.propagation_policy,
            preconditions: self.preconditions.as_ref(),
            dry_run: if self.dry_run { &["All"] } else { &[] },
        };
        encode("delete options", &options)
    }
}

impl Request {
    /// Requests on the collection at `collection_path` (no trailing slash).
    pub fn new(collection_path: impl Into<String>) -> Self {
        Request {
            collection_path: collection_path.into(),
        }
    }

    /// Requests on a group/version/resource, in a namespace or across all of them.
    pub fn for_resource(gvr: &GroupVersionResource, namespace: Option<&str>) -> Result<Self> {
        for (what, value) in [
            ("group", gvr.group.as_str()),
            ("version", gvr.version.as_str()),
            ("resource", gvr.resource.as_str()),
        ] {
            if what != "group" || !value.is_empty() {
                check_segment(what, value)?;
            }
        }
        if let Some(namespace) = namespace.filter(|ns| !ns.is_empty()) {
            check_segment("namespace", namespace)?;
        }
        Ok(Request::new(gvr.path(namespace, None, None)))
    }

    /// The collection path.
    pub fn collection_path(&self) -> &str {
        &self.collection_path
    }

    /// `GET collection?...`: one list page.
    pub fn list(&self, options: &ListOptions) -> Result<HttpRequest<Bytes>> {
        let uri = with_query(self.collection_path.clone(), &options.query_pairs(false));
        build(Method::GET, uri, None)
    }

    /// `GET collection?watch=1&...`: a watch.
    pub fn watch(&self, options: &ListOptions) -> Result<HttpRequest<Bytes>> {
        let uri = with_query(self.collection_path.clone(), &options.query_pairs(true));
        build(Method::GET, uri, None)
    }

    /// `GET collection/name`.
    pub fn get(&self, name: &str, params: &GetParams) -> Result<HttpRequest<Bytes>> {
        let mut pairs = Vec::new();
        if let Some(version) = &params.resource_version {
            pairs.push(("resourceVersion", version.clone()));
        }
        let uri = with_query(self.object_path(name, None)?, &pairs);
        build(Method::GET, uri, None)
    }

    /// `POST collection`: create `object`.
    pub fn create<T: Serialize>(
        &self,
        object: &T,
        params: &PostParams,
    ) -> Result<HttpRequest<Bytes>> {
        let uri = with_query(self.collection_path.clone(), &params.query());
        build(Method::POST, uri, Some((JSON, encode("object", object)?)))
    }

    /// `PUT collection/name`: replace the object (its resourceVersion guards the write).
    pub fn replace<T: Serialize>(
        &self,
        name: &str,
        object: &T,
        params: &PostParams,
    ) -> Result<HttpRequest<Bytes>> {
        self.replace_subresource(name, None, object, params)
    }

    /// `PUT collection/name/status`: replace the status subresource.
    pub fn replace_status<T: Serialize>(
        &self,
        name: &str,
        object: &T,
        params: &PostParams,
    ) -> Result<HttpRequest<Bytes>> {
        self.replace_subresource(name, Some("status"), object, params)
    }

    /// `PUT collection/name[/subresource]`.
    pub fn replace_subresource<T: Serialize>(
        &self,
        name: &str,
        subresource: Option<&str>,
        object: &T,
        params: &PostParams,
    ) -> Result<HttpRequest<Bytes>> {
        let uri = with_query(self.object_path(name, subresource)?, &params.query());
        build(Method::PUT, uri, Some((JSON, encode("object", object)?)))
    }

    /// `PATCH collection/name` with the patch's content type.
    pub fn patch<P: Serialize>(
        &self,
        name: &str,
        patch: &Patch<P>,
        params: &PatchParams,
    ) -> Result<HttpRequest<Bytes>> {
        self.patch_subresource(name, None, patch, params)
    }

    /// `PATCH collection/name/status`.
    pub fn patch_status<P: Serialize>(
        &self,
        name: &str,
        patch: &Patch<P>,
        params: &PatchParams,
    ) -> Result<HttpRequest<Bytes>> {
        self.patch_subresource(name, Some("status"), patch, params)
    }

    /// `PATCH collection/name[/subresource]`.
    pub fn patch_subresource<P: Serialize>(
        &self,
        name: &str,
        subresource: Option<&str>,
        patch: &Patch<P>,
        params: &PatchParams,
    ) -> Result<HttpRequest<Bytes>> {
        let uri = with_query(self.object_path(name, subresource)?, &params.query(patch)?);
        let body = encode("patch", patch.body())?;
        build(Method::PATCH, uri, Some((patch.content_type(), body)))
    }

    /// `DELETE collection/name` with a `DeleteOptions` body.
    pub fn delete(&self, name: &str, params: &DeleteParams) -> Result<HttpRequest<Bytes>> {
        let uri = self.object_path(name, None)?;
        build(Method::DELETE, uri, Some((JSON, params.body()?)))
    }

    /// `DELETE collection?...`: delete every object the selectors match.
    pub fn delete_collection(
        &self,
        params: &DeleteParams,
        options: &ListOptions,
    ) -> Result<HttpRequest<Bytes>> {
        let uri = with_query(self.collection_path.clone(), &options.query_pairs(false));
        build(Method::DELETE, uri, Some((JSON, params.body()?)))
    }

    fn object_path(&self, name: &str, subresource: Option<&str>) -> Result<String> {
        check_segment("name", name)?;
        let mut path = format!("{}/{}", self.collection_path, encode_segment(name));
        if let Some(subresource) = subresource {
            check_segment("subresource", subresource)?;
            path.push('/');
            path.push_str(subresource);
        }
        Ok(path)
    }
}

/// Rejects names the API server could never route (as client-go's path segment check does).
fn check_segment(what: &str, value: &str) -> Result<()> {
    let problem = if value.is_empty() {
        "must not be empty"
    } else if value == "." || value == ".." {
        "may not be '.' or '..'"
    } else if value.contains('/') {
        "may not contain '/'"
    } else if value.contains('%') {
        "may not contain '%'"
    } else {
        return Ok(());
    };
    Err(invalid(format!("{what} {value:?} {problem}")))
}

fn invalid(problem: impl Into<String>) -> Error {
    Error::InvalidRequest(problem.into())
}

fn encode<T: Serialize + ?Sized>(what: &'static str, value: &T) -> Result<Bytes> {
    serde_json::to_vec(value)
        .map(Bytes::from)
        .map_err(|source| Error::RequestBodyEncodeFailed { what, source })
}

fn build(
    method: Method,
    uri: String,
    body: Option<(&'static str, Bytes)>,
) -> Result<HttpRequest<Bytes>> {
    let mut builder = HttpRequest::builder()
        .method(method)
        .uri(&uri)
        .header(ACCEPT, JSON);
    let body = match body {
        Some((content_type, body)) => {
            builder = builder.header(CONTENT_TYPE, content_type);
            body
        }
        None => Bytes::new(),
    };
    builder
        .body(body)
        .map_err(|error| invalid(format!("{uri:?} is not a valid request: {error}")))
}

/// Appends `?k=v&...`, percent-encoding keys and values.
pub(crate) fn with_query(mut path: String, pairs: &[(&'static str, String)]) -> String {
    for (i, (key, value)) in pairs.iter().enumerate() {
        path.push(if i == 0 { '?' } else { '&' });
        percent_encode_into(&mut path, key);
        path.push('=');
        percent_encode_into(&mut path, value);
    }
    path
}

/// Encodes one path segment (names may hold characters a URI cannot).
fn encode_segment(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    percent_encode_into(&mut out, segment);
    out
}

/// Percent-encodes everything except RFC 3986 unreserved characters.
fn percent_encode_into(out: &mut String, value: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &byte in value.as_bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(byte >> 4)] as char);
            out.push(HEX[usize::from(byte & 15)] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn pods() -> Request {
        Request::for_resource(&GroupVersionResource::new("", "v1", "pods"), Some("ns")).unwrap()
    }

    fn body_json(request: &HttpRequest<Bytes>) -> Value {
        serde_json::from_slice(request.body()).unwrap()
    }

    #[test]
    fn list_and_watch_carry_their_options_encoded() {
        let options = ListOptions::default()
            .labels("app in (a,b),tier!=x")
            .limit(2)
            .continue_token("ab/c=");
        let list = pods().list(&options).unwrap();
        assert_eq!(list.method(), Method::GET);
        assert_eq!(
            list.uri().to_string(),
            "/api/v1/namespaces/ns/pods?continue=ab%2Fc%3D&labelSelector=app%20in%20%28a%2Cb%29%2Ctier%21%3Dx&limit=2"
        );
        let watch = pods()
            .watch(
                &ListOptions::default()
                    .resource_version("13")
                    .timeout_seconds(12),
            )
            .unwrap();
        assert_eq!(
            watch.uri().to_string(),
            "/api/v1/namespaces/ns/pods?resourceVersion=13&timeoutSeconds=12&watch=1"
        );
        assert_eq!(watch.headers()[ACCEPT], JSON);
    }

    #[test]
    fn get_create_replace_and_status_use_the_right_method_and_path() {
        let get = pods()
            .get(
                "p1",
                &GetParams {
                    resource_version: Some("0".into()),
                },
            )
            .unwrap();
        assert_eq!(get.uri(), "/api/v1/namespaces/ns/pods/p1?resourceVersion=0");
        let object = json!({"metadata": {"name": "p1"}});
        let create = pods()
            .create(
                &object,
                &PostParams::default().dry_run().field_manager("me"),
            )
            .unwrap();
        assert_eq!(create.method(), Method::POST);
        assert_eq!(
            create.uri(),
            "/api/v1/namespaces/ns/pods?dryRun=All&fieldManager=me"
        );
        assert_eq!(create.headers()[CONTENT_TYPE], JSON);
        assert_eq!(body_json(&create), object);
        let replace = pods()
            .replace("p1", &object, &PostParams::default())
            .unwrap();
        assert_eq!(
            (replace.method(), replace.uri().path()),
            (&Method::PUT, "/api/v1/namespaces/ns/pods/p1")
        );
        let status = pods()
            .replace_status("p1", &object, &PostParams::default())
            .unwrap();
        assert_eq!(status.uri().path(), "/api/v1/namespaces/ns/pods/p1/status");
    }

    #[test]
    fn each_patch_type_sends_its_content_type() {
        let body = json!({"metadata": {"labels": {"a": "b"}}});
        let cases = [
            (
                Patch::Json(json!([{"op": "add", "path": "/x", "value": 1}])),
                "application/json-patch+json",
            ),
            (Patch::Merge(body.clone()), "application/merge-patch+json"),
            (
                Patch::Strategic(body.clone()),
                "application/strategic-merge-patch+json",
            ),
        ];
        for (patch, content_type) in cases {
            let request = pods().patch("p1", &patch, &PatchParams::default()).unwrap();
            assert_eq!(request.method(), Method::PATCH);
            assert_eq!(request.headers()[CONTENT_TYPE], content_type);
            assert_eq!(&body_json(&request), patch.body());
        }
        let apply = pods()
            .patch(
                "p1",
                &Patch::Apply(body),
                &PatchParams::apply("kinformer").force(),
            )
            .unwrap();
        assert_eq!(
            apply.headers()[CONTENT_TYPE],
            "application/apply-patch+yaml"
        );
        assert_eq!(
            apply.uri().query(),
            Some("fieldManager=kinformer&force=true")
        );
    }

    #[test]
    fn apply_without_manager_and_force_without_apply_are_rejected() {
        let body = json!({});
        let no_manager = pods().patch("p1", &Patch::Apply(&body), &PatchParams::default());
        assert!(
            matches!(no_manager, Err(Error::InvalidRequest(problem)) if problem.contains("field manager"))
        );
        let force_merge = pods().patch(
            "p1",
            &Patch::Merge(&body),
            &PatchParams::apply("me").force(),
        );
        assert!(
            matches!(force_merge, Err(Error::InvalidRequest(problem)) if problem.contains("force"))
        );
    }

    #[test]
    fn delete_sends_delete_options_with_preconditions_and_policy() {
        let params = DeleteParams::foreground()
            .grace_period(0)
            .dry_run()
            .preconditions(Preconditions {
                uid: Some("u1".into()),
                resource_version: Some("7".into()),
            });
        let request = pods().delete("p1", &params).unwrap();
        assert_eq!(request.method(), Method::DELETE);
        assert_eq!(
            body_json(&request),
            json!({"kind": "DeleteOptions", "apiVersion": "v1", "gracePeriodSeconds": 0,
                   "propagationPolicy": "Foreground", "dryRun": ["All"],
                   "preconditions": {"uid": "u1", "resourceVersion": "7"}})
        );
        let collection = pods()
            .delete_collection(
                &DeleteParams::default(),
                &ListOptions::default().labels("a=b"),
            )
            .unwrap();
        assert_eq!(
            collection.uri(),
            "/api/v1/namespaces/ns/pods?labelSelector=a%3Db"
        );
        assert_eq!(
            body_json(&collection),
            json!({"kind": "DeleteOptions", "apiVersion": "v1"})
        );
    }

    #[test]
    fn names_that_cannot_be_routed_are_typed_errors() {
        for bad in ["", "a/b", "..", "50%"] {
            let error = pods().get(bad, &GetParams::default()).unwrap_err();
            assert!(matches!(error, Error::InvalidRequest(_)), "{bad}");
        }
        let spaced = pods().get("a b", &GetParams::default()).unwrap();
        assert_eq!(spaced.uri().path(), "/api/v1/namespaces/ns/pods/a%20b");
        let bad_namespace = Request::for_resource(
            &GroupVersionResource::new("apps", "v1", "deployments"),
            Some("x/y"),
        );
        assert!(bad_namespace.is_err());
        let cluster = Request::for_resource(
            &GroupVersionResource::new("apps", "v1", "deployments"),
            None,
        )
        .unwrap();
        assert_eq!(cluster.collection_path(), "/apis/apps/v1/deployments");
    }
}
