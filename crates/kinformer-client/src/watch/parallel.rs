//! Parallel decoding for [`WatchStream`]: the task that polls the stream only cuts the body
//! at newlines (a memchr, as a server ends every event with one) and the lines are decoded in
//! batches on tokio's blocking pool, so a burst of events uses a second core for serde_json
//! while the first reads the body and hands out events.
//!
//! A line is taken for one event until decoding proves otherwise: a line that does not decode
//! and is not exactly one brace-framed value (a pretty-printed event, two events on one line)
//! is put back, with every line after it, and framed by the in-place decoder's brace scan;
//! values without a newline, framing errors and the end of the body also go through the
//! in-place decoder, once nothing is decoding. Order is kept by a queue of batches: only the
//! oldest batch's events are yielded, and only once it is done; whatever ends the stream comes
//! after every event before it. So the stream says exactly what it says decoding in place.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::BytesMut;
use kinformer_meta::WatchEvent;
use serde::de::DeserializeOwned;
use tokio::task::JoinHandle;

use super::decoder::{decode_bytes, one_value, Line};
use super::{apply_hook, WatchStream};
use crate::error::{Error, Result};

/// The most lines one batch holds.
const MAX_BATCH_LINES: usize = 64;

/// A batch stops taking lines once it holds this many bytes.
const MAX_BATCH_BYTES: usize = 512 * 1024;

/// The most batches decoding at once.
const MAX_IN_FLIGHT: usize = 4;

/// Lines being decoded on the blocking pool, and their bytes in case they must be framed
/// again.
pub(super) struct Batch<K> {
    job: JoinHandle<Decoded<K>>,
    lines: Vec<Line>,
}

/// What decoding a batch of lines gave.
pub(super) struct Decoded<K> {
    /// One result per line, in order, up to `stopped_at`.
    events: Vec<Result<WatchEvent<K>>>,
    /// The first line that is not exactly one value (a pretty-printed value's first line, or
    /// two values on one line): it and the lines after it are framed again by the brace scan.
    stopped_at: Option<usize>,
}

