//! WATCH: a chunked `application/json` stream, one `{"type":…,"object":…}` per line. Frames
//! are spliced from the objects' stored bytes (no per-watcher encoding) into a buffer sent in
//! large chunks whenever it fills and whenever the watch has caught up. Initial ADDED events and the initial-events-end bookmark, history replay from a
//! resourceVersion (ERROR 410 when compacted), selector enter/leave as ADDED/DELETED, periodic
//! bookmarks plus one before `timeoutSeconds` ends the stream, and the scripted watch faults.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::faults::Fault;
use crate::handlers::versioned;
use crate::negotiate::{self, Output};
use crate::registry::ResourceInfo;
use crate::request::ListParams;
use crate::response::{self, errors, Body};
use crate::router::Ctx;
use crate::selector::Filter;
use crate::server::Shared;
use crate::store::{Event, EventType};
use crate::stored::Stored;
use crate::{metadata, table};

type Chunk = Result<Frame<Bytes>, std::io::Error>;

#[derive(Serialize)]
struct WatchFrame<'a> {
    #[serde(rename = "type")]
    event_type: &'a str,
    object: &'a Value,
}

/// One encoded frame, newline terminated.
pub(crate) fn encode_frame(event_type: &str, object: &Value) -> Bytes {
    let mut bytes = serde_json::to_vec(&WatchFrame { event_type, object }).unwrap_or_default();
    bytes.push(b'\n');
    Bytes::from(bytes)
}

/// A BOOKMARK object: an empty object of the watched kind carrying only the resourceVersion.
pub(crate) fn bookmark_object(
    info: &ResourceInfo,
    resource_version: u64,
    initial_events_end: bool,
) -> Value {
    let mut metadata = json!({"resourceVersion": resource_version.to_string()});
    if initial_events_end {
        metadata["annotations"] = json!({"k8s.io/initial-events-end": "true"});
    }
    let mut object =
        json!({"kind": info.kind, "apiVersion": info.api_version(), "metadata": metadata});
    if info.status_subresource {
        object["spec"] = json!({});
        object["status"] = json!({});
    }
    object
}

/// The frame one stored event produces for a watcher with `filter`, if any.
pub(crate) fn event_frame(event: &Event, filter: &Filter) -> Option<(&'static str, Arc<Stored>)> {
    if let Some(ns) = &filter.namespace {
        let in_ns = event.key.len() > ns.len()
            && event.key.starts_with(ns.as_str())
            && event.key.as_bytes()[ns.len()] == b'/';
        if !in_ns {
            return None;
        }
    }
    let now = filter.matches(&event.object);
    let before = event.previous.as_ref().is_some_and(|p| filter.matches(p));
    match event.event_type {
        EventType::Added => now.then(|| ("ADDED", event.object.clone())),
        EventType::Deleted => (now || before).then(|| ("DELETED", event.object.clone())),
        EventType::Modified => match (before, now) {
            (true, true) => Some(("MODIFIED", event.object.clone())),
            (false, true) => Some(("ADDED", event.object.clone())),
            (true, false) => {
                // Leaving the selector: the old state, stamped with this change's RV.
                let mut old = event.previous.as_ref()?.value();
                if let Some(meta) = old.get_mut("metadata").and_then(Value::as_object_mut) {
                    meta.insert(
                        "resourceVersion".into(),
                        json!(event.resource_version.to_string()),
                    );
                }
                Some(("DELETED", Arc::new(Stored::encode(&old))))
            }
            (false, false) => None,
        },
    }
}

/// Why a stream stops early.
struct Stop;

/// Buffers frames and sends them in large chunks, applying the byte/event faults per frame.
struct Sink {
    tx: mpsc::Sender<Chunk>,
    events: usize,
    bytes: usize,
    close_after_events: Option<usize>,
    close_after_bytes: Option<usize>,
    gone_after_events: Option<usize>,
    /// The form objects are sent in.
    output: Output,
    /// `includeObject` for Table frames.
    include: String,
    /// Frames not yet handed to hyper.
    buffer: Vec<u8>,
    /// The route's `apiVersion`, put in front of every object.
    api_version: String,
}

