//! LIST: pages with `limit` + `continue` (unpadded base64url JSON tokens that pin the list's
//! resourceVersion), `remainingItemCount`, the resourceVersion / resourceVersionMatch rules of
//! the watch-cache-backed apiserver, selectors, and items without kind/apiVersion.

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http::{Response, StatusCode};
use kinformer_meta::{ListMeta, Status};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::negotiate::{self, Output};
use crate::registry::ResourceInfo;
use crate::request::{ListParams, Match};
use crate::response::{self, errors, Body};
use crate::router::Ctx;
use crate::selector::Filter;
use crate::server::Shared;
use crate::stored::{write_type_meta, Stored};
use crate::{metadata, table};

/// A list item: the object without `kind` and `apiVersion`, as a real apiserver sends it.
pub(crate) struct Item<'a>(pub &'a Value);

impl Serialize for Item<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.as_object() {
            Some(map) => {
                let mut out = serializer.serialize_map(None)?;
                for (key, value) in map {
                    if key != "kind" && key != "apiVersion" {
                        out.serialize_entry(key, value)?;
                    }
                }
                out.end()
            }
            None => self.0.serialize(serializer),
        }
    }
}

/// The decoded form of a continue token.
#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct ContinueToken {
    pub v: String,
    pub rv: i64,
    pub start: String,
}

impl ContinueToken {
    /// Encodes as unpadded base64url JSON.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    /// Decodes a token, with the apiserver's error message on failure.
    pub fn decode(token: &str) -> Result<Self, Status> {
        let invalid = |why: String| errors::bad_request(format!("invalid continue token: {why}"));
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|e| invalid(format!("illegal base64 data: {e}")))?;
        let parsed: ContinueToken = serde_json::from_slice(&bytes)
            .map_err(|e| invalid(format!("continue key is not valid: {e}")))?;
        if parsed.v != "meta.k8s.io/v1" {
            return Err(invalid(format!(
                "continue key is not valid: unsupported version {:?}",
                parsed.v
            )));
        }
        Ok(parsed)
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ListBody<'a> {
    kind: String,
    api_version: String,
    metadata: ListMeta,
    items: Vec<Item<'a>>,
}

/// The part of an object key a continue token carries (namespace dropped in a namespaced list).
fn relative_key<'k>(key: &'k str, namespace: Option<&str>) -> &'k str {
    match namespace {
        Some(ns) => key
            .strip_prefix(ns)
            .and_then(|k| k.strip_prefix('/'))
            .unwrap_or(key),
        None => key,
    }
}

/// Waits for the store to reach `resource_version`, up to the configured wait.
async fn wait_for(shared: &Shared, resource_version: u64) -> bool {
    let mut changes = shared.changes.subscribe();
    let reached = async move { changes.wait_for(|rv| *rv >= resource_version).await.is_ok() };
    tokio::time::timeout(shared.settings.too_large_wait, reached)
        .await
        .unwrap_or(false)
}

