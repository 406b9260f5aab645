//! `Reflector`: lists and watches a resource through a [`ListWatch`] and mirrors it into a
//! [`Store`] (normally a `DeltaFifo`), following client-go's resourceVersion rules so that no
//! event is lost.
//!
//! One cycle lists (or streams the initial list), replaces the store's content at the list's
//! resourceVersion and then watches from exactly that version, re-watching from the last seen
//! version whenever a watch closes normally. A cycle ends on an error (an ERROR 410 event, a
//! broken stream, a very short watch, a stalled stream); [`Reflector::run`] then waits out a
//! backoff and relists at the last seen version. Everything waits on tokio's clock.
//!
//! A list goes into the store as it downloads ([`Store::begin_replace`]): each decoded object
//! is handed over at once, and the deletions of the replace (objects not listed) happen only
//! when the last page has ended, so a list that fails half-way deletes nothing. With an
//! informer's queue the cache takes each new object while the rest of the list is still on the
//! wire; the reflector never holds the whole list.
//!
//! The rules, as client-go learned them:
//! - the first list asks `resourceVersion=0` in pages of 500; relists ask for the last seen
//!   version and are unpaginated (unless the server paginated the first list);
//! - a list answered 410 Expired or "too large resource version" retries at once with
//!   `resourceVersion=""`; a later page's 410 falls back to one unpaginated list;
//! - watches ask for bookmarks and a server timeout random in `[min, 2*min)` (5 to 10
//!   minutes); a watch ending in under a second without events is an error; an ERROR 410 ends
//!   the cycle and relists at the last version; 429 (honouring `retryAfterSeconds`) and a
//!   refused connection back off and re-watch; bookmarks move
//!   the resourceVersion and nothing else; objects of the wrong kind are dropped with a log line;
//! - streaming lists (`sendInitialEvents`) collect the initial events in a temporary map until
//!   the initial-events-end bookmark, replace the store at its version and keep the stream. A
//!   server that rejects the parameters, a stream that goes quiet (or sends an ordinary
//!   bookmark, or ends) before that bookmark, falls back to list and watch, and streaming is not
//!   tried again by this reflector.

