//! The DAG scheduler: starts each action when its dependencies allow, propagates skips, follows
//! error edges, and fails the run on an error nobody handles. It is written against [`Driver`],
//! so the same code runs inside Temporal (`DSLWorkflow`) and in-process (`ferrocat run`).
//! Concurrency uses `select_all` over boxed futures, which Temporal's determinism checker accepts.

use std::time::Duration;

use futures::future::{LocalBoxFuture, select_all};
use serde_json::{Map, Value, json};

use ferrocat_shared::dsl::{EdgeKind, JoinStrategy, dependencies};
use ferrocat_shared::expr::{self, ExprContext};
use ferrocat_shared::temporal::{DslRunArgs, RunActionInput, RunContext};

/// Why an action or a run failed: the message users see and a type name.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub message: String,
    pub type_name: String,
}

impl Failure {
    fn new(message: impl Into<String>, type_name: &str) -> Self {
        Self { message: message.into(), type_name: type_name.to_owned() }
    }
}

/// How actions run and time passes: Temporal activities and timers, or in-process calls.
pub trait Driver {
    /// Runs one action to its result.
    fn execute(&self, input: RunActionInput) -> LocalBoxFuture<'_, Result<Value, Failure>>;
    /// Waits durably for `delay`.
    fn sleep(&self, delay: Duration) -> LocalBoxFuture<'_, ()>;
}

/// What became of one action.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Succeeded,
    Failed,
    Skipped,
}

/// Whether an action may start now.
enum Readiness {
    Wait,
    Run,
    Skip,
}

fn readiness(deps: &[(usize, EdgeKind)], join: JoinStrategy, outcomes: &[Option<Outcome>]) -> Readiness {
    if deps.is_empty() {
        return Readiness::Run;
    }
    let mut satisfied = 0;
    let mut resolved = 0;
    for (source, kind) in deps {
        let Some(outcome) = &outcomes[*source] else { continue };
        resolved += 1;
        let taken = matches!(
            (kind, outcome),
            (EdgeKind::Success, Outcome::Succeeded) | (EdgeKind::Error, Outcome::Failed)
        );
        if taken {
            satisfied += 1;
        }
    }
    match join {
        JoinStrategy::All if resolved < deps.len() => Readiness::Wait,
        JoinStrategy::All if satisfied == deps.len() => Readiness::Run,
        JoinStrategy::All => Readiness::Skip,
        JoinStrategy::Any if satisfied > 0 => Readiness::Run,
        JoinStrategy::Any if resolved == deps.len() => Readiness::Skip,
        JoinStrategy::Any => Readiness::Wait,
    }
}

