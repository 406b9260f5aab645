//! The single-object HTTP verbs and deletecollection: decoding bodies, calling the write
//! semantics and answering with the object (200/201) or a Status.

use std::sync::Arc;

use http::{Response, StatusCode};
use kinformer_meta::{Status, StatusDetails};
use serde_json::{json, Value};

use crate::negotiate::{self, Output};
use crate::registry::ResourceInfo;
use crate::response::{self, errors, Body};
use crate::router::Ctx;
use crate::selector::Filter;
use crate::store::object_key;
use crate::stored::Stored;
use crate::write::{self, Deleted, Preconditions, Writer};
use crate::{metadata, table};

/// Decodes a JSON (or YAML) request body as an object.
pub(crate) fn decode_body(ctx: &Ctx, info: &ResourceInfo) -> Result<Value, Status> {
    let parsed = if ctx.content_type.contains("yaml") {
        serde_yaml::from_slice::<Value>(&ctx.body).map_err(|e| e.to_string())
    } else {
        serde_json::from_slice::<Value>(&ctx.body).map_err(|e| {
            if e.is_eof() {
                "unexpected end of JSON input".to_string()
            } else {
                e.to_string()
            }
        })
    };
    match parsed {
        Ok(value) if value.is_object() => Ok(value),
        Ok(_) => Err(errors::bad_request(format!(
            "the object provided is unrecognized (must be of type {}): couldn't get version/kind; json parse error: json: cannot unmarshal into Go value of type struct",
            info.kind
        ))),
        Err(message) => {
            let excerpt: String = String::from_utf8_lossy(&ctx.body).chars().take(100).collect();
            Err(errors::bad_request(format!(
                "the object provided is unrecognized (must be of type {}): couldn't get version/kind; json parse error: {message} ({excerpt})",
                info.kind
            )))
        }
    }
}

/// An object as this route's version shows it.
pub(crate) fn versioned(info: &ResourceInfo, object: &Arc<Value>) -> Arc<Value> {
    let api_version = info.api_version();
    if object.get("apiVersion").and_then(Value::as_str) == Some(api_version.as_str()) {
        return object.clone();
    }
    let mut copy = (**object).clone();
    copy["apiVersion"] = json!(api_version);
    Arc::new(copy)
}

/// A written object in the negotiated form.
pub(crate) fn object_response(
    ctx: &Ctx,
    info: &ResourceInfo,
    code: StatusCode,
    object: &Value,
) -> Response<Body> {
    // A write has happened by now: an Accept it cannot honour gets the plain object.
    let output = negotiate::for_object(&ctx.accept).unwrap_or(Output::Object);
    render_object(ctx, info, code, &Stored::encode(object), &output)
}

/// One object in the negotiated form: the object (kind and apiVersion of the route in
/// front of the stored bytes), a one-row Table, or its metadata.
pub(crate) fn render_object(
    ctx: &Ctx,
    info: &ResourceInfo,
    code: StatusCode,
    object: &Stored,
    output: &Output,
) -> Response<Body> {
    match output {
        Output::Table(_) => {
            let object = versioned(info, &Arc::new(object.value()));
            let rv = object
                .pointer("/metadata/resourceVersion")
                .and_then(Value::as_str)
                .unwrap_or("");
            let table = table::build(
                ctx.table_include(),
                info,
                [&object].into_iter(),
                rv.to_string(),
                None,
                None,
            );
            response::json(code, &table, ctx.pretty)
        }
        Output::Metadata(version) => {
            let bytes = if ctx.pretty {
                response::encode(&metadata::partial(version, &object.value()), true)
            } else {
                let mut out = Vec::with_capacity(object.metadata().len() + 96);
                object.write_partial(version, &mut out);
                out
            };
            response::with_headers(code, &output.content_type(), response::full(bytes))
        }
        Output::Object | Output::MetadataList(_) if ctx.pretty => {
            let object = versioned(info, &Arc::new(object.value()));
            response::json(code, &*object, true)
        }
        Output::Object | Output::MetadataList(_) => response::with_headers(
            code,
            "application/json",
            response::full(object.object_bytes(&info.kind, &info.api_version())),
        ),
    }
}

/// GET one object.
pub(crate) fn get(
    ctx: &Ctx,
    info: &ResourceInfo,
    namespace: Option<&str>,
    name: &str,
) -> Response<Body> {
    let output = match negotiate::for_object(&ctx.accept) {
        Ok(output) => output,
        Err(status) => return ctx.status(&status),
    };
    let found = ctx.shared.store().get(info, &object_key(namespace, name));
    match found {
        Some(object) => render_object(ctx, info, StatusCode::OK, &object, &output),
        None => ctx.status(&errors::not_found(info, name)),
    }
}

/// POST: create.
pub(crate) fn create(ctx: &Ctx, info: &ResourceInfo, namespace: Option<&str>) -> Response<Body> {
    let object = match decode_body(ctx, info) {
        Ok(object) => object,
        Err(status) => return ctx.status(&status),
    };
    let manager = ctx.manager();
    let writer = Writer {
        manager: &manager,
        operation: "Update",
        subresource: None,
        dry_run: ctx.dry_run(),
        fields: None,
    };
    match write::create(&ctx.shared, info, namespace, object, writer) {
        Ok(stored) => object_response(ctx, info, StatusCode::CREATED, &stored),
        Err(status) => ctx.status(&status),
    }
}

