//! Tests of the watch stream: real server frames on every chunking, ERROR and BOOKMARK frames,
//! idle timeouts on paused time, and property tests on random chunkings and random bytes.

use super::*;
use futures::StreamExt;
use kinformer_meta::{ObjectMeta, PartialObjectMetadata};
use proptest::prelude::*;
use serde_json::Value;

/// Frames exactly as sample-apiserver v0.36.3 sent them (see the wire reference).
const REAL_FRAMES: &str = concat!(
    r#"{"type":"ADDED","object":{"kind":"Flunder","apiVersion":"wardle.example.com/v1alpha1","metadata":{"name":"w1","namespace":"default","uid":"aa8d","resourceVersion":"14","creationTimestamp":"2026-11-26T16:29:47Z","labels":{"app":"a"}},"spec":{},"status":{}}}"#,
    "\n",
    r#"{"type":"MODIFIED","object":{"kind":"Flunder","apiVersion":"wardle.example.com/v1alpha1","metadata":{"name":"w1","namespace":"default","uid":"aa8d","resourceVersion":"15","labels":{"app":"a","x":"1"}},"spec":{"note":"a \"quoted\" } brace"},"status":{}}}"#,
    "\n",
    r#"{"type":"DELETED","object":{"kind":"Flunder","apiVersion":"wardle.example.com/v1alpha1","metadata":{"name":"w1","namespace":"default","resourceVersion":"16"},"spec":{},"status":{}}}"#,
    "\n",
    r#"{"type":"BOOKMARK","object":{"kind":"Flunder","apiVersion":"wardle.example.com/v1alpha1","metadata":{"resourceVersion":"16","annotations":{"k8s.io/initial-events-end":"true"}},"spec":{},"status":{}}}"#,
    "\n",
    r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"too old resource version: 6 (20)","reason":"Expired","code":410}}"#,
    "\n",
);

fn chunked(bytes: &[u8], sizes: &[usize]) -> Vec<Result<Bytes>> {
    let mut out = Vec::new();
    let mut rest = bytes;
    let mut i = 0;
    while !rest.is_empty() {
        let size = sizes
            .get(i % sizes.len().max(1))
            .copied()
            .unwrap_or(1)
            .max(1);
        let cut = size.min(rest.len());
        out.push(Ok(Bytes::copy_from_slice(&rest[..cut])));
        rest = &rest[cut..];
        i += 1;
    }
    out
}

/// The same chunks again (a body error is copied as its message).
fn copy_chunks(chunks: &[Result<Bytes>]) -> Vec<Result<Bytes>> {
    chunks
        .iter()
        .map(|chunk| match chunk {
            Ok(bytes) => Ok(bytes.clone()),
            Err(Error::InvalidRequest(message)) => Err(Error::InvalidRequest(message.clone())),
            Err(error) => Err(Error::InvalidRequest(error.to_string())),
        })
        .collect()
}

/// Runs the chunks through a stream decoding in place and one decoding in parallel, checks
/// that both said exactly the same, and returns what they said.
async fn collect<K: DeserializeOwned + Send + std::fmt::Debug + 'static>(
    chunks: Vec<Result<Bytes>>,
    config: WatchConfig,
) -> Vec<Result<WatchEvent<K>>> {
    let inline: Vec<Result<WatchEvent<K>>> = WatchStream::<K>::new(
        futures::stream::iter(copy_chunks(&chunks)),
        config.clone().parallel_decode(false),
    )
    .collect()
    .await;
    let parallel: Vec<Result<WatchEvent<K>>> =
        WatchStream::<K>::new(futures::stream::iter(chunks), config.parallel_decode(true))
            .collect()
            .await;
    assert_eq!(format!("{parallel:?}"), format!("{inline:?}"));
    parallel
}

