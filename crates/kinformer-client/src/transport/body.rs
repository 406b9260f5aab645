//! [`Body`]: a streaming response body that decodes gzip as it arrives and enforces either a
//! deadline (ordinary requests) or an idle timeout (watches).

use std::fmt;
use std::io::Write as _;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use flate2::write::GzDecoder;
use http_body::{Body as _, Frame, SizeHint};
use http_body_util::BodyExt as _;
use std::future::Future as _;
use tokio::time::{Instant, Sleep};

use crate::error::{Error, Result};

/// A response body: `http_body::Body<Data = Bytes, Error = kinformer_client::Error>`.
pub struct Body {
    source: Source,
    gzip: Option<GzDecoder<Vec<u8>>>,
    timer: Option<Timer>,
    finished: bool,
}

enum Source {
    Empty,
    Full(Option<Bytes>),
    Incoming(hyper::body::Incoming),
}

enum Timer {
    /// The whole body must arrive before this.
    Deadline(Pin<Box<Sleep>>, Duration),
    /// Each frame must arrive within the duration of the previous one.
    Idle(Pin<Box<Sleep>>, Duration),
}

impl fmt::Debug for Body {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source = match self.source {
            Source::Empty => "empty",
            Source::Full(_) => "full",
            Source::Incoming(_) => "streaming",
        };
        f.debug_struct("Body")
            .field("source", &source)
            .field("gzip", &self.gzip.is_some())
            .finish()
    }
}

impl Default for Body {
    fn default() -> Self {
        Body::empty()
    }
}

impl Body {
    /// An empty body.
    pub fn empty() -> Self {
        Body::from_source(Source::Empty)
    }

    /// A body holding `bytes` (useful in tests and fakes).
    pub fn from_bytes(bytes: impl Into<Bytes>) -> Self {
        Body::from_source(Source::Full(Some(bytes.into())))
    }

    fn from_source(source: Source) -> Self {
        Body {
            source,
            gzip: None,
            timer: None,
            finished: false,
        }
    }

    pub(crate) fn incoming(incoming: hyper::body::Incoming) -> Self {
        Body::from_source(Source::Incoming(incoming))
    }

    /// Decodes the body as gzip.
    pub(crate) fn gunzip(mut self) -> Self {
        self.gzip = Some(GzDecoder::new(Vec::new()));
        self
    }

    /// Fails the body with `RequestTimeout` if it has not ended by `deadline`.
    pub(crate) fn with_deadline(mut self, deadline: Instant, limit: Duration) -> Self {
        self.timer = Some(Timer::Deadline(
            Box::pin(tokio::time::sleep_until(deadline)),
            limit,
        ));
        self
    }

    /// Fails the body with `WatchIdleTimeout` when no data arrives for `limit`.
    pub(crate) fn with_idle_timeout(mut self, limit: Duration) -> Self {
        self.timer = Some(Timer::Idle(Box::pin(tokio::time::sleep(limit)), limit));
        self
    }

    /// Reads the whole body.
    pub async fn bytes(self) -> Result<Bytes> {
        Ok(self.collect().await?.to_bytes())
    }

    fn poll_source(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>>>> {
        match &mut self.source {
            Source::Empty => Poll::Ready(None),
            Source::Full(bytes) => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
            Source::Incoming(incoming) => match Pin::new(incoming).poll_frame(cx) {
                Poll::Ready(Some(Err(e))) => Poll::Ready(Some(Err(Error::ReadBody(Box::new(e))))),
                Poll::Ready(Some(Ok(frame))) => Poll::Ready(Some(Ok(frame))),
                Poll::Ready(None) => Poll::Ready(None),
                Poll::Pending => Poll::Pending,
            },
        }
    }
}

impl From<Bytes> for Body {
    fn from(bytes: Bytes) -> Self {
        Body::from_bytes(bytes)
    }
}

impl From<Vec<u8>> for Body {
    fn from(bytes: Vec<u8>) -> Self {
        Body::from_bytes(bytes)
    }
}

impl From<String> for Body {
    fn from(text: String) -> Self {
        Body::from_bytes(text)
    }
}

impl From<&'static str> for Body {
    fn from(text: &'static str) -> Self {
        Body::from_bytes(text)
    }
}

impl http_body::Body for Body {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>>>> {
        let this = self.get_mut();
        if this.finished {
            return Poll::Ready(None);
        }
        loop {
            let polled = this.poll_source(cx);
            let frame = match polled {
                Poll::Pending => {
                    if let Some(timer) = &mut this.timer {
                        let (sleep, error) = match timer {
                            Timer::Deadline(sleep, limit) => (sleep, Error::RequestTimeout(*limit)),
                            Timer::Idle(sleep, limit) => (sleep, Error::WatchIdleTimeout(*limit)),
                        };
                        if sleep.as_mut().poll(cx).is_ready() {
                            this.finished = true;
                            return Poll::Ready(Some(Err(error)));
                        }
                    }
                    return Poll::Pending;
                }
                Poll::Ready(frame) => frame,
            };
            if let Some(Timer::Idle(sleep, limit)) = &mut this.timer {
                let limit = *limit;
                sleep.as_mut().reset(Instant::now() + limit);
            }
            match frame {
                None => {
                    this.finished = true;
                    if let Some(decoder) = this.gzip.take() {
                        let rest = decoder.finish().map_err(Error::Decompress);
                        return Poll::Ready(match rest {
                            Ok(rest) if rest.is_empty() => None,
                            Ok(rest) => Some(Ok(Frame::data(Bytes::from(rest)))),
                            Err(e) => Some(Err(e)),
                        });
                    }
                    return Poll::Ready(None);
                }
                Some(Err(e)) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(e)));
                }
                Some(Ok(frame)) => {
                    let Some(decoder) = &mut this.gzip else {
                        return Poll::Ready(Some(Ok(frame)));
                    };
                    let data = match frame.into_data() {
                        Ok(data) => data,
                        // Trailers pass through untouched.
                        Err(frame) => return Poll::Ready(Some(Ok(frame))),
                    };
                    if let Err(e) = decoder.write_all(&data).and_then(|_| decoder.flush()) {
                        this.finished = true;
                        return Poll::Ready(Some(Err(Error::Decompress(e))));
                    }
                    let out = std::mem::take(decoder.get_mut());
                    if !out.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))));
                    }
                    // Not a whole deflate block yet: read more.
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.finished
            || matches!(self.source, Source::Empty | Source::Full(None)) && self.gzip.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        match &self.source {
            Source::Full(Some(b)) if self.gzip.is_none() => SizeHint::with_exact(b.len() as u64),
            _ => SizeHint::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    #[tokio::test]
    async fn gzip_bodies_are_decoded() {
        let text = "hello ".repeat(1000);
        let body = Body::from_bytes(gzip(text.as_bytes())).gunzip();
        assert_eq!(body.bytes().await.unwrap(), text.as_bytes());
    }

    #[tokio::test]
    async fn corrupt_gzip_is_a_decompress_error() {
        let mut data = gzip(b"some text that is long enough");
        let n = data.len();
        data[n / 2] ^= 0xff;
        data.truncate(n - 4);
        let err = Body::from_bytes(data).gunzip().bytes().await.unwrap_err();
        assert!(matches!(err, Error::Decompress(_)), "{err}");
    }

    #[tokio::test]
    async fn plain_bodies_pass_through() {
        assert_eq!(Body::from("abc").bytes().await.unwrap(), "abc");
        assert!(Body::empty().bytes().await.unwrap().is_empty());
    }
}