impl<K: DeserializeOwned + Send + 'static> WatchStream<K> {
    /// `poll_next` with parallel decoding (see the module documentation).
    pub(super) fn poll_parallel(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<WatchEvent<K>>>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            if let Some(finished) = self.harvest(cx) {
                return finished;
            }
            if let Some(item) = self.ready.pop_front() {
                return self.emit(item);
            }
            let body_pending = self.fill(cx);
            if let Some(item) = self.ready.pop_front() {
                return self.emit(item);
            }
            if !self.in_flight.is_empty() {
                // A batch dispatched just now has not been polled yet: poll it before waiting.
                if let Some(finished) = self.harvest(cx) {
                    return finished;
                }
                // Still decoding: the oldest batch wakes this task. (A batch that stopped at a
                // line to frame again has emptied the queue: go on in place.)
                if self.ready.is_empty() && !self.in_flight.is_empty() {
                    return Poll::Pending;
                }
                continue;
            }
            // Nothing is decoding and no whole line is buffered: one step of the in-place
            // decoder, which frames values without newlines and reports framing errors.
            match self.decoder.next_event() {
                Some(Err(error)) if self.decoder.has_failed() => {
                    return self.finish_with(Err(error))
                }
                Some(Ok(mut event)) => {
                    apply_hook(self.object_hook.as_deref(), &mut event);
                    return self.emit(Ok(event));
                }
                Some(Err(error)) => return Poll::Ready(Some(Err(error))),
                None => {}
            }
            if let Some(end) = self.body_end.take() {
                self.done = true;
                self.idle = None;
                return Poll::Ready(match end {
                    Some(error) => Some(Err(error)),
                    None => self.decoder.finish().err().map(Err),
                });
            }
            if self.decoder.frames_mut().line_blocked() {
                // The in-place decoder needs the next chunk, which `fill` leaves to it.
                match self.body.as_mut().poll_next(cx) {
                    Poll::Ready(Some(Ok(chunk))) => {
                        self.decoder.push(&chunk);
                        self.reset_idle();
                    }
                    Poll::Ready(Some(Err(error))) => self.body_end = Some(Some(error)),
                    Poll::Ready(None) => self.body_end = Some(None),
                    Poll::Pending => return self.poll_idle(cx),
                }
                continue;
            }
            if body_pending {
                return self.poll_idle(cx);
            }
        }
    }

    /// Moves the events of the oldest batches that are done into `ready`; `Some` when the
    /// stream ends here.
    fn harvest(&mut self, cx: &mut Context<'_>) -> Option<Poll<Option<Result<WatchEvent<K>>>>> {
        while let Some(batch) = self.in_flight.front_mut() {
            let Poll::Ready(joined) = Pin::new(&mut batch.job).poll(cx) else {
                break;
            };
            let Some(batch) = self.in_flight.pop_front() else {
                break;
            };
            match joined {
                Ok(decoded) => self.absorb(decoded, &batch.lines),
                // The object hook panicked: the panic goes on, as when decoding in place.
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                // The runtime is shutting down under the stream.
                Err(error) => return Some(self.finish_with(Err(Error::ReadBody(error.into())))),
            }
        }
        None
    }

    /// Takes a decoded batch's events; when it stopped at a line that is not one value, puts
    /// that line and every line after it back into the decoder, to be framed by braces.
    fn absorb(&mut self, decoded: Decoded<K>, lines: &[Line]) {
        self.ready.extend(decoded.events);
        let Some(stopped_at) = decoded.stopped_at else {
            return;
        };
        let later: Vec<Batch<K>> = self.in_flight.drain(..).collect();
        let staged = std::mem::take(&mut self.staged);
        self.staged_bytes = 0;
        let rest = lines[stopped_at..]
            .iter()
            .chain(later.iter().flat_map(|batch| batch.lines.iter()))
            .chain(staged.iter());
        let mut bytes = BytesMut::new();
        for line in rest.clone() {
            bytes.extend_from_slice(&line.raw);
        }
        // Batches after it were decoded for nothing; they finish on their own.
        drop(later);
        let offset = lines[stopped_at].offset;
        self.decoder.frames_mut().unshift(&bytes, offset);
    }

    /// Reads the body and cuts whole lines into batches for the blocking pool, until the body
    /// has nothing more now (true), it ended, enough batches are in flight, or the value at the
    /// front needs the in-place decoder; then dispatches what is staged.
    fn fill(&mut self, cx: &mut Context<'_>) -> bool {
        let mut body_pending = false;
        while self.in_flight.len() < MAX_IN_FLIGHT {
            self.stage_lines();
            if self.staged.len() >= MAX_BATCH_LINES || self.staged_bytes >= MAX_BATCH_BYTES {
                self.dispatch();
                continue;
            }
            if self.body_end.is_some() {
                break;
            }
            // The in-place decoder takes it from here, one chunk at a time, as it would alone.
            if self.decoder.frames_mut().line_blocked() {
                break;
            }
            match self.body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => {
                    self.decoder.push(&chunk);
                    self.reset_idle();
                }
                Poll::Ready(Some(Err(error))) => self.body_end = Some(Some(error)),
                Poll::Ready(None) => self.body_end = Some(None),
                Poll::Pending => {
                    body_pending = true;
                    break;
                }
            }
        }
        if !self.staged.is_empty() && self.in_flight.len() < MAX_IN_FLIGHT {
            self.dispatch();
        }
        body_pending
    }

    /// Cuts the whole lines buffered now into the staged batch, up to its bounds.
    fn stage_lines(&mut self) {
        let frames = self.decoder.frames_mut();
        while self.staged.len() < MAX_BATCH_LINES && self.staged_bytes < MAX_BATCH_BYTES {
            let Some(line) = frames.take_line() else {
                break;
            };
            self.staged_bytes += line.raw.len();
            self.staged.push(line);
        }
    }

    /// Decodes the staged batch: in place when it is one line and the caller has nothing
    /// else to take (or when there is no runtime), on the blocking pool otherwise.
    fn dispatch(&mut self) {
        let lines = std::mem::take(&mut self.staged);
        self.staged_bytes = 0;
        let hook = self.object_hook.clone();
        let alone = lines.len() == 1 && self.in_flight.is_empty() && self.ready.is_empty();
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) if !alone => {
                let job_lines = lines.clone();
                let job = runtime.spawn_blocking(move || decode_lines(&job_lines, hook.as_deref()));
                self.in_flight.push_back(Batch { job, lines });
            }
            _ => {
                let decoded = decode_lines(&lines, hook.as_deref());
                self.absorb(decoded, &lines);
            }
        }
    }
}

/// Decodes lines into events, in order, with the object hook applied; stops at the first
/// line that is not exactly one value.
fn decode_lines<K: DeserializeOwned>(
    lines: &[Line],
    hook: Option<&(dyn Fn(&mut K) + Send + Sync)>,
) -> Decoded<K> {
    let mut events = Vec::with_capacity(lines.len());
    for (at, line) in lines.iter().enumerate() {
        let value = line.value();
        let offset = line.offset + line.start as u64;
        match serde_json::from_slice::<WatchEvent<K>>(value) {
            Ok(mut event) => {
                apply_hook(hook, &mut event);
                events.push(Ok(event));
            }
            // One well-framed value that does not decode: its error, as in place.
            Err(_) => match one_value(value) {
                Some(end) => events.push(decode_bytes(&value[..end], offset)),
                None => {
                    return Decoded {
                        events,
                        stopped_at: Some(at),
                    }
                }
            },
        }
    }
    Decoded {
        events,
        stopped_at: None,
    }
}
