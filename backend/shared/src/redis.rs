//! The one way the services talk to Redis: a lazily connected, shared connection manager whose
//! every wait is bounded. A Redis that went away costs a caller at most [`TIMEOUT`] before its
//! call fails, and the feature decides what that failure means (rate limits let the request
//! through, deduplication waits); never a hang while the manager reconnects, which would hold
//! every request that needs Redis until the api sheds them all.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use ::redis::RedisResult;
use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use tokio::sync::OnceCell;

/// The longest a call waits for Redis: connecting (or reconnecting) and its answer together.
pub const TIMEOUT: Duration = Duration::from_secs(1);

/// A shared connection to one Redis; cheap to clone, connects on first use. It dials only the
/// operator's `FERROCAT_REDIS_URL`, never an address a workflow names, so it needs no egress
/// check (and the egress policy refuses that address to workflows).
#[derive(Clone)]
pub struct Redis {
    client: ::redis::Client,
    connection: Arc<OnceCell<ConnectionManager>>,
}

impl Redis {
    pub fn new(client: ::redis::Client) -> Self {
        Self { client, connection: Arc::default() }
    }

    /// Runs `call` on the connection, all within [`TIMEOUT`]; past it, a timed-out I/O error.
    pub async fn call<T, F, Fut>(&self, call: F) -> RedisResult<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let work = async {
            let connection = self.connection.get_or_try_init(|| ConnectionManager::new_with_config(self.client.clone(), config())).await?.clone();
            call(connection).await
        };
        match tokio::time::timeout(TIMEOUT, work).await {
            Ok(answer) => answer,
            Err(_) => Err(std::io::Error::new(std::io::ErrorKind::TimedOut, format!("Redis did not answer within {} s", TIMEOUT.as_secs())).into()),
        }
    }
}

/// Each connection attempt and each answer bounded, and few quick reconnection attempts (the
/// next call tries again anyway).
fn config() -> ConnectionManagerConfig {
    ConnectionManagerConfig::new()
        .set_connection_timeout(TIMEOUT)
        .set_response_timeout(TIMEOUT)
        .set_number_of_retries(2)
        .set_factor(100)
        .set_max_delay(500)
}
