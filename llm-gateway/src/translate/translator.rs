//! What every translation shares: the per-call [`Options`], the [`TranslateError`] of a request
//! that cannot be expressed in the target format, and the [`StreamTranslator`] that turns one
//! stream's events into another's.

use crate::sse::SseEvent;

/// A request that cannot be expressed in the target format.
#[derive(Debug, thiserror::Error)]
#[error("cannot translate the request: {0}")]
pub struct TranslateError(pub String);

/// Per-call translation settings.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// `max_tokens` for Anthropic when the request has none.
    pub default_max_tokens: u64,
}

/// Turns upstream stream events into the caller's, keeping whatever state the formats need.
pub trait StreamTranslator: Send {
    /// Translates one upstream event, appending the caller's events to `out`.
    fn event(&mut self, event: SseEvent, out: &mut Vec<SseEvent>);
    /// The upstream stream ended; appends any closing events.
    fn finish(&mut self, out: &mut Vec<SseEvent>);
}
