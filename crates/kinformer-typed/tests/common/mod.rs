//! Helpers shared by the integration tests: fixture loading and semantic JSON comparison.

#![allow(dead_code)] // Each test binary uses a different subset of these helpers.

use std::path::PathBuf;

use serde_json::Value;

/// Reads a file under the workspace's `fixtures/` folder.
pub fn fixture(relative: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Removes object entries whose value is `null`, recursively: the API treats null and absent
/// alike, while `{}` and `[]` are kept and must survive a round trip.
pub fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

/// The path of the first difference between two JSON values, for a readable failure.
pub fn first_difference(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let here = format!("{path}.{key}");
                match b.get(key) {
                    None => return Some(format!("{here}: missing, expected {value}")),
                    Some(other) => {
                        if let Some(diff) = first_difference(value, other, &here) {
                            return Some(diff);
                        }
                    }
                }
            }
            b.keys()
                .find(|key| !a.contains_key(*key))
                .map(|key| format!("{path}.{key}: unexpected {}", b[key]))
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => a
            .iter()
            .zip(b)
            .enumerate()
            .find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]"))),
        _ if expected == actual => None,
        _ => Some(format!("{path}: expected {expected}, got {actual}")),
    }
}

/// Asserts two JSON documents are the same, null and absent counting as equal.
pub fn assert_same_json(what: &str, expected: Value, actual: Value) {
    let (expected, actual) = (without_nulls(expected), without_nulls(actual));
    if let Some(diff) = first_difference(&expected, &actual, "") {
        panic!("{what}: JSON differs at {diff}");
    }
}

/// Removes the whitespace between JSON tokens, keeping key order and string contents, so a
/// pretty fixture becomes the compact form a server sends.
pub fn compact(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for ch in json.chars() {
        if in_string {
            out.push(ch);
            match (escaped, ch) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if ch == '"' {
            in_string = true;
            out.push(ch);
        } else if !ch.is_whitespace() {
            out.push(ch);
        }
    }
    out
}
