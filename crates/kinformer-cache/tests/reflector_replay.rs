//! Convergence of Reflector -> DeltaFifo -> Indexer against the fake API server, through the
//! real client (`ApiListWatch<ConfigMap>`), around each scripted fault: the cache ends equal
//! to the server, deletions missed while disconnected arrive as tombstones, and no object is
//! added twice.

mod common;

use std::sync::Arc;

use common::{config_map, fast_config, server_with, start, start_with, Spy};
use kinformer_meta::ListOptions;
use kinformer_replay::{Fault, FaultRule, RunningServer};

/// Creates, updates and deletes a few objects.
fn churn(server: &RunningServer, round: usize) {
    for i in 0..3 {
        server
            .create(config_map(&format!("r{round}-{i}"), "1"))
            .unwrap();
    }
    server
        .update(config_map(&format!("r{round}-0"), "2"))
        .unwrap();
    server
        .delete("v1", "ConfigMap", Some("default"), &format!("r{round}-1"))
        .unwrap();
}

/// Arms `fault` before the reflector starts (so its first requests meet it), changes objects
/// around it, and checks convergence and that the fault really cost a reconnect.
async fn converges_around(fault: FaultRule) {
    let server = server_with(&["a", "b", "c"]).await;
    server.inject(fault);
    let pipeline = start(&server, fast_config());
    pipeline.converge(&server).await;
    churn(&server, 1);
    server
        .delete("v1", "ConfigMap", Some("default"), "a")
        .unwrap();
    pipeline.converge(&server).await;
    churn(&server, 2);
    pipeline.converge(&server).await;
    assert!(pipeline.deleted("a"));
    let metrics = pipeline.reflector.metrics().snapshot();
    assert!(
        metrics.lists + metrics.watches >= 3,
        "the fault was never hit: {metrics:?}"
    );
    server.clear_faults();
    pipeline.stop().await;
}

#[tokio::test]
async fn converges_without_faults() {
    let server = server_with(&["a", "b"]).await;
    let pipeline = start(&server, fast_config());
    pipeline.converge(&server).await;
    churn(&server, 1);
    pipeline.converge(&server).await;
    pipeline.stop().await;
}

#[tokio::test]
async fn converges_when_watches_close_after_some_events() {
    converges_around(FaultRule::new(Fault::CloseAfterEvents(1)).times(3)).await;
}

#[tokio::test]
async fn converges_when_watches_close_mid_event() {
    converges_around(
        FaultRule::new(Fault::CloseAfterBytes(150))
            .verb("watch")
            .times(3),
    )
    .await;
}

#[tokio::test]
async fn converges_after_410_in_the_middle_of_a_watch() {
    converges_around(FaultRule::new(Fault::GoneAfterEvents(1)).times(2)).await;
}

#[tokio::test]
async fn converges_after_429_and_500_answers() {
    converges_around(
        FaultRule::new(Fault::too_many_requests(0))
            .verb("watch")
            .times(2),
    )
    .await;
    converges_around(FaultRule::new(Fault::internal_error()).times(3)).await;
}

#[tokio::test]
async fn converges_after_a_stalled_watch() {
    converges_around(FaultRule::new(Fault::Stall).times(1)).await;
}

#[tokio::test]
async fn deletions_lost_with_the_server_state_arrive_as_tombstones() {
    let mut server = server_with(&["a", "b"]).await;
    let pipeline = start(&server, fast_config());
    pipeline.converge(&server).await;
    server.restart(false).await.unwrap();
    server.create(config_map("after", "1")).unwrap();
    pipeline.converge(&server).await;
    assert!(pipeline.tombstoned("a") && pipeline.tombstoned("b"));
    pipeline.stop().await;
}

#[tokio::test]
async fn a_restart_with_state_kept_and_a_compaction_loses_nothing() {
    let mut server = server_with(&["a", "b"]).await;
    let pipeline = start(&server, fast_config());
    pipeline.converge(&server).await;
    server.restart(true).await.unwrap();
    server
        .delete("v1", "ConfigMap", Some("default"), "a")
        .unwrap();
    server.update(config_map("b", "2")).unwrap();
    server.compact();
    pipeline.converge(&server).await;
    assert!(pipeline.deleted("a"));
    pipeline.stop().await;
}

#[tokio::test]
async fn a_streaming_list_converges_and_keeps_its_stream() {
    let server = server_with(&["a", "b"]).await;
    let pipeline = start(&server, fast_config().use_watch_list(true));
    pipeline.converge(&server).await;
    churn(&server, 1);
    pipeline.converge(&server).await;
    pipeline.stop().await;
}

#[tokio::test]
async fn a_streaming_list_without_its_end_bookmark_falls_back_to_list_and_watch() {
    let server = server_with(&["a", "b"]).await;
    server.inject(FaultRule::new(Fault::DropInitialEventsEnd).times(1));
    let pipeline = start(&server, fast_config().use_watch_list(true));
    pipeline.converge(&server).await;
    churn(&server, 1);
    pipeline.converge(&server).await;
    pipeline.stop().await;
}

/// A list request as (resourceVersion, limit, continued?, failed?).
type ListCall = (Option<String>, Option<u32>, bool, bool);

