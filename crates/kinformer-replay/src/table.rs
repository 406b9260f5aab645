//! `meta.k8s.io/v1` Table output (what `kubectl get` asks for): Name and Created At for every
//! kind, and the familiar READY / STATUS / RESTARTS / AGE columns for pods.

use std::sync::Arc;

use kinformer_meta::Time;
use serde_json::{json, Value};

use crate::registry::ResourceInfo;

fn age(created: Option<&str>) -> String {
    let Some(created) = created.and_then(|c| Time::parse(c).ok()) else {
        return "<unknown>".into();
    };
    let seconds = (Time::now().unix_seconds() - created.unix_seconds()).max(0);
    match seconds {
        s if s < 120 => format!("{s}s"),
        s if s < 7200 => format!("{}m", s / 60),
        s if s < 172_800 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

fn pod_cells(object: &Value) -> Vec<Value> {
    let statuses = object
        .pointer("/status/containerStatuses")
        .and_then(Value::as_array);
    let total = object
        .pointer("/spec/containers")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let ready = statuses.map_or(0, |s| {
        s.iter().filter(|c| c["ready"] == json!(true)).count()
    });
    let restarts: i64 = statuses.map_or(0, |s| {
        s.iter().filter_map(|c| c["restartCount"].as_i64()).sum()
    });
    let mut phase = object
        .pointer("/status/phase")
        .and_then(Value::as_str)
        .unwrap_or("Pending")
        .to_string();
    if object.pointer("/metadata/deletionTimestamp").is_some() {
        phase = "Terminating".into();
    }
    vec![
        json!(format!("{ready}/{total}")),
        json!(phase),
        json!(restarts),
        json!(age(object
            .pointer("/metadata/creationTimestamp")
            .and_then(Value::as_str))),
    ]
}

fn column(name: &str, kind: &str, format: &str, description: &str) -> Value {
    json!({"name": name, "type": kind, "format": format, "description": description, "priority": 0})
}

/// A Table of `objects`, with list metadata; `include` is the `includeObject` parameter
/// (`None`, `Object`, or the default `Metadata`).
pub(crate) fn build<'a>(
    include: &str,
    info: &ResourceInfo,
    objects: impl Iterator<Item = &'a Arc<Value>>,
    resource_version: String,
    continue_token: Option<String>,
    remaining: Option<i64>,
) -> Value {
    let pods = info.group.is_empty() && info.plural == "pods";
    let name_column = column(
        "Name",
        "string",
        "name",
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically.",
    );
    let columns = if pods {
        vec![
            name_column,
            column("Ready", "string", "", "The aggregate readiness state of this pod for accepting traffic."),
            column("Status", "string", "", "The aggregate status of the containers in this pod."),
            column("Restarts", "string", "", "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
            column("Age", "string", "", "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    } else {
        vec![
            name_column,
            column("Created At", "date", "", "CreationTimestamp is a timestamp representing the server time when this object was created."),
        ]
    };
    let rows: Vec<Value> = objects
        .map(|object| {
            let name = object.pointer("/metadata/name").cloned().unwrap_or(json!(""));
            let mut cells = vec![name];
            if pods {
                cells.extend(pod_cells(object));
            } else {
                cells.push(object.pointer("/metadata/creationTimestamp").cloned().unwrap_or(Value::Null));
            }
            let mut row = json!({"cells": cells});
            match include {
                "None" => {}
                "Object" => row["object"] = (**object).clone(),
                _ => {
                    row["object"] = json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1",
                        "metadata": object.get("metadata").cloned().unwrap_or(json!({}))});
                }
            }
            row
        })
        .collect();
    let mut metadata = json!({"resourceVersion": resource_version});
    if let Some(token) = continue_token {
        metadata["continue"] = json!(token);
    }
    if let Some(count) = remaining {
        metadata["remainingItemCount"] = json!(count);
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": columns, "rows": rows})
}