impl Sink {
    /// Appends one event's frame (the object in the client's form) to the buffer.
    fn write_event(&mut self, info: &ResourceInfo, event_type: &str, object: &Stored) {
        let out = &mut self.buffer;
        out.extend_from_slice(b"{\"type\":\"");
        out.extend_from_slice(event_type.as_bytes());
        out.extend_from_slice(b"\",\"object\":");
        match &self.output {
            Output::Table(_) => {
                let object = versioned(info, &Arc::new(object.value()));
                let rv = object
                    .pointer("/metadata/resourceVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string();
                let table =
                    table::build(&self.include, info, [&object].into_iter(), rv, None, None);
                let _ = serde_json::to_writer(&mut *out, &table);
            }
            Output::Metadata(version) => object.write_partial(version, out),
            Output::Object | Output::MetadataList(_) => {
                object.write_object(&info.kind, &self.api_version, out)
            }
        }
        out.extend_from_slice(b"}\n");
    }

    /// A BOOKMARK object in the client's form (metadata-only watches get metadata-only ones).
    fn bookmark(&self, info: &ResourceInfo, resource_version: u64, initial_end: bool) -> Value {
        let object = bookmark_object(info, resource_version, initial_end);
        match &self.output {
            Output::Metadata(version) => metadata::partial(version, &object),
            _ => object,
        }
    }

    /// Hands the buffered frames to hyper.
    async fn flush(&mut self) -> Result<(), Stop> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(response::FRAME_SIZE + 16 * 1024),
        ));
        self.tx.send(Ok(Frame::data(chunk))).await.map_err(|_| Stop)
    }

    async fn cut(&mut self) -> Stop {
        let _ = self.flush().await;
        let _ = self
            .tx
            .send(Err(std::io::Error::other(
                "injected fault: connection closed",
            )))
            .await;
        Stop
    }

    /// Sends an ERROR frame after what is buffered; the stream then ends.
    async fn error(&mut self, status: &kinformer_meta::Status) -> Stop {
        let frame = encode_frame("ERROR", &serde_json::to_value(status).unwrap_or_default());
        self.buffer.extend_from_slice(&frame);
        let _ = self.flush().await;
        Stop
    }

    /// Sends one event.
    async fn send_event(
        &mut self,
        info: &ResourceInfo,
        event_type: &str,
        object: &Stored,
        resource_version: u64,
    ) -> Result<(), Stop> {
        let start = self.buffer.len();
        if self.gone_after_events != Some(self.events)
            && self.close_after_events.is_none_or(|n| self.events < n)
        {
            self.write_event(info, event_type, object);
        }
        self.commit(start, resource_version).await
    }

    /// Sends a frame that is not a stored object (bookmarks).
    async fn send_value(&mut self, frame: Bytes, resource_version: u64) -> Result<(), Stop> {
        let start = self.buffer.len();
        self.buffer.extend_from_slice(&frame);
        self.commit(start, resource_version).await
    }

    /// Applies the faults to the frame written at `start..`, then counts it.
    async fn commit(&mut self, start: usize, resource_version: u64) -> Result<(), Stop> {
        if self.gone_after_events == Some(self.events) {
            self.buffer.truncate(start);
            let status = errors::watch_too_old(resource_version, resource_version);
            return Err(self.error(&status).await);
        }
        if self.close_after_events.is_some_and(|n| self.events >= n) {
            self.buffer.truncate(start);
            return Err(self.cut().await);
        }
        let length = self.buffer.len() - start;
        if let Some(limit) = self.close_after_bytes {
            if self.bytes + length > limit {
                self.buffer
                    .truncate(start + limit.saturating_sub(self.bytes));
                return Err(self.cut().await);
            }
        }
        self.bytes += length;
        self.events += 1;
        if self.close_after_events.is_some_and(|n| self.events >= n) {
            return Err(self.cut().await);
        }
        if self.buffer.len() >= response::FRAME_SIZE {
            self.flush().await?;
        }
        Ok(())
    }
}

