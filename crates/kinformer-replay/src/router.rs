//! Request dispatch: authentication, fault injection, path parsing into discovery or resource
//! routes, and the verb each method plus path means.

use std::collections::HashMap;
use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;

use crate::faults::Fault;
use crate::registry::ResourceInfo;
use crate::request::{parse_query, ListParams};
use crate::response::{self, errors, Body};
use crate::server::Shared;
use crate::{discovery, handlers, list, openapi, patch, watch};

/// Largest request body accepted (the apiserver's limit is 3 MiB per object).
const MAX_BODY: usize = 8 * 1024 * 1024;

/// Everything a handler needs from the request.
pub(crate) struct Ctx {
    pub shared: Arc<Shared>,
    pub method: Method,
    pub query: HashMap<String, String>,
    pub pretty: bool,
    pub accept: String,
    pub content_type: String,
    pub user_agent: String,
    pub body: Bytes,
}

impl Ctx {
    /// Whether `?dryRun=All` asks for a write that stores nothing.
    pub fn dry_run(&self) -> bool {
        self.query.get("dryRun").is_some_and(|d| d == "All")
    }

    /// The `includeObject` parameter of a Table request.
    pub fn table_include(&self) -> &str {
        self.query
            .get("includeObject")
            .map_or("Metadata", String::as_str)
    }

    /// The field manager: `?fieldManager=`, else the User-Agent's program name.
    pub fn manager(&self) -> String {
        if let Some(manager) = self.query.get("fieldManager").filter(|m| !m.is_empty()) {
            return manager.clone();
        }
        let program = self.user_agent.split('/').next().unwrap_or("").trim();
        if program.is_empty() {
            "unknown".into()
        } else {
            program.into()
        }
    }

    /// A Status response honouring `pretty`.
    pub fn status(&self, status: &kinformer_meta::Status) -> Response<Body> {
        response::status(status, self.pretty)
    }
}

/// Where a path leads.
pub(crate) enum Route {
    Version,
    Health,
    Api,
    Apis,
    GroupVersion(String, String),
    Group(String),
    OpenApi(String),
    Resource {
        info: Arc<ResourceInfo>,
        namespace: Option<String>,
        name: Option<String>,
        subresource: Option<String>,
    },
    NotFound,
}

fn route(shared: &Shared, path: &str) -> Route {
    let segments: Vec<&str> = path
        .trim_matches('/')
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let (group, version, rest) = match segments.as_slice() {
        ["version"] => return Route::Version,
        ["healthz" | "readyz" | "livez", ..] => return Route::Health,
        ["openapi", ..] => return Route::OpenApi(path.to_string()),
        ["api"] => return Route::Api,
        ["apis"] => return Route::Apis,
        ["api", version, rest @ ..] => ("", *version, rest),
        ["apis", group] => return Route::Group((*group).into()),
        ["apis", group, version, rest @ ..] => (*group, *version, rest),
        _ => return Route::NotFound,
    };
    let registry = &shared.store().registry;
    if rest.is_empty() {
        if registry.in_group_version(group, version).is_empty() {
            return Route::NotFound;
        }
        return Route::GroupVersion(group.into(), version.into());
    }
    let resource = |plural: &str| registry.find(group, version, plural);
    let found = match rest {
        ["namespaces", ns, plural, tail @ ..] if tail.len() <= 2 => resource(plural)
            .filter(|info| info.namespaced)
            .map(|info| (info, Some(*ns), tail.first().copied(), tail.get(1).copied())),
        [plural, tail @ ..] if tail.len() <= 2 => resource(plural)
            .filter(|info| !info.namespaced || tail.is_empty())
            .map(|info| (info, None, tail.first().copied(), tail.get(1).copied())),
        _ => None,
    };
    match found {
        Some((info, namespace, name, subresource)) => Route::Resource {
            info,
            namespace: namespace.map(String::from),
            name: name.map(String::from),
            subresource: subresource.map(String::from),
        },
        None => Route::NotFound,
    }
}

fn verb_of(route: &Route, method: &Method, query: &HashMap<String, String>) -> &'static str {
    let Route::Resource { name, .. } = route else {
        return "discovery";
    };
    match (name.is_some(), method.as_str()) {
        (false, "GET") if query.get("watch").is_some_and(|w| w == "true" || w == "1") => "watch",
        (false, "GET") => "list",
        (false, "POST") => "create",
        (false, "DELETE") => "deletecollection",
        (true, "GET") => "get",
        (true, "PUT") => "update",
        (true, "PATCH") => "patch",
        (true, "DELETE") => "delete",
        _ => "other",
    }
}

fn authorized(shared: &Shared, request: &Request<Incoming>, has_client_cert: bool) -> bool {
    if shared.token.is_none() && !shared.client_cert_auth {
        return true;
    }
    if shared.client_cert_auth && has_client_cert {
        return true;
    }
    let Some(token) = &shared.token else {
        return false;
    };
    request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|given| given.trim() == token.expose())
}

