//! `kinformer watch RESOURCE [-l SELECTOR] [-o text|jsonl] [--duration SECONDS]`: runs a
//! shared informer on the resource and prints every handler call; when it ends (duration
//! elapsed, or Ctrl-C) it prints the cache's final content (`-o jsonl`:
//! `{"synced":true,"cache":{"ns/name":"resourceVersion",...}}`).

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kinformer::cache::{DeltaObject, ResourceEventHandlerFuncs, SharedIndexInformer, Store};
use kinformer::client::DynamicClient;
use kinformer::dynamic::DynamicObject;
use kinformer::informers::{DynamicSharedInformerFactory, FactoryOptions};
use kinformer::meta::meta_namespace_key;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::get::validate_selector;
use crate::global::GlobalArgs;
use crate::progress::Progress;

/// Output formats of `watch`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum WatchOutput {
    /// `ADDED : ns/name - resourceVersion 12` lines.
    #[default]
    Text,
    /// One JSON object per line.
    Jsonl,
}

/// Arguments of `watch`.
#[derive(Debug, clap::Args)]
pub struct WatchArgs {
    /// The resource: kind, plural, short name or resource.group.
    pub resource: String,
    /// A label selector (`app=web`).
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// The output format.
    #[arg(short = 'o', long, value_enum, default_value_t = WatchOutput::Text)]
    pub output: WatchOutput,
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Connection flags.
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// One handler call, as printed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// `add`, `update` or `delete`.
    pub event: &'static str,
    /// `namespace/name` (or `name`).
    pub key: String,
    /// The object's resourceVersion (the last known one for deletes).
    pub resource_version: String,
    /// True for adds of the informer's initial list.
    pub initial: bool,
}

impl Event {
    /// The line for `output`.
    pub fn line(&self, output: WatchOutput) -> String {
        match output {
            // Written by hand to keep the documented field order.
            WatchOutput::Jsonl => format!(
                "{{\"event\":{},\"key\":{},\"resourceVersion\":{},\"initial\":{}}}",
                json!(self.event),
                json!(self.key),
                json!(self.resource_version),
                self.initial
            ),
            WatchOutput::Text => {
                let verb = match self.event {
                    "add" => "ADDED",
                    "update" => "MODIFIED",
                    _ => "DELETED",
                };
                format!(
                    "{verb} : {} - resourceVersion {}",
                    self.key, self.resource_version
                )
            }
        }
    }
}

/// The last line: whether the cache synced and its content (key to resourceVersion).
pub fn final_line(output: WatchOutput, synced: bool, cache: &BTreeMap<String, String>) -> String {
    match output {
        WatchOutput::Jsonl => format!("{{\"synced\":{synced},\"cache\":{}}}", json!(cache)),
        WatchOutput::Text => format!(
            "END : synced={synced}, {} object(s) in the cache",
            cache.len()
        ),
    }
}

/// Where handler lines go; closed before the final line so none follows it.
struct Printer {
    output: WatchOutput,
    closed: AtomicBool,
    lock: Mutex<()>,
}

impl Printer {
    fn print(&self, event: Event) {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.closed.load(Ordering::SeqCst) {
            return;
        }
        let mut stdout = std::io::stdout().lock();
        let _ = writeln!(stdout, "{}", event.line(self.output));
        let _ = stdout.flush();
    }

    fn finish(&self, line: &str) -> std::io::Result<()> {
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.closed.store(true, Ordering::SeqCst);
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}")?;
        stdout.flush()
    }
}

fn key_of(object: &DynamicObject) -> String {
    meta_namespace_key(&object.metadata)
}

fn version_of(object: &DynamicObject) -> String {
    object
        .metadata
        .resource_version()
        .unwrap_or_default()
        .to_owned()
}

