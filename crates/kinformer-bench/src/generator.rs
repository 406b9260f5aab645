//! A realistic pod generator: pods as `kubectl get pod -o json` shows a Deployment's pod
//! (labels app + pod-template-hash, annotations, ownerReferences, two managedFields entries,
//! containers with env/ports/resources/probes, status with conditions and containerStatuses),
//! spread over 50 namespaces, 4-6 KB of compact JSON each, with names, UIDs, IPs, images and
//! timestamps varied so that strings are not all identical. Modelled on
//! `fixtures/objects/pod-web.json`. Deterministic: pod `i` at revision `r` is always the same.
//!
//! It also plans a stream of watch events over those pods: mostly MODIFIED (a status and an
//! annotation change), some ADDED (new pods) and DELETED.

use serde_json::{json, Value};

/// How many namespaces pods are spread over.
pub const NAMESPACES: u64 = 50;

const TEAMS: [&str; 10] = [
    "shop",
    "payments",
    "search",
    "identity",
    "media",
    "ads",
    "logistics",
    "support",
    "data",
    "platform",
];
const STAGES: [&str; 5] = ["prod", "staging", "dev", "canary", "perf"];
const APPS: [&str; 16] = [
    "web",
    "api",
    "worker",
    "cache",
    "auth",
    "billing",
    "search",
    "cart",
    "checkout",
    "gateway",
    "ingest",
    "notifier",
    "scheduler",
    "reporter",
    "thumbnailer",
    "indexer",
];
const APPS_PER_NAMESPACE: u64 = 5;
/// The alphabet Kubernetes uses for generated name suffixes.
const NAME_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
/// 2026-11-26T00:00:00Z.
const BASE_EPOCH: u64 = 1_795_651_200;

/// SplitMix64: a tiny deterministic generator, good enough to vary strings.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number below `bound` (which must be non-zero).
    pub fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize]))
            .collect()
    }

    fn suffix(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from(NAME_ALPHABET[self.below(NAME_ALPHABET.len() as u64) as usize]))
            .collect()
    }

    fn uuid(&mut self) -> String {
        format!(
            "{}-{}-4{}-a{}-{}",
            self.hex(8),
            self.hex(4),
            self.hex(3),
            self.hex(3),
            self.hex(12)
        )
    }
}

/// The namespace of pod `index`.
pub fn namespace_of(index: u64) -> String {
    let ns = index % NAMESPACES;
    format!(
        "{}-{}",
        TEAMS[(ns % 10) as usize],
        STAGES[(ns / 10 % 5) as usize]
    )
}

/// The Deployment (app label) of pod `index`.
pub fn app_of(index: u64) -> &'static str {
    let ns = index % NAMESPACES;
    let slot = (index / NAMESPACES) % APPS_PER_NAMESPACE;
    APPS[((ns * 3 + slot) % APPS.len() as u64) as usize]
}

/// The name of pod `index`: `<app>-<template hash>-<5 chars>`, unique per index.
pub fn name_of(index: u64) -> String {
    let mut suffix = String::with_capacity(5);
    let mut rest = index;
    for _ in 0..5 {
        suffix.push(char::from(NAME_ALPHABET[(rest % 27) as usize]));
        rest /= 27;
    }
    // Indices past 27^5 would repeat suffixes; a sixth character keeps them unique.
    if rest > 0 {
        suffix.push_str(&rest.to_string());
    }
    format!("{}-{}-{suffix}", app_of(index), template_hash(index))
}

fn template_hash(index: u64) -> String {
    let ns = index % NAMESPACES;
    Rng::new(ns * 1000 + (index / NAMESPACES) % APPS_PER_NAMESPACE).suffix(10)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the Unix epoch.
pub fn rfc3339(epoch_seconds: u64) -> String {
    let days = epoch_seconds / 86_400;
    let second_of_day = epoch_seconds % 86_400;
    // Days to civil date (Howard Hinnant's algorithm), for dates after 1970.
    let z = days as i64 + 719_468;
    let era = z / 146_097;
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60
    )
}

