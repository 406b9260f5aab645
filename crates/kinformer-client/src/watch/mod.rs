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

pub mod decoder;
pub mod list;

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
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
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            max_frame_bytes: DEFAULT_MAX_FRAME_BYTES,
            idle_timeout: Some(DEFAULT_SERVER_WATCH_TIMEOUT + DEFAULT_IDLE_MARGIN),
            error_events_as_errors: false,
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
    _kind: PhantomData<fn() -> K>,
}

/// A function applied to every decoded object (the dynamic client fills kind/apiVersion).
type ObjectHook<K> = Box<dyn Fn(&mut K) + Send + Sync>;

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
            _kind: PhantomData,
        }
    }

    /// Applies `hook` to the object of every ADDED, MODIFIED and DELETED event.
    pub fn with_object_hook(mut self, hook: impl Fn(&mut K) + Send + Sync + 'static) -> Self {
        self.object_hook = Some(Box::new(hook));
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

    /// Bytes received and not yet decoded (at most the frame bound plus one chunk).
    pub fn buffered_len(&self) -> usize {
        self.decoder.buffered_len()
    }

    fn finish_with(&mut self, item: Result<WatchEvent<K>>) -> Poll<Option<Result<WatchEvent<K>>>> {
        self.done = true;
        self.idle = None;
        Poll::Ready(Some(item))
    }

    fn reset_idle(&mut self) {
        if let (Some(sleep), Some(idle)) = (self.idle.as_mut(), self.config.idle_timeout) {
            sleep.as_mut().reset(Instant::now() + idle);
        }
    }
}

impl<K: DeserializeOwned> Stream for WatchStream<K> {
    type Item = Result<WatchEvent<K>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            match this.decoder.next_event() {
                Some(Ok(WatchEvent::Error(status))) => {
                    let item = if this.config.error_events_as_errors {
                        Err(Error::Api(status))
                    } else {
                        Ok(WatchEvent::Error(status))
                    };
                    return this.finish_with(item);
                }
                Some(Err(error)) if this.decoder.has_failed() => {
                    return this.finish_with(Err(error))
                }
                Some(Ok(mut event)) => {
                    if let Some(hook) = &this.object_hook {
                        if let WatchEvent::Added(object)
                        | WatchEvent::Modified(object)
                        | WatchEvent::Deleted(object) = &mut event
                        {
                            hook(object);
                        }
                    }
                    return Poll::Ready(Some(Ok(event)));
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
                Poll::Pending => {
                    let Some(idle) = this.config.idle_timeout else {
                        return Poll::Pending;
                    };
                    let sleep = this
                        .idle
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep(idle)));
                    return match sleep.as_mut().poll(cx) {
                        Poll::Ready(()) => this.finish_with(Err(Error::WatchIdleTimeout(idle))),
                        Poll::Pending => Poll::Pending,
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
