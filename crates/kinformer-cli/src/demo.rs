//! `kinformer demo`: the main job on a built-in cluster, with no kubeconfig and no network.
//!
//! It starts the fake API server in-process on 127.0.0.1 with the bundled demo fixture
//! (`fixtures/demo/cluster.yaml`, compiled into the binary), runs a shared informer factory on
//! pods, deployments and configmaps, prints every handler call in the seed article's style
//! (`ADDED : shop/web-7d9f2 - Pending`) while the fixture's timeline rolls `shop/web` out, then
//! queries the listers and indexes and exits.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use kinformer::cache::{
    index_func, DeltaObject, IndexError, ResourceEventHandlerFuncs, SharedIndexInformer,
};
use kinformer::client::{Client, Clientset, Config};
use kinformer::informers::SharedInformerFactory;
use kinformer::meta::labels::Selector;
use kinformer::meta::{meta_namespace_key, Object};
use kinformer::typed::{ConfigMap, Deployment, Pod};
use kinformer_replay::{FakeApiServer, Fixture, ServerConfig};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

/// The demo cluster: three namespaces, four Deployments with ReplicaSets and eight pods,
/// ConfigMaps, Services, and a timeline rolling `shop/web` from 1.42.0 to 1.43.0.
const DEMO_FIXTURE: &str = include_str!("../../../fixtures/demo/cluster.yaml");

/// The name of the pod index by `app` label.
const APP_INDEX: &str = "app";

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Play the rollout this many times faster (2 halves the waits).
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    pub speed: f64,
}

