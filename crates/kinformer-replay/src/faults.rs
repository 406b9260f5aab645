//! Scripted faults, set per test through the handle: error answers for the next K matching
//! requests, and watch or body sabotage (cut after N events or bytes, 410 at event N, stall,
//! a missing initial-events-end bookmark).

use kinformer_meta::status::reason;
use kinformer_meta::{Status, StatusDetails};

/// One kind of misbehaviour.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this HTTP code and a matching Status (429 also sends `Retry-After`).
    Status {
        /// HTTP code: 429, 500, 503 or any other.
        code: u16,
        /// Seconds for `Retry-After` and `details.retryAfterSeconds`.
        retry_after_seconds: Option<u32>,
    },
    /// Close the connection after this many watch events (frames of any type).
    CloseAfterEvents(usize),
    /// Close the connection after this many body bytes, even in the middle of a JSON object.
    CloseAfterBytes(usize),
    /// Send this many watch events, then an ERROR frame with a 410 Expired Status, then end.
    GoneAfterEvents(usize),
    /// Send the watch's headers, then nothing, without closing.
    Stall,
    /// Leave out the `k8s.io/initial-events-end` bookmark.
    DropInitialEventsEnd,
}

impl Fault {
    /// 429 TooManyRequests with `Retry-After: seconds`.
    pub fn too_many_requests(seconds: u32) -> Self {
        Fault::Status {
            code: 429,
            retry_after_seconds: Some(seconds),
        }
    }

    /// 500 InternalError.
    pub fn internal_error() -> Self {
        Fault::Status {
            code: 500,
            retry_after_seconds: None,
        }
    }

    /// 503 ServiceUnavailable.
    pub fn service_unavailable() -> Self {
        Fault::Status {
            code: 503,
            retry_after_seconds: None,
        }
    }

    fn watch_only(&self) -> bool {
        matches!(
            self,
            Fault::CloseAfterEvents(_)
                | Fault::GoneAfterEvents(_)
                | Fault::Stall
                | Fault::DropInitialEventsEnd
        )
    }

    /// The Status a `Fault::Status` answers with.
    pub(crate) fn status(&self) -> Option<Status> {
        let Fault::Status {
            code,
            retry_after_seconds,
        } = self
        else {
            return None;
        };
        let (why, message) = match code {
            429 => (
                reason::TOO_MANY_REQUESTS,
                "Too many requests, please try again later.",
            ),
            500 => (
                reason::INTERNAL_ERROR,
                "Internal error occurred: injected fault",
            ),
            503 => (
                reason::SERVICE_UNAVAILABLE,
                "The server is currently unable to handle the request",
            ),
            504 => (
                reason::TIMEOUT,
                "Timeout: request did not complete within the allowed duration",
            ),
            _ => ("", "injected fault"),
        };
        let mut status = Status::failure(*code, why, message);
        if status.reason.as_deref() == Some("") {
            status.reason = None;
        }
        if let Some(seconds) = retry_after_seconds {
            status = status.with_details(StatusDetails {
                retry_after_seconds: Some(*seconds),
                ..StatusDetails::default()
            });
        }
        Some(status)
    }
}

/// A fault plus which requests it hits and how many times.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaultRule {
    /// The misbehaviour.
    pub fault: Fault,
    verb: Option<String>,
    path: Option<String>,
    remaining: Option<usize>,
}

impl FaultRule {
    /// A rule that hits the next matching request once (any verb, any path).
    pub fn new(fault: Fault) -> Self {
        FaultRule {
            fault,
            verb: None,
            path: None,
            remaining: Some(1),
        }
    }

    /// Only requests with this verb: `get`, `list`, `watch`, `create`, `update`, `patch`,
    /// `delete`, `deletecollection` or `discovery`.
    pub fn verb(mut self, verb: &str) -> Self {
        self.verb = Some(verb.to_string());
        self
    }

    /// Only requests whose path contains this text.
    pub fn path(mut self, path: &str) -> Self {
        self.path = Some(path.to_string());
        self
    }

    /// Hit the next `count` matching requests.
    pub fn times(mut self, count: usize) -> Self {
        self.remaining = Some(count);
        self
    }

    /// Hit every matching request until the faults are cleared.
    pub fn always(mut self) -> Self {
        self.remaining = None;
        self
    }

    fn matches(&self, verb: &str, path: &str) -> bool {
        if self.fault.watch_only() && verb != "watch" {
            return false;
        }
        self.verb.as_deref().is_none_or(|v| v == verb)
            && self.path.as_deref().is_none_or(|p| path.contains(p))
    }
}

/// The armed rules.
#[derive(Debug, Default)]
pub(crate) struct FaultSet {
    rules: Vec<FaultRule>,
}

impl FaultSet {
    /// Arms a rule.
    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    /// Disarms everything.
    pub fn clear(&mut self) {
        self.rules.clear();
    }

    /// The faults that hit this request, using up one hit of each matching rule.
    pub fn take(&mut self, verb: &str, path: &str) -> Vec<Fault> {
        let mut hits = Vec::new();
        for rule in &mut self.rules {
            if rule.remaining != Some(0) && rule.matches(verb, path) {
                hits.push(rule.fault.clone());
                if let Some(remaining) = rule.remaining.as_mut() {
                    *remaining -= 1;
                }
            }
        }
        self.rules.retain(|rule| rule.remaining != Some(0));
        hits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_hits_only_as_many_times_as_asked() {
        let mut set = FaultSet::default();
        set.add(
            FaultRule::new(Fault::internal_error())
                .verb("list")
                .times(2),
        );
        assert_eq!(set.take("get", "/api/v1/pods"), vec![]);
        assert_eq!(set.take("list", "/api/v1/pods").len(), 1);
        assert_eq!(set.take("list", "/api/v1/pods").len(), 1);
        assert!(set.take("list", "/api/v1/pods").is_empty());
    }

    #[test]
    fn watch_faults_never_hit_other_verbs() {
        let mut set = FaultSet::default();
        set.add(FaultRule::new(Fault::Stall).always());
        assert!(set.take("list", "/api/v1/pods").is_empty());
        assert_eq!(set.take("watch", "/api/v1/pods"), vec![Fault::Stall]);
        assert_eq!(set.take("watch", "/api/v1/pods"), vec![Fault::Stall]);
    }

    #[test]
    fn path_filter_matches_substrings() {
        let mut set = FaultSet::default();
        set.add(FaultRule::new(Fault::too_many_requests(3)).path("/configmaps"));
        assert!(set.take("list", "/api/v1/pods").is_empty());
        let hit = set.take("list", "/api/v1/namespaces/a/configmaps");
        let status = hit[0].status().unwrap();
        assert_eq!(status.code, 429);
        assert_eq!(status.details.unwrap().retry_after_seconds, Some(3));
    }
}