/// Starts a watch: the response is sent at once, frames follow from a task.
pub(crate) fn serve(
    ctx: &Ctx,
    info: Arc<ResourceInfo>,
    namespace: Option<&str>,
    params: ListParams,
    faults: Vec<Fault>,
) -> Response<Body> {
    let filter = match Filter::parse(
        &info,
        namespace,
        params.label_selector.as_deref(),
        params.field_selector.as_deref(),
    ) {
        Ok(filter) => filter,
        Err(status) => return ctx.status(&status),
    };
    let output = match negotiate::for_object(&ctx.accept) {
        Ok(output) => output,
        Err(status) => return ctx.status(&status),
    };
    let content_type = output.content_type();
    let (tx, rx) = mpsc::channel::<Chunk>(8);
    let table = (output, ctx.table_include().to_string());
    tokio::spawn(run(
        ctx.shared.clone(),
        info,
        filter,
        params,
        faults,
        tx,
        table,
    ));
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        let chunk = rx.recv().await?;
        if chunk.is_err() {
            response::before_error().await;
        }
        Some((chunk, rx))
    });
    response::with_headers(
        StatusCode::OK,
        &content_type,
        BodyExt::boxed(StreamBody::new(stream)),
    )
}

async fn run(
    shared: Arc<Shared>,
    info: Arc<ResourceInfo>,
    filter: Filter,
    params: ListParams,
    faults: Vec<Fault>,
    tx: mpsc::Sender<Chunk>,
    (output, include): (Output, String),
) {
    let mut sink = Sink {
        tx,
        events: 0,
        bytes: 0,
        close_after_events: None,
        close_after_bytes: None,
        gone_after_events: None,
        output,
        include,
        buffer: Vec::with_capacity(64 * 1024),
        api_version: info.api_version(),
    };
    let mut drop_end_bookmark = false;
    for fault in &faults {
        match fault {
            Fault::Stall => {
                sink.tx.closed().await;
                return;
            }
            Fault::CloseAfterEvents(n) => sink.close_after_events = Some(*n),
            Fault::CloseAfterBytes(n) => sink.close_after_bytes = Some(*n),
            Fault::GoneAfterEvents(n) => sink.gone_after_events = Some(*n),
            Fault::DropInitialEventsEnd => drop_end_bookmark = true,
            Fault::Status { .. } => {}
        }
    }
    let _ = stream(
        &shared,
        &info,
        &filter,
        &params,
        drop_end_bookmark,
        &mut sink,
    )
    .await;
}

