//! `python_lambda` arguments of `core.transform.{filter,map,apply,is_in,not_in}`.
//!
//! Choice: the lambda runs in a real CPython inside the script sandbox ([`super::sandbox`]), one
//! sandboxed process per action call evaluating every item, rather than in an embedded
//! Python-subset evaluator. Why: users paste Tracecat lambdas that lean on the whole of Python's
//! expression semantics (`x.get("k", d)`, string methods, slicing, comprehensions, f-strings,
//! `sorted(key=…)`, int/float/str coercions); a subset interpreter would differ from Tracecat in
//! many small ways, each a silent wrong result, while the sandbox gives exact semantics and a
//! real security boundary (no network, empty environment, read-only root, rlimits). The lambda
//! source is still checked against an allow-list of expression nodes inside the sandbox, so
//! statements, imports, dunder access and `eval`-like names are rejected with Tracecat's messages.
//! Cost: one bwrap + python start per action call (tens of milliseconds), not per item; such
//! actions therefore stay executor activities instead of being evaluated in the workflow task.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

use super::ActionError;
use super::sandbox::{Sandbox, SandboxError, SandboxJob, SandboxLimits};

const RUNNER: &str = include_str!("python/lambda_runner.py");

/// How a lambda is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `fn(value)`.
    Apply,
    /// `[fn(x) for x in items]`.
    Map,
    /// `[bool(fn(x)) for x in items]`.
    Filter,
}

fn limits() -> SandboxLimits {
    SandboxLimits {
        cpu_seconds: 30,
        memory_bytes: 512 * 1024 * 1024,
        file_size_bytes: 16 * 1024 * 1024,
        tmp_size_bytes: 16 * 1024 * 1024,
        wall_clock: Duration::from_secs(30),
        ..SandboxLimits::default()
    }
}

/// Evaluates `source` over `data` (`value` for [`Mode::Apply`], `items` otherwise).
pub async fn eval(source: &str, mode: Mode, data: &Value) -> Result<Value, ActionError> {
    let input = match mode {
        Mode::Apply => json!({"lambda": source, "mode": "apply", "value": data}),
        Mode::Map => json!({"lambda": source, "mode": "map", "items": data}),
        Mode::Filter => json!({"lambda": source, "mode": "filter", "items": data}),
    };
    let env = BTreeMap::new();
    let job = SandboxJob { program: RUNNER, input: &input, env: &env, network: None, limits: limits() };
    let output = Sandbox::default().run(job).await.map_err(|e| match e {
        SandboxError::Timeout(d) => ActionError::Value(format!("lambda timed out after {}s", d.as_secs())),
        other => ActionError::Sandbox(other.to_string()),
    })?;
    match output.result {
        Some(Value::Object(mut outcome)) => match outcome.remove("ok") {
            Some(Value::Bool(true)) => Ok(outcome.remove("result").unwrap_or(Value::Null)),
            _ => Err(ActionError::Python(
                outcome.remove("error").and_then(|e| e.as_str().map(str::to_owned)).unwrap_or_default(),
            )),
        },
        _ => Err(ActionError::Python(format!(
            "lambda evaluation ended without a result (exit code {:?}): {}",
            output.exit_code,
            output.stderr.trim()
        ))),
    }
}
