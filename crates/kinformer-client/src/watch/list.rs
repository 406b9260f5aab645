//! Streaming decode of a list body: `{"kind":..,"metadata":{..},"items":[{..},{..}]}` cut into
//! its items as the bytes arrive, so a caller can apply each object while the rest of the list
//! is still on the wire, and never holds the whole body nor the whole decoded list.
//!
//! [`ListDecoder`] is the framing, usable without HTTP: push chunks, take [`ListEvent`]s. The
//! items are decoded straight from the buffer with serde_json (no scan ahead of the parser);
//! the decoder waits for a batch of bytes before it tries, so an item cut by a chunk boundary
//! is parsed twice at most once per batch. [`ListStream`] runs it over a response body.

use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Buf, Bytes, BytesMut};
use futures::Stream;
use kinformer_meta::ListMeta;
use serde::de::{DeserializeOwned, IgnoredAny};

use super::decoder::excerpt;
use super::ByteStream;
use crate::error::{Error, Result};

/// How many bytes the decoder gathers before it parses (unless the body has ended).
pub const DEFAULT_LIST_BATCH_BYTES: usize = 128 * 1024;

/// The default bound on one list item's size (as a watch event's).
pub const DEFAULT_MAX_ITEM_BYTES: usize = super::DEFAULT_MAX_FRAME_BYTES;

/// What a streamed list yields.
#[derive(Clone, Debug, PartialEq)]
pub enum ListEvent<K> {
    /// One object of `items`, in list order.
    Item(K),
    /// The list's metadata (resourceVersion, continue token), once, after the body ended.
    End(ListMeta),
}

/// Where the decoder is in the list object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Before the opening brace.
    Start,
    /// Inside the object, before a key (or its closing brace).
    Key,
    /// Inside `items`, before an item, a comma or the closing bracket.
    Items,
    /// After the closing brace: only whitespace may follow.
    Done,
    /// The end was reported (or the decoder failed): nothing more.
    Finished,
}

/// Splits a list body into its items and metadata. See the module documentation.
#[derive(Debug)]
pub struct ListDecoder<K> {
    buf: BytesMut,
    state: State,
    metadata: ListMeta,
    /// The buffer length needed before the next parse attempt.
    wanted: usize,
    batch_bytes: usize,
    max_item_bytes: usize,
    /// True once the body has ended: parse whatever is buffered.
    ended: bool,
    /// Stream offset of `buf[0]`, for error messages.
    offset: u64,
    _kind: PhantomData<fn() -> K>,
}

impl<K: DeserializeOwned> Default for ListDecoder<K> {
    fn default() -> Self {
        ListDecoder::new(DEFAULT_LIST_BATCH_BYTES, DEFAULT_MAX_ITEM_BYTES)
    }
}

impl<K: DeserializeOwned> ListDecoder<K> {
    /// A decoder that parses once `batch_bytes` are buffered and rejects an item (or any other
    /// value of the list object) longer than `max_item_bytes`.
    pub fn new(batch_bytes: usize, max_item_bytes: usize) -> Self {
        ListDecoder {
            buf: BytesMut::new(),
            state: State::Start,
            metadata: ListMeta::default(),
            wanted: batch_bytes.max(1),
            batch_bytes: batch_bytes.max(1),
            max_item_bytes: max_item_bytes.max(2),
            ended: false,
            offset: 0,
            _kind: PhantomData,
        }
    }

    /// Appends a chunk of the body.
    pub fn push(&mut self, chunk: &[u8]) {
        if self.state != State::Finished {
            self.buf.extend_from_slice(chunk);
        }
    }

    /// Marks the end of the body: what is buffered is all there is.
    pub fn end(&mut self) {
        self.ended = true;
    }

    /// Bytes buffered and not yet decoded.
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// The next item, the end, or `None` when more bytes are needed (or everything was
    /// reported). An error is final: later calls return `None`.
    pub fn next_event(&mut self) -> Option<Result<ListEvent<K>>> {
        if self.state == State::Finished || (!self.ended && self.buf.len() < self.wanted) {
            return None;
        }
        match self.step() {
            Ok(Some(event)) => Some(Ok(event)),
            Ok(None) => {
                if self.ended && self.state != State::Finished {
                    return Some(Err(self.fail("list body ended early")));
                }
                None
            }
            Err(error) => {
                self.state = State::Finished;
                self.buf.clear();
                Some(Err(error))
            }
        }
    }

