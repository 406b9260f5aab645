//! Recordings of real HTTP exchanges (format 2 of `docs/fixtures.md`): the transcript format
//! of `fixtures/recordings/`, parsed into exchanges, and replayed verbatim by the server for
//! requests whose method, path and query match a section title.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;

use crate::error::{Error, Result};
use crate::request::parse_query;
use crate::response::{self, Body};

/// One watch frame with its arrival time relative to the response head.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordedFrame {
    /// When it arrived after the status line.
    pub offset: Duration,
    /// The JSON line.
    pub line: String,
}

/// One recorded request/response.
#[derive(Clone, Debug, PartialEq)]
pub struct Exchange {
    /// The section title.
    pub title: String,
    /// The request method, when the title starts with one.
    pub method: Option<String>,
    /// The request path and query, when the title names one.
    pub target: Option<String>,
    /// The response status code.
    pub status: u16,
    /// Response headers in recorded order.
    pub headers: Vec<(String, String)>,
    /// The body (for a watch: every frame, one per line).
    pub body: String,
    /// Watch frames with arrival times, when the transcript was timestamped.
    pub frames: Vec<RecordedFrame>,
}

/// A parsed transcript.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Recording {
    /// Every HTTP exchange, in file order (sections without a status line are skipped).
    pub exchanges: Vec<Exchange>,
}

const METHODS: &[&str] = &["GET", "POST", "PUT", "PATCH", "DELETE"];

fn split_timestamp(line: &str) -> (Option<f64>, &str) {
    if let Some((first, rest)) = line.split_once(' ') {
        if first.contains('.') && first.chars().all(|c| c.is_ascii_digit() || c == '.') {
            if let Ok(t) = first.parse::<f64>() {
                return (Some(t), rest);
            }
        }
    }
    if line.chars().all(|c| c.is_ascii_digit() || c == '.') && line.contains('.') {
        if let Ok(t) = line.parse::<f64>() {
            return (Some(t), "");
        }
    }
    (None, line)
}

fn parse_section(title: &str, lines: &[&str]) -> Option<Exchange> {
    let start = lines
        .iter()
        .position(|l| split_timestamp(l).1.starts_with("HTTP/"))?;
    let (head_time, status_line) = split_timestamp(lines[start]);
    let status: u16 = status_line.split_whitespace().nth(1)?.parse().ok()?;
    let mut headers = Vec::new();
    let mut index = start + 1;
    while index < lines.len() {
        let (_, line) = split_timestamp(lines[index]);
        index += 1;
        if line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_string(), value.trim().to_string()));
        }
    }
    let mut body_lines = Vec::new();
    let mut frames = Vec::new();
    for raw in &lines[index..] {
        let (time, line) = split_timestamp(raw);
        if let (Some(t), Some(t0)) = (time, head_time) {
            if line.starts_with('{') {
                frames.push(RecordedFrame {
                    offset: Duration::from_secs_f64((t - t0).max(0.0)),
                    line: line.to_string(),
                });
            }
        }
        body_lines.push(line);
    }
    while body_lines.last().is_some_and(|l| l.trim().is_empty()) {
        body_lines.pop();
    }
    let mut words = title.split_whitespace();
    let (method, target) = match (words.next(), words.next()) {
        (Some(m), Some(t)) if METHODS.contains(&m) && t.starts_with('/') => {
            (Some(m.to_string()), Some(t.to_string()))
        }
        _ => (None, None),
    };
    Some(Exchange {
        title: title.to_string(),
        method,
        target,
        status,
        headers,
        body: body_lines.join("\n"),
        frames,
    })
}

fn query_key(target: &str) -> (String, BTreeMap<String, String>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    (
        path.to_string(),
        parse_query(Some(query)).into_iter().collect(),
    )
}

impl Recording {
    /// Parses transcript text; `origin` names it in errors.
    pub fn parse(text: &str, origin: &Path) -> Result<Self> {
        let mut exchanges = Vec::new();
        // Text before the first title is an untitled section (a file holding one bare exchange).
        let mut title: Option<&str> = Some("");
        let mut lines: Vec<&str> = Vec::new();
        for line in text.lines().chain(std::iter::once("===== end =====")) {
            let trimmed = line.trim();
            if trimmed.starts_with("=====") && trimmed.ends_with("=====") && trimmed.len() >= 10 {
                if let Some(t) = title {
                    exchanges.extend(parse_section(t, &lines));
                }
                title = Some(trimmed.trim_matches('=').trim());
                lines.clear();
            } else {
                lines.push(line);
            }
        }
        if exchanges.is_empty() {
            return Err(Error::FixtureInvalid {
                path: origin.to_path_buf(),
                message: "no `===== title =====` section with an HTTP status line".into(),
            });
        }
        Ok(Recording { exchanges })
    }