mod backoff;
mod metrics;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use futures::{FutureExt, StreamExt};
use kinformer_client::watch::ListEvent;
use kinformer_meta::{ListMeta, ListOptions, Object, ResourceVersionMatch, TypeMeta, WatchEvent};
use rand::Rng;
use tokio::time::{sleep, sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::list_watch::{ListEventStream, ListWatch, WatchEventStream};
use crate::store::{key_of, meta_namespace_key_func, KeyFunc, Replacing, Store};

pub use backoff::BackoffConfig;
pub use metrics::{MetricsSnapshot, ReflectorMetrics};

use backoff::Backoff;

/// The page size of the first list, as client-go's.
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// A watch shorter than this without events is treated as an error.
const MIN_HEALTHY_WATCH: Duration = Duration::from_secs(1);

/// Called with every error that ends a list-and-watch cycle or a watch.
pub type WatchErrorHandler = Arc<dyn Fn(&Error) + Send + Sync>;

/// Asked on every resync tick: resync only when it returns true.
pub type ShouldResync = Arc<dyn Fn() -> bool + Send + Sync>;

/// Reflector settings, with chained setters.
pub struct ReflectorConfig<K> {
    name: String,
    page_size: u32,
    min_watch_timeout: Duration,
    resync_period: Option<Duration>,
    should_resync: Option<ShouldResync>,
    backoff: BackoffConfig,
    use_watch_list: bool,
    initial_events_timeout: Duration,
    idle_timeout: Option<Duration>,
    expected_type: Option<TypeMeta>,
    key_func: KeyFunc<K>,
    watch_error_handler: Option<WatchErrorHandler>,
}

impl<K: Object> Default for ReflectorConfig<K> {
    fn default() -> Self {
        ReflectorConfig {
            name: "reflector".to_owned(),
            page_size: DEFAULT_PAGE_SIZE,
            min_watch_timeout: Duration::from_secs(300),
            resync_period: None,
            should_resync: None,
            backoff: BackoffConfig::default(),
            use_watch_list: false,
            initial_events_timeout: Duration::from_secs(60),
            idle_timeout: None,
            expected_type: None,
            key_func: meta_namespace_key_func(),
            watch_error_handler: None,
        }
    }
}

impl<K> ReflectorConfig<K> {
    /// A name for log lines (default `reflector`).
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The page size of paginated lists (default 500; 0 lists unpaginated).
    pub fn page_size(mut self, page_size: u32) -> Self {
        self.page_size = page_size;
        self
    }

    /// The lower bound of the random watch timeout (default 5 minutes; the upper is twice it).
    pub fn min_watch_timeout(mut self, timeout: Duration) -> Self {
        self.min_watch_timeout = timeout;
        self
    }

    /// Calls the store's `resync` this often while watching (default never).
    pub fn resync_period(mut self, period: Duration) -> Self {
        self.resync_period = Some(period).filter(|p| !p.is_zero());
        self
    }

    /// Asked on each resync tick; the resync happens only when it returns true.
    pub fn should_resync(mut self, should_resync: ShouldResync) -> Self {
        self.should_resync = Some(should_resync);
        self
    }

    /// The backoff between failing cycles.
    pub fn backoff(mut self, backoff: BackoffConfig) -> Self {
        self.backoff = backoff;
        self
    }

    /// Streams the initial list with `sendInitialEvents` instead of listing (default off).
    pub fn use_watch_list(mut self, use_watch_list: bool) -> Self {
        self.use_watch_list = use_watch_list;
        self
    }

    /// How long a streaming list may go without an event before its initial-events-end
    /// bookmark; then the reflector falls back to list and watch (default 60 s). However busy
    /// the stream, the wait is capped at ten times this.
    pub fn initial_events_timeout(mut self, timeout: Duration) -> Self {
        self.initial_events_timeout = timeout;
        self
    }

    /// Reopens a watch that delivered nothing (not even a bookmark) for this long.
    pub fn idle_timeout(mut self, timeout: Duration) -> Self {
        self.idle_timeout = Some(timeout);
        self
    }

    /// Drops (and logs) watched objects whose apiVersion and kind differ from these.
    pub fn expected_type(mut self, type_meta: TypeMeta) -> Self {
        self.expected_type = Some(type_meta);
        self
    }

    /// The key function of streaming lists' temporary map (default `namespace/name`); use the
    /// store's.
    pub fn key_func(mut self, key_func: KeyFunc<K>) -> Self {
        self.key_func = key_func;
        self
    }

    /// Called with every error that ends a cycle or a watch (default: a log line).
    pub fn watch_error_handler(mut self, handler: WatchErrorHandler) -> Self {
        self.watch_error_handler = Some(handler);
        self
    }
}

/// Mirrors a resource into a store. See the module documentation for the rules.
pub struct Reflector<K> {
    list_watch: Arc<dyn ListWatch<K>>,
    store: Arc<dyn Store<K>>,
    config: ReflectorConfig<K>,
    state: Mutex<State>,
    metrics: Arc<ReflectorMetrics>,
}

#[derive(Default)]
struct State {
    last_sync_resource_version: String,
    /// The last version is known to be gone (410 or too large): relist from "".
    version_unavailable: bool,
    /// The server paginated a `resourceVersion=0` list, so relists keep paging.
    paginated_result: bool,
    /// Streaming lists failed in a way that will not heal: list and watch from now on.
    watch_list_disabled: bool,
    /// At least one list completed.
    listed: bool,
}

/// How many events the stream already holds go to the store in one batch at most.
const WATCH_BATCH: usize = 64;

/// One item of a watch stream.
type WatchItem<K> = Result<WatchEvent<K>, kinformer_client::Error>;

/// A batch of store writes ([`Store::begin_batch`]), ended when dropped.
struct WriteBatch<'a, K> {
    store: &'a dyn Store<K>,
    len: usize,
}

