//! What a list or watch selects: the namespace from the path plus label and field selectors
//! (parsed by kinformer-meta), with the apiserver's per-resource field selector allowlist.

use std::borrow::Cow;

use kinformer_meta::{fields, labels, Status};
use serde_json::Value;

use crate::registry::ResourceInfo;
use crate::response::errors;
use crate::stored::Stored;

/// A parsed namespace + label + field filter.
#[derive(Debug, Default)]
pub(crate) struct Filter {
    /// The namespace from the path, if any.
    pub namespace: Option<String>,
    labels: Option<labels::Selector>,
    fields: Option<fields::Selector>,
}

/// Fields each resource can be selected by, beyond `metadata.name` and `metadata.namespace`.
pub(crate) fn extra_fields(info: &ResourceInfo) -> &'static [&'static str] {
    match (info.group.as_str(), info.plural.as_str()) {
        ("", "pods") => &[
            "spec.nodeName",
            "spec.restartPolicy",
            "spec.schedulerName",
            "spec.serviceAccountName",
            "spec.hostNetwork",
            "status.phase",
            "status.podIP",
            "status.nominatedNodeName",
        ],
        ("", "secrets") => &["type"],
        ("", "namespaces") => &["status.phase"],
        ("", "nodes") => &["spec.unschedulable"],
        ("", "events") | ("events.k8s.io", "events") => &[
            "involvedObject.kind",
            "involvedObject.namespace",
            "involvedObject.name",
            "involvedObject.uid",
            "involvedObject.apiVersion",
            "involvedObject.resourceVersion",
            "involvedObject.fieldPath",
            "reason",
            "reportingComponent",
            "source",
            "type",
        ],
        ("apps", "replicasets") => &["status.replicas"],
        ("batch", "jobs") => &["status.successful"],
        _ => &[],
    }
}

/// The string a field selector compares for `field` in `object`.
pub(crate) fn field_value<'a>(object: &'a Value, field: &str) -> Option<Cow<'a, str>> {
    let mut current = object;
    for part in field.split('.') {
        current = current.get(part)?;
    }
    match current {
        Value::String(s) => Some(Cow::Borrowed(s.as_str())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

impl Filter {
    /// Parses the selectors of a request against `info`'s allowed fields.
    pub fn parse(
        info: &ResourceInfo,
        namespace: Option<&str>,
        label_selector: Option<&str>,
        field_selector: Option<&str>,
    ) -> Result<Self, Status> {
        let labels = match label_selector {
            Some(text) => Some(
                labels::Selector::parse(text)
                    .map_err(|error| errors::bad_request(error.to_string()))?,
            ),
            None => None,
        };
        let fields = match field_selector {
            Some(text) => {
                let selector = fields::Selector::parse(text)
                    .map_err(|error| errors::bad_request(error.to_string()))?;
                let extra = extra_fields(info);
                for requirement in selector.requirements() {
                    let field = requirement.field.as_str();
                    if field != "metadata.name"
                        && field != "metadata.namespace"
                        && !extra.contains(&field)
                    {
                        let mut allowed = vec![
                            "\"metadata.name\"".to_string(),
                            "\"metadata.namespace\"".to_string(),
                        ];
                        allowed.extend(extra.iter().map(|f| format!("\"{f}\"")));
                        return Err(errors::bad_request(format!(
                            "\"{field}\" is not a known field selector: only {}",
                            allowed.join(", ")
                        )));
                    }
                }
                Some(selector)
            }
            None => None,
        };
        Ok(Filter {
            namespace: namespace.map(String::from),
            labels,
            fields,
        })
    }

    /// Whether label or field selectors are set (pages then carry no remainingItemCount).
    pub fn has_selectors(&self) -> bool {
        self.labels.is_some() || self.fields.is_some()
    }

    /// Whether `object` passes the label and field selectors (not the namespace). Labels,
    /// name, namespace and the resource's selectable fields come from what was extracted at
    /// commit; only an object encoded without them is decoded.
    pub fn matches(&self, object: &Stored) -> bool {
        if let Some(selector) = &self.labels {
            if !selector.matches_with(|key| object.label(key)) {
                return false;
            }
        }
        if let Some(selector) = &self.fields {
            let needs_decode = selector.requirements().iter().any(|r| {
                r.field != "metadata.name"
                    && r.field != "metadata.namespace"
                    && object.selectable(&r.field).is_none()
            });
            let decoded = needs_decode.then(|| object.value());
            let found = selector.matches_with(|field| match field {
                "metadata.name" => Some(Cow::Borrowed(object.name())),
                "metadata.namespace" => Some(Cow::Borrowed(object.namespace().unwrap_or(""))),
                _ => match object.selectable(field) {
                    Some(extracted) => extracted.map(Cow::Borrowed),
                    None => decoded.as_ref().and_then(|v| field_value(v, field)),
                },
            });
            if !found {
                return false;
            }
        }
        true
    }
}
