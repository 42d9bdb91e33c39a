//! Slow-header (slowloris) protection: a connection must deliver its first request head within
//! `FERROCAT_EDGE_CLIENT_READ_TIMEOUT_SECS` of being accepted, or it is closed.
//!
//! Pingora bounds each *read* of a request head (60 s, or the keep-alive timeout), not the whole
//! head, so a client sending one byte every few seconds holds a connection and its task forever;
//! and no `ProxyHttp` phase runs before the head is parsed. So the edge wraps each accepted
//! stream ([`EdgeApp`]) in [`HeadDeadline`], which fails reads once the deadline passes while
//! the head is incomplete, and steps aside (one branch per read) as soon as the blank line that
//! ends the head has gone by. Later requests on a keep-alive connection are bounded per read by
//! the idle timeout, as Pingora does.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use async_trait::async_trait;
use pingora::apps::ServerApp;
use pingora::protocols::raw_connect::ProxyDigest;
use pingora::protocols::tls::TlsRef;
use pingora::protocols::{
    ALPN, GetProxyDigest, GetSocketDigest, GetTimingDigest, Peek, Shutdown, SocketDigest, Ssl,
    Stream, TimingDigest, UniqueID, UniqueIDType,
};
use pingora::proxy::HttpProxy;
use pingora::server::ShutdownWatch;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::proxy::Edge;

/// The proxy as Pingora's server app, with a deadline on each connection's first request head.
pub struct EdgeApp {
    proxy: Arc<HttpProxy<Edge>>,
    head_timeout: Duration,
}

impl EdgeApp {
    /// Serves `proxy`, closing connections whose first head takes longer than `head_timeout`.
    pub fn new(proxy: HttpProxy<Edge>, head_timeout: Duration) -> Self {
        Self {
            proxy: Arc::new(proxy),
            head_timeout,
        }
    }
}

#[async_trait]
impl ServerApp for EdgeApp {
    async fn process_new(
        self: &Arc<Self>,
        stream: Stream,
        shutdown: &ShutdownWatch,
    ) -> Option<Stream> {
        let stream: Stream = if stream.as_any().is::<HeadDeadline>() {
            stream
        } else {
            Box::new(HeadDeadline::new(stream, self.head_timeout))
        };
        self.proxy.process_new(stream, shutdown).await
    }

    async fn cleanup(&self) {
        self.proxy.cleanup().await;
    }
}

/// A stream whose reads fail with `TimedOut` once `timeout` has passed since it was made, until
/// the end of the first request head (an empty line) has been read.
#[derive(Debug)]
pub struct HeadDeadline {
    inner: Stream,
    head: Option<HeadState>,
}

#[derive(Debug)]
struct HeadState {
    deadline: Pin<Box<tokio::time::Sleep>>,
    timeout: Duration,
    /// How far into a line break: 0 none, 1 after LF, 2 after LF CR.
    newline: u8,
}

impl HeadDeadline {
    /// Wraps an accepted stream; the clock starts now.
    pub fn new(inner: Stream, timeout: Duration) -> Self {
        Self {
            inner,
            head: Some(HeadState {
                deadline: Box::pin(tokio::time::sleep(timeout)),
                timeout,
                newline: 0,
            }),
        }
    }
}

impl HeadState {
    /// Feeds bytes read; true once they complete the head (`\n\n` or `\n\r\n`, which also covers
    /// `\r\n\r\n`; httparse accepts bare LF line ends too).
    fn complete(&mut self, bytes: &[u8]) -> bool {
        for &b in bytes {
            self.newline = match (self.newline, b) {
                (1 | 2, b'\n') => return true,
                (_, b'\n') => 1,
                (1, b'\r') => 2,
                _ => 0,
            };
        }
        false
    }
}

impl AsyncRead for HeadDeadline {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let Some(head) = &mut this.head else {
            return Pin::new(&mut this.inner).poll_read(cx, buf);
        };
        if head.deadline.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::TimedOut,
                format!("request head not complete within {:?}", head.timeout),
            )));
        }
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &result
            && head.complete(&buf.filled()[before..])
        {
            this.head = None;
        }
        result
    }
}

impl AsyncWrite for HeadDeadline {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[async_trait]
impl Shutdown for HeadDeadline {
    async fn shutdown(&mut self) {
        self.inner.shutdown().await;
    }
}

impl UniqueID for HeadDeadline {
    fn id(&self) -> UniqueIDType {
        self.inner.id()
    }
}

impl Ssl for HeadDeadline {
    fn get_ssl(&self) -> Option<&TlsRef> {
        self.inner.get_ssl()
    }

    fn get_ssl_digest(&self) -> Option<Arc<pingora::protocols::tls::SslDigest>> {
        self.inner.get_ssl_digest()
    }

    fn selected_alpn_proto(&self) -> Option<ALPN> {
        self.inner.selected_alpn_proto()
    }
}

impl GetTimingDigest for HeadDeadline {
    fn get_timing_digest(&self) -> Vec<Option<TimingDigest>> {
        self.inner.get_timing_digest()
    }

    fn get_read_pending_time(&self) -> Duration {
        self.inner.get_read_pending_time()
    }

    fn get_write_pending_time(&self) -> Duration {
        self.inner.get_write_pending_time()
    }
}

impl GetProxyDigest for HeadDeadline {
    fn get_proxy_digest(&self) -> Option<Arc<ProxyDigest>> {
        self.inner.get_proxy_digest()
    }

    fn set_proxy_digest(&mut self, digest: ProxyDigest) {
        self.inner.set_proxy_digest(digest);
    }
}

impl GetSocketDigest for HeadDeadline {
    fn get_socket_digest(&self) -> Option<Arc<SocketDigest>> {
        self.inner.get_socket_digest()
    }

    fn set_socket_digest(&mut self, digest: SocketDigest) {
        self.inner.set_socket_digest(digest);
    }
}

#[async_trait]
impl Peek for HeadDeadline {
    async fn try_peek(&mut self, buf: &mut [u8]) -> io::Result<bool> {
        self.inner.try_peek(buf).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head() -> HeadState {
        HeadState {
            deadline: Box::pin(tokio::time::sleep(Duration::from_secs(1))),
            timeout: Duration::from_secs(1),
            newline: 0,
        }
    }

    #[tokio::test]
    async fn the_end_of_a_head_is_found_across_reads() {
        for (parts, done) in [
            (&["GET / HTTP/1.1\r\nHost: a\r\n\r\n"][..], true),
            (&["GET / HTTP/1.1\r\nHost: a\r\n", "\r\n"][..], true),
            (
                &["GET / HTTP/1.1\r\n", "Host: a\r", "\n\r", "\nbody"][..],
                true,
            ),
            (&["GET / HTTP/1.1\nHost: a\n\n"][..], true),
            (&["GET / HTTP/1.1\r\nHost: a\r\n"][..], false),
            (&["GET / HTTP/1.1\r\nX: \r\r\n", "Y: 1\r\n"][..], false),
            (&["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"][..], true),
        ] {
            let mut state = head();
            let found = parts.iter().any(|p| state.complete(p.as_bytes()));
            assert_eq!(found, done, "{parts:?}");
        }
    }
}
