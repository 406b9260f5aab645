//! Realistic demo objects: pods shaped like `kubectl get pod -o json` of a Deployment's pod
//! (built from `fixtures/objects/pod-web.json`), namespaces, and a preload of N pods spread
//! over namespaces, for the CLI's `--pods N` and for benchmarks.

use serde_json::{json, Value};

const POD_TEMPLATE: &str = include_str!("../../../fixtures/objects/pod-web.json");

/// Where a demo pod sits and how far it has started.
#[derive(Clone, Copy, Debug)]
pub struct PodPlacement<'a> {
    /// Namespace.
    pub namespace: &'a str,
    /// The Deployment's name (the `app` label).
    pub app: &'a str,
    /// The ReplicaSet's pod-template-hash.
    pub template_hash: &'a str,
    /// The 5-character name suffix.
    pub suffix: &'a str,
    /// A number that spreads pods over nodes and IPs.
    pub index: usize,
    /// Running and ready, or Pending (scheduled, containers creating).
    pub running: bool,
}

/// A Namespace object.
pub fn namespace(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
        "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}})
}

fn template() -> Value {
    // The template is checked in with this crate's tests; a broken file yields an empty pod.
    serde_json::from_str(POD_TEMPLATE)
        .unwrap_or_else(|_| json!({"apiVersion": "v1", "kind": "Pod", "metadata": {}}))
}

/// A pod of a Deployment, 4-6 KB of JSON, as `kubectl get pod -o json` shows one.
pub fn realistic_pod(placement: PodPlacement<'_>) -> Value {
    let PodPlacement {
        namespace,
        app,
        template_hash,
        suffix,
        index,
        running,
    } = placement;
    let mut pod = template();
    let replica_set = format!("{app}-{template_hash}");
    let image = format!("registry.example.com/{namespace}/{app}:1.42.0");
    let meta = &mut pod["metadata"];
    meta["name"] = json!(format!("{replica_set}-{suffix}"));
    meta["generateName"] = json!(format!("{replica_set}-"));
    meta["namespace"] = json!(namespace);
    meta["labels"] = json!({"app": app, "pod-template-hash": template_hash});
    if let Some(map) = meta.as_object_mut() {
        map.remove("resourceVersion");
        map.remove("uid");
    }
    meta["ownerReferences"][0]["name"] = json!(replica_set);
    let spec = &mut pod["spec"];
    spec["containers"][0]["name"] = json!(app);
    spec["containers"][0]["image"] = json!(image);
    spec["containers"][0]["env"][0]["valueFrom"]["secretKeyRef"]["name"] =
        json!(format!("{app}-db"));
    spec["nodeName"] = json!(format!("node-{:02}", index % 20));
    let status = &mut pod["status"];
    status["hostIP"] = json!(format!("10.0.{}.{}", index % 20, 10 + index % 200));
    status["hostIPs"] = json!([{"ip": status["hostIP"].clone()}]);
    if running {
        let ip = format!("10.244.{}.{}", (index / 250) % 256, 2 + index % 250);
        status["podIP"] = json!(ip);
        status["podIPs"] = json!([{"ip": ip}]);
        status["containerStatuses"][0]["name"] = json!(app);
        status["containerStatuses"][0]["image"] = json!(image);
    } else {
        status["phase"] = json!("Pending");
        if let Some(map) = status.as_object_mut() {
            map.remove("podIP");
            map.remove("podIPs");
        }
        status["conditions"] = json!([
            {"type": "PodReadyToStartContainers", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-11-26T09:14:02Z"},
            {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-26T09:14:02Z"},
            {"type": "Ready", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-11-26T09:14:02Z", "reason": "ContainersNotReady", "message": format!("containers with unready status: [{app}]")},
            {"type": "ContainersReady", "status": "False", "lastProbeTime": null, "lastTransitionTime": "2026-11-26T09:14:02Z", "reason": "ContainersNotReady", "message": format!("containers with unready status: [{app}]")},
            {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": "2026-11-26T09:14:02Z"}
        ]);
        status["containerStatuses"] = json!([{"name": app, "state": {"waiting": {"reason": "ContainerCreating"}},
            "lastState": {}, "ready": false, "restartCount": 0, "image": image, "imageID": "", "started": false}]);
    }
    pod
}

fn suffix(index: usize) -> String {
    const CHARS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let mut n = index;
    (0..5)
        .map(|_| {
            let c = CHARS[n % CHARS.len()] as char;
            n /= CHARS.len();
            c
        })
        .collect()
}

/// `namespaces` Namespace objects followed by `count` running pods spread over them (each
/// namespace runs a few Deployments).
pub fn preload(count: usize, namespaces: usize) -> Vec<Value> {
    let namespaces = namespaces.max(1);
    let names: Vec<String> = (0..namespaces).map(|i| format!("team-{i:02}")).collect();
    let apps = ["web", "api", "worker", "cache"];
    let mut objects: Vec<Value> = names.iter().map(|n| namespace(n)).collect();
    for index in 0..count {
        let namespace = &names[index % namespaces];
        let app = apps[(index / namespaces) % apps.len()];
        objects.push(realistic_pod(PodPlacement {
            namespace,
            app,
            template_hash: "7d9c6b8f5",
            suffix: &suffix(index),
            index,
            running: true,
        }));
    }
    objects
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_pods_are_four_to_six_kilobytes_like_real_ones() {
        let pod = realistic_pod(PodPlacement {
            namespace: "shop",
            app: "web",
            template_hash: "7d9c6b8f5",
            suffix: "x2k4p",
            index: 7,
            running: true,
        });
        let size = serde_json::to_vec(&pod).unwrap().len();
        assert!((4000..=6500).contains(&size), "{size} bytes");
        assert_eq!(pod["metadata"]["name"], "web-7d9c6b8f5-x2k4p");
        assert_eq!(pod["metadata"]["ownerReferences"][0]["kind"], "ReplicaSet");
        assert_eq!(pod["status"]["phase"], "Running");
    }

    #[test]
    fn pending_pods_have_no_ip_and_a_waiting_container() {
        let pod = realistic_pod(PodPlacement {
            namespace: "shop",
            app: "web",
            template_hash: "abc",
            suffix: "aaaaa",
            index: 0,
            running: false,
        });
        assert_eq!(pod["status"]["phase"], "Pending");
        assert!(pod["status"].get("podIP").is_none());
        assert_eq!(
            pod["status"]["containerStatuses"][0]["state"]["waiting"]["reason"],
            "ContainerCreating"
        );
    }

    #[test]
    fn preload_spreads_unique_pods_over_namespaces() {
        let objects = preload(200, 50);
        assert_eq!(objects.len(), 250);
        let mut keys: Vec<String> = objects[50..]
            .iter()
            .map(|p| format!("{}/{}", p["metadata"]["namespace"], p["metadata"]["name"]))
            .collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 200);
    }
}