/// Which resourceVersion a list reads at, and whether it may page.
async fn read_version(
    ctx: &Ctx,
    params: &ListParams,
    namespace: Option<&str>,
) -> Result<(u64, bool, Option<String>), Status> {
    let (current, compacted) = {
        let store = ctx.shared.store();
        (store.resource_version(), store.compacted())
    };
    if let Some(token) = &params.continue_token {
        let token = ContinueToken::decode(token)?;
        let start = token
            .start
            .trim_start_matches('/')
            .trim_end_matches('\0')
            .to_string();
        let start_key = match namespace {
            Some(ns) => format!("{ns}/{start}"),
            None => start.clone(),
        };
        if token.rv == -1 {
            return Ok((current, true, Some(start_key)));
        }
        if token.rv < 0 || (token.rv as u64) < compacted || token.rv as u64 > current {
            let fresh = ContinueToken {
                v: "meta.k8s.io/v1".into(),
                rv: -1,
                start: format!("{start}\0"),
            };
            let mut status = Status::failure(
                410,
                kinformer_meta::status::reason::EXPIRED,
                "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.",
            );
            status.metadata.continue_token = Some(fresh.encode());
            return Err(status);
        }
        return Ok((token.rv as u64, true, Some(start_key)));
    }
    let Some(requested) = params.resource_version else {
        return Ok((current, true, None));
    };
    if requested == 0 {
        return Ok((current, false, None));
    }
    let exact = params.resource_version_match == Some(Match::Exact)
        || (params.resource_version_match.is_none() && params.limit.is_some());
    if requested > current && !wait_for(&ctx.shared, requested).await {
        return Err(errors::too_large_resource_version(requested, current));
    }
    if exact {
        let compacted = ctx.shared.store().compacted();
        if requested < compacted {
            return Err(errors::list_too_old());
        }
        Ok((requested, true, None))
    } else {
        Ok((ctx.shared.store().resource_version(), true, None))
    }
}

/// Answers a LIST.
pub(crate) async fn serve(
    ctx: &Ctx,
    info: &Arc<ResourceInfo>,
    namespace: Option<&str>,
    params: &ListParams,
) -> Response<Body> {
    let output = match negotiate::for_list(&ctx.accept) {
        Ok(output) => output,
        Err(status) => return ctx.status(&status),
    };
    let filter = match Filter::parse(
        info,
        namespace,
        params.label_selector.as_deref(),
        params.field_selector.as_deref(),
    ) {
        Ok(filter) => filter,
        Err(status) => return ctx.status(&status),
    };
    let (rv, may_page, start_after) = match read_version(ctx, params, namespace).await {
        Ok(read) => read,
        Err(status) => return ctx.status(&status),
    };
    let limit = if may_page { params.limit } else { None };
    let prefix = namespace.map(|ns| format!("{ns}/")).unwrap_or_default();
    let (items, continue_token, remaining) = {
        let store = ctx.shared.store();
        let Some(snapshot) = store.snapshot(info, rv) else {
            drop(store);
            return ctx.status(&errors::list_too_old());
        };
        let mut items: Vec<Arc<Stored>> = Vec::new();
        let mut last_key = None;
        let mut more = false;
        let mut range = snapshot.range(&prefix, start_after.as_deref());
        for (key, object) in range.by_ref() {
            if !filter.matches(object) {
                continue;
            }
            items.push(object.clone());
            last_key = Some(key);
            if limit.is_some_and(|l| items.len() >= l) {
                break;
            }
        }
        let mut remaining = None;
        if limit.is_some_and(|l| items.len() >= l) {
            let rest = if filter.has_selectors() {
                usize::from(range.next().is_some())
            } else {
                snapshot.count(&prefix, last_key)
            };
            more = rest > 0;
            if more && !filter.has_selectors() {
                remaining = Some(rest as i64);
            }
        }
        let continue_token = match (more, last_key) {
            (true, Some(key)) => Some(
                ContinueToken {
                    v: "meta.k8s.io/v1".into(),
                    rv: rv as i64,
                    start: format!("/{}\0", relative_key(key, namespace)),
                }
                .encode(),
            ),
            _ => None,
        };
        (items, continue_token, remaining)
    };
    let metadata = ListMeta {
        resource_version: Some(rv.to_string()),
        continue_token,
        remaining_item_count: remaining,
        self_link: None,
    };
    match &output {
        Output::Table(_) => {
            let values: Vec<Arc<Value>> = items.iter().map(|o| Arc::new(o.value())).collect();
            let table = table::build(
                ctx.table_include(),
                info,
                values.iter(),
                rv.to_string(),
                metadata.continue_token,
                metadata.remaining_item_count,
            );
            response::json(StatusCode::OK, &table, ctx.pretty)
        }
        Output::MetadataList(version) if ctx.pretty => {
            let values: Vec<Value> = items.iter().map(|o| o.value()).collect();
            let list = metadata::list(
                version,
                values.iter(),
                rv.to_string(),
                metadata.continue_token,
                metadata.remaining_item_count,
            );
            let bytes = response::encode(&list, true);
            response::with_headers(
                StatusCode::OK,
                &output.content_type(),
                response::full(bytes),
            )
        }
        Output::MetadataList(version) => {
            let head = list_head(
                "PartialObjectMetadataList",
                &format!("meta.k8s.io/{version}"),
                &metadata,
            );
            let prefix = Bytes::from(format!(
                "{{\"kind\":\"PartialObjectMetadata\",\"apiVersion\":\"meta.k8s.io/{version}\",\"metadata\":"
            ));
            let mut pieces = Vec::with_capacity(items.len() * 3 + 2);
            pieces.push(head);
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    pieces.push(Bytes::from_static(b"},"));
                }
                pieces.push(prefix.clone());
                pieces.push(item.metadata_bytes());
            }
            pieces.push(Bytes::from_static(if items.is_empty() {
                b"]}"
            } else {
                b"}]}"
            }));
            response::with_headers(
                StatusCode::OK,
                &output.content_type(),
                response::pieces(pieces),
            )
        }
        Output::Object | Output::Metadata(_) if ctx.pretty => {
            let values: Vec<Value> = items.iter().map(|o| o.value()).collect();
            let body = ListBody {
                kind: format!("{}List", info.kind),
                api_version: info.api_version(),
                metadata,
                items: values.iter().map(Item).collect(),
            };
            let bytes = response::encode(&body, true);
            response::with_headers(StatusCode::OK, "application/json", response::full(bytes))
        }
        Output::Object | Output::Metadata(_) => {
            let head = list_head(
                &format!("{}List", info.kind),
                &info.api_version(),
                &metadata,
            );
            let mut pieces = Vec::with_capacity(items.len() * 2 + 2);
            pieces.push(head);
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    pieces.push(Bytes::from_static(b","));
                }
                pieces.push(item.item_bytes());
            }
            pieces.push(Bytes::from_static(b"]}"));
            response::with_headers(StatusCode::OK, "application/json", response::pieces(pieces))
        }
    }
}

