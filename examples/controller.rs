//! A complete controller in the style of client-go's workqueue example: a shared informer on
//! pods puts keys (`namespace/name`) on a rate-limited work queue from its event handlers; two
//! workers take keys, read the pod from the lister (never from the event), reconcile it, and
//! retry failures with per-key backoff, giving up after five requeues.
//!
//! The "world" this controller keeps in line with the pods is an inventory of one summary line
//! per pod, published to a simulated inventory service. Pods annotated
//! `demo.kinformer.dev/fail-attempts: "N"` make that service fail their first N publishes, so
//! the output shows the backoff (`flaky` fails twice, then succeeds; `broken` never succeeds
//! and is given up on).
//!
//! The program seeds an in-process fake API server with four pods and plays a short script
//! against it: create two pods while a third is edited three times in a row (one reconcile),
//! edit a pod three times while the workers are idle (two reconciles), delete a pod. Then it
//! shuts the queue down with `shutdown_with_drain` and prints what happened. Ctrl-C shuts it
//! down the same way at any moment.
//!
//! Run: `cargo run -p kinformer-examples --example controller`

use std::collections::{BTreeMap, HashMap};
use std::fmt::Display;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use kinformer::cache::{DeltaObject, Lister, ResourceEventHandler};
use kinformer::client::clientset::Clientset;
use kinformer::client::{Client, Config};
use kinformer::informers::{FactoryOptions, SharedInformerFactory};
use kinformer::meta::labels::Selector;
use kinformer::meta::{meta_namespace_key, split_meta_namespace_key};
use kinformer::typed::Pod;
use kinformer::workqueue::{
    default_controller_rate_limiter, Config as QueueConfig, RateLimitingQueue,
};
use kinformer_replay::{FakeApiServer, Handle, ServerConfig};
use serde_json::{json, Value};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Worker tasks taking keys from the queue (client-go's example runs one; two show that a key
/// is never processed by two workers at once).
const WORKERS: usize = 2;
/// Requeues of one key before the controller gives up on it (client-go's example uses 5).
const MAX_REQUEUES: usize = 5;
/// How many publishes of a pod the simulated inventory service fails.
const FAIL_ANNOTATION: &str = "demo.kinformer.dev/fail-attempts";
/// How long each step of the script may take before the program gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(3);

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let server = FakeApiServer::start(ServerConfig::default().objects([
        pod("web-1", "Running", "nginx:1.27", None),
        pod("web-2", "Pending", "nginx:1.27", None),
        pod("flaky", "Running", "busybox:1.36", Some("2")),
        pod("broken", "Pending", "busybox:1.36", Some("1000")),
    ]))
    .await?;
    let clientset = Clientset::new(Client::try_from(Config::new(server.url().parse()?))?);

    // The informer and lister: informers.NewSharedInformerFactoryWithOptions(...).Core().V1().Pods()
    let factory = SharedInformerFactory::with_options(
        clientset,
        FactoryOptions::default().namespace("default"),
    );
    let pods = factory.core_v1().pods();
    let informer = pods.informer()?;

    // workqueue.NewRateLimitingQueue(workqueue.DefaultControllerRateLimiter())
    let queue = RateLimitingQueue::with_config(
        default_controller_rate_limiter(),
        QueueConfig::default().name("pods"),
    );
    let controller = Arc::new(Controller {
        queue: queue.clone(),
        pods: pods.lister()?,
        state: Mutex::default(),
        in_flight: AtomicUsize::new(0),
        started: Instant::now(),
    });

    // The handlers only turn objects into keys; all the work happens in the workers.
    let registration = informer.add_event_handler(EnqueueHandler(controller.clone()))?;

    let cancel = CancellationToken::new();
    factory.start(&cancel);
    // Workers must not run before the cache is filled, or they would take live pods for deleted.
    registration
        .wait_for_cache_sync(Some(Duration::from_secs(10)))
        .await?;
    controller.log(format_args!(
        "cache synced: {} pods; starting {WORKERS} workers",
        controller.pods.list(&Selector::everything()).len()
    ));
    let workers: Vec<_> = (1..=WORKERS)
        .map(|worker| tokio::spawn(controller.clone().run_worker(worker)))
        .collect();

    // Ok(true) when the script ran to its end, Ok(false) on Ctrl-C.
    let script_result = tokio::select! {
        result = demo_script(&controller, server.handle()) => result.map(|()| true),
        signal = tokio::signal::ctrl_c() => {
            signal?;
            controller.log("Ctrl-C: shutting down");
            Ok(false)
        }
    };

    // No new keys from now on; workers finish what is queued or in flight, then get `None`.
    controller.log("shutdown_with_drain: waiting for queued and in-flight keys");
    queue.shutdown_with_drain().await;
    for worker in workers {
        worker.await?;
    }
    cancel.cancel();
    factory.shutdown().await;
    server.shutdown().await;

    controller.print_summary();
    if script_result? {
        // CI runs the examples: a finished script must have left exactly this behind.
        controller.check_outcome()?;
    }
    Ok(())
}

