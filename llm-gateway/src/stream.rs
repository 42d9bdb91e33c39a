//! Streamed answers: pumping the upstream's server-sent events to the caller one frame at a time (translated when the formats differ, byte for byte when they do not), with
//! `: keep-alive` comments until the first upstream event so idle timeouts of proxies and load
//! balancers do not cut a slow first token.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use bytes::{Bytes, BytesMut};
use futures::StreamExt as _;
use tokio::sync::mpsc;

use crate::catalog::Model;
use crate::error::ApiError;
use crate::sse::SseParser;
use crate::translate;
use crate::usage::Usage;
use crate::wire::{Dialect, Format};

/// The comment sent while no upstream event has arrived yet.
pub const KEEPALIVE: &[u8] = b": keep-alive\n\n";

/// A successful upstream response and who gave it.
pub struct Upstream {
    pub response: reqwest::Response,
    pub model: Arc<Model>,
    pub format: Format,
    pub attempts: u32,
}

/// The upstream call of a stream: already answered, or still being attempted.
pub enum Start {
    Ready(Upstream),
    Pending(Pin<Box<dyn Future<Output = Result<Upstream, ApiError>> + Send>>),
}

/// How a stream ended, for the usage record.
#[derive(Debug)]
pub struct StreamEnd {
    pub usage: Usage,
    pub upstream: Option<(String, String, u32)>,
    pub status: u16,
    pub first_event: Option<Duration>,
}

/// Everything the pump needs besides the upstream.
pub struct StreamContext {
    pub dialect: Dialect,
    pub model: String,
    pub include_usage: bool,
    pub keepalive: Duration,
    pub idle_timeout: Duration,
    pub started: Instant,
    pub on_end: Box<dyn FnOnce(StreamEnd) + Send>,
}

/// A `text/event-stream` response fed by a task that pumps the upstream stream.
pub fn respond(start: Start, ctx: StreamContext) -> Response {
    let (tx, rx) = mpsc::channel::<Bytes>(32);
    tokio::spawn(pump(tx, start, ctx));
    let body = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, Infallible>(b), rx)) });
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}

async fn pump(tx: mpsc::Sender<Bytes>, start: Start, ctx: StreamContext) {
    let StreamContext { dialect, model, include_usage, keepalive, idle_timeout, started, on_end } = ctx;
    let mut end = StreamEnd { usage: Usage::default(), upstream: None, status: 200, first_event: None };
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + keepalive, keepalive);
    let upstream = match start {
        Start::Ready(u) => u,
        Start::Pending(mut attempt) => loop {
            tokio::select! {
                result = &mut attempt => match result {
                    Ok(u) => break u,
                    Err(e) => {
                        end.status = e.status_code().as_u16();
                        let _ = tx.send(Bytes::from(e.in_dialect(dialect).sse_event())).await;
                        on_end(end);
                        return;
                    }
                },
                _ = ticker.tick() => {
                    if tx.send(Bytes::from_static(KEEPALIVE)).await.is_err() {
                        end.status = 499;
                        on_end(end);
                        return;
                    }
                }
            }
        },
    };
    end.upstream = Some((upstream.model.name.clone(), upstream.model.deployment.provider_name.clone(), upstream.attempts));
    let format = upstream.format;
    let mut translator = translate::stream(format, Format::from(dialect), &model, include_usage);
    let mut body = upstream.response.bytes_stream();
    let mut parser = SseParser::default();
    let mut frames = Vec::new();
    let mut events = Vec::new();
    loop {
        tokio::select! {
            biased;
            next = tokio::time::timeout(idle_timeout, body.next()) => {
                let chunk = match next {
                    Ok(Some(Ok(chunk))) => chunk,
                    Ok(None) => break,
                    Ok(Some(Err(_))) | Err(_) => {
                        let message = match next { Err(_) => "the provider stopped sending within the stream timeout", _ => "the provider's stream broke off" };
                        let e = ApiError::new(axum::http::StatusCode::BAD_GATEWAY, "api_error", message).in_dialect(dialect);
                        end.status = 502;
                        let _ = tx.send(Bytes::from(e.sse_event())).await;
                        break;
                    }
                };
                parser.push(&chunk, &mut frames);
                if frames.is_empty() {
                    continue;
                }
                end.first_event.get_or_insert_with(|| started.elapsed());
                let mut out = BytesMut::new();
                for frame in frames.drain(..) {
                    end.usage.sniff_event(format, &frame.event);
                    match &mut translator {
                        None => out.extend_from_slice(&frame.raw),
                        Some(t) => t.event(frame.event, &mut events),
                    }
                }
                for e in events.drain(..) {
                    e.encode_into(&mut out);
                }
                if !out.is_empty() && tx.send(out.freeze()).await.is_err() {
                    end.status = 499;
                    break;
                }
            }
            _ = ticker.tick(), if end.first_event.is_none() => {
                if tx.send(Bytes::from_static(KEEPALIVE)).await.is_err() {
                    end.status = 499;
                    break;
                }
            }
        }
    }
    if let Some(t) = &mut translator
        && end.status == 200
    {
        t.finish(&mut events);
        let mut out = BytesMut::new();
        for e in events.drain(..) {
            e.encode_into(&mut out);
        }
        if !out.is_empty() {
            let _ = tx.send(out.freeze()).await;
        }
    }
    on_end(end);
}