/// Python's `type(x).__name__` for a JSON value, as Tracecat reports `result_typename`.
fn typename(value: &Value) -> &'static str {
    match value {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

type Running<'a> = LocalBoxFuture<'a, (usize, Result<Value, Failure>)>;

/// Interprets `args.dsl` to completion and evaluates its `returns`.
pub async fn interpret(driver: &impl Driver, args: &DslRunArgs, run_context: RunContext) -> Result<Value, Failure> {
    let dsl = &args.dsl;
    let index: std::collections::HashMap<&str, usize> =
        dsl.actions.iter().enumerate().map(|(i, a)| (a.ref_.as_str(), i)).collect();
    let mut deps: Vec<Vec<(usize, EdgeKind)>> = Vec::with_capacity(dsl.actions.len());
    for action in &dsl.actions {
        let mut edges = Vec::new();
        for (source, kind) in dependencies(action) {
            let Some(&i) = index.get(source.as_str()) else {
                return Err(Failure::new(format!("action '{}' depends on unknown action '{source}'", action.ref_), "DSLError"));
            };
            edges.push((i, kind));
        }
        deps.push(edges);
    }
    let has_error_edge: Vec<bool> = (0..dsl.actions.len())
        .map(|i| deps.iter().flatten().any(|(s, k)| *s == i && *k == EdgeKind::Error))
        .collect();

    let mut env = Map::new();
    env.insert(
        "workflow".into(),
        json!({
            "execution_id": run_context.wf_exec_id,
            "run_id": run_context.wf_run_id,
            "trigger_type": args.trigger_type,
        }),
    );
    env.insert("environment".into(), Value::String(run_context.environment.clone()));

    let mut expr_ctx = ExprContext { trigger: args.trigger.clone(), env: env.clone(), ..ExprContext::default() };
    let mut outcomes: Vec<Option<Outcome>> = vec![None; dsl.actions.len()];
    let mut started = vec![false; dsl.actions.len()];
    let mut running: Vec<Running<'_>> = Vec::new();

    loop {
        // Start or skip everything that can be decided now; skips can unlock more decisions.
        let mut changed = true;
        while changed {
            changed = false;
            for (i, task) in dsl.actions.iter().enumerate() {
                if started[i] {
                    continue;
                }
                match readiness(&deps[i], task.join_strategy, &outcomes) {
                    Readiness::Wait => continue,
                    Readiness::Skip => {
                        started[i] = true;
                        outcomes[i] = Some(Outcome::Skipped);
                        changed = true;
                        continue;
                    }
                    Readiness::Run => {}
                }
                started[i] = true;
                changed = true;
                if let Some(condition) = &task.run_if {
                    let value = expr::eval_templated(&Value::String(condition.clone()), &expr_ctx).map_err(|e| {
                        Failure::new(format!("Error evaluating `run_if` condition of '{}': {e}", task.ref_), "ExpressionError")
                    })?;
                    if !expr::truthy(&value) {
                        outcomes[i] = Some(Outcome::Skipped);
                        continue;
                    }
                }
                let input = RunActionInput {
                    task: task.clone(),
                    actions: expr_ctx.actions.clone(),
                    trigger: args.trigger.clone(),
                    env: env.clone(),
                    run: run_context.clone(),
                };
                let delay = task.start_delay;
                running.push(Box::pin(async move {
                    if delay > 0.0 {
                        driver.sleep(Duration::from_secs_f64(delay)).await;
                    }
                    (i, driver.execute(input).await)
                }));
            }
        }
        if running.is_empty() {
            break;
        }
        let ((i, result), _, rest) = select_all(running).await;
        running = rest;
        let task = &dsl.actions[i];
        match result {
            Ok(value) => {
                let typename = typename(&value);
                expr_ctx
                    .actions
                    .insert(task.ref_.clone(), json!({"result": value, "result_typename": typename}));
                outcomes[i] = Some(Outcome::Succeeded);
            }
            Err(Failure { message, type_name }) => {
                if !has_error_edge[i] {
                    return Err(Failure { message, type_name });
                }
                expr_ctx.actions.insert(
                    task.ref_.clone(),
                    json!({
                        "result": null,
                        "result_typename": "NoneType",
                        "error": {"ref": task.ref_, "action": task.action, "message": message, "type": type_name},
                        "error_typename": type_name,
                    }),
                );
                outcomes[i] = Some(Outcome::Failed);
            }
        }
    }

    match &dsl.returns {
        Some(template) => expr::eval_templated(template, &expr_ctx)
            .map_err(|e| Failure::new(format!("Couldn't parse return value expression: {e}"), "ExpressionError")),
        None => Ok(json!({
            "wf_id": run_context.wf_id,
            "wf_exec_id": run_context.wf_exec_id,
            "wf_run_id": run_context.wf_run_id,
            "environment": run_context.environment,
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn join_all_waits_then_runs_or_skips() {
        let deps = [(0, EdgeKind::Success), (1, EdgeKind::Success)];
        let r = |o: &[Option<Outcome>]| readiness(&deps, JoinStrategy::All, o);
        assert!(matches!(r(&[Some(Outcome::Succeeded), None]), Readiness::Wait));
        assert!(matches!(r(&[Some(Outcome::Succeeded), Some(Outcome::Succeeded)]), Readiness::Run));
        assert!(matches!(r(&[Some(Outcome::Succeeded), Some(Outcome::Skipped)]), Readiness::Skip));
    }

    #[test]
    fn join_any_runs_on_first_taken_edge() {
        let deps = [(0, EdgeKind::Success), (1, EdgeKind::Error)];
        let r = |o: &[Option<Outcome>]| readiness(&deps, JoinStrategy::Any, o);
        assert!(matches!(r(&[Some(Outcome::Skipped), None]), Readiness::Wait));
        assert!(matches!(r(&[None, Some(Outcome::Failed)]), Readiness::Run));
        assert!(matches!(r(&[Some(Outcome::Skipped), Some(Outcome::Succeeded)]), Readiness::Skip));
    }

    #[test]
    fn typenames_follow_python() {
        assert_eq!(typename(&json!(1)), "int");
        assert_eq!(typename(&json!(1.5)), "float");
        assert_eq!(typename(&json!(null)), "NoneType");
        assert_eq!(typename(&json!({"a": 1})), "dict");
    }
}
