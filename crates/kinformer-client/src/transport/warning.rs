//! Server `Warning` headers (`299 - "message"`): parsed, logged and kept for the caller.

use std::collections::VecDeque;
use std::sync::Mutex;

use http::HeaderMap;

/// How many recent warnings a client keeps.
pub const KEPT_WARNINGS: usize = 64;

/// The text of each `Warning` header (the quoted part of `299 - "text"`; the raw value
/// when it does not have that shape).
pub fn parse_warnings(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all(http::header::WARNING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|raw| {
            let mut parts = raw.splitn(3, ' ');
            let (_code, _agent, rest) = (parts.next(), parts.next(), parts.next());
            match rest.map(str::trim) {
                Some(rest) if rest.starts_with('"') => {
                    let inner = &rest[1..];
                    let end = inner.rfind('"').unwrap_or(inner.len());
                    inner[..end].replace("\\\"", "\"")
                }
                _ => raw.to_string(),
            }
        })
        .collect()
}

/// The most recent warnings a client received.
#[derive(Debug, Default)]
pub(crate) struct Warnings {
    recent: Mutex<VecDeque<String>>,
}

impl Warnings {
    /// Logs and keeps the warnings in `headers`.
    pub(crate) fn record(&self, headers: &HeaderMap) {
        let warnings = parse_warnings(headers);
        if warnings.is_empty() {
            return;
        }
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        for warning in warnings {
            tracing::warn!(warning = %warning, "server warning");
            if recent.len() == KEPT_WARNINGS {
                recent.pop_front();
            }
            recent.push_back(warning);
        }
    }

    pub(crate) fn snapshot(&self) -> Vec<String> {
        self.recent
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warning_text_is_taken_from_the_quoted_part() {
        let mut headers = HeaderMap::new();
        headers.append(
            "warning",
            "299 - \"v1 ComponentStatus is deprecated\""
                .parse()
                .unwrap(),
        );
        headers.append("warning", "odd".parse().unwrap());
        assert_eq!(
            parse_warnings(&headers),
            ["v1 ComponentStatus is deprecated", "odd"]
        );
    }
}
