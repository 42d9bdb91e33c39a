//! Cross-site request forgery defence: an unsafe request (POST, PUT, PATCH, DELETE) that a
//! browser could send on a person's behalf, that is one carrying the session cookie or the
//! sign-in form (`/auth/login`, against login CSRF), must come from the public URL's origin. The
//! browser's `Origin` says where it comes from, else its `Referer`; a request with neither
//! comes from no browser page (curl, scripts) and passes, as do requests with an
//! `Authorization` header (a page cannot add one to a cross-site request without CORS, which
//! the api never grants), the public webhook receiver (never authenticated by cookie) and the
//! SAML assertion consumer service, which the identity provider's page posts to from its own
//! origin by design (the answer is bound to the browser by its own cookie and to one request
//! by its signed InResponseTo, see `ferrocat_app::sso::saml`).

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

use crate::auth::SESSION_COOKIE;
use crate::error::ApiError;
use crate::state::AppState;

/// The middleware: 403 for a cookie-authenticated (or sign-in) unsafe request from elsewhere.
pub async fn check(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if needs_check(request.method(), request.uri().path(), request.headers())
        && let Err(error) = same_origin(&state.config.public_url, request.headers())
    {
        tracing::warn!(method = %request.method(), path = %request.uri().path(), "cross-origin request refused");
        return error.into_response();
    }
    next.run(request).await
}

fn needs_check(method: &Method, path: &str, headers: &HeaderMap) -> bool {
    let unsafe_method = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE);
    if !unsafe_method || path.starts_with("/webhooks/") || path == "/auth/saml/acs" || headers.contains_key(header::AUTHORIZATION) {
        return false;
    }
    path == "/auth/login" || CookieJar::from_headers(headers).get(SESSION_COOKIE).is_some()
}

/// The origin (`scheme://host[:port]`, lowercase, default port left out) of a URL.
fn origin_of(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    match parsed.origin() {
        origin @ url::Origin::Tuple(..) => Some(origin.ascii_serialization()),
        url::Origin::Opaque(_) => None,
    }
}

fn same_origin(public_url: &str, headers: &HeaderMap) -> Result<(), ApiError> {
    let expected = origin_of(public_url).unwrap_or_default();
    let (what, claimed) = match (headers.get(header::ORIGIN), headers.get(header::REFERER)) {
        (Some(origin), _) => ("Origin", origin),
        (None, Some(referer)) => ("Referer", referer),
        (None, None) => return Ok(()),
    };
    let text = claimed.to_str().unwrap_or_default();
    if origin_of(text).is_some_and(|origin| origin == expected) {
        return Ok(());
    }
    let shown: String = text.chars().take(100).collect();
    Err(ApiError::Forbidden(format!(
        "cross-origin request refused: its {what} {shown:?} is not {expected}; signed-in changes must come from ferrocat's own pages"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_browser_requests_with_the_session_or_the_sign_in_form_are_checked() {
        let cookie = ("cookie", "ferrocat_session=abc");
        assert!(needs_check(&Method::POST, "/variables", &headers(&[cookie])));
        assert!(needs_check(&Method::DELETE, "/workflows/x", &headers(&[cookie])));
        assert!(needs_check(&Method::POST, "/auth/login", &headers(&[])));
        assert!(!needs_check(&Method::GET, "/variables", &headers(&[cookie])));
        assert!(!needs_check(&Method::POST, "/variables", &headers(&[])));
        assert!(!needs_check(&Method::POST, "/variables", &headers(&[cookie, ("authorization", "Bearer tc_x")])));
        assert!(!needs_check(&Method::POST, "/webhooks/wf_x/secret", &headers(&[cookie])));
    }

    #[test]
    fn the_public_origin_passes_and_others_do_not() {
        let public = "http://localhost:8080";
        assert!(same_origin(public, &headers(&[])).is_ok());
        assert!(same_origin(public, &headers(&[("origin", "http://localhost:8080")])).is_ok());
        assert!(same_origin(public, &headers(&[("referer", "http://localhost:8080/workflows?x=1")])).is_ok());
        assert!(same_origin("https://soar.example.com/", &headers(&[("origin", "https://SOAR.example.com:443")])).is_ok());
        for bad in [
            ("origin", "http://evil.example"),
            ("origin", "null"),
            ("origin", "http://localhost:8081"),
            ("origin", "https://localhost:8080"),
            ("referer", "http://localhost:8080.evil.example/"),
        ] {
            let error = same_origin(public, &headers(&[bad])).unwrap_err();
            assert!(matches!(error, ApiError::Forbidden(_)), "{bad:?}");
        }
        // Origin wins over a matching Referer.
        assert!(same_origin(public, &headers(&[("origin", "http://evil.example"), ("referer", "http://localhost:8080/")])).is_err());
    }
}
