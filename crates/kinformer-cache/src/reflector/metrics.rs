//! Counters a reflector keeps about its work, for the metrics layer to export.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

/// A reflector's counters. Cheap to update; read them with [`ReflectorMetrics::snapshot`].
#[derive(Debug, Default)]
pub struct ReflectorMetrics {
    lists: AtomicU64,
    relists: AtomicU64,
    watches: AtomicU64,
    events: AtomicU64,
    errors: AtomicU64,
    last_resource_version: Mutex<String>,
}

/// The counters at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// List requests sent (every page counts).
    pub lists: u64,
    /// Lists after the first one (each relist counts once).
    pub relists: u64,
    /// Watches opened (streaming lists included).
    pub watches: u64,
    /// Watch events handled (bookmarks included, dropped events excluded).
    pub events: u64,
    /// Failed list-and-watch cycles and watch failures.
    pub errors: u64,
    /// The last resourceVersion seen.
    pub last_resource_version: String,
}

impl ReflectorMetrics {
    /// The counters now.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            lists: self.lists.load(Ordering::Relaxed),
            relists: self.relists.load(Ordering::Relaxed),
            watches: self.watches.load(Ordering::Relaxed),
            events: self.events.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            last_resource_version: self
                .last_resource_version
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }

    pub(crate) fn list(&self) {
        self.lists.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn relist(&self) {
        self.relists.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn watch(&self) {
        self.watches.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn event(&self) {
        self.events.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn resource_version(&self, version: &str) {
        *self
            .last_resource_version
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = version.to_owned();
    }
}
