//! `ferrocat ui`: the web console's place in the stack. For now a real landing page with the
//! version, the api's status and links to the docs; the console itself is later work.

use std::net::SocketAddr;

use axum::response::Html;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use ferrocat_shared::config::{ConfigError, Env};

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

const PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>ferrocat</title>
<style>
body{font-family:system-ui,sans-serif;max-width:46rem;margin:3rem auto;padding:0 1rem;color:#1d232a;line-height:1.5}
h1{margin-bottom:.2rem} .muted{color:#5b6670} code{background:#f1f3f5;padding:.1rem .3rem;border-radius:4px}
.status{padding:.6rem .8rem;border-radius:6px;background:#f1f3f5;margin:1rem 0} .ok{background:#e6f6ea} .bad{background:#fdecea}
</style></head>
<body>
<h1>ferrocat</h1>
<p class="muted">Self-hosted security automation &middot; version __VERSION__</p>
<div id="status" class="status">Checking the API&hellip;</div>
<ul>
<li><a href="/api/health">API status</a> (<code>/api/health</code>) and <a href="/api/info">instance info</a> (<code>/api/info</code>)</li>
<li>Docs: the README's five-minute tour (log in, import a workflow, create a webhook, trigger it, read the result)</li>
<li>Webhooks: <code>POST /api/webhooks/{workflow_id}/{secret}</code>, and <code>/wait</code> for the result</li>
</ul>
<p class="muted">The web console is coming; everything is available through the API today.</p>
<script>
fetch('/api/health').then(r => r.json().then(b => [r.ok, b])).then(([ok, b]) => {
  const el = document.getElementById('status');
  el.textContent = ok ? 'API: ' + b.status : 'API: ' + (b.detail || 'unavailable');
  el.className = 'status ' + (ok ? 'ok' : 'bad');
}).catch(() => { const el = document.getElementById('status'); el.textContent = 'API: unreachable'; el.className = 'status bad'; });
</script>
</body></html>
"#;

fn router() -> Router {
    let page = PAGE.replace("__VERSION__", env!("CARGO_PKG_VERSION"));
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .fallback(get(move || {
            let page = page.clone();
            async move { Html(page) }
        }))
}

/// Serves until `shutdown`.
pub async fn run(config: UiConfig, shutdown: impl std::future::Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    tracing::info!(addr = %listener.local_addr()?, "ui listening");
    axum::serve(listener, router()).with_graceful_shutdown(shutdown).await?;
    Ok(())
}
