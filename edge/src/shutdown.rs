//! Stopping the edge. SIGTERM (or the future given to [`run_until`](crate::run_until)) is a
//! graceful stop: Pingora closes the listeners (new connections are refused), lets requests in
//! flight finish for `FERROCAT_EDGE_GRACE_PERIOD_SECS`, then stops its runtimes. SIGINT stops at
//! once.
//!
//! Pingora 0.9.1 sleeps the whole grace period after a graceful stop, whether or not anything is
//! still running (`Server::run`, `thread::sleep(grace_period_seconds)`), and the only choice it
//! leaves is made when the signal arrives: graceful or fast. So the edge counts its requests in
//! flight and, when there are none at that moment, asks for the fast stop: no grace period to
//! sleep through. A connection whose request head is still being read is not counted yet; it
//! came in as the edge was stopping and is closed, like one arriving a moment later.

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;

use async_trait::async_trait;
use pingora::server::{ShutdownSignal, ShutdownSignalWatch};
use prometheus::IntGauge;

/// Requests between Pingora creating their context and dropping it (after the access log).
#[derive(Clone)]
pub struct InFlight(IntGauge);

impl InFlight {
    /// A counter at zero, also exported as `ferrocat_edge_requests_in_flight`.
    pub fn new() -> Self {
        Self(
            IntGauge::new(
                "ferrocat_edge_requests_in_flight",
                "Requests the edge is working on",
            )
            .expect("valid metric"),
        )
    }

    /// Counts a request until the guard is dropped.
    pub fn enter(&self) -> InFlightGuard {
        self.0.inc();
        InFlightGuard(self.0.clone())
    }

    /// Requests in flight now.
    pub fn get(&self) -> i64 {
        self.0.get()
    }

    /// The gauge, for the metrics registry.
    pub fn gauge(&self) -> &IntGauge {
        &self.0
    }
}

impl Default for InFlight {
    fn default() -> Self {
        Self::new()
    }
}

/// Held by a request's context; counts down when dropped.
pub struct InFlightGuard(IntGauge);

impl Drop for InFlightGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

impl std::fmt::Debug for InFlightGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("InFlightGuard")
    }
}

type Trigger = Pin<Box<dyn Future<Output = ShutdownSignal> + Send>>;

/// Pingora's shutdown signal: waits for the trigger, then turns a graceful stop into a fast one
/// when nothing is in flight.
pub struct Shutdown {
    trigger: Mutex<Option<Trigger>>,
    in_flight: InFlight,
}

impl Shutdown {
    /// Stops gracefully once `done` completes.
    pub fn on<F>(done: F, in_flight: InFlight) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        Self::new(
            Box::pin(async move {
                done.await;
                ShutdownSignal::GracefulTerminate
            }),
            in_flight,
        )
    }

    /// Stops on the process's signals: SIGTERM and SIGQUIT gracefully, SIGINT at once.
    pub fn on_signals(in_flight: InFlight) -> Self {
        Self::new(
            Box::pin(async {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut term), Ok(mut quit), Ok(mut int)) = (
                    signal(SignalKind::terminate()),
                    signal(SignalKind::quit()),
                    signal(SignalKind::interrupt()),
                ) else {
                    tracing::error!("cannot watch process signals; stopping");
                    return ShutdownSignal::FastShutdown;
                };
                tokio::select! {
                    _ = term.recv() => ShutdownSignal::GracefulTerminate,
                    _ = quit.recv() => ShutdownSignal::GracefulTerminate,
                    _ = int.recv() => ShutdownSignal::FastShutdown,
                }
            }),
            in_flight,
        )
    }

    fn new(trigger: Trigger, in_flight: InFlight) -> Self {
        Self {
            trigger: Mutex::new(Some(trigger)),
            in_flight,
        }
    }
}

/// The stop to ask Pingora for, given what was asked and the requests in flight.
fn decide(asked: ShutdownSignal, in_flight: i64) -> ShutdownSignal {
    match asked {
        ShutdownSignal::GracefulTerminate if in_flight <= 0 => ShutdownSignal::FastShutdown,
        other => other,
    }
}

#[async_trait]
impl ShutdownSignalWatch for Shutdown {
    async fn recv(&self) -> ShutdownSignal {
        let trigger = self
            .trigger
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        let asked = match trigger {
            Some(trigger) => trigger.await,
            None => std::future::pending().await,
        };
        let in_flight = self.in_flight.get();
        let graceful = matches!(asked, ShutdownSignal::GracefulTerminate);
        let decided = decide(asked, in_flight);
        match decided {
            ShutdownSignal::FastShutdown if graceful => {
                tracing::info!("stopping: nothing in flight, so no grace period");
            }
            ShutdownSignal::GracefulTerminate => {
                tracing::info!(in_flight, "stopping: draining requests in flight");
            }
            _ => tracing::info!("stopping now"),
        }
        decided
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_graceful_stop_is_fast_only_when_idle() {
        assert!(matches!(
            decide(ShutdownSignal::GracefulTerminate, 0),
            ShutdownSignal::FastShutdown
        ));
        assert!(matches!(
            decide(ShutdownSignal::GracefulTerminate, 2),
            ShutdownSignal::GracefulTerminate
        ));
        assert!(matches!(
            decide(ShutdownSignal::FastShutdown, 2),
            ShutdownSignal::FastShutdown
        ));
    }

    #[test]
    fn guards_count_requests_in_flight() {
        let in_flight = InFlight::new();
        let a = in_flight.enter();
        let b = in_flight.enter();
        assert_eq!(in_flight.get(), 2);
        drop(a);
        assert_eq!(in_flight.get(), 1);
        drop(b);
        assert_eq!(in_flight.get(), 0);
    }
}
