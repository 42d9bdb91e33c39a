//! Translation between wire formats: requests, responses and streamed events, OpenAI <-> Anthropic
//! both ways and OpenAI -> Gemini (an Anthropic caller reaches Gemini through the OpenAI shape).
//! Same-format calls are not translated at all: only the model name changes.

pub mod anthropic;
pub mod gemini;
mod openai;
mod translator;

use serde_json::{Map, Value};

use crate::sse::SseEvent;
use crate::wire::Format;

pub use translator::{Options, StreamTranslator, TranslateError};

/// The upstream request body in `to`'s format, for `upstream_model`.
pub fn request(from: Format, to: Format, body: &Map<String, Value>, upstream_model: &str, opts: Options) -> Result<Vec<u8>, TranslateError> {
    let mut out = match (from, to) {
        (a, b) if a == b => body.clone(),
        (Format::OpenAi, Format::Anthropic) => anthropic::request_from_openai(body, opts)?,
        (Format::Anthropic, Format::OpenAi) => anthropic::request_to_openai(body)?,
        (Format::OpenAi, Format::Gemini) => gemini::request_from_openai(body)?,
        (Format::Anthropic, Format::Gemini) => gemini::request_from_openai(&anthropic::request_to_openai(body)?)?,
        (Format::Gemini, _) => return Err(TranslateError("callers do not speak Gemini's format".into())),
        (_, _) => unreachable!("all pairs covered"),
    };
    if to != Format::Gemini {
        out.insert("model".into(), Value::String(upstream_model.to_owned()));
    } else {
        out.remove("model");
    }
    Ok(serde_json::to_vec(&out).expect("JSON values serialize"))
}

/// A non-streamed upstream response (format `from`) as the caller's format `to` expects it;
/// `model` is the name the caller asked for.
pub fn response(from: Format, to: Format, body: Value, model: &str) -> Value {
    match (from, to) {
        (a, b) if a == b => body,
        (Format::Anthropic, Format::OpenAi) => anthropic::response_to_openai(body, model),
        (Format::OpenAi, Format::Anthropic) => anthropic::response_from_openai(body, model),
        (Format::Gemini, Format::OpenAi) => gemini::response_to_openai(body, model),
        (Format::Gemini, Format::Anthropic) => anthropic::response_from_openai(gemini::response_to_openai(body, model), model),
        (_, Format::Gemini) => body,
        (_, _) => unreachable!("all pairs covered"),
    }
}

/// Two translators in a row (Gemini -> OpenAI -> Anthropic).
struct Chain(Box<dyn StreamTranslator>, Box<dyn StreamTranslator>);

impl StreamTranslator for Chain {
    fn event(&mut self, event: SseEvent, out: &mut Vec<SseEvent>) {
        let mut mid = Vec::new();
        self.0.event(event, &mut mid);
        for e in mid {
            self.1.event(e, out);
        }
    }

    fn finish(&mut self, out: &mut Vec<SseEvent>) {
        let mut mid = Vec::new();
        self.0.finish(&mut mid);
        for e in mid {
            self.1.event(e, out);
        }
        self.1.finish(out);
    }
}

/// The translator from upstream `from` to caller `to`; `None` when frames pass unchanged.
/// `include_usage`: the OpenAI caller asked for a final usage chunk.
pub fn stream(from: Format, to: Format, model: &str, include_usage: bool) -> Option<Box<dyn StreamTranslator>> {
    match (from, to) {
        (a, b) if a == b => None,
        (Format::Anthropic, Format::OpenAi) => Some(Box::new(anthropic::StreamToOpenAi::new(model, include_usage))),
        (Format::OpenAi, Format::Anthropic) => Some(Box::new(anthropic::StreamFromOpenAi::new(model))),
        (Format::Gemini, Format::OpenAi) => Some(Box::new(gemini::StreamToOpenAi::new(model, include_usage))),
        (Format::Gemini, Format::Anthropic) => Some(Box::new(Chain(
            Box::new(gemini::StreamToOpenAi::new(model, true)),
            Box::new(anthropic::StreamFromOpenAi::new(model)),
        ))),
        (_, _) => None,
    }
}
