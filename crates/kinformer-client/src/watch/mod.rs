//! Watch streams: a chunked HTTP body turned into a `Stream` of `Result<WatchEvent<K>>`.
//!
//! Start with [`WatchStream`]; [`decoder`] holds the framing ([`FrameDecoder`]) that the stream
//! runs on every chunk, and is usable without HTTP.
//!
//! What the stream yields:
//! - `Ok(WatchEvent::Added | Modified | Deleted)` with the object decoded straight from the
//!   event's bytes into `K`;
//! - `Ok(WatchEvent::Bookmark)` with the resourceVersion and annotations of the bookmark;
//! - `Ok(WatchEvent::Error(status))` for an ERROR frame (typically 410 Expired: relist). The
//!   caller decides; [`WatchConfig::error_events_as_errors`] turns it into `Err(Error::Api)`
//!   instead. The stream ends after an ERROR frame, as a server does.
//! - `Err(Error::WatchEventDecodeFailed)` for one frame that does not decode; the stream goes
//!   on with the next frame.
//! - `Err` for a framing error, a body error, a body that stops mid-event, or an idle timeout;
//!   the stream ends after it.
//!
//! With [`WatchConfig::parallel_decode`] (the default) a burst of events is cut at its
//! newlines and decoded in batches on tokio's blocking pool while the stream goes on reading
//! (see `parallel.rs`); what the stream yields, and in which order, is the same either way.

pub mod decoder;
pub mod list;
mod parallel;

use std::collections::VecDeque;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use kinformer_meta::WatchEvent;
use serde::de::DeserializeOwned;
use tokio::time::{Instant, Sleep};

use crate::error::{Error, Result};

pub use decoder::{FrameDecoder, WatchDecoder, DEFAULT_MAX_FRAME_BYTES};
pub use list::{ListDecoder, ListEvent, ListStream};

/// The margin added to a watch's `timeoutSeconds` before a silent stream counts as stalled.
pub const DEFAULT_IDLE_MARGIN: Duration = Duration::from_secs(30);

/// The longest a server keeps a watch open when the client sets no `timeoutSeconds` (the
/// apiserver picks a random value between its min-request-timeout, 30 min, and twice that).
pub const DEFAULT_SERVER_WATCH_TIMEOUT: Duration = Duration::from_secs(3600);

/// Settings of one watch stream.
#[derive(Clone, Debug)]
pub struct WatchConfig {
    max_frame_bytes: usize,
    idle_timeout: Option<Duration>,
    error_events_as_errors: bool,
    parallel_decode: bool,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            idle_timeout: Some(DEFAULT_SERVER_WATCH_TIMEOUT + DEFAULT_IDLE_MARGIN),
            error_events_as_errors: false,
            parallel_decode: true,
        }
    }
}

impl WatchConfig {
    /// The idle timeout for a watch the server ends after `timeout_seconds` (or its default
    /// when `None`), plus [`DEFAULT_IDLE_MARGIN`].
    pub fn for_server_timeout(timeout_seconds: Option<u32>) -> Self {
        let server = timeout_seconds.map_or(DEFAULT_SERVER_WATCH_TIMEOUT, |seconds| {
            Duration::from_secs(u64::from(seconds))
        });
        WatchConfig::default().idle_timeout(Some(server + DEFAULT_IDLE_MARGIN))
    }

    /// Sets the bound on one event's size in bytes.
    pub fn max_frame_bytes(mut self, bytes: usize) -> Self {
        self.max_frame_bytes = bytes;
        self
    }

    /// Sets how long the stream may receive nothing before it ends with
    /// [`Error::WatchIdleTimeout`]; `None` waits forever.
    pub fn idle_timeout(mut self, idle: Option<Duration>) -> Self {
        self.idle_timeout = idle;
        self
    }

    /// Yields ERROR frames as `Err(Error::Api(status))` instead of `Ok(WatchEvent::Error)`.
    pub fn error_events_as_errors(mut self, as_errors: bool) -> Self {
        self.error_events_as_errors = as_errors;
        self
    }

    /// Decodes bursts of frames in batches on tokio's blocking pool, at most two batches at a
    /// time, instead of one by one on the task that polls the stream (on by default).
    ///
    /// Events keep their order and everything the module docs list holds either way. A lone
    /// frame is decoded in place, so a quiet watch sees no extra latency; outside a tokio
    /// runtime every frame is.
    pub fn parallel_decode(mut self, parallel: bool) -> Self {
        self.parallel_decode = parallel;
        self
    }
}

/// The byte stream a watch reads from.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes>> + Send>>;

/// A stream of watch events decoded from a chunked body. See the module docs for what it yields.
pub struct WatchStream<K> {
    body: ByteStream,
    decoder: WatchDecoder<K>,
    config: WatchConfig,
    idle: Option<Pin<Box<Sleep>>>,
    done: bool,
    object_hook: Option<ObjectHook<K>>,
    /// Parallel decoding: events decoded and not yet yielded, in order.
    ready: VecDeque<Result<WatchEvent<K>>>,
    /// Parallel decoding: batches being decoded, oldest first.
    in_flight: VecDeque<parallel::Batch<K>>,
    /// Parallel decoding: the body ended (`None`) or failed (`Some`); reported once every
    /// earlier frame has been.
    body_end: Option<Option<Error>>,
    /// Parallel decoding: lines cut and not yet dispatched, and their total size.
    staged: Vec<decoder::Line>,
    staged_bytes: usize,
    _kind: PhantomData<fn() -> K>,
}