/// Answers one request.
pub(crate) async fn handle(
    shared: Arc<Shared>,
    request: Request<Incoming>,
    has_client_cert: bool,
) -> Response<Body> {
    let query = parse_query(request.uri().query());
    let header = |name: http::header::HeaderName| {
        request
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string()
    };
    let user_agent = header(http::header::USER_AGENT);
    let pretty = query.get("pretty").is_some_and(|p| p == "true" || p == "1")
        || user_agent.starts_with("curl");
    if !authorized(&shared, &request, has_client_cert) {
        return response::status(&errors::unauthorized(), pretty);
    }
    if let Some(recording) = &shared.recording {
        let target = request.uri().path_and_query().map_or("/", |pq| pq.as_str());
        if let Some(exchange) = recording.find(request.method().as_str(), target) {
            return exchange.response();
        }
    }
    let path = request.uri().path().to_string();
    let target = route(&shared, &path);
    let verb = verb_of(&target, request.method(), &query);
    let faults = shared.faults().take(verb, &path);
    if let Some(status) = faults.iter().find_map(Fault::status) {
        return response::status(&status, pretty);
    }
    let accept = header(http::header::ACCEPT);
    let content_type = header(http::header::CONTENT_TYPE);
    let method = request.method().clone();
    let body = match Limited::new(request.into_body(), MAX_BODY).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            let status = kinformer_meta::Status::failure(
                413,
                kinformer_meta::status::reason::REQUEST_ENTITY_TOO_LARGE,
                "the request body is too large or could not be read",
            );
            return response::status(&status, pretty);
        }
    };
    let ctx = Ctx {
        shared,
        method,
        query,
        pretty,
        accept,
        content_type,
        user_agent,
        body,
    };
    let response = dispatch(&ctx, target, faults.clone()).await;
    match faults.iter().find_map(|f| match f {
        Fault::CloseAfterBytes(n) if verb != "watch" => Some(*n),
        _ => None,
    }) {
        Some(limit) => truncate(response, limit),
        None => response,
    }
}

async fn dispatch(ctx: &Ctx, target: Route, faults: Vec<Fault>) -> Response<Body> {
    let (info, namespace, name, subresource) = match target {
        Route::Resource {
            info,
            namespace,
            name,
            subresource,
        } => (info, namespace, name, subresource),
        Route::Version => return discovery::version(ctx),
        Route::Health => {
            let mut response = response::with_headers(
                StatusCode::OK,
                "text/plain; charset=utf-8",
                response::full("ok"),
            );
            response.headers_mut().insert(
                "x-content-type-options",
                http::HeaderValue::from_static("nosniff"),
            );
            return response;
        }
        Route::Api => return discovery::api(ctx),
        Route::Apis => return discovery::apis(ctx),
        Route::Group(group) => return discovery::group(ctx, &group),
        Route::GroupVersion(group, version) => {
            return discovery::resource_list(ctx, &group, &version)
        }
        Route::OpenApi(path) => {
            let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            return openapi::serve(ctx, &segments);
        }
        Route::NotFound => return ctx.status(&errors::unknown_resource()),
    };
    let ns = namespace.as_deref();
    match (name.as_deref(), subresource.as_deref()) {
        (None, _) => match ctx.method.as_str() {
            "GET" => match ListParams::parse(&ctx.query) {
                Err(status) => ctx.status(&status),
                Ok(params) if params.watch => watch::serve(ctx, info, ns, params, faults),
                Ok(params) => list::serve(ctx, &info, ns, &params).await,
            },
            "POST" if ns.is_some() || !info.namespaced => handlers::create(ctx, &info, ns),
            "DELETE" => handlers::delete_collection(ctx, &info, ns),
            _ => ctx.status(&errors::method_not_allowed()),
        },
        (Some(name), None) => match ctx.method.as_str() {
            "GET" => handlers::get(ctx, &info, ns, name),
            "PUT" => handlers::update(ctx, &info, ns, name, None),
            "PATCH" => patch::serve(ctx, &info, ns, name, None),
            "DELETE" => handlers::delete(ctx, &info, ns, name),
            _ => ctx.status(&errors::method_not_allowed()),
        },
        (Some(name), Some("status")) if info.status_subresource => match ctx.method.as_str() {
            "GET" => handlers::get(ctx, &info, ns, name),
            "PUT" => handlers::update(ctx, &info, ns, name, Some("status")),
            "PATCH" => patch::serve(ctx, &info, ns, name, Some("status")),
            _ => ctx.status(&errors::method_not_allowed()),
        },
        _ => ctx.status(&errors::unknown_resource()),
    }
}

/// Cuts a response's body after `limit` bytes and then fails it, so the connection drops.
fn truncate(response: Response<Body>, limit: usize) -> Response<Body> {
    use futures::StreamExt;
    use http_body_util::{BodyStream, StreamBody};
    let (mut parts, body) = response.into_parts();
    parts.headers.remove(http::header::CONTENT_LENGTH);
    let mut sent = 0usize;
    let stream = BodyStream::new(body)
        .map(move |frame| {
            let data = frame?.into_data().unwrap_or_default();
            let take = data.len().min(limit.saturating_sub(sent));
            sent += take;
            Ok(hyper::body::Frame::data(data.slice(..take)))
        })
        .chain(futures::stream::once(async {
            response::before_error().await;
            Err(std::io::Error::other("injected fault: connection closed"))
        }));
    Response::from_parts(parts, BodyExt::boxed(StreamBody::new(stream)))
}