    /// Advances through the buffer until an event is ready or more bytes are needed.
    fn step(&mut self) -> Result<Option<ListEvent<K>>> {
        loop {
            self.skip_whitespace(self.state == State::Items);
            let Some(&byte) = self.buf.first() else {
                if self.state == State::Done && self.ended {
                    self.state = State::Finished;
                    return Ok(Some(ListEvent::End(std::mem::take(&mut self.metadata))));
                }
                return Ok(self.need_more());
            };
            match (self.state, byte) {
                (State::Start, b'{') => {
                    self.consume(1);
                    self.state = State::Key;
                }
                (State::Start, _) => return Err(self.fail("a list body must be a JSON object")),
                (State::Key, b',') => self.consume(1),
                (State::Key, b'}') => {
                    self.consume(1);
                    self.state = State::Done;
                }
                (State::Key, b'"') => {
                    if !self.member()? {
                        return Ok(self.need_more());
                    }
                }
                (State::Key, _) => return Err(self.fail("expected a key in the list object")),
                (State::Items, b']') => {
                    self.consume(1);
                    self.state = State::Key;
                }
                (State::Items, _) => match self.parse::<K>(0)? {
                    Some((item, used)) => {
                        self.consume(used);
                        return Ok(Some(ListEvent::Item(item)));
                    }
                    None => return Ok(self.need_more()),
                },
                (State::Done, _) => return Err(self.fail("bytes after the end of the list")),
                (State::Finished, _) => return Ok(None),
            }
        }
    }

    /// Reads one `"key": value` member at the front of the buffer; false when it is not all
    /// there yet (nothing is consumed then). `items` only opens the array.
    fn member(&mut self) -> Result<bool> {
        let Some((key, key_len)) = self.parse::<String>(0)? else {
            return Ok(false);
        };
        let mut at = key_len;
        while self.buf.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        match self.buf.get(at) {
            None => return Ok(false),
            Some(b':') => at += 1,
            Some(_) => return Err(self.fail("expected ':' after a key of the list object")),
        }
        while self.buf.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        if at >= self.buf.len() {
            return Ok(false);
        }
        match key.as_str() {
            "items" => match self.buf[at] {
                b'[' => {
                    self.consume(at + 1);
                    self.state = State::Items;
                }
                // `"items": null` is an empty list.
                _ => match self.parse::<Option<IgnoredAny>>(at)? {
                    Some((None, end)) => self.consume(end),
                    Some((Some(_), _)) => return Err(self.fail("items must be an array")),
                    None => return Ok(false),
                },
            },
            "metadata" => match self.parse::<Option<ListMeta>>(at)? {
                Some((metadata, end)) => {
                    self.metadata = metadata.unwrap_or_default();
                    self.consume(end);
                }
                None => return Ok(false),
            },
            _ => match self.parse::<IgnoredAny>(at)? {
                Some((_, end)) => self.consume(end),
                None => return Ok(false),
            },
        }
        Ok(true)
    }

    /// Parses one `T` starting at `buf[from]`; returns it with its end's offset in the buffer,
    /// or `None` when
    /// the buffer ends inside it (or right after it, before the body ended: a number might go
    /// on).
    fn parse<T: DeserializeOwned>(&mut self, from: usize) -> Result<Option<(T, usize)>> {
        let bytes = &self.buf[from..];
        let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<T>();
        match stream.next() {
            Some(Ok(value)) => {
                let used = stream.byte_offset();
                if used == bytes.len() && !self.ended {
                    return Ok(None);
                }
                Ok(Some((value, from + used)))
            }
            Some(Err(error)) if error.is_eof() && !self.ended => {
                if bytes.len() > self.max_item_bytes {
                    let limit = self.max_item_bytes;
                    return Err(self.fail(&format!("a list value exceeds the {limit}-byte bound")));
                }
                Ok(None)
            }
            None if !self.ended => Ok(None),
            Some(Err(source)) => Err(Error::ResponseDecodeFailed {
                type_name: std::any::type_name::<T>(),
                excerpt: excerpt(bytes),
                source,
            }),
            None => Err(self.fail("list body ended early")),
        }
    }

    /// Skips whitespace (and commas between items) at the front.
    fn skip_whitespace(&mut self, commas: bool) {
        let skip = self
            .buf
            .iter()
            .position(|&b| !(b.is_ascii_whitespace() || (commas && b == b',')))
            .unwrap_or(self.buf.len());
        self.consume(skip);
    }