fn calls(spy: &Spy) -> Vec<ListCall> {
    spy.requests()
        .into_iter()
        .map(|(options, failed): (ListOptions, bool)| {
            (
                options.resource_version,
                options.limit,
                options.continue_token.is_some(),
                failed,
            )
        })
        .collect()
}

fn gone() -> Fault {
    Fault::Status {
        code: 410,
        retry_after_seconds: None,
    }
}

#[tokio::test]
async fn a_list_answered_410_is_retried_at_the_newest_version_and_converges() {
    let server = server_with(&["a", "b", "c", "d", "e"]).await;
    server.inject(FaultRule::new(gone()).verb("list").times(1));
    let spy = Arc::new(Spy::new(common::api_list_watch(&server)));
    let pipeline = start_with(spy.clone(), fast_config().page_size(2));
    pipeline.converge(&server).await;
    let first_four: Vec<ListCall> = calls(&spy).into_iter().take(4).collect();
    assert_eq!(
        first_four,
        vec![
            (Some("0".into()), Some(2), false, true),
            // The retry asks for the newest state, in pages: five objects, three pages.
            (Some(String::new()), Some(2), false, false),
            (None, Some(2), true, false),
            (None, Some(2), true, false),
        ]
    );
    churn(&server, 1);
    server
        .delete("v1", "ConfigMap", Some("default"), "a")
        .unwrap();
    pipeline.converge(&server).await;
    assert!(pipeline.deleted("a"));
    pipeline.stop().await;
}

#[tokio::test]
async fn an_expired_continue_token_falls_back_to_one_unpaginated_list() {
    let server = server_with(&["a", "b", "c", "d", "e"]).await;
    let handle = server.handle();
    // Between the relist's first page and its second, "a" (on the first page) is deleted,
    // "f" created, and the history compacted: the continue token expires.
    let spy = Arc::new(
        Spy::new(common::api_list_watch(&server)).between_pages(move || {
            handle
                .delete("v1", "ConfigMap", Some("default"), "a")
                .unwrap();
            handle.create(config_map("f", "1")).unwrap();
            handle.compact();
        }),
    );
    // A short idle timeout reopens the watch soon, so the armed watch fault is met.
    let config = fast_config()
        .page_size(2)
        .idle_timeout(std::time::Duration::from_millis(300));
    let pipeline = start_with(spy.clone(), config);
    pipeline.converge(&server).await;
    // The first list (resourceVersion=0) is served whole, so nothing paged yet.
    assert_eq!(calls(&spy), vec![(Some("0".into()), Some(2), false, false)]);
    let synced = pipeline.reflector.last_sync_resource_version();

    // The next watch fails (500): relist at the last version, which answers 410, so the
    // reflector lists the newest state in pages, and the second page's token has expired.
    // The list fault first: no list can happen before the watch fault is met.
    server.inject(FaultRule::new(gone()).verb("list").times(1));
    server.inject(
        FaultRule::new(Fault::internal_error())
            .verb("watch")
            .times(1),
    );
    for _ in 0..500 {
        if pipeline.tombstoned("a") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    pipeline.converge(&server).await;
    let after: Vec<ListCall> = calls(&spy).into_iter().skip(1).collect();
    let relist = after
        .iter()
        .position(|call| call.3 && call.0.as_deref().is_some_and(|rv| rv == synced))
        .unwrap_or_else(|| {
            panic!(
                "no failed relist at {synced}: {after:?} {:?}",
                pipeline.reflector.metrics().snapshot()
            )
        });
    assert_eq!(
        after[relist..relist + 4],
        [
            (Some(synced.clone()), None, false, true),
            (Some(String::new()), Some(2), false, false),
            (None, Some(2), true, true),
            (Some(String::new()), None, false, false),
        ],
        "{after:?}"
    );
    let unpaginated_newest = after
        .iter()
        .filter(|call| call.0.as_deref() == Some("") && call.1.is_none())
        .count();
    assert_eq!(unpaginated_newest, 1, "{after:?}");
    assert!(
        pipeline.tombstoned("a"),
        "the deletion between pages was not delivered as a tombstone"
    );
    churn(&server, 1);
    pipeline.converge(&server).await;
    pipeline.stop().await;
}

#[tokio::test]
async fn deletions_lost_with_the_server_state_arrive_as_tombstones_when_the_watch_resumes() {
    // Found by the chaos test (seed 22, 150 steps): the reflector is between two watches (here
    // waiting out a 429's Retry-After) when the server restarts without its state; it then
    // re-watches from its last resourceVersion instead of relisting. The server must answer
    // that watch 410 (its history is gone), or the lost objects stay in the cache for ever.
    let mut server = server_with(&["a", "b"]).await;
    server.inject(
        FaultRule::new(Fault::too_many_requests(2))
            .verb("watch")
            .times(1),
    );
    let pipeline = start(&server, fast_config());
    pipeline.converge(&server).await;
    for _ in 0..250 {
        if pipeline.reflector.metrics().snapshot().errors > 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        pipeline.reflector.metrics().snapshot().errors,
        1,
        "the watch never met its 429"
    );
    // The reflector now sleeps two seconds before re-watching; no connection is open.
    server.restart(false).await.unwrap();
    if let Err(message) = pipeline
        .try_converge(&server, std::time::Duration::from_secs(6))
        .await
    {
        panic!("{message}");
    }
    assert!(pipeline.tombstoned("a") && pipeline.tombstoned("b"));
    pipeline.stop().await;
}