/// Pod `index` at `revision` (0 when created; each MODIFIED event bumps it).
pub fn pod(index: u64, revision: u64) -> Value {
    let mut rng = Rng::new(index);
    let namespace = namespace_of(index);
    let app = app_of(index);
    let hash = template_hash(index);
    let name = name_of(index);
    let replica_set = format!("{app}-{hash}");
    let replica_set_uid = Rng::new(index % NAMESPACES * 1000 + 7).uuid();
    let uid = rng.uuid();
    let created_at = BASE_EPOCH + index * 3 % 80_000;
    let created = rfc3339(created_at);
    let started = rfc3339(created_at + 1 + rng.below(5));
    let ready_at = rfc3339(created_at + 6 + rng.below(20) + revision * 13);
    let node = rng.below(200);
    let host_ip = format!("10.0.{}.{}", node / 100, node % 100 + 10);
    let pod_ip = format!(
        "10.{}.{}.{}",
        244 + index / 65_000 % 10,
        index / 250 % 256,
        index % 250 + 2
    );
    let version = format!("1.{}.{}", 20 + rng.below(30), rng.below(10));
    let image = format!("registry.example.com/{namespace}/{app}:{version}");
    let image_id = format!(
        "registry.example.com/{namespace}/{app}@sha256:{}",
        rng.hex(64)
    );
    let container_id = format!("containerd://{}", rng.hex(64));
    let volume = format!("kube-api-access-{}", rng.suffix(5));
    let restarted_at = rfc3339(created_at - 4);
    let secret = format!("{app}-db");
    let with_sidecar = index % 3 == 0;
    let log_level = ["info", "debug", "warn"][(index % 3) as usize];
    let region = ["eu-west-1", "us-east-2", "ap-south-1"][(index % 3) as usize];

    let mut containers = vec![json!({
        "name": app,
        "image": image,
        "args": [format!("--listen=:{}", 8080 + index % 3), "--log-format=json"],
        "ports": [
            {"name": "http", "containerPort": 8080 + index % 3, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 9090, "protocol": "TCP"}
        ],
        "env": [
            {"name": "DATABASE_URL", "valueFrom": {"secretKeyRef": {"name": secret, "key": "url"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.name"}}},
            {"name": "LOG_LEVEL", "value": log_level},
            {"name": "REGION", "value": region}
        ],
        "resources": {
            "limits": {"cpu": format!("{}", 1 + index % 4), "memory": format!("{}Mi", 256 << (index % 3))},
            "requests": {"cpu": format!("{}m", 100 + 50 * (index % 5)), "memory": format!("{}Mi", 128 << (index % 3))}
        },
        "volumeMounts": [
            {"name": volume, "readOnly": true, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount"}
        ],
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
            "initialDelaySeconds": 10, "timeoutSeconds": 1, "periodSeconds": 10,
            "successThreshold": 1, "failureThreshold": 3
        },
        "readinessProbe": {
            "httpGet": {"path": "/ready", "port": 8080, "scheme": "HTTP"},
            "timeoutSeconds": 1, "periodSeconds": 5, "successThreshold": 1, "failureThreshold": 3
        },
        "terminationMessagePath": "/dev/termination-log",
        "terminationMessagePolicy": "File",
        "imagePullPolicy": "IfNotPresent"
    })];
    let mut statuses = vec![json!({
        "name": app,
        "state": {"running": {"startedAt": started}},
        "lastState": {},
        "ready": true,
        "restartCount": revision % 7,
        "image": image,
        "imageID": image_id,
        "containerID": container_id,
        "started": true,
        "volumeMounts": [
            {"name": volume, "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount", "readOnly": true, "recursiveReadOnly": "Disabled"}
        ]
    })];
    if with_sidecar {
        let proxy_image = format!("registry.example.com/mesh/proxy:1.{}.0", 18 + index % 4);
        containers.push(json!({
            "name": "proxy",
            "image": proxy_image,
            "ports": [{"name": "admin", "containerPort": 15000, "protocol": "TCP"}],
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
            "terminationMessagePath": "/dev/termination-log",
            "terminationMessagePolicy": "File",
            "imagePullPolicy": "IfNotPresent"
        }));
        statuses.push(json!({
            "name": "proxy",
            "state": {"running": {"startedAt": started}},
            "lastState": {},
            "ready": true,
            "restartCount": 0,
            "image": proxy_image,
            "imageID": format!("registry.example.com/mesh/proxy@sha256:{}", rng.hex(64)),
            "containerID": format!("containerd://{}", rng.hex(64)),
            "started": true
        }));
    }
    let container_fields = json!({
        format!("k:{{\"name\":\"{app}\"}}"): {".": {}, "f:env": {}, "f:image": {}, "f:livenessProbe": {}, "f:name": {}, "f:ports": {}, "f:readinessProbe": {}, "f:resources": {}}
    });

    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": format!("{replica_set}-"),
            "namespace": namespace,
            "uid": uid,
            "creationTimestamp": created,
            "labels": {"app": app, "pod-template-hash": hash},
            "annotations": {
                "kubectl.kubernetes.io/restartedAt": restarted_at,
                "bench.kinformer.dev/revision": revision.to_string()
            },
            "ownerReferences": [{
                "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": replica_set,
                "uid": replica_set_uid, "controller": true, "blockOwnerDeletion": true
            }],
            "managedFields": [
                {
                    "manager": "kube-controller-manager", "operation": "Update", "apiVersion": "v1",
                    "time": created, "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/restartedAt": {}}, "f:generateName": {}, "f:labels": {".": {}, "f:app": {}, "f:pod-template-hash": {}}, "f:ownerReferences": {".": {}, format!("k:{{\"uid\":\"{replica_set_uid}\"}}"): {}}}, "f:spec": {"f:containers": container_fields, "f:restartPolicy": {}, "f:terminationGracePeriodSeconds": {}}}
                },
                {
                    "manager": "kubelet", "operation": "Update", "apiVersion": "v1",
                    "time": ready_at, "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:status": {"f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:lastProbeTime": {}, "f:lastTransitionTime": {}, "f:status": {}, "f:type": {}}}, "f:containerStatuses": {}, "f:hostIP": {}, "f:phase": {}, "f:podIP": {}, "f:podIPs": {}, "f:startTime": {}}},
                    "subresource": "status"
                }
            ]
        },
        "spec": {
            "volumes": [{
                "name": volume,
                "projected": {
                    "sources": [
                        {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                        {"configMap": {"name": "kube-root-ca.crt", "items": [{"key": "ca.crt", "path": "ca.crt"}]}},
                        {"downwardAPI": {"items": [{"path": "namespace", "fieldRef": {"apiVersion": "v1", "fieldPath": "metadata.namespace"}}]}}
                    ],
                    "defaultMode": 420
                }
            }],
            "containers": containers,
            "restartPolicy": "Always",
            "terminationGracePeriodSeconds": 30,
            "dnsPolicy": "ClusterFirst",
            "serviceAccountName": app,
            "serviceAccount": app,
            "nodeName": format!("worker-{node}"),
            "securityContext": {},
            "schedulerName": "default-scheduler",
            "tolerations": [
                {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300},
                {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
            ],
            "priority": 0,
            "enableServiceLinks": true,
            "preemptionPolicy": "PreemptLowerPriority"
        },
        "status": {
            "phase": "Running",
            "conditions": [
                {"type": "PodReadyToStartContainers", "status": "True", "lastProbeTime": null, "lastTransitionTime": started},
                {"type": "Initialized", "status": "True", "lastProbeTime": null, "lastTransitionTime": created},
                {"type": "Ready", "status": "True", "lastProbeTime": null, "lastTransitionTime": ready_at},
                {"type": "ContainersReady", "status": "True", "lastProbeTime": null, "lastTransitionTime": ready_at},
                {"type": "PodScheduled", "status": "True", "lastProbeTime": null, "lastTransitionTime": created}
            ],
            "hostIP": host_ip,
            "hostIPs": [{"ip": host_ip}],
            "podIP": pod_ip,
            "podIPs": [{"ip": pod_ip}],
            "startTime": created,
            "containerStatuses": statuses,
            "qosClass": "Burstable"
        }
    })
}

