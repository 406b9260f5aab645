//! Framing of a watch body: finds where each JSON value ends in a stream of byte chunks, and
//! decodes each frame straight from its bytes into a `WatchEvent<K>`.
//!
//! A server sends one compact JSON object per line, but nothing in HTTP keeps a chunk aligned
//! with a line: a chunk may hold half an event, or twenty. Some proxies also drop the newlines.
//! The decoder therefore finds the end of each value by tracking braces, brackets and strings
//! (with their escapes), so `{"a":1}{"b":2}` frames as well as `{"a":1}\n{"b":2}\n`.
//!
//! Scanning is incremental: bytes already scanned are never scanned again, so feeding a body one
//! byte at a time costs the same as feeding it whole. The buffer never holds more than the
//! configured frame bound plus the chunk being fed.

use std::marker::PhantomData;

use bytes::{Buf, BytesMut};
use kinformer_meta::WatchEvent;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The default bound on one watch event's size (16 MiB; etcd stores objects up to 1.5 MiB).
pub const DEFAULT_MAX_FRAME_BYTES: usize = 16 * 1024 * 1024;

/// How many bytes of a bad frame an error message quotes.
const EXCERPT_BYTES: usize = 80;

/// Splits a byte stream into complete top-level JSON objects.
#[derive(Debug)]
pub struct FrameDecoder {
    buf: BytesMut,
    max_frame_bytes: usize,
    /// Stream offset of `buf[0]`, for error messages.
    offset: u64,
    /// State of the scan of the value at the front of `buf`.
    scan: Scan,
    /// State of the newline fast path for the value at the front of `buf`.
    line: LineSearch,
    /// Set after a framing error: the stream cannot be resynchronised, so nothing follows.
    failed: bool,
}

/// The incremental scanner's state for the value that starts at `buf[0]`.
#[derive(Debug, Default, Clone, Copy)]
struct Scan {
    /// True once `buf[0]` is the `{` of a value.
    started: bool,
    /// How many bytes of `buf` have been scanned.
    position: usize,
    /// Open braces.
    depth: usize,
    in_string: bool,
    escaped: bool,
}

/// How far the newline fast path has looked for the value at the front of the buffer.
#[derive(Debug, Default, Clone, Copy)]
struct LineSearch {
    /// Bytes of `buf` known to hold no newline.
    searched: usize,
    /// A line candidate for this value did not decode; only the brace scan frames it.
    failed: bool,
}

/// One complete JSON value cut from the stream.
#[derive(Debug)]
pub struct Frame {
    /// The bytes of the value, without surrounding whitespace.
    pub bytes: BytesMut,
    /// Where in the stream the value started.
    pub offset: u64,
}

/// A line cut off for parallel decoding: its exact bytes, from the end of the previous line
/// through its newline.
#[derive(Debug, Clone)]
pub(crate) struct Line {
    /// The bytes: whitespace, the value's line, the newline.
    pub(crate) raw: bytes::Bytes,
    /// Where the value starts in `raw`.
    pub(crate) start: usize,
    /// Where `raw` starts in the stream.
    pub(crate) offset: u64,
}

impl Line {
    /// The value's line, without the whitespace before it and the newline.
    pub(crate) fn value(&self) -> &[u8] {
        &self.raw[self.start..self.raw.len() - 1]
    }
}

impl FrameDecoder {
    /// A decoder that rejects any value longer than `max_frame_bytes`.
    pub fn new(max_frame_bytes: usize) -> Self {
        FrameDecoder {
            buf: BytesMut::new(),
            max_frame_bytes: max_frame_bytes.max(2),
            offset: 0,
            scan: Scan::default(),
            line: LineSearch::default(),
            failed: false,
        }
    }

    /// Appends a chunk of the body.
    pub fn push(&mut self, chunk: &[u8]) {
        if !self.failed {
            self.buf.extend_from_slice(chunk);
        }
    }

    /// Bytes buffered and not yet handed out as frames.
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// The bound on one frame's size.
    pub fn max_frame_bytes(&self) -> usize {
        self.max_frame_bytes
    }

    /// True after a framing error; the decoder yields nothing more.
    pub fn has_failed(&self) -> bool {
        self.failed
    }

