//! The floor: fetching the same list pages and watch frames as raw bytes (which is also the
//! server's own throughput, since the client only reads them), then timing plain
//! `serde_json::from_slice` of those bytes into `ObjectList<Pod>` and `WatchEvent<Pod>`.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use kinformer_client::Client;
use kinformer_meta::{ObjectList, WatchEvent};
use kinformer_typed::Pod;

use crate::error::{Error, Result};

/// Raw bytes read from the server and how long reading them took.
#[derive(Debug, Default)]
pub struct Fetched {
    /// One entry per list page, or one per watch frame (without its newline).
    pub chunks: Vec<Bytes>,
    /// Total bytes read.
    pub bytes: u64,
    /// Wall time from the first request to the last byte.
    pub elapsed: Duration,
}

impl Fetched {
    /// Bytes per second the server delivered.
    pub fn bytes_per_second(&self) -> f64 {
        self.bytes as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Reads every page of `GET /api/v1/pods?limit=<page_size>[&resourceVersion=..]` without
/// decoding more than the continue token. With `resourceVersion=0` the server answers from
/// its cache in one response, as an apiserver does, whatever the limit.
pub async fn fetch_list_pages(
    client: &Client,
    page_size: u32,
    resource_version: Option<&str>,
) -> Result<Fetched> {
    let started = Instant::now();
    let mut fetched = Fetched::default();
    let mut continue_token: Option<String> = None;
    loop {
        let mut path = format!("/api/v1/pods?limit={page_size}");
        if let (Some(version), None) = (resource_version, &continue_token) {
            path.push_str("&resourceVersion=");
            path.push_str(version);
        }
        if let Some(token) = &continue_token {
            path.push_str("&continue=");
            path.push_str(token);
        }
        let request = get(&path)?;
        let response = client.send(request).await.map_err(|source| Error::Client {
            step: "raw list",
            source,
        })?;
        let body = response
            .into_body()
            .bytes()
            .await
            .map_err(|source| Error::Client {
                step: "raw list body",
                source,
            })?;
        fetched.bytes += body.len() as u64;
        continue_token = continue_of(&body);
        fetched.chunks.push(body);
        if continue_token.is_none() {
            break;
        }
    }
    fetched.elapsed = started.elapsed();
    Ok(fetched)
}

/// Reads a watch from `resource_version` until `events` frames arrived, splitting frames at
/// newlines (the server writes one JSON object per line).
pub async fn fetch_watch_frames(
    client: &Client,
    resource_version: u64,
    events: u64,
) -> Result<Fetched> {
    let started = Instant::now();
    let path = format!("/api/v1/pods?watch=true&resourceVersion={resource_version}");
    let response = client
        .send_watch(get(&path)?)
        .await
        .map_err(|source| Error::Client {
            step: "raw watch",
            source,
        })?;
    let mut body = response.into_body();
    let mut fetched = Fetched::default();
    let mut pending = BytesMut::new();
    while (fetched.chunks.len() as u64) < events {
        let Some(frame) = body.frame().await else {
            return Err(Error::Incomplete {
                step: "raw watch",
                expected: events,
                got: fetched.chunks.len() as u64,
            });
        };
        let frame = frame.map_err(|source| Error::Client {
            step: "raw watch body",
            source,
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        fetched.bytes += data.len() as u64;
        pending.extend_from_slice(&data);
        while let Some(end) = pending.iter().position(|&b| b == b'\n') {
            let line = pending.split_to(end + 1).freeze();
            let line = line.slice(..end);
            if !line.is_empty() {
                fetched.chunks.push(line);
            }
        }
    }
    fetched.elapsed = started.elapsed();
    Ok(fetched)
}

/// What decoding the list pages cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct ListFloor {
    /// Decode time.
    pub elapsed: Duration,
    /// Items decoded.
    pub items: u64,
    /// Heap bytes the decoded lists held (the typed objects alone, without any cache).
    pub decoded_bytes: isize,
}

/// Decodes every page into `ObjectList<Pod>`, keeping the results until the clock stops (the
/// pipeline keeps its objects too).
pub fn decode_list_pages(pages: &[Bytes]) -> Result<ListFloor> {
    let heap_before = crate::alloc::current(crate::alloc::Domain::Client);
    let started = Instant::now();
    let mut lists = Vec::with_capacity(pages.len());
    for page in pages {
        let list: ObjectList<Pod> =
            serde_json::from_slice(page).map_err(|source| Error::Decode {
                what: "list page",
                source,
            })?;
        lists.push(list);
    }
    let elapsed = started.elapsed();
    let decoded_bytes = crate::alloc::current(crate::alloc::Domain::Client) - heap_before;
    let items = lists.iter().map(|list| list.items.len() as u64).sum();
    drop(lists);
    Ok(ListFloor {
        elapsed,
        items,
        decoded_bytes,
    })
}

/// Decodes every frame into `WatchEvent<Pod>`, keeping the results until the clock stops.
pub fn decode_watch_frames(frames: &[Bytes]) -> Result<Duration> {
    let started = Instant::now();
    let mut events = Vec::with_capacity(frames.len());
    for frame in frames {
        let event: WatchEvent<Pod> =
            serde_json::from_slice(frame).map_err(|source| Error::Decode {
                what: "watch frame",
                source,
            })?;
        events.push(event);
    }
    let elapsed = started.elapsed();
    drop(events);
    Ok(elapsed)
}

fn get(path: &str) -> Result<http::Request<Bytes>> {
    http::Request::get(path)
        .body(Bytes::new())
        .map_err(|source| Error::Request {
            path: path.to_owned(),
            source,
        })
}

/// The `metadata.continue` of a list page, found without decoding the items: the server
/// writes `metadata` before `items`.
fn continue_of(page: &[u8]) -> Option<String> {
    let head = &page[..page.len().min(4096)];
    let head = std::str::from_utf8(head).ok().or_else(|| {
        // The 4096-byte cut may split a character; the token is ASCII and comes earlier.
        let valid = std::str::from_utf8(head).err()?.valid_up_to();
        std::str::from_utf8(&head[..valid]).ok()
    })?;
    let items_at = head.find("\"items\"").unwrap_or(head.len());
    let start = head[..items_at].find("\"continue\":\"")? + "\"continue\":\"".len();
    let end = head[start..].find('"')? + start;
    let token = &head[start..end];
    (!token.is_empty()).then(|| token.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_continue_token_is_read_from_the_metadata_before_items() {
        let page = br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9","continue":"eyJ2IjoxfQ"},"items":[{"metadata":{"name":"a","annotations":{"continue":"no"}}}]}"#;
        assert_eq!(continue_of(page).as_deref(), Some("eyJ2IjoxfQ"));
    }

    #[test]
    fn a_last_page_has_no_continue_token() {
        let page = br#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"9"},"items":[{"metadata":{"name":"x","labels":{"a":"\"continue\":\"zz\""}}}]}"#;
        assert_eq!(continue_of(page), None);
        let empty = br#"{"metadata":{"resourceVersion":"9","continue":""},"items":[]}"#;
        assert_eq!(continue_of(empty), None);
    }

    #[test]
    fn floor_decodes_generated_pages_and_frames() {
        let _guard = crate::alloc::counter_test_guard();
        let pods: Vec<serde_json::Value> = (0..3).map(|i| crate::generator::pod(i, 0)).collect();
        let page = serde_json::to_vec(&serde_json::json!({
            "kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "5"}, "items": pods
        }))
        .unwrap();
        let floor = decode_list_pages(&[Bytes::from(page)]).unwrap();
        assert_eq!(floor.items, 3);
        assert!(floor.decoded_bytes > 0);
        let frame = serde_json::to_vec(&serde_json::json!({
            "type": "MODIFIED", "object": crate::generator::pod(1, 2)
        }))
        .unwrap();
        assert!(decode_watch_frames(&[Bytes::from(frame)]).is_ok());
        assert!(decode_watch_frames(&[Bytes::from_static(b"{not json")]).is_err());
    }
}
