//! `watch` (jsonl and text, duration and Ctrl-C, selectors) and `demo`.

use std::collections::BTreeMap;
use std::process::Stdio;

use serde_json::{json, Value};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::common::{assert_ok, pod, shop, stdout, Cluster};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_jsonl_reports_live_changes_and_ends_with_the_servers_state() {
    let cluster = Cluster::start(shop()).await;
    let handle = cluster.handle();
    let kubeconfig = cluster.kubeconfig();
    let mut child = cluster
        .command(&["watch", "pods", "-A", "-o", "jsonl", "--duration", "6"])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut seen = Vec::new();
    // The four initial adds first.
    while seen.len() < 4 {
        let line = lines.next_line().await.unwrap().expect("initial adds");
        seen.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    assert!(seen
        .iter()
        .all(|e| e["event"] == "add" && e["initial"] == true));

    // Changes while it runs: a new pod, an update, a deletion.
    handle
        .create(pod("shop", "web-3", "web", "Pending"))
        .unwrap();
    let mut web_1 = handle.get("v1", "Pod", Some("shop"), "web-1").unwrap();
    web_1["status"]["phase"] = json!("Succeeded");
    handle.update(web_1).unwrap();
    handle
        .delete("v1", "Pod", Some("payments"), "api-1")
        .unwrap();

    while let Some(line) = lines.next_line().await.unwrap() {
        seen.push(serde_json::from_str::<Value>(&line).unwrap());
    }
    let status = child.wait().await.unwrap();
    assert!(status.success());

    let events: Vec<(String, String, bool)> = seen[4..seen.len() - 1]
        .iter()
        .map(|e| {
            (
                e["event"].as_str().unwrap().to_owned(),
                e["key"].as_str().unwrap().to_owned(),
                e["initial"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        events,
        [
            ("add".into(), "shop/web-3".into(), false),
            ("update".into(), "shop/web-1".into(), false),
            ("delete".into(), "payments/api-1".into(), false),
        ]
    );

    let last = seen.last().unwrap();
    assert_eq!(last["synced"], true);
    let cache: BTreeMap<String, String> = serde_json::from_value(last["cache"].clone()).unwrap();
    let server: BTreeMap<String, String> = handle
        .list("v1", "Pod", None)
        .iter()
        .map(|p| {
            (
                format!(
                    "{}/{}",
                    p["metadata"]["namespace"].as_str().unwrap(),
                    p["metadata"]["name"].as_str().unwrap()
                ),
                p["metadata"]["resourceVersion"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(cache, server);
    assert_eq!(cache.len(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_with_a_selector_caches_only_matching_objects() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .run(&[
            "watch",
            "pods",
            "-n",
            "shop",
            "-l",
            "app=web",
            "-o",
            "jsonl",
            "--duration",
            "1",
        ])
        .await;
    assert_ok(&output);
    let text = stdout(&output);
    let last: Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    let keys: Vec<_> = last["cache"].as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, ["shop/web-1", "shop/web-2"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_stops_on_ctrl_c_with_the_final_cache_line() {
    let cluster = Cluster::start(shop()).await;
    let kubeconfig = cluster.kubeconfig();
    let mut child = cluster
        .command(&["watch", "pods", "-n", "payments", "-o", "jsonl"])
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    assert!(first.contains("\"key\":\"payments/api-1\""), "{first}");
    let pid = child.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let last = lines.next_line().await.unwrap().unwrap();
    let last: Value = serde_json::from_str(&last).unwrap();
    assert_eq!(last["synced"], true);
    assert_eq!(last["cache"].as_object().unwrap().len(), 1);
    assert!(child.wait().await.unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_text_output_prints_seed_style_lines() {
    let cluster = Cluster::start(shop()).await;
    let output = cluster
        .run(&["watch", "pods", "-n", "payments", "--duration", "1"])
        .await;
    assert_ok(&output);
    let text = stdout(&output);
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(
        lines[0].starts_with("ADDED : payments/api-1 - resourceVersion "),
        "{text}"
    );
    assert_eq!(lines[1], "END : synced=true, 1 object(s) in the cache");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_prints_added_modified_and_deleted_lines_then_lister_queries() {
    let cluster = Cluster::start(Vec::new()).await;
    let output = cluster
        .command(&["demo", "--speed", "4"])
        .output()
        .await
        .unwrap();
    assert_ok(&output);
    let text = stdout(&output);
    assert!(
        text.contains("ADDED : shop/web - deployment 3/3 ready"),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("ADDED : shop/web-") && l.ends_with(" - Pending")),
        "{text}"
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with("MODIFIED : shop/web-") && l.ends_with(" - Running")),
        "{text}"
    );
    assert!(
        text.lines().any(|l| l.starts_with("DELETED : shop/web-")),
        "{text}"
    );
    assert!(
        text.contains("--- index \"app\": pods with app=web ---"),
        "{text}"
    );
    assert!(text.contains("web: 3\n"), "{text}");
}