    /// The next complete value, `Ok(None)` when more bytes are needed.
    ///
    /// A framing error (a byte other than whitespace or `{` between values, or a value over
    /// the bound) is final: the buffer is dropped and later calls return `Ok(None)`.
    pub fn next_frame(&mut self) -> Result<Option<Frame>> {
        if self.failed {
            return Ok(None);
        }
        if !self.scan.started {
            let skip = self
                .buf
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(self.buf.len());
            self.buf.advance(skip);
            self.offset += skip as u64;
            self.line.searched = self.line.searched.saturating_sub(skip);
            match self.buf.first() {
                None => return Ok(None),
                Some(b'{') => {
                    self.scan = Scan {
                        started: true,
                        position: 1,
                        depth: 1,
                        in_string: false,
                        escaped: false,
                    };
                }
                Some(_) => {
                    return Err(self.fail(|offset, excerpt| Error::WatchFrameMalformed {
                        offset,
                        excerpt,
                        problem: "expected '{' at the start of a watch event",
                    }));
                }
            }
        }
        let limit = self.buf.len().min(self.max_frame_bytes);
        match scan_value(&self.buf[..limit], &mut self.scan) {
            Some(end) => {
                let bytes = self.buf.split_to(end);
                let frame = Frame {
                    bytes,
                    offset: self.offset,
                };
                self.offset += end as u64;
                self.scan = Scan::default();
                self.line = LineSearch::default();
                Ok(Some(frame))
            }
            None if self.buf.len() >= self.max_frame_bytes => {
                let limit = self.max_frame_bytes;
                Err(self.fail(|offset, excerpt| Error::WatchFrameTooLarge {
                    offset,
                    limit,
                    excerpt,
                }))
            }
            None => Ok(None),
        }
    }

    /// The fast path for servers that end every event with a newline: the bytes from the
    /// start of the next value up to the first newline after it (within the bound).
    ///
    /// They are only a candidate: a raw newline cannot occur inside a JSON string, but it can
    /// separate the tokens of a pretty-printed value, and one line may hold two values. The
    /// caller decodes the candidate as one whole value (which proves it is exactly one) and
    /// reports the outcome with [`candidate_failed`](Self::candidate_failed) or
    /// [`consume_line`](Self::consume_line). After a failure the value is framed by the brace
    /// scan alone. Newline searches resume where the last one stopped, so feeding a body one
    /// byte at a time stays linear.
    pub(crate) fn line_candidate(&mut self) -> Option<&[u8]> {
        if self.failed || self.line.failed {
            return None;
        }
        if !self.scan.started {
            let skip = self
                .buf
                .iter()
                .position(|b| !b.is_ascii_whitespace())
                .unwrap_or(self.buf.len());
            self.buf.advance(skip);
            self.offset += skip as u64;
            self.line.searched = self.line.searched.saturating_sub(skip);
            if self.buf.first() != Some(&b'{') {
                return None;
            }
        }
        let limit = self.buf.len().min(self.max_frame_bytes);
        if self.line.searched >= limit {
            return None;
        }
        match memchr::memchr(b'\n', &self.buf[self.line.searched..limit]) {
            None => {
                self.line.searched = limit;
                None
            }
            Some(at) => {
                let end = self.line.searched + at;
                Some(&self.buf[..end])
            }
        }
    }

    /// For parallel decoding: cuts off the next whole line that starts a value (the
    /// whitespace before it, the line and its newline), without decoding it; `None` when no
    /// such line is buffered or the value at the front is being framed by the brace scan.
    ///
    /// The caller decodes the value ([`Line::value`]) and, when it is not exactly one value,
    /// puts the bytes back with [`unshift`](Self::unshift).
    pub(crate) fn take_line(&mut self) -> Option<Line> {
        if self.failed || self.line.failed || self.scan.started {
            return None;
        }
        let skip = self.buf.iter().position(|b| !b.is_ascii_whitespace())?;
        if self.buf[skip] != b'{' {
            return None;
        }
        let limit = skip + (self.buf.len() - skip).min(self.max_frame_bytes);
        let from = self.line.searched.max(skip);
        if from >= limit {
            return None;
        }
        let Some(at) = memchr::memchr(b'\n', &self.buf[from..limit]) else {
            self.line.searched = limit;
            return None;
        };
        let end = from + at + 1;
        let line = Line {
            raw: self.buf.split_to(end).freeze(),
            start: skip,
            offset: self.offset,
        };
        self.offset += end as u64;
        self.line = LineSearch::default();
        Some(line)
    }

    /// True when the value at the front is for the in-place decoder: the decoder failed, the
    /// value is being framed by the brace scan, something other than a value starts there, or
    /// a frame's worth of bytes is buffered without a whole line.
    pub(crate) fn line_blocked(&self) -> bool {
        self.failed
            || self.line.failed
            || self.scan.started
            || self
                .buf
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_some_and(|&b| b != b'{')
            || self.buf.len() >= self.max_frame_bytes
    }