/// What the program does while the controller runs: the `kubectl` commands of a demo, each
/// followed by a wait until the controller has caught up.
async fn demo_script(controller: &Controller, api: Handle) -> Result<(), BoxError> {
    // The initial list: four keys; flaky retries twice, broken is given up on.
    controller.wait_until_idle().await?;

    // Both workers get a new pod; the three edits of web-2 arrive while its key waits in the
    // queue, so they collapse into one queued key: one reconcile.
    controller.log("script: kubectl run cache-0 and cache-1, then edit web-2 three times");
    api.create(pod("cache-0", "Running", "redis:7.2", None))?;
    api.create(pod("cache-1", "Running", "redis:7.2", None))?;
    for image in ["nginx:1.28", "nginx:1.29", "nginx:1.30"] {
        api.update(pod("web-2", "Running", image, None))?;
    }
    controller
        .wait_for("cache-0, cache-1 and web-2 at nginx:1.30", |state| {
            state.inventory.contains_key("default/cache-0")
                && state.inventory.contains_key("default/cache-1")
                && has_image(state, "default/web-2", "nginx:1.30")
        })
        .await?;
    controller.wait_until_idle().await?;

    // With idle workers the first edit is taken at once; the next two arrive while it is being
    // processed and collapse into one re-run after `done`: two reconciles.
    controller.log("script: edit web-1 three times while the workers are idle");
    for image in ["nginx:1.28", "nginx:1.29", "nginx:1.30"] {
        api.update(pod("web-1", "Running", image, None))?;
    }
    controller
        .wait_for("web-1 at nginx:1.30", |state| {
            has_image(state, "default/web-1", "nginx:1.30")
        })
        .await?;
    controller.wait_until_idle().await?;

    controller.log("script: kubectl delete pod web-1");
    api.delete("v1", "Pod", Some("default"), "web-1")?;
    controller
        .wait_for("web-1 gone from the inventory", |state| {
            !state.inventory.contains_key("default/web-1")
        })
        .await?;
    controller.wait_until_idle().await?;
    controller.log("script: done");
    Ok(())
}

/// The controller: the queue, the lister it reads, and the state it keeps in line.
struct Controller {
    queue: RateLimitingQueue<String>,
    pods: Lister<Pod>,
    state: Mutex<State>,
    /// Keys a worker has taken and not yet marked done (for the script's idle check).
    in_flight: AtomicUsize,
    started: Instant,
}

/// What the controller maintains and what it counted along the way.
#[derive(Default)]
struct State {
    /// The simulated inventory service's content: one summary per pod key.
    inventory: BTreeMap<String, String>,
    /// Publish attempts per key, for the simulated failures.
    publish_attempts: HashMap<String, u32>,
    /// Counters per key, for the summary.
    stats: BTreeMap<String, KeyStats>,
}

/// Counters of one key.
#[derive(Default)]
struct KeyStats {
    events: usize,
    reconciles: usize,
    retries: usize,
    given_up: bool,
}