/// What one planned watch event does on the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// Create pod `index`.
    Add {
        /// The new pod's index.
        index: u64,
    },
    /// Write pod `index` at `revision`.
    Modify {
        /// The pod's index.
        index: u64,
        /// Its new revision.
        revision: u64,
    },
    /// Delete pod `index`.
    Delete {
        /// The pod's index.
        index: u64,
    },
}

/// Plans `events` changes over pods `0..pods`: about 90% MODIFIED, 5% ADDED, 5% DELETED,
/// never touching a pod that no longer exists. Deterministic for given arguments.
pub fn plan_events(pods: u64, events: u64, seed: u64) -> Vec<Change> {
    let mut rng = Rng::new(seed);
    let mut live: Vec<u64> = (0..pods).collect();
    let mut next_index = pods;
    let mut plan = Vec::with_capacity(events as usize);
    for revision in 1..=events {
        let roll = rng.below(100);
        let change = if roll < 5 || live.is_empty() {
            live.push(next_index);
            next_index += 1;
            Change::Add {
                index: next_index - 1,
            }
        } else if roll < 10 && live.len() > 1 {
            let slot = rng.below(live.len() as u64) as usize;
            Change::Delete {
                index: live.swap_remove(slot),
            }
        } else {
            let slot = rng.below(live.len() as u64) as usize;
            Change::Modify {
                index: live[slot],
                revision,
            }
        };
        plan.push(change);
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn pods_are_between_four_and_six_kilobytes_of_compact_json() {
        for index in [0, 1, 2, 3, 17, 499, 10_000, 199_999, 250_000] {
            for revision in [0, 5, 99_999] {
                let size = serde_json::to_vec(&pod(index, revision)).unwrap().len();
                assert!(
                    (4096..=6144).contains(&size),
                    "pod {index}@{revision}: {size} bytes"
                );
            }
        }
    }

    #[test]
    fn pods_decode_as_typed_pods_with_the_deployment_shape() {
        use kinformer_meta::Object;
        let bytes = serde_json::to_vec(&pod(42, 3)).unwrap();
        let typed: kinformer_typed::Pod = serde_json::from_slice(&bytes).unwrap();
        let meta = typed.metadata();
        assert_eq!(meta.namespace(), Some(namespace_of(42).as_str()));
        assert_eq!(meta.labels.get("app"), Some(app_of(42)));
        assert!(meta.labels.get("pod-template-hash").is_some());
        assert_eq!(meta.owner_references.len(), 1);
        assert_eq!(
            meta.managed_fields.as_ref().unwrap().get().unwrap().len(),
            2
        );
        let spec = typed.spec().unwrap().unwrap();
        assert!(
            spec.containers.as_ref().unwrap()[0]
                .env
                .as_ref()
                .unwrap()
                .len()
                >= 3
        );
    }

    #[test]
    fn names_are_unique_and_strings_vary_across_pods() {
        let names: HashSet<String> = (0..20_000).map(name_of).collect();
        assert_eq!(names.len(), 20_000);
        let namespaces: HashSet<String> = (0..1000).map(namespace_of).collect();
        assert_eq!(namespaces.len(), NAMESPACES as usize);
        let uids: HashSet<String> = (0..1000)
            .map(|i| pod(i, 0)["metadata"]["uid"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(uids.len(), 1000);
        let ips: HashSet<String> = (0..1000)
            .map(|i| pod(i, 0)["status"]["podIP"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ips.len(), 1000);
    }

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(BASE_EPOCH), "2026-11-26T00:00:00Z");
        assert_eq!(
            rfc3339(BASE_EPOCH + 86_400 * 6 + 3_661),
            "2026-12-02T01:01:01Z"
        );
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn event_plan_is_mostly_modified_and_never_touches_a_deleted_pod() {
        let plan = plan_events(1000, 20_000, 7);
        let mut live: HashSet<u64> = (0..1000).collect();
        let (mut added, mut modified, mut deleted) = (0, 0, 0);
        for change in &plan {
            match *change {
                Change::Add { index } => {
                    assert!(live.insert(index), "added twice: {index}");
                    added += 1;
                }
                Change::Modify { index, .. } => {
                    assert!(live.contains(&index), "modified after delete: {index}");
                    modified += 1;
                }
                Change::Delete { index } => {
                    assert!(live.remove(&index), "deleted twice: {index}");
                    deleted += 1;
                }
            }
        }
        assert_eq!(added + modified + deleted, 20_000);
        assert!(modified > 17_000, "{modified}");
        assert!(added > 500 && deleted > 500, "{added} {deleted}");
        assert_eq!(plan, plan_events(1000, 20_000, 7));
    }
}