    /// Puts bytes taken as lines back in front of the buffer (`offset` is where they started)
    /// and frames the value they start with by the brace scan.
    pub(crate) fn unshift(&mut self, bytes: &[u8], offset: u64) {
        let mut buf = BytesMut::with_capacity(bytes.len() + self.buf.len());
        buf.extend_from_slice(bytes);
        buf.extend_from_slice(&self.buf);
        self.buf = buf;
        self.offset = offset;
        self.scan = Scan::default();
        self.line = LineSearch {
            searched: 0,
            failed: true,
        };
    }

    /// The line candidate did not decode: frame this value by the brace scan.
    pub(crate) fn candidate_failed(&mut self) {
        self.line.failed = true;
    }

    /// Drops a line candidate that decoded, with its newline, and any scan under way.
    pub(crate) fn consume_line(&mut self, length: usize) {
        let consumed = (length + 1).min(self.buf.len());
        self.buf.advance(consumed);
        self.offset += consumed as u64;
        self.scan = Scan::default();
        self.line = LineSearch::default();
    }

    /// Checks the end of the body: anything but whitespace left over is a truncated event.
    pub fn finish(&mut self) -> Result<()> {
        if self.failed || self.buf.iter().all(u8::is_ascii_whitespace) {
            self.buf = BytesMut::new();
            return Ok(());
        }
        let buffered = self.buf.len();
        Err(self.fail(|offset, excerpt| Error::WatchFrameTruncated {
            offset,
            buffered,
            excerpt,
        }))
    }

    fn fail(&mut self, error: impl FnOnce(u64, String) -> Error) -> Error {
        let error = error(self.offset, excerpt(&self.buf));
        self.failed = true;
        self.buf = BytesMut::new();
        self.scan = Scan::default();
        self.line = LineSearch::default();
        error
    }
}

impl Default for FrameDecoder {
    fn default() -> Self {
        FrameDecoder::new(DEFAULT_MAX_FRAME_BYTES)
    }
}

/// Decodes watch events of type `K` from a byte stream.
#[derive(Debug)]
pub struct WatchDecoder<K> {
    frames: FrameDecoder,
    _kind: PhantomData<fn() -> K>,
}

impl<K> WatchDecoder<K> {
    /// A decoder with the given bound on one event's size.
    pub fn new(max_frame_bytes: usize) -> Self {
        WatchDecoder {
            frames: FrameDecoder::new(max_frame_bytes),
            _kind: PhantomData,
        }
    }

    /// Appends a chunk of the body.
    pub fn push(&mut self, chunk: &[u8]) {
        self.frames.push(chunk);
    }

    /// Bytes buffered and not yet decoded.
    pub fn buffered_len(&self) -> usize {
        self.frames.buffered_len()
    }

    /// True after a framing error; nothing more will be decoded.
    pub fn has_failed(&self) -> bool {
        self.frames.has_failed()
    }

    /// Checks the end of the body (see [`FrameDecoder::finish`]).
    pub fn finish(&mut self) -> Result<()> {
        self.frames.finish()
    }

    /// The framing underneath, for a caller that decodes the frames elsewhere.
    pub(crate) fn frames_mut(&mut self) -> &mut FrameDecoder {
        &mut self.frames
    }
}

impl<K: DeserializeOwned> WatchDecoder<K> {
    /// The next event, `None` when more bytes are needed.
    ///
    /// A frame that is well formed but does not decode into `WatchEvent<K>` gives
    /// [`Error::WatchEventDecodeFailed`] and decoding continues with the next frame; a framing
    /// error ([`Error::WatchFrameMalformed`], [`Error::WatchFrameTooLarge`]) is final.
    pub fn next_event(&mut self) -> Option<Result<WatchEvent<K>>> {
        if let Some(line) = self.frames.line_candidate() {
            match serde_json::from_slice::<WatchEvent<K>>(line) {
                Ok(event) => {
                    let length = line.len();
                    self.frames.consume_line(length);
                    return Some(Ok(event));
                }
                Err(_) => self.frames.candidate_failed(),
            }
        }
        match self.frames.next_frame() {
            Ok(None) => None,
            Err(error) => Some(Err(error)),
            Ok(Some(frame)) => Some(decode_frame(&frame)),
        }
    }
}

impl<K> Default for WatchDecoder<K> {
    fn default() -> Self {
        WatchDecoder::new(DEFAULT_MAX_FRAME_BYTES)
    }
}