/// Runs `watch`.
pub async fn run(args: WatchArgs) -> Result<()> {
    if let Some(selector) = &args.selector {
        validate_selector(selector)?;
    }
    let session = args.global.connect()?;
    let resource = session.resolve(&args.resource).await?;
    let mut options = FactoryOptions::default();
    if let Some(namespace) = session.scope(&resource) {
        options = options.namespace(namespace);
    }
    if let Some(selector) = args.selector.clone() {
        options = options.tweak_list_options(move |list| {
            list.label_selector = Some(selector.clone());
        });
    }
    let factory =
        DynamicSharedInformerFactory::new(DynamicClient::new(session.client.clone()), options);
    let informer_failed = |message: String| Error::InformerFailed {
        resource: resource.name.clone(),
        message,
    };
    let informer = factory
        .for_resource(&resource.api_resource())
        .map_err(|e| informer_failed(e.to_string()))?;
    let printer = Arc::new(Printer {
        output: args.output,
        closed: AtomicBool::new(false),
        lock: Mutex::new(()),
    });
    let handler = {
        let (add, update, delete) = (printer.clone(), printer.clone(), printer.clone());
        ResourceEventHandlerFuncs::<DynamicObject>::default()
            .add_func(move |object, initial| {
                add.print(Event {
                    event: "add",
                    key: key_of(&object),
                    resource_version: version_of(&object),
                    initial,
                })
            })
            .update_func(move |_old, new| {
                update.print(Event {
                    event: "update",
                    key: key_of(&new),
                    resource_version: version_of(&new),
                    initial: false,
                })
            })
            .delete_func(move |object: DeltaObject<DynamicObject>| {
                let (key, resource_version) = match &object {
                    DeltaObject::Object(object) => (key_of(object), version_of(object)),
                    DeltaObject::DeletedFinalStateUnknown(tombstone) => (
                        tombstone.key.to_string(),
                        tombstone
                            .object
                            .as_deref()
                            .map(version_of)
                            .unwrap_or_default(),
                    ),
                };
                delete.print(Event {
                    event: "delete",
                    key,
                    resource_version,
                    initial: false,
                })
            })
    };
    informer
        .add_event_handler(handler)
        .map_err(|e| informer_failed(e.to_string()))?;

    // Listen for Ctrl-C from the start, so an early one is not lost.
    let mut interrupt = Interrupt::new();
    let cancel = CancellationToken::new();
    factory.start(&cancel);
    let deadline = args
        .duration
        .map(|seconds| tokio::time::Instant::now() + Duration::from_secs_f64(seconds.max(0.0)));
    let elapsed = async {
        match deadline {
            Some(deadline) => tokio::time::sleep_until(deadline).await,
            None => std::future::pending().await,
        }
    };
    tokio::pin!(elapsed);
    let synced = {
        let sync = informer.wait_for_cache_sync(None);
        tokio::pin!(sync);
        let mut progress = Progress::new(&resource.name);
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                result = &mut sync => {
                    progress.finish();
                    match result {
                        Ok(()) => break true,
                        Err(source) => {
                            cancel.cancel();
                            factory.shutdown().await;
                            return Err(Error::SyncFailed {
                                resource: resource.name.clone(),
                                source: Box::new(source),
                            });
                        }
                    }
                }
                _ = &mut elapsed => {
                    progress.finish();
                    break false;
                }
                _ = interrupt.recv() => {
                    progress.finish();
                    break false;
                }
                _ = tick.tick() => {
                    show_progress(&informer, &mut progress);
                }
            }
        }
    };
    if synced {
        tokio::select! {
            _ = &mut elapsed => {}
            _ = interrupt.recv() => {}
        }
    }
    // Snapshot before stopping: a stopped informer empties its cache.
    let cache: BTreeMap<String, String> = informer
        .indexer()
        .list()
        .iter()
        .map(|object| (key_of(object), version_of(object)))
        .collect();
    let synced = informer.has_synced();
    printer.finish(&final_line(args.output, synced, &cache))?;
    cancel.cancel();
    factory.shutdown().await;
    Ok(())
}

/// Ctrl-C (SIGINT), registered when created.
struct Interrupt {
    #[cfg(unix)]
    signal: Option<tokio::signal::unix::Signal>,
}

impl Interrupt {
    fn new() -> Self {
        Interrupt {
            #[cfg(unix)]
            signal: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok(),
        }
    }

    /// Resolves when Ctrl-C is pressed (never, when the handler could not be installed).
    async fn recv(&mut self) {
        #[cfg(unix)]
        match &mut self.signal {
            Some(signal) => {
                signal.recv().await;
            }
            None => std::future::pending().await,
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

fn show_progress(informer: &SharedIndexInformer<DynamicObject>, progress: &mut Progress) {
    let pages = informer.reflector_metrics().map_or(0, |m| m.lists);
    progress.update(informer.indexer().len(), pages);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jsonl_event_lines_carry_event_key_version_and_initial() {
        let event = Event {
            event: "add",
            key: "shop/web-1".into(),
            resource_version: "12".into(),
            initial: true,
        };
        let value: serde_json::Value =
            serde_json::from_str(&event.line(WatchOutput::Jsonl)).unwrap();
        assert_eq!(
            value,
            json!({"event": "add", "key": "shop/web-1", "resourceVersion": "12", "initial": true})
        );
        assert!(event
            .line(WatchOutput::Jsonl)
            .starts_with(r#"{"event":"add","key":"#));
        assert_eq!(
            event.line(WatchOutput::Text),
            "ADDED : shop/web-1 - resourceVersion 12"
        );
    }

    #[test]
    fn final_jsonl_line_maps_keys_to_versions() {
        let cache = BTreeMap::from([("shop/a".to_string(), "3".to_string())]);
        assert_eq!(
            final_line(WatchOutput::Jsonl, true, &cache),
            r#"{"synced":true,"cache":{"shop/a":"3"}}"#
        );
    }
}