impl Controller {
    /// One worker: take a key, reconcile it, record the outcome, always mark it done.
    async fn run_worker(self: Arc<Self>, worker: usize) {
        while let Some(key) = self.queue.get().await {
            self.in_flight.fetch_add(1, Ordering::SeqCst);
            let result = self.reconcile(&key).await;
            self.handle_result(worker, &key, result);
            // Without `done` the key would never be handed out again.
            self.queue.done(&key);
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        self.log(format_args!("worker {worker}: queue shut down, exiting"));
    }

    /// Brings the world in line with the pod `key` as the cache has it now.
    async fn reconcile(&self, key: &str) -> Result<String, BoxError> {
        self.lock()
            .stats
            .entry(key.to_owned())
            .or_default()
            .reconciles += 1;
        let (namespace, name) = split_meta_namespace_key(key)?;
        let pod = match self.pods.namespace(namespace.unwrap_or("")).get(name) {
            Ok(pod) => pod,
            Err(_not_found) => {
                // Gone from the cache, so deleted: clean up what we made for it.
                let removed = self.lock().inventory.remove(key).is_some();
                return Ok(if removed {
                    "deleted, removed from the inventory".to_owned()
                } else {
                    "deleted, nothing to clean up".to_owned()
                });
            }
        };
        let summary = summarize(&pod)?;
        // Stands for a call to another system; it also keeps the key busy long enough for a
        // burst of updates to arrive while it is being processed.
        tokio::time::sleep(Duration::from_millis(20)).await;
        self.publish(key, &pod)?;
        self.lock()
            .inventory
            .insert(key.to_owned(), summary.clone());
        Ok(format!("synced ({summary})"))
    }

    /// The simulated inventory service: fails the first N publishes of a pod annotated
    /// `demo.kinformer.dev/fail-attempts: "N"`.
    fn publish(&self, key: &str, pod: &Pod) -> Result<(), BoxError> {
        let failures: u32 = match pod.metadata.annotations.get(FAIL_ANNOTATION) {
            Some(value) => value
                .parse()
                .map_err(|_| format!("annotation {FAIL_ANNOTATION} is not a count: {value:?}"))?,
            None => 0,
        };
        let mut state = self.lock();
        let attempts = state.publish_attempts.entry(key.to_owned()).or_default();
        *attempts += 1;
        if *attempts <= failures {
            return Err(format!("inventory service unavailable (attempt {attempts})").into());
        }
        Ok(())
    }

    /// Success forgets the key's failures; failure retries it with backoff, up to a limit.
    fn handle_result(&self, worker: usize, key: &String, result: Result<String, BoxError>) {
        let error = match result {
            Ok(outcome) => {
                // Resets the key's backoff, so its next failure waits the base delay again.
                self.queue.forget(key);
                self.log(format_args!("worker {worker}: {key}: {outcome}"));
                return;
            }
            Err(error) => error,
        };
        let requeues = self.queue.num_requeues(key);
        if requeues < MAX_REQUEUES {
            // The key comes back after its own backoff: 5 ms, doubling with each failure.
            if self.queue.add_rate_limited(key.clone()).is_ok() {
                self.lock().stats.entry(key.clone()).or_default().retries += 1;
                self.log(format_args!(
                    "worker {worker}: {key}: failed: {error}; requeue {} of {MAX_REQUEUES} with backoff",
                    requeues + 1
                ));
            } else {
                self.log(format_args!(
                    "worker {worker}: {key}: failed: {error}; queue shut down, not retried"
                ));
            }
        } else {
            self.log(format_args!(
                "worker {worker}: {key}: failed: {error}; giving up after {requeues} requeues"
            ));
            self.lock().stats.entry(key.clone()).or_default().given_up = true;
            self.queue.forget(key);
        }
    }

    /// Called by the event handlers: count the event and queue the key.
    fn enqueue(&self, event: &str, key: String) {
        self.log(format_args!("event: {event} {key}"));
        self.lock().stats.entry(key.clone()).or_default().events += 1;
        if let Err(rejected) = self.queue.add(key) {
            self.log(format_args!(
                "event for {} after shutdown, dropped",
                rejected.into_inner()
            ));
        }
    }

    /// Waits until `condition` holds for the controller's state.
    async fn wait_for(
        &self,
        what: &str,
        condition: impl Fn(&State) -> bool,
    ) -> Result<(), BoxError> {
        let wait = async {
            while !condition(&self.lock()) {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(STEP_TIMEOUT, wait)
            .await
            .map_err(|_| format!("timed out waiting for {what}").into())
    }

    /// Waits until no key is queued, waiting for a retry, or being processed (twice in a row,
    /// so a key between `get` and the in-flight count is not missed).
    async fn wait_until_idle(&self) -> Result<(), BoxError> {
        let is_idle = || {
            self.queue.is_empty()
                && self.queue.waiting_len() == 0
                && self.in_flight.load(Ordering::SeqCst) == 0
        };
        let wait = async {
            loop {
                if is_idle() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    if is_idle() {
                        return;
                    }
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::time::timeout(STEP_TIMEOUT, wait)
            .await
            .map_err(|_| "timed out waiting for the controller to go idle".into())
    }

    /// Fails unless the script's end state is the expected one: the inventory holds the four
    /// live pods that can be published, flaky needed two retries, broken was given up on.
    fn check_outcome(&self) -> Result<(), BoxError> {
        let state = self.lock();
        let keys: Vec<&str> = state.inventory.keys().map(String::as_str).collect();
        let expected = [
            "default/cache-0",
            "default/cache-1",
            "default/flaky",
            "default/web-2",
        ];
        if keys != expected {
            return Err(format!("inventory holds {keys:?}, expected {expected:?}").into());
        }
        let stats = |key: &str| state.stats.get(key);
        if stats("default/flaky").map(|s| (s.retries, s.given_up)) != Some((2, false)) {
            return Err("flaky was not retried exactly twice before succeeding".into());
        }
        if stats("default/broken").map(|s| (s.retries, s.given_up)) != Some((MAX_REQUEUES, true)) {
            return Err("broken was not given up on after five requeues".into());
        }
        Ok(())
    }

    fn print_summary(&self) {
        let state = self.lock();
        println!();
        println!("per key:     events  reconciles  requeues");
        for (key, stats) in &state.stats {
            let note = if stats.given_up { "  (given up)" } else { "" };
            println!(
                "  {key:<16} {:>3} {:>11} {:>9}{note}",
                stats.events, stats.reconciles, stats.retries
            );
        }
        println!("inventory (the controller's world at the end):");
        for (key, summary) in &state.inventory {
            println!("  {key:<16} {summary}");
        }
    }

    fn log(&self, line: impl Display) {
        let elapsed = self.started.elapsed().as_secs_f64();
        println!("[{elapsed:7.3}s] {line}");
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The informer's handler: every event becomes the key of its pod on the queue.
struct EnqueueHandler(Arc<Controller>);

impl ResourceEventHandler<Pod> for EnqueueHandler {
    fn on_add(&self, pod: Arc<Pod>, is_in_initial_list: bool) {
        let event = if is_in_initial_list {
            "add (initial list)"
        } else {
            "add"
        };
        self.0.enqueue(event, meta_namespace_key(&pod.metadata));
    }

    fn on_update(&self, _old: Arc<Pod>, new: Arc<Pod>) {
        self.0.enqueue("update", meta_namespace_key(&new.metadata));
    }

    fn on_delete(&self, object: DeltaObject<Pod>) {
        // A deletion found by a relist carries a tombstone with the key instead of the pod
        // (what client-go's DeletionHandlingMetaNamespaceKeyFunc unwraps).
        let key = match &object {
            DeltaObject::Object(pod) => meta_namespace_key(&pod.metadata),
            DeltaObject::DeletedFinalStateUnknown(tombstone) => tombstone.key.to_string(),
        };
        self.0.enqueue("delete", key);
    }
}

/// Whether the inventory records `image` for `key`.
fn has_image(state: &State, key: &str, image: &str) -> bool {
    state
        .inventory
        .get(key)
        .is_some_and(|summary| summary.ends_with(&format!("image={image}")))
}

/// `phase=Running image=nginx:1.27`: what the inventory records of a pod.
fn summarize(pod: &Pod) -> Result<String, BoxError> {
    let phase = pod
        .status()?
        .and_then(|status| status.phase.clone())
        .unwrap_or_default();
    let image = pod
        .spec()?
        .and_then(|spec| spec.containers.as_ref())
        .and_then(|containers| containers.first())
        .and_then(|container| container.image.clone())
        .unwrap_or_default();
    Ok(format!("phase={phase} image={image}"))
}

fn pod(name: &str, phase: &str, image: &str, fail_attempts: Option<&str>) -> Value {
    let mut pod = json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"containers": [{"name": "main", "image": image}]},
        "status": {"phase": phase},
    });
    if let Some(count) = fail_attempts {
        pod["metadata"]["annotations"] = json!({ FAIL_ANNOTATION: count });
    }
    pod
}
