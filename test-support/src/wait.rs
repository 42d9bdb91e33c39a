//! Waiting for a condition that the system under test makes true on its own time.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

/// Polls `probe` every 100 ms until it returns `Some`, or panics naming `what` after `within`.
pub async fn eventually<T, Fut: Future<Output = Option<T>>>(within: Duration, what: &str, mut probe: impl FnMut() -> Fut) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
