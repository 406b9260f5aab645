//! Parsing a request's query: percent-decoding and the ListOptions parameters, validated the
//! way the apiserver validates them (400 for unparsable values, 422 for forbidden combinations).

use std::collections::HashMap;

use kinformer_meta::Status;

use crate::response::errors;

/// Decodes `%XX` escapes and `+` in a query component.
pub(crate) fn percent_decode(input: &str) -> String {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Query parameters by name (the last occurrence wins).
pub(crate) fn parse_query(query: Option<&str>) -> HashMap<String, String> {
    let mut params = HashMap::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        params.insert(percent_decode(key), percent_decode(value));
    }
    params
}

/// `resourceVersionMatch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Match {
    /// `Exact`.
    Exact,
    /// `NotOlderThan`.
    NotOlderThan,
}

/// The ListOptions of a list or watch request.
#[derive(Clone, Debug, Default)]
pub(crate) struct ListParams {
    pub watch: bool,
    pub resource_version: Option<u64>,
    pub resource_version_match: Option<Match>,
    pub limit: Option<usize>,
    pub continue_token: Option<String>,
    pub label_selector: Option<String>,
    pub field_selector: Option<String>,
    pub allow_watch_bookmarks: bool,
    pub send_initial_events: Option<bool>,
    pub timeout_seconds: Option<u64>,
}

fn flag(value: &str) -> bool {
    matches!(value, "true" | "1" | "True" | "TRUE" | "t")
}

impl ListParams {
    /// Parses and validates the ListOptions in `query`.
    pub fn parse(query: &HashMap<String, String>) -> Result<Self, Status> {
        let mut params = ListParams {
            watch: query.get("watch").is_some_and(|v| flag(v)),
            allow_watch_bookmarks: query.get("allowWatchBookmarks").is_some_and(|v| flag(v)),
            ..ListParams::default()
        };
        if let Some(rv) = query.get("resourceVersion").filter(|v| !v.is_empty()) {
            params.resource_version = Some(rv.parse::<u64>().map_err(|_| {
                errors::bad_request(format!(
                    "invalid resource version: resourceVersion: Invalid value: \"{rv}\": strconv.ParseUint: parsing \"{rv}\": invalid syntax"
                ))
            })?);
        }
        if let Some(value) = query.get("resourceVersionMatch").filter(|v| !v.is_empty()) {
            params.resource_version_match = Some(match value.as_str() {
                "Exact" => Match::Exact,
                "NotOlderThan" => Match::NotOlderThan,
                other => {
                    return Err(errors::invalid_list_options(&[(
                        "resourceVersionMatch",
                        &format!("unsupported value \"{other}\": supported values: \"Exact\", \"NotOlderThan\""),
                    )]))
                }
            });
        }
        if let Some(limit) = query.get("limit").filter(|v| !v.is_empty()) {
            let parsed = limit.parse::<i64>().map_err(|_| {
                errors::bad_request(format!(
                    "invalid limit: strconv.ParseInt: parsing \"{limit}\": invalid syntax"
                ))
            })?;
            params.limit = (parsed > 0).then_some(parsed as usize);
        }
        if let Some(timeout) = query.get("timeoutSeconds").filter(|v| !v.is_empty()) {
            params.timeout_seconds = Some(timeout.parse::<u64>().map_err(|_| {
                errors::bad_request(format!(
                    "invalid timeoutSeconds: strconv.ParseInt: parsing \"{timeout}\": invalid syntax"
                ))
            })?);
        }
        params.continue_token = query.get("continue").filter(|v| !v.is_empty()).cloned();
        params.label_selector = query
            .get("labelSelector")
            .filter(|v| !v.is_empty())
            .cloned();
        params.field_selector = query
            .get("fieldSelector")
            .filter(|v| !v.is_empty())
            .cloned();
        params.send_initial_events = query
            .get("sendInitialEvents")
            .filter(|v| !v.is_empty())
            .map(|v| flag(v));
        params.validate()?;
        Ok(params)
    }

    fn validate(&self) -> Result<(), Status> {
        if self.continue_token.is_some()
            && self.resource_version.is_some_and(|rv| rv != 0)
            && !self.watch
        {
            return Err(errors::bad_request(
                "specifying resource version is not allowed when using continue",
            ));
        }
        let mut causes: Vec<(&str, &str)> = Vec::new();
        if self.watch {
            match self.send_initial_events {
                Some(true) if self.resource_version_match != Some(Match::NotOlderThan) => causes.push((
                    "resourceVersionMatch",
                    "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
                )),
                None if self.resource_version_match.is_some() => causes.push((
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
                )),
                _ => {}
            }
        } else {
            if self.resource_version_match.is_some() && self.resource_version.is_none() {
                causes.push((
                    "resourceVersionMatch",
                    "resourceVersionMatch is forbidden unless resourceVersion is provided",
                ));
            }
            if self.send_initial_events.is_some() {
                causes.push((
                    "sendInitialEvents",
                    "sendInitialEvents is forbidden for list",
                ));
            }
        }
        if causes.is_empty() {
            Ok(())
        } else {
            Err(errors::invalid_list_options(&causes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<ListParams, Status> {
        ListParams::parse(&parse_query(Some(query)))
    }

    #[test]
    fn percent_escapes_and_plus_are_decoded() {
        assert_eq!(percent_decode("app%3Din+(a%2Cb)"), "app=in (a,b)");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[test]
    fn watch_accepts_true_and_1() {
        assert!(parse("watch=true").unwrap().watch);
        assert!(parse("watch=1").unwrap().watch);
        assert!(!parse("watch=false").unwrap().watch);
    }

    #[test]
    fn non_numeric_resource_version_is_a_bad_request() {
        let status = parse("resourceVersion=abc").unwrap_err();
        assert_eq!(status.code, 400);
        assert!(status
            .message
            .unwrap()
            .contains("\"abc\": strconv.ParseUint"));
    }

    #[test]
    fn resource_version_match_without_resource_version_is_invalid_for_a_list() {
        let status = parse("resourceVersionMatch=Exact").unwrap_err();
        assert_eq!(status.code, 422);
        assert_eq!(
            status.message.as_deref(),
            Some("ListOptions.meta.k8s.io \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided")
        );
    }

    #[test]
    fn send_initial_events_on_a_list_has_two_causes() {
        let status = parse("sendInitialEvents=true&resourceVersionMatch=NotOlderThan").unwrap_err();
        assert_eq!(status.details.unwrap().causes.len(), 2);
    }

    #[test]
    fn send_initial_events_without_not_older_than_is_invalid_for_a_watch() {
        let status = parse("watch=1&sendInitialEvents=true&allowWatchBookmarks=true").unwrap_err();
        assert_eq!(status.code, 422);
        assert!(status
            .message
            .unwrap()
            .contains("sendInitialEvents requires setting resourceVersionMatch to NotOlderThan"));
        assert!(parse("watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan").is_ok());
    }
}