/// Decodes one frame into an event, straight from its bytes.
pub fn decode_frame<K: DeserializeOwned>(frame: &Frame) -> Result<WatchEvent<K>> {
    decode_bytes(&frame.bytes, frame.offset)
}

/// Decodes the bytes of one frame that starts at `offset` in the stream.
pub(crate) fn decode_bytes<K: DeserializeOwned>(
    bytes: &[u8],
    offset: u64,
) -> Result<WatchEvent<K>> {
    serde_json::from_slice(bytes).map_err(|source| Error::WatchEventDecodeFailed {
        offset,
        excerpt: excerpt(bytes),
        source,
    })
}

/// The length of the one value `bytes` hold when the brace scan frames exactly one value
/// followed by whitespace only; `None` when they hold less or more than that.
pub(crate) fn one_value(bytes: &[u8]) -> Option<usize> {
    if bytes.first() != Some(&b'{') {
        return None;
    }
    let mut scan = Scan {
        started: true,
        position: 1,
        depth: 1,
        in_string: false,
        escaped: false,
    };
    let end = scan_value(bytes, &mut scan)?;
    bytes[end..]
        .iter()
        .all(u8::is_ascii_whitespace)
        .then_some(end)
}

/// A short, printable quote of the start of some bytes.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let cut = bytes.len().min(EXCERPT_BYTES);
    let mut text: String = String::from_utf8_lossy(&bytes[..cut])
        .chars()
        .flat_map(char::escape_default)
        .collect();
    if bytes.len() > cut {
        text.push_str("...");
    }
    text
}