fn summary(events: &[Result<WatchEvent<PartialObjectMetadata>>]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            Ok(WatchEvent::Bookmark(b)) => format!("BOOKMARK {}", b.resource_version),
            Ok(WatchEvent::Error(status)) => format!("ERROR {}", status.code),
            Ok(event) => format!(
                "{} {}",
                event.type_name(),
                event.object().unwrap().metadata.resource_version().unwrap()
            ),
            Err(error) => format!("Err {error}"),
        })
        .collect()
}

#[tokio::test]
async fn real_server_frames_decode_the_same_on_every_chunk_size() {
    let whole = summary(
        &collect(
            vec![Ok(Bytes::from_static(REAL_FRAMES.as_bytes()))],
            WatchConfig::default(),
        )
        .await,
    );
    assert_eq!(
        whole,
        [
            "ADDED 14",
            "MODIFIED 15",
            "DELETED 16",
            "BOOKMARK 16",
            "ERROR 410"
        ]
    );
    for size in [1, 2, 3, 7, 64, 200, 4096] {
        let events = collect(
            chunked(REAL_FRAMES.as_bytes(), &[size]),
            WatchConfig::default(),
        )
        .await;
        assert_eq!(summary(&events), whole, "chunk size {size}");
    }
}

#[tokio::test]
async fn bookmark_keeps_its_resource_version_and_annotations() {
    let events: Vec<_> = collect::<Value>(
        chunked(REAL_FRAMES.as_bytes(), &[5]),
        WatchConfig::default(),
    )
    .await;
    let bookmark = events
        .iter()
        .find_map(|event| match event {
            Ok(WatchEvent::Bookmark(b)) => Some(b.clone()),
            _ => None,
        })
        .expect("a bookmark");
    assert_eq!(bookmark.resource_version, "16");
    assert!(bookmark.is_initial_events_end());
}