// Nothing in the stream is ever pinned in place (the body and the timer are boxed), so it may
// move whatever `K` is.
impl<K> Unpin for WatchStream<K> {}

/// A function applied to every decoded object (the dynamic client fills kind/apiVersion).
type ObjectHook<K> = Arc<dyn Fn(&mut K) + Send + Sync>;

impl<K> std::fmt::Debug for WatchStream<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchStream")
            .field("config", &self.config)
            .field("buffered", &self.decoder.buffered_len())
            .field("done", &self.done)
            .finish()
    }
}

impl<K: DeserializeOwned> WatchStream<K> {
    /// A watch over a stream of body chunks.
    pub fn new(
        body: impl Stream<Item = Result<Bytes>> + Send + 'static,
        config: WatchConfig,
    ) -> Self {
        WatchStream {
            body: Box::pin(body),
            decoder: WatchDecoder::new(config.max_frame_bytes),
            config,
            idle: None,
            done: false,
            object_hook: None,
            ready: VecDeque::new(),
            in_flight: VecDeque::new(),
            body_end: None,
            staged: Vec::new(),
            staged_bytes: 0,
            _kind: PhantomData,
        }
    }

    /// Applies `hook` to the object of every ADDED, MODIFIED and DELETED event.
    pub fn with_object_hook(mut self, hook: impl Fn(&mut K) + Send + Sync + 'static) -> Self {
        self.object_hook = Some(Arc::new(hook));
        self
    }

    /// A watch over an HTTP body; trailers are ignored.
    pub fn from_body<B>(body: B, config: WatchConfig) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Error>,
    {
        use futures::TryStreamExt;
        let chunks = http_body_util::BodyDataStream::new(body).map_err(Into::into);
        WatchStream::new(chunks, config)
    }

    /// Bytes received and not yet cut into events (at most the frame bound plus one chunk);
    /// with parallel decoding, lines handed to the blocking pool are no longer counted.
    pub fn buffered_len(&self) -> usize {
        self.decoder.buffered_len()
    }

    fn finish_with(&mut self, item: Result<WatchEvent<K>>) -> Poll<Option<Result<WatchEvent<K>>>> {
        self.done = true;
        self.idle = None;
        self.ready.clear();
        self.staged.clear();
        // Batches still decoding finish on their own; their results are dropped.
        self.in_flight.clear();
        Poll::Ready(Some(item))
    }

    /// Yields a decoded event; an ERROR frame ends the stream.
    fn emit(&mut self, item: Result<WatchEvent<K>>) -> Poll<Option<Result<WatchEvent<K>>>> {
        match item {
            Ok(WatchEvent::Error(status)) => {
                let item = if self.config.error_events_as_errors {
                    Err(Error::Api(status))
                } else {
                    Ok(WatchEvent::Error(status))
                };
                self.finish_with(item)
            }
            other => Poll::Ready(Some(other)),
        }
    }

    /// Waits for the next chunk with the idle timeout running.
    fn poll_idle(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<WatchEvent<K>>>> {
        let Some(idle) = self.config.idle_timeout else {
            return Poll::Pending;
        };
        let sleep = self
            .idle
            .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => self.finish_with(Err(Error::WatchIdleTimeout(idle))),
            Poll::Pending => Poll::Pending,
        }
    }

    fn reset_idle(&mut self) {
        if let (Some(sleep), Some(idle)) = (self.idle.as_mut(), self.config.idle_timeout) {
            sleep.as_mut().reset(Instant::now() + idle);
        }
    }
}

impl<K: DeserializeOwned + Send + 'static> Stream for WatchStream<K> {
    type Item = Result<WatchEvent<K>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        if this.config.parallel_decode {
            return this.poll_parallel(cx);
        }
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            match this.decoder.next_event() {
                Some(Err(error)) if this.decoder.has_failed() => {
                    return this.finish_with(Err(error))
                }
                Some(Ok(mut event)) => {
                    apply_hook(this.object_hook.as_deref(), &mut event);
                    return this.emit(Ok(event));
                }
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => {}
            }
            match this.body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    this.decoder.push(&chunk);
                    this.reset_idle();
                }
                Poll::Ready(Some(Err(error))) => return this.finish_with(Err(error)),
                Poll::Ready(None) => {
                    this.done = true;
                    this.idle = None;
                    return match this.decoder.finish() {
                        Ok(()) => Poll::Ready(None),
                        Err(error) => Poll::Ready(Some(Err(error))),
                    };
                }
                Poll::Pending => return this.poll_idle(cx),
            }
        }
    }
}

/// Applies the object hook to the object of an ADDED, MODIFIED or DELETED event.
fn apply_hook<K>(hook: Option<&(dyn Fn(&mut K) + Send + Sync)>, event: &mut WatchEvent<K>) {
    if let Some(hook) = hook {
        if let WatchEvent::Added(object)
        | WatchEvent::Modified(object)
        | WatchEvent::Deleted(object) = event
        {
            hook(object);
        }
    }
}

#[cfg(test)]
mod tests;