impl<'a, K> WriteBatch<'a, K> {
    fn new(store: &'a dyn Store<K>) -> Self {
        WriteBatch { store, len: 0 }
    }

    /// Writes in the batch so far (0: no batch open).
    fn len(&self) -> usize {
        self.len
    }

    /// Counts one more write, opening the batch on the first.
    fn begin(&mut self) {
        if self.len == 0 {
            self.store.begin_batch();
        }
        self.len += 1;
    }

    /// Ends the batch, if one is open.
    fn end(&mut self) {
        if self.len > 0 {
            self.store.end_batch();
            self.len = 0;
        }
    }
}

impl<K> Drop for WriteBatch<'_, K> {
    fn drop(&mut self) {
        self.end();
    }
}

/// How a watch ended when it did not end normally.
enum WatchEnd {
    /// Back off, then open a new watch at the last version.
    Rewatch(Error),
    /// End the cycle: back off and relist.
    Relist(Error),
}

impl<K: Object> Reflector<K> {
    /// A reflector that lists and watches through `list_watch` into `store`.
    pub fn new(
        list_watch: Arc<dyn ListWatch<K>>,
        store: Arc<dyn Store<K>>,
        config: ReflectorConfig<K>,
    ) -> Self {
        Reflector {
            list_watch,
            store,
            config,
            state: Mutex::new(State::default()),
            metrics: Arc::new(ReflectorMetrics::default()),
        }
    }

    /// The resourceVersion the store was last synchronised to (empty before the first list).
    pub fn last_sync_resource_version(&self) -> String {
        self.state().last_sync_resource_version.clone()
    }

    /// The reflector's counters.
    pub fn metrics(&self) -> &Arc<ReflectorMetrics> {
        &self.metrics
    }

    /// Lists and watches until `cancel` fires, backing off between failing cycles. Returns
    /// once cancelled, having dropped any open watch.
    pub async fn run(&self, cancel: CancellationToken) {
        let mut backoff = Backoff::new(self.config.backoff.clone());
        loop {
            let cycle = tokio::select! {
                biased;
                _ = cancel.cancelled() => return,
                result = self.list_and_watch(&mut backoff) => result,
            };
            if let Err(error) = cycle {
                self.report(&error);
            }
            let delay = backoff.next_delay();
            tokio::select! {
                biased;
                _ = cancel.cancelled() => return,
                _ = sleep(delay) => {}
            }
        }
    }

    /// One cycle: list (or stream the list), then watch until a watch fails.
    async fn list_and_watch(&self, backoff: &mut Backoff) -> Result<()> {
        let mut resume = None;
        if self.config.use_watch_list && !self.state().watch_list_disabled {
            match self.watch_list().await {
                Ok(stream) => resume = Some(stream),
                Err(error) => {
                    tracing::warn!(
                        reflector = %self.config.name,
                        %error,
                        "streaming list failed; falling back to list and watch"
                    );
                    self.metrics.error();
                    if disables_watch_list(&error) {
                        self.state().watch_list_disabled = true;
                    }
                }
            }
        }
        if resume.is_none() {
            self.list().await?;
        }
        self.watch_loop(resume, backoff).await
    }

    /// Lists everything and replaces the store's content.
    async fn list(&self) -> Result<()> {
        let (version, page_size) = {
            let state = self.state();
            if state.listed {
                self.metrics.relist();
            }
            let version = relist_resource_version(&state);
            let paginate = state.paginated_result || version.is_empty() || version == "0";
            (
                version,
                paginate.then_some(self.config.page_size).filter(|s| *s > 0),
            )
        };
        let options = ListOptions {
            resource_version: Some(version.clone()),
            limit: page_size,
            ..ListOptions::default()
        };
        let (list_version, paginated) = match self.list_pages(options).await {
            Ok(result) => result,
            Err(Error::ListFailed(error))
                if error.is_gone() || error.is_resource_version_too_large() =>
            {
                tracing::info!(
                    reflector = %self.config.name,
                    %error,
                    "resourceVersion {version:?} unavailable; listing the newest state"
                );
                self.state().version_unavailable = true;
                let options = ListOptions {
                    resource_version: Some(String::new()),
                    limit: Some(self.config.page_size).filter(|s| *s > 0),
                    ..ListOptions::default()
                };
                self.list_pages(options).await?
            }
            Err(error) => return Err(error),
        };
        let mut state = self.state();
        if version == "0" && paginated {
            state.paginated_result = true;
        }
        state.version_unavailable = false;
        state.listed = true;
        drop(state);
        self.set_resource_version(&list_version);
        Ok(())
    }