/// Runs the demo.
pub async fn run(args: DemoArgs) -> Result<()> {
    let fixture = Fixture::parse(DEMO_FIXTURE, Path::new("fixtures/demo/cluster.yaml"))
        .map_err(|e| Error::DemoFailed(Box::new(e)))?;
    let server = FakeApiServer::start(fixture.configure(ServerConfig::default()))
        .await
        .map_err(|e| Error::DemoFailed(Box::new(e)))?;
    say(&format!(
        "demo cluster listening on {} (namespaces shop, payments, monitoring)",
        server.url()
    ))?;

    let url: http::Uri = server.url().parse().map_err(|_| Error::InvalidServer {
        url: server.url(),
        reason: "not a URL".into(),
    })?;
    let client =
        Client::try_from(Config::new(url)).map_err(|e| Error::ConfigFailed(Box::new(e)))?;
    let factory = SharedInformerFactory::new(Clientset::new(client), None);
    let informer_failed = |resource: &str, e: &dyn std::fmt::Display| Error::InformerFailed {
        resource: resource.into(),
        message: e.to_string(),
    };
    let pods = factory
        .core_v1()
        .pods()
        .informer()
        .map_err(|e| informer_failed("pods", &e))?;
    let deployments = factory
        .apps_v1()
        .deployments()
        .informer()
        .map_err(|e| informer_failed("deployments", &e))?;
    let config_maps = factory
        .core_v1()
        .config_maps()
        .informer()
        .map_err(|e| informer_failed("configmaps", &e))?;

    pods.indexer()
        .add_index(
            APP_INDEX,
            index_func(|pod: &Pod| -> Result<Vec<String>, IndexError> {
                Ok(pod
                    .metadata()
                    .labels
                    .get("app")
                    .map(str::to_owned)
                    .into_iter()
                    .collect())
            }),
        )
        .map_err(|e| informer_failed("pods", &e))?;

    pods.add_event_handler(
        ResourceEventHandlerFuncs::<Pod>::default()
            .add_func(|pod, _| print_event("ADDED", &key(&*pod), &pod_detail(&pod)))
            .update_func(|old, new| {
                if old.metadata().resource_version() != new.metadata().resource_version() {
                    print_event("MODIFIED", &key(&*new), &pod_detail(&new))
                }
            })
            .delete_func(|pod| print_deleted(&deleted_key(&pod), "pod")),
    )
    .map_err(|e| informer_failed("pods", &e))?;
    deployments
        .add_event_handler(
            ResourceEventHandlerFuncs::<Deployment>::default()
                .add_func(|d, _| print_event("ADDED", &key(&*d), &deployment_detail(&d)))
                .update_func(|old, new| {
                    if old.metadata().resource_version() != new.metadata().resource_version() {
                        print_event("MODIFIED", &key(&*new), &deployment_detail(&new))
                    }
                })
                .delete_func(|d| print_deleted(&deleted_key(&d), "deployment")),
        )
        .map_err(|e| informer_failed("deployments", &e))?;
    config_maps
        .add_event_handler(
            ResourceEventHandlerFuncs::<ConfigMap>::default()
                .add_func(|c, _| print_event("ADDED", &key(&*c), &config_map_detail(&c)))
                .update_func(|old, new| {
                    if old.metadata().resource_version() != new.metadata().resource_version() {
                        print_event("MODIFIED", &key(&*new), &config_map_detail(&new))
                    }
                })
                .delete_func(|c| print_deleted(&deleted_key(&c), "configmap")),
        )
        .map_err(|e| informer_failed("configmaps", &e))?;

    let cancel = CancellationToken::new();
    factory.start(&cancel);
    for (resource, result) in factory
        .wait_for_cache_sync(Some(Duration::from_secs(5)))
        .await
    {
        result.map_err(|source| Error::SyncFailed {
            resource: resource.resource.clone(),
            source: Box::new(source),
        })?;
    }
    // Print the initial adds before the banner: wait until each handler has caught up.
    delivered(&deployments).await;
    delivered(&config_maps).await;
    delivered(&pods).await;
    say("--- caches synced; playing the rollout of shop/web (1.42.0 -> 1.43.0) ---")?;

    let speed = if args.speed.is_finite() && args.speed > 0.0 {
        args.speed
    } else {
        1.0
    };
    let handle = server.handle();
    // At another speed the timeline is played from a copy with its waits scaled.
    let played = if (speed - 1.0).abs() < f64::EPSILON {
        fixture.play(&handle).await
    } else {
        Fixture::parse(
            &scaled_fixture(speed),
            Path::new("fixtures/demo/cluster.yaml"),
        )
        .map_err(|e| Error::DemoFailed(Box::new(e)))?
        .play(&handle)
        .await
    };
    played.map_err(|e| Error::DemoFailed(Box::new(e)))?;

    // Let the last events reach the caches: wait until the pod cache matches the server.
    let expected = handle.list("v1", "Pod", None).len();
    for _ in 0..50 {
        if pods.indexer().len() == expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;

    let pod_lister = factory
        .core_v1()
        .pods()
        .lister()
        .map_err(|e| informer_failed("pods", &e))?;
    let mut out = String::new();
    out.push_str("--- lister: pods in namespace shop ---\n");
    let mut shop = pod_lister.namespace("shop").list(&Selector::everything());
    shop.sort_by(|a, b| a.metadata().name().cmp(b.metadata().name()));
    for pod in &shop {
        out.push_str(&format!("{} - {}\n", key(&**pod), pod_detail(pod)));
    }
    out.push_str("--- index \"app\": pods with app=web ---\n");
    let mut web = pods
        .indexer()
        .by_index(APP_INDEX, "web")
        .map_err(|e| informer_failed("pods", &e))?;
    web.sort_by(|a, b| a.metadata().name().cmp(b.metadata().name()));
    for pod in &web {
        out.push_str(&format!("{} - {}\n", key(&**pod), pod_detail(pod)));
    }
    out.push_str("--- index \"app\": pod count by app ---\n");
    let mut apps = pods
        .indexer()
        .list_index_func_values(APP_INDEX)
        .map_err(|e| informer_failed("pods", &e))?;
    apps.sort();
    for app in apps {
        let count = pods
            .indexer()
            .index_keys(APP_INDEX, &app)
            .map_or(0, |k| k.len());
        out.push_str(&format!("{app}: {count}\n"));
    }
    out.push_str("--- lister: deployments in all namespaces ---\n");
    let mut all = deployments.lister().list(&Selector::everything());
    all.sort_by_key(|d| key(&**d));
    for deployment in &all {
        out.push_str(&format!(
            "{} - {}\n",
            key(&**deployment),
            deployment_detail(deployment)
        ));
    }
    out.push_str(&format!(
        "--- caches: {} pods, {} deployments, {} configmaps ---\n",
        pods.indexer().len(),
        deployments.indexer().len(),
        config_maps.indexer().len()
    ));
    say(out.trim_end())?;

    cancel.cancel();
    factory.shutdown().await;
    server.shutdown().await;
    Ok(())
}

/// The bundled fixture with every `after:` wait divided by `speed`.
fn scaled_fixture(speed: f64) -> String {
    DEMO_FIXTURE
        .lines()
        .map(|line| {
            let trimmed = line.trim_start();
            let indent = &line[..line.len() - trimmed.len()];
            let Some(rest) = trimmed
                .strip_prefix("- after: ")
                .map(|rest| ("- after: ", rest))
                .or_else(|| {
                    trimmed
                        .strip_prefix("after: ")
                        .map(|rest| ("after: ", rest))
                })
            else {
                return format!("{line}\n");
            };
            match kinformer_replay::fixture::parse_duration(rest.1.trim()) {
                Some(wait) => format!(
                    "{indent}{}{}ms\n",
                    rest.0,
                    (wait.as_secs_f64() * 1000.0 / speed).round() as u64
                ),
                None => format!("{line}\n"),
            }
        })
        .collect()
}

/// Waits (at most a second) until every handler of `informer` has been handed the cache.
async fn delivered<K: Object>(informer: &SharedIndexInformer<K>) {
    for _ in 0..50 {
        let cached = informer.indexer().len() as u64;
        if informer
            .listener_stats()
            .iter()
            .all(|s| s.pending == 0 && s.delivered >= cached)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn say(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")?;
    stdout.flush()?;
    Ok(())
}

fn key<K: Object>(object: &K) -> String {
    meta_namespace_key(object.metadata())
}

fn deleted_key<K: Object>(object: &DeltaObject<K>) -> String {
    match object {
        DeltaObject::Object(object) => key(&**object),
        DeltaObject::DeletedFinalStateUnknown(tombstone) => tombstone.key.to_string(),
    }
}

fn print_event(verb: &str, key: &str, detail: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{verb} : {key} - {detail}");
    let _ = stdout.flush();
}

fn print_deleted(key: &str, kind: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "DELETED : {key} ({kind})");
    let _ = stdout.flush();
}

/// A pod's phase, as the seed prints it.
fn pod_detail(pod: &Pod) -> String {
    let phase = pod
        .status()
        .ok()
        .flatten()
        .and_then(|s| s.phase.clone())
        .unwrap_or_else(|| "Unknown".into());
    if pod.metadata().deletion_timestamp.is_some() {
        format!("{phase} (terminating)")
    } else {
        phase
    }
}

fn deployment_detail(deployment: &Deployment) -> String {
    let spec = deployment.spec().ok().flatten();
    let image = spec
        .and_then(|s| s.template.as_ref())
        .and_then(|t| t.spec.as_ref())
        .and_then(|s| s.containers.as_ref())
        .and_then(|c| c.first())
        .and_then(|c| c.image.clone())
        .unwrap_or_default();
    let wanted = spec.and_then(|s| s.replicas).unwrap_or(1);
    let ready = deployment
        .status()
        .ok()
        .flatten()
        .and_then(|s| s.ready_replicas)
        .unwrap_or(0);
    format!("deployment {ready}/{wanted} ready, image {image}")
}

fn config_map_detail(config_map: &ConfigMap) -> String {
    let keys = config_map
        .data()
        .ok()
        .flatten()
        .map_or(0, |data| data.len());
    format!("configmap, {keys} key(s)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_fixture_parses() {
        assert!(Fixture::parse(DEMO_FIXTURE, Path::new("cluster.yaml")).is_ok());
    }

    #[test]
    fn scaled_fixture_divides_every_wait() {
        let scaled = scaled_fixture(4.0);
        assert!(Fixture::parse(&scaled, Path::new("cluster.yaml")).is_ok());
        assert!(scaled.contains("- after: 250ms"), "a 1s wait becomes 250ms");
        assert!(!scaled.contains("- after: 1s"));
    }
}
