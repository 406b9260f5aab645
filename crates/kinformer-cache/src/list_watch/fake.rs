//! `FakeListWatch`: an in-memory resource with resourceVersions, a watch history, live
//! watches and scripted faults, for reflector and informer tests.
//!
//! Changes made through [`FakeListWatch::create`], [`FakeListWatch::update`] and
//! [`FakeListWatch::delete`] get the next resourceVersion and reach every open watch. Faults are
//! scripted ahead ([`FakeListWatch::fail_next_list`]) or injected into open watches
//! ([`FakeListWatch::close_watches`], [`FakeListWatch::send_error`]). Every request is recorded
//! with its options and the (tokio) time it arrived, so tests can assert what was asked when.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use futures::channel::mpsc::{unbounded, UnboundedSender};
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use kinformer_meta::status::reason;
use kinformer_meta::{
    meta_namespace_key, Bookmark, ListMeta, ListOptions, Object, ObjectList, Status, StatusCause,
    StatusDetails, StringMap, WatchEvent,
};
use tokio::time::Instant;

use super::{ListWatch, WatchEventStream};

type ClientResult<T> = Result<T, kinformer_client::Error>;

/// Which call a recorded request was.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FakeVerb {
    /// A list (one page).
    List,
    /// A watch.
    Watch,
}

/// One request the fake received.
#[derive(Clone, Debug, PartialEq)]
pub struct FakeRequest {
    /// List or watch.
    pub verb: FakeVerb,
    /// The options as sent.
    pub options: ListOptions,
    /// When it arrived, on tokio's clock.
    pub at: Instant,
}

/// An in-memory resource that lists and watches like an API server. Clones share the state.
pub struct FakeListWatch<K> {
    state: Arc<Mutex<State<K>>>,
}

impl<K> Clone for FakeListWatch<K> {
    fn clone(&self) -> Self {
        FakeListWatch {
            state: self.state.clone(),
        }
    }
}

struct Watcher<K> {
    sender: UnboundedSender<ClientResult<WatchEvent<K>>>,
    bookmarks: bool,
}

struct State<K> {
    objects: BTreeMap<String, K>,
    resource_version: u64,
    /// Events newer than `compacted`, oldest first.
    history: Vec<(u64, WatchEvent<K>)>,
    /// Watches may start at versions >= this; older ones get 410.
    compacted: u64,
    watchers: Vec<Watcher<K>>,
    /// Snapshots kept for paginated lists, by list resourceVersion.
    snapshots: HashMap<u64, Vec<K>>,
    list_errors: VecDeque<Status>,
    continue_errors: VecDeque<Status>,
    watch_errors: VecDeque<Status>,
    stall_next_watches: usize,
    refuse_next_watches: usize,
    stalled: Vec<UnboundedSender<ClientResult<WatchEvent<K>>>>,
    watch_list_supported: bool,
    drop_initial_events_end: bool,
    requests: Vec<FakeRequest>,
}

impl<K: Object> Default for FakeListWatch<K> {
    fn default() -> Self {
        FakeListWatch {
            state: Arc::new(Mutex::new(State {
                objects: BTreeMap::new(),
                resource_version: 1,
                history: Vec::new(),
                compacted: 0,
                watchers: Vec::new(),
                snapshots: HashMap::new(),
                list_errors: VecDeque::new(),
                continue_errors: VecDeque::new(),
                watch_errors: VecDeque::new(),
                stall_next_watches: 0,
                refuse_next_watches: 0,
                stalled: Vec::new(),
                watch_list_supported: true,
                drop_initial_events_end: false,
                requests: Vec::new(),
            })),
        }
    }
}

/// A failure Status as a server sends it: 410 Expired.
pub fn expired() -> Status {
    Status::failure(410, reason::EXPIRED, "too old resource version")
}