/// Scans `bytes` from `scan.position`; returns the length of the value once its closing brace
/// is seen. `bytes[0]` is the value's opening brace.
///
/// Only `{`, `}` and `"` matter outside strings (brackets nest independently of braces in any
/// valid JSON, and an invalid value is caught when it is decoded), and only `"` and `\` inside
/// them, so the scan jumps between those bytes with memchr instead of looking at every byte.
fn scan_value(bytes: &[u8], scan: &mut Scan) -> Option<usize> {
    let mut i = scan.position;
    while i < bytes.len() {
        if scan.escaped {
            scan.escaped = false;
            i += 1;
            continue;
        }
        if scan.in_string {
            let Some(at) = memchr::memchr2(b'"', b'\\', &bytes[i..]) else {
                i = bytes.len();
                break;
            };
            i += at;
            if bytes[i] == b'\\' {
                scan.escaped = true;
            } else {
                scan.in_string = false;
            }
            i += 1;
            continue;
        }
        let Some(at) = memchr::memchr3(b'"', b'{', b'}', &bytes[i..]) else {
            i = bytes.len();
            break;
        };
        i += at;
        match bytes[i] {
            b'"' => scan.in_string = true,
            b'{' => scan.depth += 1,
            _ => {
                scan.depth -= 1;
                if scan.depth == 0 {
                    scan.position = i + 1;
                    return Some(i + 1);
                }
            }
        }
        i += 1;
    }
    scan.position = i;
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn frames_of(chunks: &[&[u8]]) -> Vec<String> {
        let mut decoder = FrameDecoder::new(1024);
        let mut out = Vec::new();
        for chunk in chunks {
            decoder.push(chunk);
            while let Some(frame) = decoder.next_frame().unwrap() {
                out.push(String::from_utf8(frame.bytes.to_vec()).unwrap());
            }
        }
        decoder.finish().unwrap();
        out
    }

    #[test]
    fn values_without_newlines_between_them_are_split_at_their_closing_brace() {
        let frames = frames_of(&[br#"{"a":1}{"b":{"c":[1,{}]}}  {"d":"}"}"#]);
        assert_eq!(
            frames,
            [r#"{"a":1}"#, r#"{"b":{"c":[1,{}]}}"#, r#"{"d":"}"}"#]
        );
    }

    #[test]
    fn braces_and_escaped_quotes_inside_strings_do_not_end_a_value() {
        let text = br#"{"m":"a \"}\" b \\","n":"{["}"#;
        let frames = frames_of(&[text]);
        assert_eq!(frames, [std::str::from_utf8(text).unwrap()]);
        let split: Vec<&[u8]> = text.chunks(1).collect();
        assert_eq!(frames_of(&split), frames);
    }

    #[test]
    fn an_event_split_across_chunks_comes_out_whole() {
        let frames = frames_of(&[b"{\"type\":\"AD", b"DED\",\"object\":{}}\n{", b"\"x\":1}\n"]);
        assert_eq!(frames, [r#"{"type":"ADDED","object":{}}"#, r#"{"x":1}"#]);
    }

    #[test]
    fn garbage_between_events_is_an_error_with_offset_and_excerpt() {
        let mut decoder = FrameDecoder::new(1024);
        decoder.push(b"{\"a\":1}\nnot json\n{\"b\":2}");
        assert!(decoder.next_frame().unwrap().is_some());
        let error = decoder.next_frame().unwrap_err();
        match &error {
            Error::WatchFrameMalformed {
                offset, excerpt, ..
            } => {
                assert_eq!(*offset, 8);
                assert!(excerpt.starts_with("not json"), "{excerpt}");
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(decoder.has_failed());
        assert!(decoder.next_frame().unwrap().is_none());
        assert_eq!(decoder.buffered_len(), 0);
    }

    #[test]
    fn an_object_over_the_bound_is_rejected_before_it_is_buffered_whole() {
        let mut decoder = FrameDecoder::new(64);
        let mut total = 0;
        let chunk = [b' '; 16];
        decoder.push(b"{\"big\":\"");
        let mut error = None;
        for _ in 0..100 {
            decoder.push(&chunk);
            total += chunk.len();
            match decoder.next_frame() {
                Ok(None) => assert!(decoder.buffered_len() <= 64 + chunk.len()),
                Ok(Some(_)) => panic!("no frame can end inside a string"),
                Err(e) => {
                    error = Some(e);
                    break;
                }
            }
        }
        assert!(total < 100 * 16, "stopped early");
        assert!(matches!(
            error,
            Some(Error::WatchFrameTooLarge { limit: 64, .. })
        ));
    }

    #[test]
    fn a_body_that_stops_mid_event_is_a_truncation_error() {
        let mut decoder = FrameDecoder::new(1024);
        decoder.push(b"{\"a\":1}\n{\"type\":\"ADD");
        assert!(decoder.next_frame().unwrap().is_some());
        assert!(decoder.next_frame().unwrap().is_none());
        assert!(matches!(
            decoder.finish(),
            Err(Error::WatchFrameTruncated {
                offset: 8,
                buffered: 12,
                ..
            })
        ));
    }

    #[test]
    fn a_frame_that_is_not_a_watch_event_is_an_error_and_decoding_goes_on() {
        let mut decoder = WatchDecoder::<Value>::new(1024);
        decoder.push(
            b"{\"type\":\"RENAMED\",\"object\":{}}\n{\"type\":\"ADDED\",\"object\":{\"a\":1}}\n",
        );
        let first = decoder.next_event().unwrap();
        assert!(
            matches!(&first, Err(Error::WatchEventDecodeFailed { offset: 0, excerpt, .. }) if excerpt.contains("RENAMED")),
            "{first:?}"
        );
        let second = decoder.next_event().unwrap().unwrap();
        assert!(matches!(second, WatchEvent::Added(v) if v["a"] == 1));
        assert!(decoder.next_event().is_none());
    }

    #[test]
    fn pretty_printed_events_and_two_events_on_one_line_still_decode() {
        let body = concat!(
            "{\n  \"type\": \"ADDED\",\n  \"object\": {\"a\": 1}\n}\n",
            "{\"type\":\"MODIFIED\",\"object\":{\"a\":2}}{\"type\":\"DELETED\",\"object\":{\"a\":3}}\n",
            "{\"type\":\"ADDED\",\"object\":{\"a\":4}}\n",
        );
        for size in [1, 5, body.len()] {
            let mut decoder = WatchDecoder::<Value>::new(1024);
            let mut seen = Vec::new();
            for chunk in body.as_bytes().chunks(size) {
                decoder.push(chunk);
                while let Some(event) = decoder.next_event() {
                    let event = event.unwrap();
                    seen.push(format!(
                        "{} {}",
                        event.type_name(),
                        event.object().unwrap()["a"]
                    ));
                }
            }
            decoder.finish().unwrap();
            assert_eq!(
                seen,
                ["ADDED 1", "MODIFIED 2", "DELETED 3", "ADDED 4"],
                "chunk size {size}"
            );
        }
    }

    #[test]
    fn excerpts_escape_control_bytes_and_are_cut_short() {
        let quoted = excerpt(&[b'a'; 200]);
        assert_eq!(quoted.len(), EXCERPT_BYTES + 3);
        assert_eq!(excerpt(b"a\nb\x00"), "a\\nb\\u{0}");
    }
}
