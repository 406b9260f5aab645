//! `Status`: the API's error (and delete-success) object, with its standard reasons.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::object_meta::ListMeta;

/// The standard `reason` values a server puts in a failure `Status`.
pub mod reason {
    /// 404: the object or resource does not exist.
    pub const NOT_FOUND: &str = "NotFound";
    /// 409: an object with that name exists.
    pub const ALREADY_EXISTS: &str = "AlreadyExists";
    /// 409: optimistic concurrency failed.
    pub const CONFLICT: &str = "Conflict";
    /// 422: validation failed.
    pub const INVALID: &str = "Invalid";
    /// 400: the request was malformed.
    pub const BAD_REQUEST: &str = "BadRequest";
    /// 403: the caller may not do this.
    pub const FORBIDDEN: &str = "Forbidden";
    /// 401: the caller is not authenticated.
    pub const UNAUTHORIZED: &str = "Unauthorized";
    /// 410: the resourceVersion or continue token is too old.
    pub const EXPIRED: &str = "Expired";
    /// 410: the resource is gone.
    pub const GONE: &str = "Gone";
    /// 429: the client must slow down.
    pub const TOO_MANY_REQUESTS: &str = "TooManyRequests";
    /// 504: the server timed out (also "too large resource version").
    pub const TIMEOUT: &str = "Timeout";
    /// 504: the server timed out waiting for the request.
    pub const SERVER_TIMEOUT: &str = "ServerTimeout";
    /// 405: the verb is not supported on this resource.
    pub const METHOD_NOT_ALLOWED: &str = "MethodNotAllowed";
    /// 500: an internal error.
    pub const INTERNAL_ERROR: &str = "InternalError";
    /// 503: the service is unavailable.
    pub const SERVICE_UNAVAILABLE: &str = "ServiceUnavailable";
    /// 406: the requested media type is not acceptable.
    pub const NOT_ACCEPTABLE: &str = "NotAcceptable";
    /// 415: the request body's media type is not supported.
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "UnsupportedMediaType";
    /// 413: the request entity is too large.
    pub const REQUEST_ENTITY_TOO_LARGE: &str = "RequestEntityTooLarge";
}

/// A Status object: the outcome of an API call that did not return an object.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Always `Status` on the wire.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Always `v1` on the wire.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// List metadata (carries a continue token on an expired-continue 410).
    #[serde(default)]
    pub metadata: ListMeta,
    /// `Success` or `Failure`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Machine-readable reason, one of [`reason`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Extra data about the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<StatusDetails>,
    /// The HTTP status code.
    #[serde(default)]
    pub code: u16,
}

/// Extra data about a Status: which object, and the field-level causes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    /// Name of the object concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Group of the object concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// Kind (or resource) of the object concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// UID of the object concerned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Field-level causes.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        deserialize_with = "crate::object_meta::null_as_default"
    )]
    pub causes: Vec<StatusCause>,
    /// Seconds the client should wait before retrying.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_seconds: Option<u32>,
}

/// One cause of a failure, usually naming a field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCause {
    /// Machine-readable cause, such as `FieldValueInvalid`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Human-readable description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The field concerned, such as `spec.replicas`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl Status {
    /// A failure Status with a code, reason and message.
    pub fn failure(code: u16, reason: &str, message: impl Into<String>) -> Self {
        Status {
            kind: "Status".into(),
            api_version: "v1".into(),
            status: Some("Failure".into()),
            message: Some(message.into()),
            reason: Some(reason.into()),
            code,
            ..Status::default()
        }
    }

    /// The same Status with details attached.
    pub fn with_details(mut self, details: StatusDetails) -> Self {
        self.details = Some(details);
        self
    }

    /// The reason, or `""`.
    pub fn reason(&self) -> &str {
        self.reason.as_deref().unwrap_or("")
    }

    /// True for `NotFound`.
    pub fn is_not_found(&self) -> bool {
        self.reason() == reason::NOT_FOUND
    }

    /// True for `AlreadyExists`.
    pub fn is_already_exists(&self) -> bool {
        self.reason() == reason::ALREADY_EXISTS
    }

    /// True for `Conflict`.
    pub fn is_conflict(&self) -> bool {
        self.reason() == reason::CONFLICT
    }

    /// True for `Invalid`.
    pub fn is_invalid(&self) -> bool {
        self.reason() == reason::INVALID
    }

    /// True for a 410: `Expired` or `Gone`.
    pub fn is_gone(&self) -> bool {
        self.code == 410 || matches!(self.reason(), reason::EXPIRED | reason::GONE)
    }

    /// True for `Forbidden`.
    pub fn is_forbidden(&self) -> bool {
        self.reason() == reason::FORBIDDEN
    }

    /// True for `Unauthorized`.
    pub fn is_unauthorized(&self) -> bool {
        self.reason() == reason::UNAUTHORIZED
    }

    /// True for a 429.
    pub fn is_too_many_requests(&self) -> bool {
        self.code == 429 || self.reason() == reason::TOO_MANY_REQUESTS
    }

    /// True when the server said the requested resourceVersion is ahead of it.
    pub fn is_resource_version_too_large(&self) -> bool {
        self.details.as_ref().is_some_and(|details| {
            details
                .causes
                .iter()
                .any(|cause| cause.reason.as_deref() == Some("ResourceVersionTooLarge"))
        }) || self
            .message
            .as_deref()
            .is_some_and(|m| m.contains("Too large resource version"))
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.reason(),
            self.code,
            self.message.as_deref().unwrap_or("")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_the_real_too_large_resource_version_answer() {
        let status: Status = serde_json::from_str(r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Timeout: Too large resource version: 99999999, current: 6","reason":"Timeout","details":{"causes":[{"reason":"ResourceVersionTooLarge","message":"Too large resource version"}],"retryAfterSeconds":1},"code":504}"#).unwrap();
        assert!(status.is_resource_version_too_large());
        assert_eq!(status.details.unwrap().retry_after_seconds, Some(1));
    }

    #[test]
    fn expired_continue_keeps_its_fresh_token() {
        let status: Status = serde_json::from_str(r#"{"kind":"Status","apiVersion":"v1","metadata":{"continue":"tok"},"status":"Failure","message":"too old","reason":"Expired","code":410}"#).unwrap();
        assert!(status.is_gone());
        assert_eq!(status.metadata.continue_token.as_deref(), Some("tok"));
    }
}