/// A 504 "Too large resource version" Status.
pub fn too_large_resource_version() -> Status {
    Status::failure(504, reason::TIMEOUT, "Too large resource version").with_details(
        StatusDetails {
            causes: vec![StatusCause {
                reason: Some("ResourceVersionTooLarge".into()),
                message: Some("Too large resource version".into()),
                field: None,
            }],
            retry_after_seconds: Some(1),
            ..StatusDetails::default()
        },
    )
}

/// A 429 TooManyRequests Status.
pub fn too_many_requests() -> Status {
    Status::failure(429, reason::TOO_MANY_REQUESTS, "too many requests")
}

/// A 500 InternalError Status.
pub fn internal_error() -> Status {
    Status::failure(500, reason::INTERNAL_ERROR, "internal error")
}

/// A 400 BadRequest Status (what an old server says to unknown watch-list parameters).
pub fn bad_request() -> Status {
    Status::failure(400, reason::BAD_REQUEST, "unsupported parameters")
}

fn api_error(status: Status) -> kinformer_client::Error {
    kinformer_client::Error::Api(Box::new(status))
}

impl<K: Object> FakeListWatch<K> {
    /// An empty resource at resourceVersion 1.
    pub fn new() -> Self {
        FakeListWatch::default()
    }

    /// Creates (or overwrites) an object; returns it with its new resourceVersion.
    pub fn create(&self, object: K) -> K {
        self.change(object, false)
    }

    /// Updates an object (creating it if absent); returns it with its new resourceVersion.
    pub fn update(&self, object: K) -> K {
        self.change(object, true)
    }

    /// Deletes the object under `key`; returns its final state when it existed.
    pub fn delete(&self, key: &str) -> Option<K> {
        let mut state = self.lock();
        let mut object = state.objects.remove(key)?;
        state.resource_version += 1;
        let version = state.resource_version;
        object.metadata_mut().resource_version = Some(version.to_string());
        state.publish(version, WatchEvent::Deleted(object.clone()));
        Some(object)
    }

    /// The current objects, by key.
    pub fn objects(&self) -> BTreeMap<String, K> {
        self.lock().objects.clone()
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.lock().resource_version
    }

    /// Forgets the watch history: watches from older versions now get 410.
    pub fn compact(&self) {
        let mut state = self.lock();
        state.compacted = state.resource_version;
        state.history.clear();
        state.snapshots.clear();
    }

    /// Sends a BOOKMARK at the current version to every watch that asked for bookmarks.
    pub fn bookmark(&self) {
        let mut state = self.lock();
        let bookmark = Bookmark {
            resource_version: state.resource_version.to_string(),
            annotations: StringMap::new(),
        };
        state.watchers.retain(|watcher| {
            !watcher.bookmarks
                || watcher
                    .sender
                    .unbounded_send(Ok(WatchEvent::Bookmark(bookmark.clone())))
                    .is_ok()
        });
    }

    /// Sends an arbitrary event to every open watch (for example an object of another kind).
    pub fn send_event(&self, event: WatchEvent<K>) {
        let mut state = self.lock();
        state
            .watchers
            .retain(|watcher| watcher.sender.unbounded_send(Ok(event.clone())).is_ok());
    }

    /// Ends every open watch normally (stalled ones too).
    pub fn close_watches(&self) {
        let mut state = self.lock();
        state.watchers.clear();
        state.stalled.clear();
    }

    /// Sends an ERROR event with `status` to every open watch, then ends them.
    pub fn send_error(&self, status: Status) {
        let mut state = self.lock();
        for watcher in state.watchers.drain(..) {
            let _ = watcher
                .sender
                .unbounded_send(Ok(WatchEvent::Error(Box::new(status.clone()))));
        }
    }

    /// Breaks every open watch with a transport error carrying `status`.
    pub fn break_watches(&self, status: Status) {
        let mut state = self.lock();
        for watcher in state.watchers.drain(..) {
            let _ = watcher
                .sender
                .unbounded_send(Err(api_error(status.clone())));
        }
    }

    /// The next list request (first page or unpaginated) fails with `status`.
    pub fn fail_next_list(&self, status: Status) {
        self.lock().list_errors.push_back(status);
    }