/// PUT: replace the object or its status.
pub(crate) fn update(
    ctx: &Ctx,
    info: &ResourceInfo,
    namespace: Option<&str>,
    name: &str,
    subresource: Option<&str>,
) -> Response<Body> {
    let object = match decode_body(ctx, info) {
        Ok(object) => object,
        Err(status) => return ctx.status(&status),
    };
    let manager = ctx.manager();
    let writer = Writer {
        manager: &manager,
        operation: "Update",
        subresource,
        dry_run: ctx.dry_run(),
        fields: None,
    };
    match write::update(&ctx.shared, info, namespace, name, object, writer) {
        Ok(stored) => object_response(ctx, info, StatusCode::OK, &stored),
        Err(status) => ctx.status(&status),
    }
}

fn preconditions(ctx: &Ctx) -> Result<Preconditions, Status> {
    if ctx.body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Preconditions {
            dry_run: ctx.dry_run(),
            ..Preconditions::default()
        });
    }
    let options: Value = serde_json::from_slice(&ctx.body)
        .map_err(|e| errors::bad_request(format!("invalid DeleteOptions: {e}")))?;
    let field = |name: &str| {
        options
            .pointer(&format!("/preconditions/{name}"))
            .and_then(Value::as_str)
            .map(String::from)
    };
    let dry_run =
        ctx.dry_run() || options.pointer("/dryRun/0").and_then(Value::as_str) == Some("All");
    Ok(Preconditions {
        uid: field("uid"),
        resource_version: field("resourceVersion"),
        dry_run,
    })
}

/// The Status a successful delete answers.
fn deleted_status(info: &ResourceInfo, object: &Value) -> Status {
    let meta = |field: &str| {
        object
            .pointer(&format!("/metadata/{field}"))
            .and_then(Value::as_str)
            .map(String::from)
    };
    Status {
        kind: "Status".into(),
        api_version: "v1".into(),
        status: Some("Success".into()),
        details: Some(StatusDetails {
            name: meta("name"),
            group: Some(info.group.clone()),
            kind: Some(info.plural.clone()),
            uid: meta("uid"),
            ..StatusDetails::default()
        }),
        code: 0,
        ..Status::default()
    }
}

/// DELETE one object.
pub(crate) fn delete(
    ctx: &Ctx,
    info: &ResourceInfo,
    namespace: Option<&str>,
    name: &str,
) -> Response<Body> {
    let preconditions = match preconditions(ctx) {
        Ok(p) => p,
        Err(status) => return ctx.status(&status),
    };
    match write::delete(&ctx.shared, info, namespace, name, &preconditions) {
        Ok(Deleted::Gone(last)) => {
            response::json(StatusCode::OK, &deleted_status(info, &last), ctx.pretty)
        }
        Ok(Deleted::Pending(object)) => object_response(ctx, info, StatusCode::OK, &object),
        Err(status) => ctx.status(&status),
    }
}

/// DELETE on a collection: every selected object, answered with the list of them.
pub(crate) fn delete_collection(
    ctx: &Ctx,
    info: &ResourceInfo,
    namespace: Option<&str>,
) -> Response<Body> {
    let filter = match Filter::parse(
        info,
        namespace,
        ctx.query
            .get("labelSelector")
            .map(String::as_str)
            .filter(|s| !s.is_empty()),
        ctx.query
            .get("fieldSelector")
            .map(String::as_str)
            .filter(|s| !s.is_empty()),
    ) {
        Ok(filter) => filter,
        Err(status) => return ctx.status(&status),
    };
    let prefix = namespace.map(|ns| format!("{ns}/")).unwrap_or_default();
    let targets: Vec<(Option<String>, String)> = {
        let store = ctx.shared.store();
        let Some(snapshot) = store.snapshot(info, store.resource_version()) else {
            return ctx.status(&errors::list_too_old());
        };
        snapshot
            .range(&prefix, None)
            .filter(|(_, object)| filter.matches(object))
            .map(|(_, object)| {
                (
                    object.namespace().map(String::from),
                    object.name().to_string(),
                )
            })
            .collect()
    };
    let mut items = Vec::new();
    for (ns, name) in targets {
        match write::delete(
            &ctx.shared,
            info,
            ns.as_deref(),
            &name,
            &Preconditions {
                dry_run: ctx.dry_run(),
                ..Preconditions::default()
            },
        ) {
            Ok(Deleted::Gone(object)) | Ok(Deleted::Pending(object)) => items.push(object),
            Err(_) => continue,
        }
    }
    let rv = ctx.shared.store().resource_version().to_string();
    let list = json!({
        "kind": format!("{}List", info.kind),
        "apiVersion": info.api_version(),
        "metadata": {"resourceVersion": rv},
        "items": items.iter().map(crate::list::Item).collect::<Vec<_>>(),
    });
    response::json(StatusCode::OK, &list, ctx.pretty)
}