/// `{"kind":K,"apiVersion":V,"metadata":{...},"items":[`.
fn list_head(kind: &str, api_version: &str, metadata: &ListMeta) -> Bytes {
    let mut head = Vec::with_capacity(256);
    write_type_meta(kind, api_version, &mut head);
    head.extend_from_slice(b",\"metadata\":");
    // Serializing our own plain struct into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut head, metadata);
    head.extend_from_slice(b",\"items\":[");
    Bytes::from(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_token_encodes_like_the_recorded_one() {
        let token = ContinueToken {
            v: "meta.k8s.io/v1".into(),
            rv: 6,
            start: "/f2\0".into(),
        };
        assert_eq!(
            token.encode(),
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6Niwic3RhcnQiOiIvZjJcdTAwMDAifQ"
        );
        assert_eq!(ContinueToken::decode(&token.encode()).unwrap(), token);
    }

    #[test]
    fn garbage_continue_token_is_a_bad_request() {
        let status = ContinueToken::decode("garbage").unwrap_err();
        assert_eq!(status.code, 400);
        assert!(status
            .message
            .unwrap()
            .starts_with("invalid continue token: "));
    }

    #[test]
    fn list_items_leave_out_kind_and_api_version() {
        let object =
            serde_json::json!({"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "a"}});
        assert_eq!(
            serde_json::to_string(&Item(&object)).unwrap(),
            r#"{"metadata":{"name":"a"}}"#
        );
    }

    #[test]
    fn relative_keys_drop_the_namespace_of_a_namespaced_list() {
        assert_eq!(relative_key("default/f2", Some("default")), "f2");
        assert_eq!(relative_key("default/f2", None), "default/f2");
    }
}