    /// The next list request that carries a continue token fails with `status`.
    pub fn fail_next_continue(&self, status: Status) {
        self.lock().continue_errors.push_back(status);
    }

    /// The next watch request fails with `status`.
    pub fn fail_next_watch(&self, status: Status) {
        self.lock().watch_errors.push_back(status);
    }

    /// The next watch request fails as if the server refused the connection.
    pub fn refuse_next_watch(&self) {
        self.lock().refuse_next_watches += 1;
    }

    /// The next `count` watches open but never deliver anything, nor close.
    pub fn stall_next_watches(&self, count: usize) {
        self.lock().stall_next_watches += count;
    }

    /// Drops every scripted fault not yet used (list, continue and watch errors, stalls).
    pub fn clear_faults(&self) {
        let mut state = self.lock();
        state.list_errors.clear();
        state.continue_errors.clear();
        state.watch_errors.clear();
        state.stall_next_watches = 0;
        state.refuse_next_watches = 0;
    }

    /// Whether watches accept `sendInitialEvents` (default true); when not, they answer 400.
    pub fn support_watch_list(&self, supported: bool) {
        self.lock().watch_list_supported = supported;
    }

    /// Leaves out the initial-events-end bookmark of streaming lists (a misbehaving proxy).
    pub fn drop_initial_events_end(&self, drop: bool) {
        self.lock().drop_initial_events_end = drop;
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<FakeRequest> {
        self.lock().requests.clone()
    }

    /// The requests of one verb received so far.
    pub fn requests_of(&self, verb: FakeVerb) -> Vec<FakeRequest> {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.verb == verb)
            .cloned()
            .collect()
    }

    /// Number of watches currently open.
    pub fn open_watches(&self) -> usize {
        let mut state = self.lock();
        state.watchers.retain(|w| !w.sender.is_closed());
        state.watchers.len()
    }

