//! Server-sent events on the wire: [`SseEvent`] and its encoding, and [`SseParser`], which cuts
//! upstream chunks into complete frames.

use bytes::{Bytes, BytesMut};
use serde_json::Value;

/// One SSE event: an optional `event:` name and its `data:`.
#[derive(Debug, Clone, PartialEq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
}

impl SseEvent {
    /// A `data:`-only event holding `value` as JSON.
    pub fn data(value: Value) -> Self {
        Self { event: None, data: value.to_string() }
    }

    /// An event with a name (Anthropic's style).
    pub fn named(name: &str, value: Value) -> Self {
        Self { event: Some(name.to_owned()), data: value.to_string() }
    }

    /// OpenAI's end-of-stream marker.
    pub fn done() -> Self {
        Self { event: None, data: "[DONE]".into() }
    }

    /// Appends the wire form to `out`.
    pub fn encode_into(&self, out: &mut BytesMut) {
        if let Some(name) = &self.event {
            out.extend_from_slice(b"event: ");
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\n");
        }
        for line in self.data.split('\n') {
            out.extend_from_slice(b"data: ");
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(b"\n");
        }
        out.extend_from_slice(b"\n");
    }
}

/// A complete frame as received, and its parsed event.
#[derive(Debug)]
pub struct Frame {
    /// The frame's bytes including its blank line (line ends normalised to `\n`).
    pub raw: Bytes,
    pub event: SseEvent,
}

/// Incremental SSE parser: feed it chunks as they arrive, get back complete frames.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: BytesMut,
}

impl SseParser {
    /// Adds `chunk`, appending every frame it completes to `out`. Comment-only frames are
    /// dropped.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<Frame>) {
        if chunk.contains(&b'\r') {
            let text = chunk.iter().copied().filter(|b| *b != b'\r').collect::<Vec<_>>();
            self.buf.extend_from_slice(&text);
        } else {
            self.buf.extend_from_slice(chunk);
        }
        while let Some(end) = self.buf.windows(2).position(|w| w == b"\n\n") {
            let raw = self.buf.split_to(end + 2).freeze();
            if let Some(event) = parse_frame(&raw) {
                out.push(Frame { raw, event });
            }
        }
    }
}

fn parse_frame(raw: &[u8]) -> Option<SseEvent> {
    let text = std::str::from_utf8(raw).ok()?;
    let mut event = None;
    let mut data: Option<String> = None;
    for line in text.lines() {
        let (field, value) = match line.split_once(':') {
            Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
            None => (line, ""),
        };
        match field {
            "event" => event = Some(value.to_owned()),
            "data" => match &mut data {
                Some(d) => {
                    d.push('\n');
                    d.push_str(value);
                }
                None => data = Some(value.to_owned()),
            },
            _ => {}
        }
    }
    data.map(|data| SseEvent { event, data })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_frames_across_chunk_boundaries_and_crlf() {
        let mut p = SseParser::default();
        let mut out = Vec::new();
        p.push(b"event: message_start\ndata: {\"a\"", &mut out);
        assert!(out.is_empty());
        p.push(b":1}\n\n: ping\n\ndata: x\r\ndata: y\r\n\r\ndata: [DONE]\n\n", &mut out);
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].event, SseEvent { event: Some("message_start".into()), data: "{\"a\":1}".into() });
        assert_eq!(out[1].event.data, "x\ny");
        assert_eq!(&out[1].raw[..], b"data: x\ndata: y\n\n");
        assert_eq!(out[2].event, SseEvent::done());
    }

    #[test]
    fn encodes_named_and_multiline_events() {
        let mut out = BytesMut::new();
        SseEvent { event: Some("e".into()), data: "a\nb".into() }.encode_into(&mut out);
        assert_eq!(&out[..], b"event: e\ndata: a\ndata: b\n\n");
    }
}