    /// Lists every page into a streaming replace of the store: each object goes to the store
    /// as it is decoded (waiting when the store asks for back-pressure), and the replace
    /// finishes, deleting what was not listed, only once the last page has ended. A list that
    /// fails half-way leaves the replace unfinished, so nothing is deleted. A later page's 410
    /// falls back to one unpaginated list in a fresh replace. Returns the list's
    /// resourceVersion and whether the server paginated it.
    async fn list_pages(&self, options: ListOptions) -> Result<(String, bool)> {
        let mut page_options = options.clone();
        let mut replacing = self.store.begin_replace();
        let mut version = None;
        let mut paginated = false;
        loop {
            self.metrics.list();
            let stream = match self.list_watch.list_stream(page_options.clone()).await {
                Ok(stream) => stream,
                Err(error) if error.is_gone() && page_options.continue_token.is_some() => {
                    tracing::info!(
                        reflector = %self.config.name,
                        "continue token expired while paging; listing without pages"
                    );
                    self.metrics.list();
                    let full = ListOptions {
                        limit: None,
                        continue_token: None,
                        ..options
                    };
                    // The pages read so far stay queued as they were listed; the deletions
                    // are decided by the full list alone.
                    drop(replacing);
                    replacing = self.store.begin_replace();
                    let stream = self
                        .list_watch
                        .list_stream(full)
                        .await
                        .map_err(Error::ListFailed)?;
                    let metadata = self.drain_page(stream, &mut *replacing).await?;
                    let version = metadata.resource_version.unwrap_or_default();
                    replacing
                        .finish(&version)
                        .map_err(|error| Error::StoreFailed(Box::new(error)))?;
                    return Ok((version, paginated));
                }
                Err(error) => return Err(Error::ListFailed(error)),
            };
            let metadata = self.drain_page(stream, &mut *replacing).await?;
            // A paginated list is one snapshot: the first page's version names it.
            if version.is_none() {
                version = Some(metadata.resource_version.unwrap_or_default());
            }
            match metadata.continue_token.filter(|token| !token.is_empty()) {
                Some(token) => {
                    paginated = true;
                    page_options.continue_token = Some(token);
                    // A continued list may not name a resourceVersion.
                    page_options.resource_version = None;
                    page_options.resource_version_match = None;
                }
                None => break,
            }
        }
        let version = version.unwrap_or_default();
        replacing
            .finish(&version)
            .map_err(|error| Error::StoreFailed(Box::new(error)))?;
        Ok((version, paginated))
    }

