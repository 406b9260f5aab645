//! Runs the built `kinformer-bench` binary on a tiny cluster and checks its JSON line: every
//! phase ran and every figure is filled. Sizes are checked, never timings.

use std::process::Command;

#[test]
fn a_tiny_sync_prints_one_json_line_with_every_figure() {
    let output = Command::new(env!("CARGO_BIN_EXE_kinformer-bench"))
        .args([
            "sync",
            "--pods",
            "60",
            "--events",
            "40",
            "--live-events",
            "20",
            "--page-size",
            "25",
            "--phase-timeout",
            "120",
        ])
        .output()
        .expect("the bench binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let line: serde_json::Value = serde_json::from_str(lines[0]).expect("the line is JSON");
    assert_eq!(line["pods"], 60);
    assert_eq!(line["events"], 40);
    assert_eq!(line["live_events"], 20);
    assert_eq!(line["pipeline"], "informer");
    assert_eq!(line["runs"], 1);
    let json_bytes = line["json_bytes_per_object"].as_f64().unwrap();
    assert!((4096.0..=6500.0).contains(&json_bytes), "{json_bytes}");
    // The cache holds 60 typed pods: at least their raw bodies, so over 2 KB each.
    assert!(
        line["cache_bytes_per_object"].as_f64().unwrap() > 2000.0,
        "{line}"
    );
    for key in [
        "list_ms",
        "watch_ms",
        "events_per_s",
        "max_rss_kb",
        "relist_peak_rss_kb",
        "floor_list_ms",
        "floor_watch_ms",
        "list_ratio",
        "watch_ratio",
        "relist_ms",
        "server_list_mb_per_s",
        "server_watch_mb_per_s",
    ] {
        let value = line[key].as_f64().unwrap_or(-1.0);
        assert!(value > 0.0 && value.is_finite(), "{key} = {}", line[key]);
    }
}

#[test]
fn the_server_can_run_in_a_child_process() {
    let output = Command::new(env!("CARGO_BIN_EXE_kinformer-bench"))
        .args([
            "sync",
            "--pods",
            "40",
            "--events",
            "30",
            "--live-events",
            "10",
            "--server-process",
            "--drop-managed-fields",
            "--phase-timeout",
            "120",
        ])
        .output()
        .expect("the bench binary runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line: serde_json::Value = serde_json::from_str(stdout.trim()).expect("the line is JSON");
    assert_eq!(line["server_process"], true);
    assert_eq!(line["drop_managed_fields"], true);
    assert_eq!(line["pods"], 40);
    // The child reports the heap its pods take.
    assert!(line["server_heap_kb"].as_u64().unwrap() > 40 * 5);
    assert!(line["watch_ms"].as_f64().unwrap() > 0.0);
}

#[test]
fn a_bad_flag_is_a_usage_error_not_a_panic() {
    let output = Command::new(env!("CARGO_BIN_EXE_kinformer-bench"))
        .args(["sync", "--pods", "many"])
        .output()
        .expect("the bench binary runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--pods"));
}