#[tokio::test]
async fn error_frame_ends_the_stream_even_if_bytes_follow() {
    let body = format!("{REAL_FRAMES}{}\n", r#"{"type":"ADDED","object":{}}"#);
    let events = collect::<Value>(chunked(body.as_bytes(), &[9]), WatchConfig::default()).await;
    assert_eq!(events.len(), 5);
    match events.last().unwrap() {
        Ok(WatchEvent::Error(status)) => {
            assert!(status.is_gone());
            assert_eq!(status.reason(), "Expired");
        }
        other => panic!("expected an ERROR event, got {other:?}"),
    }
}

#[tokio::test]
async fn error_frame_becomes_a_typed_api_error_when_configured() {
    let events = collect::<Value>(
        chunked(REAL_FRAMES.as_bytes(), &[100]),
        WatchConfig::default().error_events_as_errors(true),
    )
    .await;
    let last = events.last().unwrap();
    assert!(matches!(last, Err(error) if error.is_gone()), "{last:?}");
}

#[tokio::test]
async fn typed_objects_decode_straight_into_their_struct() {
    #[derive(serde::Deserialize, Debug)]
    struct Flunder {
        metadata: ObjectMeta,
        spec: FlunderSpec,
    }
    #[derive(serde::Deserialize, Debug)]
    struct FlunderSpec {
        #[serde(default)]
        note: Option<String>,
    }
    let events = collect::<Flunder>(
        chunked(REAL_FRAMES.as_bytes(), &[13]),
        WatchConfig::default(),
    )
    .await;
    match &events[1] {
        Ok(WatchEvent::Modified(flunder)) => {
            assert_eq!(flunder.metadata.labels.get("x"), Some("1"));
            assert_eq!(flunder.spec.note.as_deref(), Some("a \"quoted\" } brace"));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn body_error_is_passed_on_and_ends_the_stream() {
    let chunks = vec![
        Ok(Bytes::from_static(b"{\"type\":\"ADDED\",\"object\":{}}\n")),
        Err(Error::InvalidRequest("connection reset".into())),
        Ok(Bytes::from_static(b"{\"type\":\"ADDED\",\"object\":{}}\n")),
    ];
    let events = collect::<Value>(chunks, WatchConfig::default()).await;
    assert_eq!(events.len(), 2);
    assert!(matches!(events[1], Err(Error::InvalidRequest(_))));
}

#[tokio::test]
async fn truncated_body_ends_with_a_truncation_error() {
    let body = &REAL_FRAMES.as_bytes()[..REAL_FRAMES.len() - 30];
    let events = collect::<Value>(chunked(body, &[50]), WatchConfig::default()).await;
    assert!(matches!(
        events.last(),
        Some(Err(Error::WatchFrameTruncated { .. }))
    ));
    assert_eq!(events.iter().filter(|e| e.is_ok()).count(), 4);
}

#[tokio::test(start_paused = true)]
async fn a_stalled_stream_ends_with_an_idle_timeout() {
    for parallel in [false, true] {
        a_stalled_stream_ends_with_an_idle_timeout_when(parallel).await;
    }
}

async fn a_stalled_stream_ends_with_an_idle_timeout_when(parallel: bool) {
    let first = futures::stream::iter(vec![Ok(Bytes::from_static(
        b"{\"type\":\"ADDED\",\"object\":{}}\n",
    ))]);
    let body = first.chain(futures::stream::pending());
    let idle = Duration::from_secs(42);
    let config = WatchConfig::default()
        .idle_timeout(Some(idle))
        .parallel_decode(parallel);
    let mut stream = WatchStream::<Value>::new(body, config);
    assert!(matches!(
        stream.next().await,
        Some(Ok(WatchEvent::Added(_)))
    ));
    let started = Instant::now();
    let next = stream.next().await;
    assert!(matches!(next, Some(Err(Error::WatchIdleTimeout(i))) if i == idle));
    assert_eq!(started.elapsed(), idle);
    assert!(stream.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn every_chunk_resets_the_idle_timer() {
    for parallel in [false, true] {
        every_chunk_resets_the_idle_timer_when(parallel).await;
    }
}

async fn every_chunk_resets_the_idle_timer_when(parallel: bool) {
    let (sender, receiver) = futures::channel::mpsc::unbounded::<Result<Bytes>>();
    let config = WatchConfig::for_server_timeout(Some(10)).parallel_decode(parallel);
    let mut stream = WatchStream::<Value>::new(receiver, config);
    let feeder = tokio::spawn(async move {
        // Thirty seconds of one byte every five seconds: never silent for 40 s.
        for byte in b"{\"type\":\"ADDED\",\"object\":{}}".chunks(1) {
            tokio::time::sleep(Duration::from_secs(5)).await;
            sender
                .unbounded_send(Ok(Bytes::copy_from_slice(byte)))
                .unwrap();
        }
        sender
    });
    assert!(matches!(
        stream.next().await,
        Some(Ok(WatchEvent::Added(_)))
    ));
    let _sender = feeder.await.unwrap();
    let started = Instant::now();
    assert!(matches!(
        stream.next().await,
        Some(Err(Error::WatchIdleTimeout(_)))
    ));
    assert_eq!(started.elapsed(), Duration::from_secs(40));
}

/// A MODIFIED frame of a ~2 KB object with the given resourceVersion.
fn burst_frame(resource_version: usize) -> String {
    let object = serde_json::json!({
        "kind": "Pod",
        "metadata": {"name": format!("p{resource_version}"), "namespace": "default",
                     "resourceVersion": resource_version.to_string()},
        "spec": {"note": "x".repeat(2000)}
    });
    serde_json::json!({"type": "MODIFIED", "object": object}).to_string()
}

/// The resourceVersion of each event, or `Err` for an error.
fn versions(events: &[Result<WatchEvent<PartialObjectMetadata>>]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            Ok(event) => event
                .object()
                .and_then(|o| o.metadata.resource_version())
                .unwrap_or("?")
                .to_owned(),
            Err(error) => format!("Err {error}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_decoded_in_parallel_comes_out_in_order_with_one_error_at_the_bad_frame() {
    let bad = 317;
    let mut body = String::new();
    for version in 0..1000 {
        if version == bad {
            // Framed fine (braces balance), but not JSON: one decode error, then the rest.
            body.push_str(r#"{"type":"MODIFIED","object":{"metadata":{"name":]}}}"#);
        } else {
            body.push_str(&burst_frame(version));
        }
        body.push('\n');
    }
    for sizes in [
        vec![body.len()],
        vec![65536],
        vec![16384, 1000, 7],
        vec![3000],
    ] {
        let chunks = chunked(body.as_bytes(), &sizes);
        let config = WatchConfig::default().parallel_decode(true);
        let events: Vec<_> =
            WatchStream::<PartialObjectMetadata>::new(futures::stream::iter(chunks), config)
                .collect()
                .await;
        let got = versions(&events);
        assert_eq!(got.len(), 1000, "chunks {sizes:?}");
        for (at, version) in got.iter().enumerate() {
            if at == bad {
                assert!(
                    matches!(&events[at], Err(Error::WatchEventDecodeFailed { .. })),
                    "chunks {sizes:?}: {version}"
                );
            } else {
                assert_eq!(version, &at.to_string(), "chunks {sizes:?}");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_object_hook_runs_on_every_object_of_a_parallel_burst() {
    let body: String = (0..300).map(|v| burst_frame(v) + "\n").collect();
    let events: Vec<_> = WatchStream::<PartialObjectMetadata>::new(
        futures::stream::iter(chunked(body.as_bytes(), &[50_000])),
        WatchConfig::default().parallel_decode(true),
    )
    .with_object_hook(|object: &mut PartialObjectMetadata| {
        object.metadata.name = Some(format!("hooked-{}", object.metadata.name.take().unwrap()));
    })
    .collect()
    .await;
    assert_eq!(events.len(), 300);
    for (at, event) in events.iter().enumerate() {
        let object = event.as_ref().unwrap().object().unwrap();
        assert_eq!(
            object.metadata.name.as_deref(),
            Some(format!("hooked-p{at}").as_str())
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_error_frame_inside_a_parallel_burst_ends_the_stream_there() {
    let error = r#"{"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","reason":"Expired","code":410}}"#;
    let mut body = String::new();
    for version in 0..400 {
        body.push_str(&if version == 150 {
            error.to_owned()
        } else {
            burst_frame(version)
        });
        body.push('\n');
    }
    let events: Vec<_> = WatchStream::<PartialObjectMetadata>::new(
        futures::stream::iter(chunked(body.as_bytes(), &[40_000])),
        WatchConfig::default().error_events_as_errors(true),
    )
    .collect()
    .await;
    assert_eq!(events.len(), 151);
    assert!(events[..150].iter().all(Result::is_ok));
    assert!(matches!(events.last(), Some(Err(error)) if error.is_gone()));
}

#[test]
fn outside_a_runtime_a_parallel_stream_decodes_in_place() {
    let body: String = (0..100).map(|v| burst_frame(v) + "\n").collect();
    let stream = WatchStream::<PartialObjectMetadata>::new(
        futures::stream::iter(chunked(body.as_bytes(), &[10_000])),
        WatchConfig::default()
            .idle_timeout(None)
            .parallel_decode(true),
    );
    let events: Vec<_> = futures::executor::block_on(stream.collect());
    let expected: Vec<String> = (0..100).map(|v| v.to_string()).collect();
    assert_eq!(versions(&events), expected);
}

/// A random watch event with awkward strings (quotes, braces, escapes, non-ASCII).
fn event_text() -> impl Strategy<Value = String> {
    let kinds = prop::sample::select(vec!["ADDED", "MODIFIED", "DELETED", "BOOKMARK"]);
    (kinds, "[a-z0-9{}\\[\\]\"\\\\ é\n\t]{0,40}", 0u32..100000).prop_map(|(kind, text, rv)| {
        let object = serde_json::json!({
            "kind": "Pod",
            "metadata": {"name": text, "resourceVersion": rv.to_string(),
                         "annotations": {"note": text}},
            "spec": {"nested": [[{"a": text}], {}]}
        });
        serde_json::json!({"type": kind, "object": object}).to_string()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_chunking_gives_the_same_events_as_the_unsplit_body(
        events in prop::collection::vec(event_text(), 0..12),
        sizes in prop::collection::vec(1usize..50, 1..8),
        newlines in any::<bool>(),
    ) {
        let separator = if newlines { "\n" } else { "" };
        let body: String = events.iter().map(|e| format!("{e}{separator}")).collect();
        let expected: Vec<WatchEvent<Value>> = events
            .iter()
            .map(|e| serde_json::from_str(e).unwrap())
            .collect();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let got = runtime.block_on(collect::<Value>(chunked(body.as_bytes(), &sizes), WatchConfig::default()));
        let got: Vec<WatchEvent<Value>> = got.into_iter().map(|e| e.unwrap()).collect();
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn mixed_layouts_and_bad_frames_say_the_same_in_parallel_as_in_place(
        events in prop::collection::vec((event_text(), 0u8..6), 0..40),
        sizes in prop::collection::vec(1usize..400, 1..6),
    ) {
        // Each event compact on its line, pretty-printed over several lines, glued to the
        // next one, a framed value that is not JSON, or two events on one line; `collect`
        // checks that both modes give exactly the same results.
        let mut body = String::new();
        for (event, layout) in &events {
            match layout {
                0 | 1 => body.push_str(&format!("{event}\n")),
                2 => {
                    let value: Value = serde_json::from_str(event).unwrap();
                    body.push_str(&serde_json::to_string_pretty(&value).unwrap());
                    body.push('\n');
                }
                3 => body.push_str(event),
                4 => body.push_str("{\"type\":\"ADDED\",\"object\":{\"a\":]}}\n"),
                _ => body.push_str(&format!("{event} {event}\n")),
            }
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()
            .unwrap();
        let got = runtime.block_on(collect::<Value>(
            chunked(body.as_bytes(), &sizes),
            WatchConfig::default(),
        ));
        let bad = events.iter().filter(|(_, layout)| *layout == 4).count();
        prop_assert_eq!(got.iter().filter(|e| e.is_err()).count(), bad);
    }

    #[test]
    fn random_bytes_never_panic_and_never_grow_the_buffer_past_its_bound(
        bytes in prop::collection::vec(prop::sample::select(b"{}[]\"\\ab:,\n 1".to_vec()), 0..600),
        sizes in prop::collection::vec(1usize..40, 1..6),
    ) {
        let bound = 128;
        let mut decoder = WatchDecoder::<Value>::new(bound);
        let mut largest_chunk = 0;
        for chunk in chunked(&bytes, &sizes) {
            let chunk = chunk.unwrap();
            largest_chunk = largest_chunk.max(chunk.len());
            decoder.push(&chunk);
            prop_assert!(decoder.buffered_len() <= bound + largest_chunk);
            while let Some(event) = decoder.next_event() {
                let _ = event;
            }
            prop_assert!(decoder.buffered_len() < bound);
        }
        let _ = decoder.finish();
    }

    #[test]
    fn arbitrary_bytes_end_the_stream_cleanly(
        bytes in prop::collection::vec(any::<u8>(), 0..400),
        size in 1usize..30,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let events = runtime.block_on(collect::<Value>(
            chunked(&bytes, &[size]),
            WatchConfig::default().max_frame_bytes(64),
        ));
        // Whatever came in, the stream ended, and a framing error is the last thing it said.
        if let Some(position) = events.iter().position(|e| matches!(
            e,
            Err(Error::WatchFrameMalformed { .. } | Error::WatchFrameTooLarge { .. } | Error::WatchFrameTruncated { .. })
        )) {
            prop_assert_eq!(position, events.len() - 1);
        }
    }
}
