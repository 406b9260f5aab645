//! Content negotiation for GET, LIST and WATCH: parses the `Accept` header into media types,
//! orders them by `q` (stable, so among equals the client's order wins), and picks the first
//! one the server can produce: plain JSON, a `meta.k8s.io` Table, or the metadata-only
//! `PartialObjectMetadata` / `PartialObjectMetadataList` forms. Nothing acceptable is a 406.

use kinformer_meta::status::reason;
use kinformer_meta::{Status, StatusDetails};

/// What a response body is rendered as.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Output {
    /// The objects themselves, as `application/json`.
    Object,
    /// A `meta.k8s.io` Table of this version (`v1` or `v1beta1`).
    Table(String),
    /// One `PartialObjectMetadata` of this `meta.k8s.io` version (get, watch).
    Metadata(String),
    /// A `PartialObjectMetadataList` of this `meta.k8s.io` version (list).
    MetadataList(String),
}

impl Output {
    /// The Content-Type header of a response in this form.
    pub fn content_type(&self) -> String {
        match self {
            Output::Object | Output::Table(_) => "application/json".into(),
            Output::Metadata(version) => {
                format!("application/json;as=PartialObjectMetadata;g=meta.k8s.io;v={version}")
            }
            Output::MetadataList(version) => {
                format!("application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v={version}")
            }
        }
    }
}

/// One media range of an Accept header.
#[derive(Debug, PartialEq)]
struct MediaRange<'a> {
    kind: String,
    subtype: String,
    params: Vec<(String, &'a str)>,
    quality: f32,
}

impl MediaRange<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| *value)
    }
}

fn unquote(value: &str) -> &str {
    let value = value.trim();
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// Parses an Accept header; malformed ranges are skipped, as Go's parser skips them.
fn parse(accept: &str) -> Vec<MediaRange<'_>> {
    let mut ranges = Vec::new();
    for clause in accept.split(',') {
        let mut parts = clause.split(';');
        let full = parts.next().unwrap_or("").trim();
        let Some((kind, subtype)) = full.split_once('/') else {
            continue;
        };
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if kind.is_empty() || subtype.is_empty() {
            continue;
        }
        let mut range = MediaRange {
            kind: kind.to_ascii_lowercase(),
            subtype: subtype.to_ascii_lowercase(),
            params: Vec::new(),
            quality: 1.0,
        };
        for param in parts {
            let Some((key, value)) = param.split_once('=') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase();
            let value = unquote(value);
            if key == "q" {
                range.quality = value.parse().unwrap_or(0.0);
            } else {
                range.params.push((key, value));
            }
        }
        ranges.push(range);
    }
    // A stable sort: among equal qualities the client's order decides.
    ranges.sort_by(|a, b| b.quality.total_cmp(&a.quality));
    ranges
}

/// The form one media range asks for, if the server can produce it.
fn acceptable(range: &MediaRange<'_>) -> Option<Output> {
    if range.quality <= 0.0 {
        return None;
    }
    let json = matches!(
        (range.kind.as_str(), range.subtype.as_str()),
        ("application", "json") | ("application", "*") | ("*", "*")
    );
    if !json {
        return None;
    }
    let Some(target) = range.param("as") else {
        return Some(Output::Object);
    };
    if range.param("g") != Some("meta.k8s.io") {
        return None;
    }
    let version = match range.param("v") {
        Some(v @ ("v1" | "v1beta1")) => v.to_string(),
        _ => return None,
    };
    match target {
        "Table" => Some(Output::Table(version)),
        "PartialObjectMetadata" => Some(Output::Metadata(version)),
        "PartialObjectMetadataList" => Some(Output::MetadataList(version)),
        _ => None,
    }
}

/// A 406 NotAcceptable Status with this message, as the apiserver sends.
pub(crate) fn not_acceptable(message: impl Into<String>) -> Status {
    Status::failure(406, reason::NOT_ACCEPTABLE, message).with_details(StatusDetails::default())
}

/// The form an Accept header asks for: the first acceptable media range by quality, plain
/// JSON when the header is empty, and 406 when no range is acceptable.
pub(crate) fn negotiate(accept: &str) -> Result<Output, Status> {
    if accept.trim().is_empty() {
        return Ok(Output::Object);
    }
    parse(accept).iter().find_map(acceptable).ok_or_else(|| {
        not_acceptable("only the following media types are accepted: application/json")
    })
}

/// The form for a LIST: single-object metadata is not a list (406).
pub(crate) fn for_list(accept: &str) -> Result<Output, Status> {
    match negotiate(accept)? {
        Output::Metadata(_) => Err(not_acceptable(
            "you requested PartialObjectMetadata, but the requested object is a list",
        )),
        output => Ok(output),
    }
}

/// The form for a GET or a WATCH: a metadata list is not a single object (406).
pub(crate) fn for_object(accept: &str) -> Result<Output, Status> {
    match negotiate(accept)? {
        Output::MetadataList(_) => Err(not_acceptable(
            "you requested PartialObjectMetadataList, but the requested object is not a list",
        )),
        output => Ok(output),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const METADATA_CLIENT: &str = "application/vnd.kubernetes.protobuf;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json";

    #[test]
    fn the_metadata_clients_accept_list_picks_the_json_metadata_list() {
        assert_eq!(
            negotiate(METADATA_CLIENT).unwrap(),
            Output::MetadataList("v1".into())
        );
    }

    #[test]
    fn kubectls_table_accept_picks_the_table() {
        let accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";
        assert_eq!(negotiate(accept).unwrap(), Output::Table("v1".into()));
    }

    #[test]
    fn an_unknown_as_falls_back_to_the_next_range() {
        let accept = "application/json;as=Widget;g=meta.k8s.io;v=v1, application/json";
        assert_eq!(negotiate(accept).unwrap(), Output::Object);
        let wrong_group = "application/json;as=PartialObjectMetadata;g=apps;v=v1,*/*";
        assert_eq!(negotiate(wrong_group).unwrap(), Output::Object);
    }

    #[test]
    fn quality_orders_ranges_and_zero_excludes() {
        let accept =
            "application/json;q=0.5,application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
        assert_eq!(negotiate(accept).unwrap(), Output::Metadata("v1".into()));
        let status = negotiate("application/json;q=0").unwrap_err();
        assert_eq!(status.code, 406);
    }

    #[test]
    fn protobuf_or_yaml_alone_is_not_acceptable() {
        let status = negotiate("application/vnd.kubernetes.protobuf").unwrap_err();
        assert_eq!(status.code, 406);
        assert_eq!(status.reason.as_deref(), Some("NotAcceptable"));
        assert!(negotiate("application/yaml").is_err());
        assert!(negotiate("garbage").is_err());
    }

    #[test]
    fn list_and_object_forms_refuse_each_other() {
        let single = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1";
        let list = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1";
        assert_eq!(for_list(single).unwrap_err().code, 406);
        assert_eq!(for_object(list).unwrap_err().code, 406);
        assert_eq!(for_list(list).unwrap(), Output::MetadataList("v1".into()));
        assert_eq!(for_object(single).unwrap(), Output::Metadata("v1".into()));
    }

    #[test]
    fn content_types_name_the_as_form() {
        assert_eq!(
            Output::MetadataList("v1".into()).content_type(),
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
        );
        assert_eq!(Output::Object.content_type(), "application/json");
    }
}