    /// Pushes one page's items into the replace as they arrive; returns the page's metadata.
    async fn drain_page(
        &self,
        mut stream: ListEventStream<K>,
        replacing: &mut (dyn Replacing<K> + '_),
    ) -> Result<ListMeta> {
        // As in a watch: items already decoded go to the store in one batch.
        let mut batch = WriteBatch::new(&*self.store);
        loop {
            let ready = if batch.len() > 0 && batch.len() < WATCH_BATCH {
                stream.next().now_or_never()
            } else {
                None
            };
            let event = match ready {
                Some(event) => event,
                None => {
                    batch.end();
                    stream.next().await
                }
            };
            let Some(event) = event else {
                return Err(Error::ListIncomplete);
            };
            batch.begin();
            match event.map_err(Error::ListFailed)? {
                ListEvent::Item(object) => {
                    replacing
                        .push(Arc::new(object))
                        .map_err(|error| Error::StoreFailed(Box::new(error)))?;
                    if let Some(room) = replacing.ready() {
                        batch.end();
                        room.await;
                    }
                }
                ListEvent::End(metadata) => return Ok(metadata),
            }
        }
    }

    /// Streams the initial list; on success returns the still-open stream.
    async fn watch_list(&self) -> Result<WatchEventStream<K>> {
        let version = {
            let state = self.state();
            if state.version_unavailable {
                String::new()
            } else {
                state.last_sync_resource_version.clone()
            }
        };
        let options = ListOptions {
            resource_version: Some(version),
            resource_version_match: Some(ResourceVersionMatch::NotOlderThan),
            send_initial_events: Some(true),
            allow_watch_bookmarks: true,
            timeout_seconds: Some(self.watch_timeout_seconds()),
            ..ListOptions::default()
        };
        self.metrics.watch();
        let mut stream = self
            .list_watch
            .watch(options)
            .await
            .map_err(Error::WatchStartFailed)?;
        let started = Instant::now();
        let idle = self.config.initial_events_timeout;
        let cap = started + idle * 10;
        let mut last_event = started;
        let mut initial: HashMap<Arc<str>, Arc<K>> = HashMap::new();
        loop {
            let deadline = (last_event + idle).min(cap);
            let item = tokio::select! {
                item = stream.next() => item,
                _ = sleep_until(deadline) => {
                    return Err(Error::InitialEventsTimeout {
                        waited: deadline.duration_since(started),
                    })
                }
            };
            last_event = Instant::now();
            let event = match item {
                None => return Err(Error::InitialEventsIncomplete),
                Some(Err(error)) => return Err(Error::WatchFailed(error)),
                Some(Ok(event)) => event,
            };
            match event {
                WatchEvent::Error(status) => {
                    return Err(Error::WatchFailed(kinformer_client::Error::Api(status)))
                }
                WatchEvent::Bookmark(bookmark) => {
                    if !bookmark.is_initial_events_end() {
                        // A server sends ordinary bookmarks only after the initial events, so
                        // their end marker was lost on the way (a proxy dropped it).
                        return Err(Error::InitialEventsIncomplete);
                    }
                    let objects = initial.into_values().collect();
                    self.store
                        .replace(objects, &bookmark.resource_version)
                        .map_err(|error| Error::StoreFailed(Box::new(error)))?;
                    {
                        let mut state = self.state();
                        state.version_unavailable = false;
                        state.listed = true;
                    }
                    self.set_resource_version(&bookmark.resource_version);
                    return Ok(stream);
                }
                WatchEvent::Added(object) | WatchEvent::Modified(object) => {
                    if self.is_expected_type(&object) {
                        self.metrics.event();
                        initial.insert(key_of(&self.config.key_func, &object)?, Arc::new(object));
                    }
                }
                WatchEvent::Deleted(object) => {
                    if self.is_expected_type(&object) {
                        self.metrics.event();
                        initial.remove(&key_of(&self.config.key_func, &object)?);
                    }
                }
            }
        }
    }

    /// Watches from the last version, re-watching after normal closes, until a watch fails.
    async fn watch_loop(
        &self,
        mut resume: Option<WatchEventStream<K>>,
        backoff: &mut Backoff,
    ) -> Result<()> {
        let mut next_resync = self.config.resync_period.map(|p| Instant::now() + p);
        loop {
            let (stream, started, initial_events) = match resume.take() {
                // The initial events of a streaming list count as events of this watch.
                Some(stream) => (stream, Instant::now(), 1),
                None => {
                    let options = ListOptions {
                        resource_version: Some(self.last_sync_resource_version()),
                        timeout_seconds: Some(self.watch_timeout_seconds()),
                        allow_watch_bookmarks: true,
                        ..ListOptions::default()
                    };
                    self.metrics.watch();
                    match self.list_watch.watch(options).await {
                        Ok(stream) => (stream, Instant::now(), 0),
                        Err(error) if watch_start_retriable(&error) => {
                            let delay = backoff.next_delay().max(retry_after(&error));
                            self.report(&Error::WatchStartFailed(error));
                            sleep(delay).await;
                            continue;
                        }
                        Err(error) => return Err(Error::WatchStartFailed(error)),
                    }
                }
            };
            match self
                .handle_watch(stream, started, initial_events, &mut next_resync)
                .await
            {
                Ok(()) => {}
                Err(WatchEnd::Rewatch(error)) => {
                    let delay = match &error {
                        Error::WatchFailed(cause) => retry_after(cause),
                        _ => Duration::ZERO,
                    };
                    self.report(&error);
                    sleep(backoff.next_delay().max(delay)).await;
                }
                Err(WatchEnd::Relist(error)) => return Err(error),
            }
        }
    }

    /// Applies one watch's events to the store until it ends.
    async fn handle_watch(
        &self,
        mut stream: WatchEventStream<K>,
        started: Instant,
        mut events: u64,
        next_resync: &mut Option<Instant>,
    ) -> Result<(), WatchEnd> {
        let mut last_activity = Instant::now();
        let mut batch = WriteBatch::new(&*self.store);
        loop {
            // Events the stream already holds (a chunk carries many) go to the store as one
            // batch, so its consumer is woken once for them; the batch ends before any wait.
            let ready = if batch.len() > 0 && batch.len() < WATCH_BATCH {
                stream.next().now_or_never()
            } else {
                None
            };
            let item = match ready {
                Some(item) => item,
                None => {
                    batch.end();
                    match self
                        .next_watch_item(&mut stream, next_resync, last_activity)
                        .await?
                    {
                        Some(item) => item,
                        // A resync tick.
                        None => continue,
                    }
                }
            };
            batch.begin();
            last_activity = Instant::now();
            let event = match item {
                None => break,
                Some(Ok(event)) => event,
                Some(Err(error)) => return Err(classify(error)),
            };
            let version = match event {
                WatchEvent::Error(status) => {
                    return Err(classify(kinformer_client::Error::Api(status)))
                }
                WatchEvent::Bookmark(bookmark) => Some(bookmark.resource_version),
                WatchEvent::Added(object) => self.apply(object, |s, o| s.add(o)),
                WatchEvent::Modified(object) => self.apply(object, |s, o| s.update(o)),
                WatchEvent::Deleted(object) => self.apply(object, |s, o| s.delete(o)),
            };
            // A dropped object (wrong kind) counts for nothing and moves nothing.
            let Some(version) = version else { continue };
            events += 1;
            self.metrics.event();
            if !version.is_empty() {
                self.set_resource_version(&version);
                self.store.update_resource_version(&version);
            }
        }
        let lasted = started.elapsed();
        if lasted < MIN_HEALTHY_WATCH && events == 0 {
            return Err(WatchEnd::Relist(Error::VeryShortWatch { duration: lasted }));
        }
        Ok(())
    }

    /// Waits for the stream's next item (`Some(None)` when it ended), running resync ticks
    /// (then `None`); a stream silent past the idle timeout ends the watch.
    async fn next_watch_item(
        &self,
        stream: &mut WatchEventStream<K>,
        next_resync: &mut Option<Instant>,
        last_activity: Instant,
    ) -> Result<Option<Option<WatchItem<K>>>, WatchEnd> {
        let far = Duration::from_secs(86_400 * 365);
        let resync_at = next_resync.unwrap_or_else(|| Instant::now() + far);
        let idle_at = last_activity + self.config.idle_timeout.unwrap_or(far);
        tokio::select! {
            item = stream.next() => Ok(Some(item)),
            _ = sleep_until(resync_at), if next_resync.is_some() => {
                self.resync();
                *next_resync = self.config.resync_period.map(|p| resync_at + p);
                Ok(None)
            }
            _ = sleep_until(idle_at), if self.config.idle_timeout.is_some() => {
                // A stalled stream is reopened at the last version, not relisted.
                Err(WatchEnd::Rewatch(Error::WatchIdle {
                    idle: idle_at.duration_since(last_activity),
                }))
            }
        }
    }

    /// Writes one watched object into the store; returns its resourceVersion, or `None` when
    /// the object was dropped for being of the wrong kind.
    fn apply(
        &self,
        object: K,
        write: impl FnOnce(&dyn Store<K>, Arc<K>) -> Result<()>,
    ) -> Option<String> {
        if !self.is_expected_type(&object) {
            return None;
        }
        let version = object
            .metadata()
            .resource_version()
            .unwrap_or_default()
            .to_owned();
        if let Err(error) = write(&*self.store, Arc::new(object)) {
            self.metrics.error();
            tracing::error!(reflector = %self.config.name, %error, "store update failed");
        }
        Some(version)
    }

    fn is_expected_type(&self, object: &K) -> bool {
        let Some(expected) = &self.config.expected_type else {
            return true;
        };
        let ok = object.kind() == expected.kind && object.api_version() == expected.api_version;
        if !ok {
            tracing::error!(
                reflector = %self.config.name,
                expected = %format!("{}/{}", expected.api_version, expected.kind),
                got = %format!("{}/{}", object.api_version(), object.kind()),
                "dropping watched object of the wrong kind"
            );
        }
        ok
    }

    fn resync(&self) {
        if self.config.should_resync.as_ref().is_some_and(|f| !f()) {
            return;
        }
        if let Err(error) = self.store.resync() {
            self.metrics.error();
            tracing::error!(reflector = %self.config.name, %error, "resync failed");
        }
    }

    fn report(&self, error: &Error) {
        self.metrics.error();
        match &self.config.watch_error_handler {
            Some(handler) => handler(error),
            None => tracing::warn!(reflector = %self.config.name, %error, "list and watch failed"),
        }
    }

    fn watch_timeout_seconds(&self) -> u32 {
        let min = self.config.min_watch_timeout.as_secs().max(1);
        rand::thread_rng().gen_range(min..2 * min) as u32
    }

    fn set_resource_version(&self, version: &str) {
        self.state().last_sync_resource_version = version.to_owned();
        self.metrics.resource_version(version);
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// client-go's `relistResourceVersion`: "" after a 410, "0" before the first list, else the
/// last seen version.
fn relist_resource_version(state: &State) -> String {
    if state.version_unavailable {
        String::new()
    } else if state.last_sync_resource_version.is_empty() {
        "0".to_owned()
    } else {
        state.last_sync_resource_version.clone()
    }
}

/// As client-go: a refused connection or a 429 backs off and retries the watch; other
/// failures to start a watch relist.
fn watch_start_retriable(error: &kinformer_client::Error) -> bool {
    error.is_too_many_requests() || matches!(error, kinformer_client::Error::Connect { .. })
}

/// The server's `retryAfterSeconds`, or zero.
fn retry_after(error: &kinformer_client::Error) -> Duration {
    let seconds = error
        .status()
        .and_then(|status| status.details.as_ref())
        .and_then(|details| details.retry_after_seconds)
        .unwrap_or(0);
    Duration::from_secs(u64::from(seconds))
}

/// 429 re-watches after a backoff; everything else (410 included) relists.
fn classify(error: kinformer_client::Error) -> WatchEnd {
    if error.is_too_many_requests() {
        WatchEnd::Rewatch(Error::WatchFailed(error))
    } else {
        WatchEnd::Relist(Error::WatchFailed(error))
    }
}

/// A server that rejects the streaming parameters, or a stream that never ends its initial
/// events, will not do better next time.
fn disables_watch_list(error: &Error) -> bool {
    match error {
        Error::WatchStartFailed(error) => error
            .status()
            .is_some_and(|status| matches!(status.code, 400 | 405 | 415 | 422)),
        Error::InitialEventsTimeout { .. } | Error::InitialEventsIncomplete => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
