//! `ferrocat ui`: the web console, behind the edge at `/`. The built single-page app is
//! embedded in the binary (see build.rs): files under `assets/` carry a content hash and are
//! cached for ever, `index.html` is revalidated every time and answers every route of the app,
//! every response carries a strict Content-Security-Policy, and a gzip copy goes to clients
//! that accept it. A binary built without the console serves a page saying how to build it.

use std::net::SocketAddr;

use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use ferrocat_shared::config::{ConfigError, Env};

/// One embedded file of the built console.
pub struct Asset {
    /// Its path under `/`, e.g. `/assets/index-3b9c1a2f.js`.
    pub path: &'static str,
    pub body: &'static [u8],
    /// The same bytes gzipped, when that is smaller.
    pub gzip: Option<&'static [u8]>,
    pub content_type: &'static str,
    /// Its name carries a content hash: it never changes.
    pub immutable: bool,
}

include!(concat!(env!("OUT_DIR"), "/console_assets.rs"));

/// The ui's configuration.
#[derive(Debug, Clone)]
pub struct UiConfig {
    /// `FERROCAT_UI_ADDR`, default `127.0.0.1:3000`.
    pub addr: SocketAddr,
}

impl UiConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self { addr: env.parse_or("FERROCAT_UI_ADDR", SocketAddr::from(([127, 0, 0, 1], 3000)))? })
    }
}

/// Same-origin everything: the console talks to `/api` on its own origin, loads nothing from
/// elsewhere, and may not be framed.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; \
                   connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Where `index.html` carries its page's nonce (`<meta name="csp-nonce" content="…">`): the
/// code editor writes its styles into `<style>` elements, which the policy admits only with
/// the nonce of that very page load. Scripts get no nonce: they all come from files.
const NONCE_SLOT: &str = "__CSP_NONCE__";

/// The policy of one page load whose `<style>` elements carry `nonce`.
fn csp_with_nonce(nonce: &str) -> String {
    CSP.replace("style-src 'self'", &format!("style-src 'self' 'nonce-{nonce}'"))
}

const NOT_BUILT: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ferrocat</title></head>
<body>
<h1>ferrocat</h1>
<p>Self-hosted security automation &middot; version __VERSION__</p>
<p>This binary was built without the web console. Build it, then the binary:</p>
<pre>npm --prefix console ci &amp;&amp; npm --prefix console run build
cargo build --release</pre>
<p>Everything works through the API meanwhile: <a href="/api/health">/api/health</a>,
<a href="/api/openapi.json">/api/openapi.json</a>, and the README's five-minute tour.</p>
</body></html>
"#;

fn router(assets: &'static [Asset]) -> Router {
    Router::new().route("/health", get(|| async { Json(json!({"status": "ok"})) })).fallback(get(
        move |uri: Uri, headers: HeaderMap| async move { respond(assets, uri.path(), &headers) },
    ))
}

/// The file `path` names, else (for a route of the app, not a missing file) `index.html`.
fn respond(assets: &'static [Asset], path: &str, headers: &HeaderMap) -> Response {
    let Some(index) = assets.iter().find(|a| a.path == "/index.html") else {
        let page = NOT_BUILT.replace("__VERSION__", env!("CARGO_PKG_VERSION"));
        return secured(([(header::CONTENT_TYPE, "text/html; charset=utf-8"), (header::CACHE_CONTROL, "no-cache")], page).into_response());
    };
    let asset = match assets.iter().find(|a| a.path == path) {
        Some(asset) => asset,
        // A path whose last segment has an extension names a file, and there is no such file.
        None if path.rsplit('/').next().is_some_and(|last| last.contains('.')) => {
            return secured((StatusCode::NOT_FOUND, "not found").into_response());
        }
        None => index,
    };
    if asset.path == "/index.html" {
        return index_page(asset);
    }
    let gzip_ok = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.split(';').next().is_some_and(|e| e.trim() == "gzip")));
    let cache = if asset.immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
    let mut response = match asset.gzip.filter(|_| gzip_ok) {
        Some(packed) => ([(header::CONTENT_ENCODING, "gzip")], packed).into_response(),
        None => asset.body.into_response(),
    };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    secured(response)
}

