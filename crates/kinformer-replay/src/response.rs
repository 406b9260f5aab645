//! Building HTTP responses the way the apiserver does: `Audit-Id`, `Cache-Control`,
//! `application/json` bodies (indented for curl or `?pretty=true`), and Status errors.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode};
use http_body_util::{combinators::BoxBody, BodyExt, Full};
use kinformer_meta::status::reason;
use kinformer_meta::{Status, StatusCause, StatusDetails};
use serde::Serialize;

use crate::registry::ResourceInfo;

/// The response body type: whole bodies and streamed watches alike.
pub type Body = BoxBody<Bytes, std::io::Error>;

/// A whole body.
pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed()
}

/// How many bytes one frame of a many-piece body carries: large frames keep hyper's
/// per-frame cost out of the throughput.
pub(crate) const FRAME_SIZE: usize = 256 * 1024;

/// A body made of many shared pieces (list items and their separators), copied into frames
/// of [`FRAME_SIZE`] as hyper polls, with an exact length (so `Content-Length` is sent).
struct Pieces {
    pieces: std::vec::IntoIter<Bytes>,
    remaining: u64,
}

impl hyper::body::Body for Pieces {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, std::io::Error>>> {
        let mut frame = bytes::BytesMut::new();
        while frame.len() < FRAME_SIZE {
            let Some(piece) = self.pieces.next() else {
                break;
            };
            if frame.is_empty() && piece.len() >= FRAME_SIZE {
                frame.extend_from_slice(&piece);
                break;
            }
            if frame.capacity() == 0 {
                frame.reserve(FRAME_SIZE + piece.len());
            }
            frame.extend_from_slice(&piece);
        }
        if frame.is_empty() {
            return std::task::Poll::Ready(None);
        }
        self.remaining = self.remaining.saturating_sub(frame.len() as u64);
        std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(frame.freeze()))))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        hyper::body::SizeHint::with_exact(self.remaining)
    }
}

/// A body that is the concatenation of `pieces`.
pub(crate) fn pieces(pieces: Vec<Bytes>) -> Body {
    let remaining = pieces.iter().map(|p| p.len() as u64).sum();
    Pieces {
        pieces: pieces.into_iter(),
        remaining,
    }
    .boxed()
}

/// Lets hyper flush the bytes already produced before a body error aborts the connection:
/// the error is held back for a couple of polls, so a cut connection still delivers its head.
pub(crate) async fn before_error() {
    for _ in 0..2 {
        tokio::task::yield_now().await;
    }
}

/// A fresh random UUID (version 4), as uids and audit ids use.
pub(crate) fn uuid() -> String {
    let bytes: [u8; 16] = rand::random();
    let mut b = bytes;
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// Serializes a value compactly, or indented when `pretty`.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T, pretty: bool) -> Vec<u8> {
    let encoded = if pretty {
        serde_json::to_vec_pretty(value)
    } else {
        serde_json::to_vec(value)
    };
    // Serializing a serde_json::Value or our own plain structs cannot fail.
    encoded.unwrap_or_default()
}

/// A response with the headers every apiserver response carries.
pub(crate) fn with_headers(status: StatusCode, content_type: &str, body: Body) -> Response<Body> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&uuid()) {
        headers.insert("audit-id", value);
    }
    headers.insert(
        "cache-control",
        HeaderValue::from_static("no-cache, private"),
    );
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(http::header::CONTENT_TYPE, value);
    }
    response
}

/// A JSON response.
pub(crate) fn json<T: Serialize + ?Sized>(
    status: StatusCode,
    value: &T,
    pretty: bool,
) -> Response<Body> {
    with_headers(status, "application/json", full(encode(value, pretty)))
}