    /// Reads and parses a transcript file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::FileFailed {
            path: path.to_path_buf(),
            source,
        })?;
        Recording::parse(&text, path)
    }

    /// The exchange recorded for this method and path (query parameters in any order).
    pub fn find(&self, method: &str, target: &str) -> Option<&Exchange> {
        let wanted = query_key(target);
        self.exchanges.iter().find(|e| {
            e.method.as_deref() == Some(method)
                && e.target.as_deref().is_some_and(|t| query_key(t) == wanted)
        })
    }
}

impl Exchange {
    /// The recorded response: status, headers and body as recorded, watch frames paced as
    /// they arrived. Framing headers and `Date` are left to the server.
    pub(crate) fn response(&self) -> Response<Body> {
        let body = if self.frames.is_empty() {
            response::full(self.body.clone())
        } else {
            let frames = self.frames.clone();
            let stream = futures::stream::unfold(
                (frames.into_iter(), Duration::ZERO),
                |(mut rest, elapsed)| async move {
                    let frame = rest.next()?;
                    if frame.offset > elapsed {
                        tokio::time::sleep(frame.offset - elapsed).await;
                    }
                    let chunk = Ok::<_, std::io::Error>(Frame::data(Bytes::from(format!(
                        "{}\n",
                        frame.line
                    ))));
                    Some((chunk, (rest, frame.offset.max(elapsed))))
                },
            );
            BodyExt::boxed(StreamBody::new(stream))
        };
        let mut response = Response::new(body);
        *response.status_mut() = StatusCode::from_u16(self.status).unwrap_or(StatusCode::OK);
        for (name, value) in &self.headers {
            let lower = name.to_ascii_lowercase();
            if matches!(
                lower.as_str(),
                "content-length" | "transfer-encoding" | "date" | "connection"
            ) {
                continue;
            }
            if let (Ok(name), Ok(value)) = (
                HeaderName::from_bytes(lower.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                response.headers_mut().append(name, value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\n===== GET /apis/x/v1/things?limit=2&labelSelector=a =====\nHTTP/1.1 200 OK\nAudit-Id: 1\nContent-Type: application/json\nContent-Length: 2\n\n{}\n\n===== notes =====\nfree text\n===== GET /apis/x/v1/things?watch=1 =====\n100.000 HTTP/1.1 200 OK\n100.001 Content-Type: application/json\n100.002 \n101.500 {\"type\":\"ADDED\"}\n103.000 {\"type\":\"DELETED\"}\n";

    #[test]
    fn sections_with_a_status_line_become_exchanges() {
        let recording = Recording::parse(SAMPLE, Path::new("s")).unwrap();
        assert_eq!(recording.exchanges.len(), 2);
        let list = &recording.exchanges[0];
        assert_eq!(list.status, 200);
        assert_eq!(list.body, "{}");
        assert_eq!(list.headers[0], ("Audit-Id".to_string(), "1".to_string()));
        let watch = &recording.exchanges[1];
        assert_eq!(watch.frames.len(), 2);
        assert_eq!(watch.frames[0].offset, Duration::from_millis(1500));
    }

    #[test]
    fn find_matches_query_parameters_in_any_order() {
        let recording = Recording::parse(SAMPLE, Path::new("s")).unwrap();
        assert!(recording
            .find("GET", "/apis/x/v1/things?labelSelector=a&limit=2")
            .is_some());
        assert!(recording.find("GET", "/apis/x/v1/things?limit=3").is_none());
        assert!(recording
            .find("POST", "/apis/x/v1/things?limit=2&labelSelector=a")
            .is_none());
    }

    #[test]
    fn text_without_exchanges_is_an_error() {
        assert!(matches!(
            Recording::parse("hello", Path::new("s")),
            Err(Error::FixtureInvalid { .. })
        ));
    }
}