    fn consume(&mut self, count: usize) {
        self.buf.advance(count);
        self.offset += count as u64;
        self.wanted = self.batch_bytes;
    }

    /// Waits for more bytes: a batch more than buffered now, or (for a long value) as many
    /// again, so a value is re-parsed a logarithmic number of times.
    fn need_more<T>(&mut self) -> Option<T> {
        let len = self.buf.len();
        self.wanted = len + self.batch_bytes.max(len).max(1);
        None
    }

    fn fail(&mut self, problem: &str) -> Error {
        let message = format!("{problem} (at byte {})", self.offset);
        let source = <serde_json::Error as serde::de::Error>::custom(message);
        let error = Error::ResponseDecodeFailed {
            type_name: std::any::type_name::<kinformer_meta::ObjectList<K>>(),
            excerpt: excerpt(&self.buf),
            source,
        };
        self.state = State::Finished;
        self.buf.clear();
        error
    }
}

/// A list body decoded item by item: yields `ListEvent::Item` for each object and then one
/// `ListEvent::End` with the list's metadata. An error ends the stream.
pub struct ListStream<K> {
    body: ByteStream,
    decoder: ListDecoder<K>,
    done: bool,
}

impl<K> std::fmt::Debug for ListStream<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListStream")
            .field("buffered", &self.decoder.buf.len())
            .field("done", &self.done)
            .finish()
    }
}

impl<K: DeserializeOwned> ListStream<K> {
    /// A list over a stream of body chunks.
    pub fn new(body: impl Stream<Item = Result<Bytes>> + Send + 'static) -> Self {
        ListStream {
            body: Box::pin(body),
            decoder: ListDecoder::default(),
            done: false,
        }
    }

    /// A list over an HTTP body; trailers are ignored.
    pub fn from_body<B>(body: B) -> Self
    where
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<Error>,
    {
        use futures::TryStreamExt;
        ListStream::new(http_body_util::BodyDataStream::new(body).map_err(Into::into))
    }

    /// Bytes received and not yet decoded.
    pub fn buffered_len(&self) -> usize {
        self.decoder.buffered_len()
    }
}

