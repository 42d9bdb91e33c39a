//! Honest keep-alive: a service that answers before reading the request's whole body (a 401,
//! 403 or 413 decided from the head alone) says `Connection: close`.
//!
//! hyper closes such a connection once the response is out, since the unread rest of the body
//! would otherwise be taken for the next request, but it does not say so in the response. The
//! edge (or any pooling client) then keeps the connection for the next request, which meets a
//! closed socket: a 502 for a request the service never saw. With the header the edge never
//! pools the connection, whatever the timing.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderMap, HeaderValue};
use http::header::CONNECTION;
use http_body::{Body as HttpBody, Frame, SizeHint};

/// The middleware (outermost, so it sees what every layer and handler left unread).
pub async fn close_if_unread(request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let (body, read) = Watched::new(body);
    let mut response = next.run(Request::from_parts(parts, Body::new(body))).await;
    close_unless_read(&read, response.headers_mut());
    response
}

/// Adds `Connection: close` to a response's headers unless the request body was read to its end.
pub fn close_unless_read(read: &AtomicBool, headers: &mut HeaderMap) {
    if !read.load(Ordering::Acquire) {
        headers.insert(CONNECTION, HeaderValue::from_static("close"));
    }
}

/// A request body that records when it has been read to its end (an empty body from the start).
pub struct Watched<B> {
    inner: B,
    read: Arc<AtomicBool>,
}

impl<B: HttpBody> Watched<B> {
    /// The body and the flag that turns true once it is read to the end.
    pub fn new(inner: B) -> (Self, Arc<AtomicBool>) {
        let read = Arc::new(AtomicBool::new(inner.is_end_stream()));
        (Self { inner, read: read.clone() }, read)
    }
}

impl<B: HttpBody + Unpin> HttpBody for Watched<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if matches!(polled, Poll::Ready(None)) || (matches!(polled, Poll::Ready(Some(Ok(_)))) && self.inner.is_end_stream()) {
            self.read.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::routing::post;
    use tower::ServiceExt as _;

    #[tokio::test]
    async fn only_a_response_that_left_the_body_unread_closes() {
        let app = Router::new()
            .route("/read", post(|body: String| async move { body }))
            .route("/refuse", post(|| async { (http::StatusCode::FORBIDDEN, "no") }))
            .layer(axum::middleware::from_fn(close_if_unread));
        let streamed = || Body::from_stream(futures::stream::iter(["a", "b"].map(Ok::<_, std::io::Error>)));
        let cases = [("/read", streamed(), false), ("/read", Body::from("x"), false), ("/refuse", streamed(), true), ("/refuse", Body::from("x"), true), ("/refuse", Body::empty(), false)];
        for (path, body, closes) in cases {
            let response = app.clone().oneshot(Request::post(path).body(body).unwrap()).await.unwrap();
            assert_eq!(response.headers().get(CONNECTION).is_some_and(|v| v == "close"), closes, "{path}");
        }
    }
}
