//! The mock LLM provider of the tests as a standalone server, for the benchmark and for trying
//! the gateway by hand: `cargo run --release -p ferrocat-llm-gateway --example mock_provider -- 127.0.0.1:9000`.

use ferrocat_test_support::llm_mock as mock;

#[tokio::main]
async fn main() {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:9000".into());
    let mock = mock::MockProvider::spawn_on(addr.parse().expect("an address like 127.0.0.1:9000"), false).await;
    println!("mock provider listening on http://{}", mock.addr);
    tokio::signal::ctrl_c().await.expect("signal handler");
}
