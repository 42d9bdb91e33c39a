//! What the interpreter asks of where it runs: actions executed, time passing, ids, subflow
//! definitions and child runs ([`Driver`]: Temporal, or in-process for `ferrocat run`), and how an
//! action or a run fails ([`Failure`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use futures::future::LocalBoxFuture;
use serde_json::Value;

use ferrocat_shared::temporal::{DslRunArgs, RunActionInput};

use crate::catalog::{ResolveWorkflow, ResolvedWorkflow};

/// Why an action or a run failed: the message users see and a type name; a failed run also
/// carries the errors that failed it (Tracecat's `ActionErrorInfo`s, for the error handler).
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub message: String,
    pub type_name: String,
    pub errors: Vec<Value>,
}

impl Failure {
    /// A failure with no recorded action errors.
    pub fn new(message: impl Into<String>, type_name: &str) -> Self {
        Self { message: message.into(), type_name: type_name.to_owned(), errors: Vec::new() }
    }
}

/// How actions run and time passes: Temporal activities and timers, or in-process calls.
pub trait Driver {
    /// Runs one action to its result.
    fn execute(&self, input: RunActionInput) -> LocalBoxFuture<'_, Result<Value, Failure>>;
    /// Waits durably for `delay`.
    fn sleep(&self, delay: Duration) -> LocalBoxFuture<'_, ()>;
    /// The run's current time (Temporal's logical workflow time, not the wall clock).
    fn now(&self) -> DateTime<Utc>;
    /// A fresh id, deterministic under replay.
    fn new_uuid(&self) -> uuid::Uuid;
    /// Looks up the committed definition a subflow names.
    fn resolve(&self, request: ResolveWorkflow) -> LocalBoxFuture<'_, Result<ResolvedWorkflow, Failure>>;
    /// Starts a child run as `exec_id`; with `wait`, resolves to its result, else to `exec_id`
    /// once it has started.
    fn run_child(
        &self,
        args: DslRunArgs,
        exec_id: String,
        wait: bool,
        timeout: Option<Duration>,
    ) -> LocalBoxFuture<'_, Result<Value, Failure>>;
}