/// The app's page with a fresh nonce in its policy and its meta tag; never cached.
fn index_page(asset: &Asset) -> Response {
    let nonce = hex::encode(rand::random::<[u8; 16]>());
    let page = String::from_utf8_lossy(asset.body).replace(NONCE_SLOT, &nonce);
    let mut response = secured(([(header::CONTENT_TYPE, asset.content_type), (header::CACHE_CONTROL, "no-cache")], page).into_response());
    let policy = HeaderValue::from_str(&csp_with_nonce(&nonce)).expect("a hex nonce is a valid header value");
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
    response
}

/// Adds the headers every answer carries.
fn secured(mut response: Response) -> Response {
    let h = response.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}

/// Serves until `shutdown`.
pub async fn run(config: UiConfig, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    tracing::info!(addr = %listener.local_addr()?, files = ASSETS.len(), "ui listening");
    axum::serve(listener, router(ASSETS)).with_graceful_shutdown(shutdown).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    static BUILT: &[Asset] = &[
        Asset {
            path: "/index.html",
            body: b"<!doctype html><meta name=csp-nonce content=__CSP_NONCE__><div id=app></div>",
            gzip: None,
            content_type: "text/html; charset=utf-8",
            immutable: false,
        },
        Asset {
            path: "/assets/index-3b9c1a2f.js",
            body: b"console.log('ferrocat')",
            gzip: Some(b"\x1f\x8bpretend"),
            content_type: "text/javascript; charset=utf-8",
            immutable: true,
        },
    ];

    async fn serve(assets: &'static [Asset]) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router(assets)).await.unwrap() });
        url
    }

    fn header<'r>(response: &'r reqwest::Response, name: &str) -> &'r str {
        response.headers().get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
    }

    #[tokio::test]
    async fn hashed_files_are_cached_for_ever_and_routes_of_the_app_get_the_index() {
        let url = serve(BUILT).await;
        // The test's own client for the ui it just started on loopback.
        let client = reqwest::Client::builder().no_gzip().build().unwrap();
        let script = client.get(format!("{url}/assets/index-3b9c1a2f.js")).send().await.unwrap();
        assert_eq!(script.status(), 200);
        assert_eq!(header(&script, "cache-control"), "public, max-age=31536000, immutable");
        assert_eq!(header(&script, "content-type"), "text/javascript; charset=utf-8");
        assert_eq!(script.text().await.unwrap(), "console.log('ferrocat')", "no gzip unless asked for");
        let packed = client.get(format!("{url}/assets/index-3b9c1a2f.js")).header("accept-encoding", "br, gzip;q=0.8").send().await.unwrap();
        assert_eq!(header(&packed, "content-encoding"), "gzip");
        assert_eq!(packed.bytes().await.unwrap().as_ref(), b"\x1f\x8bpretend");
        let mut nonces = std::collections::HashSet::new();
        for route in ["/", "/workflows/wf_1/runs", "/index.html"] {
            let page = client.get(format!("{url}{route}")).send().await.unwrap();
            assert_eq!(page.status(), 200, "{route}");
            assert_eq!(header(&page, "cache-control"), "no-cache", "{route}");
            let policy = header(&page, "content-security-policy").to_owned();
            assert!(policy.contains("frame-ancestors 'none'") && policy.contains("script-src 'self';"), "{route}: {policy}");
            let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a style nonce").to_owned();
            assert_eq!(nonce.len(), 32, "{route}: {policy}");
            let text = page.text().await.unwrap();
            assert_eq!(text, format!("<!doctype html><meta name=csp-nonce content={nonce}><div id=app></div>"), "{route}");
            assert!(nonces.insert(nonce), "every page load has a nonce of its own");
        }
        let missing = client.get(format!("{url}/assets/gone-00000000.js")).send().await.unwrap();
        assert_eq!(missing.status(), 404, "a missing file is not the app");
        assert_eq!(header(&missing, "x-content-type-options"), "nosniff");
    }

    #[tokio::test]
    async fn without_a_built_console_every_page_says_how_to_build_it() {
        let url = serve(&[]).await;
        let page = reqwest::get(format!("{url}/anything")).await.unwrap();
        assert_eq!(page.status(), 200);
        assert!(header(&page, "content-security-policy").starts_with("default-src 'self'"));
        let text = page.text().await.unwrap();
        assert!(text.contains("npm --prefix console run build") && text.contains(env!("CARGO_PKG_VERSION")), "{text}");
        assert_eq!(reqwest::get(format!("{url}/health")).await.unwrap().status(), 200);
    }
}