/// A Status response whose HTTP code is the Status's code.
pub(crate) fn status(status: &Status, pretty: bool) -> Response<Body> {
    let code = StatusCode::from_u16(status.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = json(code, status, pretty);
    if let Some(seconds) = status.details.as_ref().and_then(|d| d.retry_after_seconds) {
        if let Ok(value) = HeaderValue::from_str(&seconds.to_string()) {
            response
                .headers_mut()
                .insert(http::header::RETRY_AFTER, value);
        }
    }
    response
}

/// Status constructors for the errors the apiserver answers.
pub(crate) mod errors {
    use super::*;

    fn details(info: &ResourceInfo, name: &str, kind: &str) -> StatusDetails {
        StatusDetails {
            name: (!name.is_empty()).then(|| name.to_string()),
            group: Some(info.group.clone()),
            kind: Some(kind.to_string()),
            ..StatusDetails::default()
        }
    }

    /// 404 for a missing object.
    pub fn not_found(info: &ResourceInfo, name: &str) -> Status {
        Status::failure(
            404,
            reason::NOT_FOUND,
            format!("{} \"{}\" not found", info.qualified_name(), name),
        )
        .with_details(details(info, name, &info.plural))
    }

    /// 404 for a path that names no resource.
    pub fn unknown_resource() -> Status {
        Status::failure(
            404,
            reason::NOT_FOUND,
            "the server could not find the requested resource",
        )
        .with_details(StatusDetails::default())
    }

    /// 409 for a create of an existing name.
    pub fn already_exists(info: &ResourceInfo, name: &str) -> Status {
        Status::failure(
            409,
            reason::ALREADY_EXISTS,
            format!("{} \"{}\" already exists", info.qualified_name(), name),
        )
        .with_details(details(info, name, &info.plural))
    }

    /// 409 for a write with a stale resourceVersion.
    pub fn conflict(info: &ResourceInfo, name: &str) -> Status {
        Status::failure(
            409,
            reason::CONFLICT,
            format!(
                "Operation cannot be fulfilled on {} \"{}\": the object has been modified; please apply your changes to the latest version and try again",
                info.qualified_name(),
                name
            ),
        )
        .with_details(details(info, name, &info.plural))
    }

    /// 409 for a delete whose precondition does not hold.
    pub fn precondition_failed(info: &ResourceInfo, name: &str, what: &str) -> Status {
        let kind_group = if info.group.is_empty() {
            info.kind.clone()
        } else {
            format!("{}.{}", info.kind, info.group)
        };
        Status::failure(
            409,
            reason::CONFLICT,
            format!("Operation cannot be fulfilled on {kind_group} \"{name}\": {what}"),
        )
        .with_details(details(info, name, &info.kind))
    }

    /// 422 with one field cause.
    pub fn invalid(
        info: &ResourceInfo,
        name: &str,
        field: &str,
        cause_reason: &str,
        cause: &str,
    ) -> Status {
        let kind_group = if info.group.is_empty() {
            info.kind.clone()
        } else {
            format!("{}.{}", info.kind, info.group)
        };
        let mut d = details(info, name, &info.kind);
        d.causes = vec![StatusCause {
            reason: Some(cause_reason.into()),
            message: Some(cause.into()),
            field: Some(field.into()),
        }];
        Status::failure(
            422,
            reason::INVALID,
            format!("{kind_group} \"{name}\" is invalid: {field}: {cause}"),
        )
        .with_details(d)
    }

    /// 422 for forbidden ListOptions combinations, one cause per problem.
    pub fn invalid_list_options(causes: &[(&str, &str)]) -> Status {
        let message = causes
            .iter()
            .map(|(field, text)| format!("{field}: Forbidden: {text}"))
            .collect::<Vec<_>>();
        let message = if message.len() == 1 {
            message[0].clone()
        } else {
            format!("[{}]", message.join(", "))
        };
        Status::failure(
            422,
            reason::INVALID,
            format!("ListOptions.meta.k8s.io \"\" is invalid: {message}"),
        )
        .with_details(StatusDetails {
            group: Some("meta.k8s.io".into()),
            kind: Some("ListOptions".into()),
            causes: causes
                .iter()
                .map(|(field, text)| StatusCause {
                    reason: Some("FieldValueForbidden".into()),
                    message: Some(format!("Forbidden: {text}")),
                    field: Some(field.to_string()),
                })
                .collect(),
            ..StatusDetails::default()
        })
    }

    /// 400 with a message and no details.
    pub fn bad_request(message: impl Into<String>) -> Status {
        Status::failure(400, reason::BAD_REQUEST, message)
    }

    /// 405 for a verb the path does not support.
    pub fn method_not_allowed() -> Status {
        Status::failure(
            405,
            reason::METHOD_NOT_ALLOWED,
            "the server does not allow this method on the requested resource",
        )
        .with_details(StatusDetails::default())
    }

    /// 410 for a list at a compacted resourceVersion.
    pub fn list_too_old() -> Status {
        Status::failure(
            410,
            reason::EXPIRED,
            "The resourceVersion for the provided list is too old.",
        )
    }

    /// 410 for a watch from a compacted resourceVersion (sent as an ERROR frame).
    pub fn watch_too_old(requested: u64, compacted: u64) -> Status {
        Status::failure(
            410,
            reason::EXPIRED,
            format!("too old resource version: {requested} ({compacted})"),
        )
    }

    /// 504 for a resourceVersion the server has not reached.
    pub fn too_large_resource_version(requested: u64, current: u64) -> Status {
        Status::failure(
            504,
            reason::TIMEOUT,
            format!("Timeout: Too large resource version: {requested}, current: {current}"),
        )
        .with_details(StatusDetails {
            causes: vec![StatusCause {
                reason: Some("ResourceVersionTooLarge".into()),
                message: Some("Too large resource version".into()),
                field: None,
            }],
            retry_after_seconds: Some(1),
            ..StatusDetails::default()
        })
    }

    /// 401 for a request without valid credentials.
    pub fn unauthorized() -> Status {
        Status::failure(401, reason::UNAUTHORIZED, "Unauthorized")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_status_matches_the_recorded_body() {
        let info = ResourceInfo::new("wardle.example.com", "v1alpha1", "Flunder", "flunders");
        let body = String::from_utf8(encode(&errors::not_found(&info, "nope"), false)).unwrap();
        assert_eq!(
            body,
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"flunders.wardle.example.com \"nope\" not found","reason":"NotFound","details":{"name":"nope","group":"wardle.example.com","kind":"flunders"},"code":404}"#
        );
    }

    #[test]
    fn unknown_resource_status_has_empty_details() {
        let body = String::from_utf8(encode(&errors::unknown_resource(), false)).unwrap();
        assert_eq!(
            body,
            r#"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}"#
        );
    }

    #[test]
    fn uuids_have_the_version_4_shape() {
        let id = uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }
}