async fn stream(
    shared: &Shared,
    info: &ResourceInfo,
    filter: &Filter,
    params: &ListParams,
    drop_end_bookmark: bool,
    sink: &mut Sink,
) -> Result<(), Stop> {
    let timeout = params
        .timeout_seconds
        .map(Duration::from_secs)
        .unwrap_or(shared.settings.default_watch_timeout);
    let deadline = Instant::now() + timeout;
    let mut changes = shared.changes.subscribe();
    let resource = info.storage_key();
    let prefix = filter
        .namespace
        .as_ref()
        .map(|ns| format!("{ns}/"))
        .unwrap_or_default();
    let initial_mode = match (params.send_initial_events, params.resource_version) {
        (Some(explicit), _) => explicit,
        (None, None) | (None, Some(0)) => true,
        (None, Some(_)) => false,
    };
    let (initial, mut last_rv) = {
        let store = shared.store();
        let current = store.resource_version();
        if initial_mode {
            let objects: Vec<Arc<Stored>> = match store.snapshot(info, current) {
                Some(snapshot) => snapshot
                    .range(&prefix, None)
                    .filter(|(_, o)| filter.matches(o))
                    .map(|(_, o)| o.clone())
                    .collect(),
                None => Vec::new(),
            };
            (objects, current)
        } else {
            match params.resource_version {
                Some(requested) if requested > 0 => {
                    if requested < store.compacted() {
                        (Vec::new(), 0)
                    } else {
                        (Vec::new(), requested)
                    }
                }
                _ => (Vec::new(), current),
            }
        }
    };
    if last_rv == 0 {
        let requested = params.resource_version.unwrap_or(0);
        let status = errors::watch_too_old(requested, shared.store().compacted());
        return Err(sink.error(&status).await);
    }
    for object in &initial {
        sink.send_event(info, "ADDED", object, last_rv).await?;
    }
    drop(initial);
    let end_bookmark = initial_mode && params.allow_watch_bookmarks && !drop_end_bookmark;
    if end_bookmark {
        let frame = encode_frame("BOOKMARK", &sink.bookmark(info, last_rv, true));
        sink.send_value(frame, last_rv).await?;
    }
    let bookmarks = params.allow_watch_bookmarks;
    let interval = shared
        .settings
        .bookmark_interval
        .max(Duration::from_millis(10));
    let mut next_bookmark = Instant::now() + interval;
    let final_bookmark = deadline - (timeout / 5).min(Duration::from_secs(2));
    let mut final_sent = false;
    loop {
        let drained = {
            let store = shared.store();
            let current = store.resource_version();
            store
                .events_since(&resource, last_rv)
                .map(|events| (events, current, store.compacted()))
        };
        let Some((events, current, _)) = drained else {
            let compacted = shared.store().compacted();
            let status = errors::watch_too_old(last_rv, compacted);
            return Err(sink.error(&status).await);
        };
        for event in &events {
            if let Some((event_type, object)) = event_frame(event, filter) {
                sink.send_event(info, event_type, &object, event.resource_version)
                    .await?;
            }
        }
        drop(events);
        // Caught up: whatever is buffered goes out before the wait.
        sink.flush().await?;
        last_rv = last_rv.max(current);
        tokio::select! {
            biased;
            _ = tokio::time::sleep_until(deadline) => return Ok(()),
            _ = sink.tx.closed() => return Err(Stop),
            changed = changes.changed() => if changed.is_err() { return Ok(()) },
            // Periodic bookmarks stop where the last one before the deadline takes over.
            _ = tokio::time::sleep_until(next_bookmark), if bookmarks && next_bookmark < final_bookmark => {
                next_bookmark += interval;
                let frame = encode_frame("BOOKMARK", &sink.bookmark(info, last_rv, false));
                sink.send_value(frame, last_rv).await?;
                sink.flush().await?;
            }
            _ = tokio::time::sleep_until(final_bookmark), if bookmarks && !final_sent => {
                final_sent = true;
                let frame = encode_frame("BOOKMARK", &sink.bookmark(info, last_rv, false));
                sink.send_value(frame, last_rv).await?;
                sink.flush().await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(labels: Value, rv: &str) -> Arc<Stored> {
        Arc::new(Stored::encode(&json!({"kind": "Pod", "apiVersion": "v1",
            "metadata": {"name": "p", "namespace": "ns", "labels": labels, "resourceVersion": rv}})))
    }

    fn modified(before: Value, after: Value) -> Event {
        Event {
            resource_version: 18,
            resource: "/pods".into(),
            key: "ns/p".into(),
            event_type: EventType::Modified,
            object: pod(after, "18"),
            previous: Some(pod(before, "17")),
        }
    }

    #[test]
    fn bookmark_is_an_empty_object_of_the_kind() {
        let info = ResourceInfo::new("wardle.example.com", "v1alpha1", "Flunder", "flunders")
            .with_status();
        let frame = encode_frame("BOOKMARK", &bookmark_object(&info, 16, false));
        assert_eq!(
            std::str::from_utf8(&frame).unwrap(),
            "{\"type\":\"BOOKMARK\",\"object\":{\"apiVersion\":\"wardle.example.com/v1alpha1\",\"kind\":\"Flunder\",\"metadata\":{\"resourceVersion\":\"16\"},\"spec\":{},\"status\":{}}}\n"
        );
        let end = bookmark_object(&info, 16, true);
        assert_eq!(
            end["metadata"]["annotations"]["k8s.io/initial-events-end"],
            "true"
        );
    }

    #[test]
    fn leaving_a_selector_is_a_delete_with_the_old_state_and_the_new_resource_version() {
        let info = ResourceInfo::new("", "v1", "Pod", "pods");
        let filter = Filter::parse(&info, Some("ns"), Some("app=a"), None).unwrap();
        let (kind, object) =
            event_frame(&modified(json!({"app": "a"}), json!({"app": "b"})), &filter).unwrap();
        assert_eq!(kind, "DELETED");
        let object = object.value();
        assert_eq!(object["metadata"]["labels"]["app"], "a");
        assert_eq!(object["metadata"]["resourceVersion"], "18");
        let (kind, _) =
            event_frame(&modified(json!({"app": "b"}), json!({"app": "a"})), &filter).unwrap();
        assert_eq!(kind, "ADDED");
        assert!(
            event_frame(&modified(json!({"app": "b"}), json!({"app": "c"})), &filter).is_none()
        );
        let other_ns = Filter::parse(&info, Some("n"), None, None).unwrap();
        assert!(
            event_frame(&modified(json!({}), json!({})), &other_ns).is_none(),
            "ns/p is not in namespace n"
        );
    }
}