impl<K: DeserializeOwned> Stream for ListStream<K> {
    type Item = Result<ListEvent<K>>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        loop {
            if this.done {
                return Poll::Ready(None);
            }
            if let Some(event) = this.decoder.next_event() {
                if matches!(event, Err(_) | Ok(ListEvent::End(_))) {
                    this.done = true;
                }
                return Poll::Ready(Some(event));
            }
            if this.decoder.ended {
                this.done = true;
                return Poll::Ready(None);
            }
            match this.body.as_mut().poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => this.decoder.push(&chunk),
                Poll::Ready(Some(Err(error))) => {
                    this.done = true;
                    return Poll::Ready(Some(Err(error)));
                }
                Poll::Ready(None) => this.decoder.end(),
                Poll::Pending => return Poll::Pending,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kinformer_meta::PartialObjectMetadata;

    type Meta = PartialObjectMetadata;

    const LIST: &str = r#"{"kind":"PodList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"next"},"items":[{"metadata":{"name":"a","namespace":"ns"}},{"metadata":{"name":"b","namespace":"ns","labels":{"x":"y\"}]"}}}]}"#;

    fn decode_in_chunks(body: &[u8], chunk: usize, batch: usize) -> Vec<Result<ListEvent<Meta>>> {
        let mut decoder = ListDecoder::<Meta>::new(batch, 1 << 20);
        let mut out = Vec::new();
        for piece in body.chunks(chunk.max(1)) {
            decoder.push(piece);
            while let Some(event) = decoder.next_event() {
                out.push(event);
            }
        }
        decoder.end();
        while let Some(event) = decoder.next_event() {
            out.push(event);
        }
        out
    }

    fn names(events: &[Result<ListEvent<Meta>>]) -> Vec<String> {
        events
            .iter()
            .filter_map(|e| match e {
                Ok(ListEvent::Item(item)) => Some(item.metadata.name().to_owned()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_list_decodes_to_its_items_then_its_metadata_on_every_chunk_split() {
        for chunk in [1, 2, 3, 7, 16, 64, LIST.len()] {
            for batch in [1, 10, 1 << 20] {
                let events = decode_in_chunks(LIST.as_bytes(), chunk, batch);
                assert_eq!(names(&events), ["a", "b"], "chunk {chunk} batch {batch}");
                assert_eq!(events.len(), 3);
                let Some(Ok(ListEvent::End(meta))) = events.last() else {
                    panic!("no end: {events:?}");
                };
                assert_eq!(meta.resource_version.as_deref(), Some("42"));
                assert_eq!(meta.continue_token.as_deref(), Some("next"));
            }
        }
    }

    #[test]
    fn items_match_what_the_whole_body_decodes_to() {
        let whole: kinformer_meta::ObjectList<Meta> = serde_json::from_str(LIST).unwrap();
        let events = decode_in_chunks(LIST.as_bytes(), 5, 1);
        let items: Vec<Meta> = events
            .into_iter()
            .filter_map(|e| match e {
                Ok(ListEvent::Item(item)) => Some(item),
                _ => None,
            })
            .collect();
        assert_eq!(items, whole.items);
    }

    #[test]
    fn metadata_after_the_items_and_null_or_missing_items_are_read() {
        let late = r#"{"items":[{"metadata":{"name":"a"}}],"metadata":{"resourceVersion":"7"}}"#;
        let events = decode_in_chunks(late.as_bytes(), 3, 1);
        assert_eq!(names(&events), ["a"]);
        assert!(
            matches!(events.last(), Some(Ok(ListEvent::End(m))) if m.resource_version.as_deref() == Some("7"))
        );
        for body in [
            r#"{"items":null,"metadata":{"resourceVersion":"8"}}"#,
            r#"{"metadata":{"resourceVersion":"8"}}"#,
            r#" { "items" : [ ] , "metadata" : { "resourceVersion" : "8" } } "#,
        ] {
            let events = decode_in_chunks(body.as_bytes(), 2, 1);
            assert_eq!(events.len(), 1, "{body}: {events:?}");
            assert!(
                matches!(&events[0], Ok(ListEvent::End(m)) if m.resource_version.as_deref() == Some("8"))
            );
        }
    }

    #[test]
    fn a_body_cut_short_is_an_error_not_an_end() {
        let cut = &LIST.as_bytes()[..LIST.len() - 20];
        let events = decode_in_chunks(cut, 8, 1);
        assert_eq!(names(&events), ["a"]);
        assert!(matches!(
            events.last(),
            Some(Err(Error::ResponseDecodeFailed { .. }))
        ));
        let missing_brace = &LIST.as_bytes()[..LIST.len() - 1];
        let events = decode_in_chunks(missing_brace, 8, 1);
        assert_eq!(names(&events), ["a", "b"]);
        assert!(matches!(events.last(), Some(Err(_))));
    }

    #[test]
    fn a_malformed_item_or_a_non_object_body_fails_once_and_stops() {
        let bad = r#"{"items":[{"metadata":{"name":"a"}},{"metadata":{"name":5}},{"metadata":{"name":"c"}}]}"#;
        let events = decode_in_chunks(bad.as_bytes(), 4, 1);
        assert_eq!(names(&events), ["a"]);
        assert_eq!(events.len(), 2);
        assert!(matches!(events[1], Err(Error::ResponseDecodeFailed { .. })));
        for body in ["[1,2]", "{\"items\":5}", "{5:1}", "{\"items\":[]} x"] {
            let events = decode_in_chunks(body.as_bytes(), 1, 1);
            assert_eq!(events.len(), 1, "{body}: {events:?}");
            assert!(events[0].is_err(), "{body}");
        }
    }

    #[test]
    fn an_item_still_incomplete_past_the_bound_is_refused() {
        let body = format!(
            r#"{{"items":[{{"metadata":{{"name":"{}"}}}}]}}"#,
            "n".repeat(500)
        );
        let mut decoder = ListDecoder::<Meta>::new(1, 100);
        decoder.push(&body.as_bytes()[..300]);
        let event = decoder.next_event();
        assert!(matches!(event, Some(Err(_))), "{event:?}");
        assert!(decoder.next_event().is_none());
    }

    #[tokio::test]
    async fn a_list_stream_yields_items_and_ends_after_the_metadata() {
        use futures::StreamExt;
        let chunks: Vec<Result<Bytes>> = LIST
            .as_bytes()
            .chunks(9)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let events: Vec<_> = ListStream::<Meta>::new(futures::stream::iter(chunks))
            .collect()
            .await;
        assert_eq!(names(&events), ["a", "b"]);
        assert!(matches!(events.last(), Some(Ok(ListEvent::End(_)))));
    }
}