    fn change(&self, mut object: K, update: bool) -> K {
        let mut state = self.lock();
        state.resource_version += 1;
        let version = state.resource_version;
        object.metadata_mut().resource_version = Some(version.to_string());
        let key = meta_namespace_key(object.metadata());
        let existed = state.objects.insert(key, object.clone()).is_some();
        let event = if existed || update {
            WatchEvent::Modified(object.clone())
        } else {
            WatchEvent::Added(object.clone())
        };
        state.publish(version, event);
        object
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State<K>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn serve_list(&self, options: ListOptions) -> ClientResult<ObjectList<K>> {
        let mut state = self.lock();
        state.requests.push(FakeRequest {
            verb: FakeVerb::List,
            options: options.clone(),
            at: Instant::now(),
        });
        let current = state.resource_version;
        let (snapshot_version, offset) = match &options.continue_token {
            Some(token) => {
                if let Some(status) = state.continue_errors.pop_front() {
                    return Err(api_error(status));
                }
                let (version, offset) = parse_token(token).ok_or_else(|| {
                    api_error(Status::failure(
                        400,
                        reason::BAD_REQUEST,
                        "bad continue token",
                    ))
                })?;
                if version < state.compacted || !state.snapshots.contains_key(&version) {
                    return Err(api_error(expired()));
                }
                (version, offset)
            }
            None => {
                if let Some(status) = state.list_errors.pop_front() {
                    return Err(api_error(status));
                }
                match options.resource_version.as_deref() {
                    None | Some("") | Some("0") => {}
                    Some(text) => match text.parse::<u64>() {
                        Ok(version) if version > current => {
                            return Err(api_error(too_large_resource_version()))
                        }
                        Ok(version) if version < state.compacted => {
                            return Err(api_error(expired()))
                        }
                        Ok(_) => {}
                        Err(_) => {
                            return Err(api_error(Status::failure(
                                400,
                                reason::BAD_REQUEST,
                                "invalid resourceVersion",
                            )))
                        }
                    },
                }
                let snapshot: Vec<K> = state.objects.values().cloned().collect();
                state.snapshots.insert(current, snapshot);
                (current, 0)
            }
        };
        let snapshot = state
            .snapshots
            .get(&snapshot_version)
            .cloned()
            .unwrap_or_default();
        let limit = options.limit.filter(|l| *l > 0).map(|l| l as usize);
        let end = limit.map_or(snapshot.len(), |l| (offset + l).min(snapshot.len()));
        let items = snapshot[offset.min(end)..end].to_vec();
        let continue_token = (end < snapshot.len()).then(|| format!("{snapshot_version}:{end}"));
        Ok(ObjectList {
            metadata: ListMeta {
                resource_version: Some(snapshot_version.to_string()),
                continue_token,
                ..ListMeta::default()
            },
            items,
        })
    }

    fn serve_watch(&self, options: ListOptions) -> ClientResult<WatchEventStream<K>> {
        let mut state = self.lock();
        state.requests.push(FakeRequest {
            verb: FakeVerb::Watch,
            options: options.clone(),
            at: Instant::now(),
        });
        if let Some(status) = state.watch_errors.pop_front() {
            return Err(api_error(status));
        }
        if state.refuse_next_watches > 0 {
            state.refuse_next_watches -= 1;
            return Err(kinformer_client::Error::Connect {
                server: "fake".into(),
                reason: "connection refused".into(),
                source: Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
            });
        }
        let (sender, receiver) = unbounded();
        if state.stall_next_watches > 0 {
            state.stall_next_watches -= 1;
            // The sender is kept but never used: the watch stays open and silent until
            // `close_watches`.
            state.stalled.push(sender);
            return Ok(receiver.boxed());
        }
        let send = |event| {
            let _ = sender.unbounded_send(Ok(event));
        };
        if options.send_initial_events == Some(true) {
            if !state.watch_list_supported {
                return Err(api_error(bad_request()));
            }
            for object in state.objects.values() {
                send(WatchEvent::Added(object.clone()));
            }
            if !state.drop_initial_events_end {
                send(WatchEvent::Bookmark(Bookmark {
                    resource_version: state.resource_version.to_string(),
                    annotations: StringMap::from([(
                        kinformer_meta::watch::INITIAL_EVENTS_END_ANNOTATION,
                        "true",
                    )]),
                }));
            }
        } else {
            match options.resource_version.as_deref() {
                None | Some("") | Some("0") => {
                    for object in state.objects.values() {
                        send(WatchEvent::Added(object.clone()));
                    }
                }
                Some(text) => {
                    let start: u64 = text.parse().map_err(|_| {
                        api_error(Status::failure(
                            400,
                            reason::BAD_REQUEST,
                            "invalid resourceVersion",
                        ))
                    })?;
                    if start < state.compacted {
                        // A real server starts the watch and sends 410 as its first event.
                        send(WatchEvent::Error(Box::new(expired())));
                        return Ok(receiver.boxed());
                    }
                    for (version, event) in &state.history {
                        if *version > start {
                            send(event.clone());
                        }
                    }
                }
            }
        }
        state.watchers.push(Watcher {
            sender,
            bookmarks: options.allow_watch_bookmarks,
        });
        Ok(receiver.boxed())
    }
}

impl<K> State<K>
where
    K: Clone,
{
    fn publish(&mut self, version: u64, event: WatchEvent<K>) {
        self.history.push((version, event.clone()));
        self.watchers
            .retain(|watcher| watcher.sender.unbounded_send(Ok(event.clone())).is_ok());
    }
}

fn parse_token(token: &str) -> Option<(u64, usize)> {
    let (version, offset) = token.split_once(':')?;
    Some((version.parse().ok()?, offset.parse().ok()?))
}

impl<K: Object> ListWatch<K> for FakeListWatch<K> {
    fn list(&self, options: ListOptions) -> BoxFuture<'static, ClientResult<ObjectList<K>>> {
        let result = self.serve_list(options);
        async move { result }.boxed()
    }

    fn watch(&self, options: ListOptions) -> BoxFuture<'static, ClientResult<WatchEventStream<K>>> {
        let result = self.serve_watch(options);
        async move { result }.boxed()
    }
}
