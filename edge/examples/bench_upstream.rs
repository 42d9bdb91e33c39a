//! A minimal upstream for `bench/compare.sh`: every request gets the same 13-byte body, so the
//! benchmark measures the proxies, not the upstream. Listens on the address in `$1`.

use axum::Router;

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:9101".to_owned());
    let app = Router::new().fallback(|| async { "hello, bench\n" });
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}
