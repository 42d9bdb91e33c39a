//! The DAG scheduler: starts each action when its dependencies allow, propagates skips, follows
//! error edges, and fails the run on an error nobody handles. It is written against [`Driver`],
//! so the same code runs inside Temporal (`DSLWorkflow`) and in-process (`ferrocat run`).
//! Concurrency uses `select_all` over boxed futures, which Temporal's determinism checker accepts.

use std::time::Duration;

use futures::future::{LocalBoxFuture, select_all};
use serde_json::{Map, Value, json};

use chrono::{DateTime, NaiveDateTime, Utc};
use ferrocat_shared::dsl::{ActionStatement, EdgeKind, JoinStrategy, dependencies, normalize_trigger_inputs};
use ferrocat_shared::expr::{self, ExprContext};
use ferrocat_shared::temporal::{DslRunArgs, RunActionInput, RunContext};

use super::subflow;
use crate::catalog::{ResolveWorkflow, ResolvedWorkflow};

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

/// What became of one action.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    Succeeded,
    Failed,
    Skipped,
}

/// What to do with an action, from the marks on its incoming edges. An edge is *visited* when
/// its source succeeded (success edge) or failed (error edge), and *skipped* otherwise.
#[derive(Debug, PartialEq)]
enum Decision {
    /// Some parent has not finished.
    Wait,
    /// Every incoming edge is skipped: skip, whatever the join strategy.
    Skip,
    /// Reachable: run (after `run_if`).
    Run,
    /// Parents finished but the join is not satisfied: an error, unless `run_if` skips it.
    Unreachable,
}

/// Tracecat's rules: `any` waits for every parent too; one dependency needs its edge visited;
/// several need all (`all`) or at least one (`any`) visited.
fn decide(deps: &[(usize, EdgeKind)], join: JoinStrategy, outcomes: &[Option<Outcome>]) -> Decision {
    if deps.is_empty() {
        return Decision::Run;
    }
    let mut visited = 0;
    for (source, kind) in deps {
        let Some(outcome) = &outcomes[*source] else { return Decision::Wait };
        if matches!((kind, outcome), (EdgeKind::Success, Outcome::Succeeded) | (EdgeKind::Error, Outcome::Failed)) {
            visited += 1;
        }
    }
    let reachable = match join {
        _ if visited == 0 => return Decision::Skip,
        _ if deps.len() == 1 => true,
        JoinStrategy::All => visited == deps.len(),
        JoinStrategy::Any => true,
    };
    if reachable { Decision::Run } else { Decision::Unreachable }
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

/// The `ACTIONS` entries an action's expressions can reach, so each activity input (and so the
/// history) carries what it needs rather than every earlier result. Any use of `ACTIONS` other
/// than `ACTIONS.<ref>` keeps them all.
fn actions_used_by(task: &ActionStatement, actions: &Map<String, Value>) -> Map<String, Value> {
    let mut text = Value::Object(task.args.clone()).to_string();
    for extra in [task.for_each.as_ref().map(Value::to_string), task.retry_policy.retry_until.clone(), task.environment.clone()]
        .into_iter()
        .flatten()
    {
        text.push_str(&extra);
    }
    let mut used = Map::new();
    for (start, _) in text.match_indices("ACTIONS") {
        let rest = &text[start + "ACTIONS".len()..];
        let Some(rest) = rest.strip_prefix('.') else { return actions.clone() };
        let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if let Some(entry) = actions.get(&name) {
            used.insert(name, entry.clone());
        }
    }
    used
}

/// How many times `retry_until` may re-run an action before the run fails (Tracecat has no cap;
/// an endless loop would only grow the history until Temporal refuses it).
pub const RETRY_UNTIL_LIMIT: usize = 100;

/// Runs one action with its timers (`wait_until` over `start_delay`), re-running the whole of it
/// until `retry_until` holds for the fresh result.
async fn run_action(driver: &impl Driver, input: RunActionInput, parent: &DslRunArgs) -> Result<Value, Failure> {
    let task = &input.task;
    for _ in 0..RETRY_UNTIL_LIMIT {
        let delay = match &task.wait_until {
            Some(when) => until(driver, when)?,
            None => Duration::from_secs_f64(task.start_delay.max(0.0)),
        };
        if !delay.is_zero() {
            driver.sleep(delay).await;
        }
        // Subflows are orchestrated here, as child workflows; every other action is an activity.
        let value = if task.action == subflow::EXECUTE {
            subflow::execute(driver, &input, parent).await?
        } else {
            driver.execute(input.clone()).await?
        };
        let Some(condition) = &task.retry_policy.retry_until else { return Ok(value) };
        let mut actions = input.actions.clone();
        actions.insert(task.ref_.clone(), json!({"result": value, "result_typename": typename(&value)}));
        let context = ExprContext { actions, trigger: input.trigger.clone(), env: input.env.clone(), ..ExprContext::default() };
        let done = expr::eval_templated(&Value::String(condition.clone()), &context)
            .map_err(|e| Failure::new(format!("Error evaluating `retry_until`: {e}"), "ExpressionError"))?;
        if expr::truthy(&done) {
            return Ok(value);
        }
    }
    Err(Failure::new(
        format!("retry_until did not hold after {RETRY_UNTIL_LIMIT} runs of '{}'", task.ref_),
        "RetryUntilExceeded",
    ))
}

/// The wait before `when` (an ISO 8601 / RFC 3339 time, UTC if no offset); zero when past.
fn until(driver: &impl Driver, when: &str) -> Result<Duration, Failure> {
    let target = DateTime::parse_from_rfc3339(when.trim())
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            NaiveDateTime::parse_from_str(when.trim(), "%Y-%m-%dT%H:%M:%S%.f")
                .or_else(|_| NaiveDateTime::parse_from_str(when.trim(), "%Y-%m-%d %H:%M:%S%.f"))
                .map(|t| t.and_utc())
        })
        .map_err(|_| Failure::new(format!("wait_until {when:?} is not an ISO 8601 date-time"), "ValueError"))?;
    Ok((target - driver.now()).to_std().unwrap_or(Duration::ZERO))
}

/// Routes a failed action: along its `.error` edges when it has any (its ACTIONS entry then holds
/// the error), else the whole run fails with Tracecat's message.
fn record_failure(
    i: usize,
    failure: Failure,
    dsl: &ferrocat_shared::dsl::Workflow,
    has_error_edge: &[bool],
    expr_ctx: &mut ExprContext,
    outcomes: &mut [Option<Outcome>],
) -> Result<(), Failure> {
    let task = &dsl.actions[i];
    if !has_error_edge[i] {
        return Err(Failure {
            message: format!("Workflow failed with 1 error(s)\n\n========== (1/1) ACTIONS.{} ==========\n\n{}", task.ref_, failure.message),
            type_name: failure.type_name,
        });
    }
    expr_ctx.actions.insert(
        task.ref_.clone(),
        json!({
            "result": null,
            "result_typename": "NoneType",
            "error": {
                "ref": task.ref_,
                "message": failure.message,
                "type": failure.type_name,
                "expr_context": "ACTIONS",
                "attempt": 1,
            },
            "error_typename": failure.type_name,
        }),
    );
    outcomes[i] = Some(Outcome::Failed);
    Ok(())
}

type Running<'a> = LocalBoxFuture<'a, (usize, Result<Value, Failure>)>;

/// A run that completed: its `returns` value and the final `ACTIONS`.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub value: Value,
    pub actions: Map<String, Value>,
}

/// Interprets `args.dsl` to completion and evaluates its `returns`.
pub async fn interpret(driver: &impl Driver, args: &DslRunArgs, run_context: RunContext) -> Result<Finished, Failure> {
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

    // `entrypoint.expects` checks and fills the trigger before anything runs.
    let trigger = normalize_trigger_inputs(&dsl.entrypoint.expects, &args.trigger)
        .map_err(|e| Failure::new(e.to_string(), "TriggerValidationError"))?;
    let mut expr_ctx = ExprContext { trigger: trigger.clone(), env: env.clone(), ..ExprContext::default() };
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
                let decision = decide(&deps[i], task.join_strategy, &outcomes);
                if decision == Decision::Wait {
                    continue;
                }
                started[i] = true;
                changed = true;
                if decision == Decision::Skip {
                    outcomes[i] = Some(Outcome::Skipped);
                    continue;
                }
                // `run_if` comes before reachability: a false condition skips cleanly.
                if let Some(condition) = &task.run_if {
                    match expr::eval_templated(&Value::String(condition.clone()), &expr_ctx) {
                        Ok(value) if !expr::truthy(&value) => {
                            outcomes[i] = Some(Outcome::Skipped);
                            continue;
                        }
                        Ok(_) => {}
                        Err(e) if decision == Decision::Run => {
                            let failure = Failure::new(format!("Error evaluating `run_if` condition: {e}"), "ExpressionError");
                            record_failure(i, failure, dsl, &has_error_edge, &mut expr_ctx, &mut outcomes)?;
                            continue;
                        }
                        Err(_) => {}
                    }
                }
                if decision == Decision::Unreachable {
                    let failure = Failure::new(
                        format!("Task '{}' is unreachable: its join strategy is not satisfied by its dependencies", task.ref_),
                        "TaskUnreachable",
                    );
                    record_failure(i, failure, dsl, &has_error_edge, &mut expr_ctx, &mut outcomes)?;
                    continue;
                }
                let input = RunActionInput {
                    task: task.clone(),
                    actions: actions_used_by(task, &expr_ctx.actions),
                    trigger: trigger.clone(),
                    env: env.clone(),
                    run: run_context.clone(),
                };
                running.push(Box::pin(async move { (i, run_action(driver, input, args).await) }));
            }
        }
        if running.is_empty() {
            break;
        }
        let ((i, result), _, rest) = select_all(running).await;
        running = rest;
        match result {
            Ok(value) => {
                let typename = typename(&value);
                expr_ctx
                    .actions
                    .insert(dsl.actions[i].ref_.clone(), json!({"result": value, "result_typename": typename}));
                outcomes[i] = Some(Outcome::Succeeded);
            }
            Err(failure) => record_failure(i, failure, dsl, &has_error_edge, &mut expr_ctx, &mut outcomes)?,
        }
    }

    let value = match &dsl.returns {
        Some(template) => expr::eval_templated(template, &expr_ctx)
            .map_err(|e| Failure::new(format!("Couldn't parse return value expression: {e}"), "ExpressionError"))?,
        None => json!({
            "wf_id": run_context.wf_id,
            "wf_exec_id": run_context.wf_exec_id,
            "wf_run_id": run_context.wf_run_id,
            "environment": run_context.environment,
        }),
    };
    Ok(Finished { value, actions: expr_ctx.actions })
}

#[cfg(test)]
mod tests {
    use super::*;

    use Outcome::{Failed, Skipped, Succeeded};

    #[test]
    fn joins_wait_for_every_parent() {
        let deps = [(0, EdgeKind::Success), (1, EdgeKind::Success)];
        for join in [JoinStrategy::All, JoinStrategy::Any] {
            assert_eq!(decide(&deps, join, &[Some(Succeeded), None]), Decision::Wait);
        }
    }

    #[test]
    fn all_skipped_edges_force_a_skip_whatever_the_join() {
        let deps = [(0, EdgeKind::Success), (1, EdgeKind::Error)];
        for join in [JoinStrategy::All, JoinStrategy::Any] {
            assert_eq!(decide(&deps, join, &[Some(Skipped), Some(Succeeded)]), Decision::Skip);
        }
        assert_eq!(decide(&[(0, EdgeKind::Success)], JoinStrategy::All, &[Some(Failed)]), Decision::Skip);
    }

    #[test]
    fn mixed_parents_are_unreachable_for_all_and_run_for_any() {
        let deps = [(0, EdgeKind::Success), (1, EdgeKind::Success)];
        let outcomes = [Some(Succeeded), Some(Skipped)];
        assert_eq!(decide(&deps, JoinStrategy::All, &outcomes), Decision::Unreachable);
        assert_eq!(decide(&deps, JoinStrategy::Any, &outcomes), Decision::Run);
        assert_eq!(decide(&deps, JoinStrategy::All, &[Some(Succeeded), Some(Succeeded)]), Decision::Run);
    }

    #[test]
    fn error_edges_are_visited_by_failures() {
        assert_eq!(decide(&[(0, EdgeKind::Error)], JoinStrategy::All, &[Some(Failed)]), Decision::Run);
        assert_eq!(decide(&[(0, EdgeKind::Error)], JoinStrategy::All, &[Some(Succeeded)]), Decision::Skip);
        assert_eq!(decide(&[], JoinStrategy::All, &[]), Decision::Run);
    }

    #[test]
    fn activity_inputs_carry_only_the_actions_they_name() {
        let actions: Map<String, Value> =
            serde_json::from_value(json!({"a": {"result": 1}, "b": {"result": 2}, "c": {"result": 3}})).unwrap();
        let task: ActionStatement = serde_json::from_value(json!({
            "ref": "d", "action": "core.transform.reshape",
            "args": {"value": "${{ ACTIONS.a.result + 1 }}"},
            "retry_policy": {"retry_until": "${{ ACTIONS.c.result > 0 }}"},
        }))
        .unwrap();
        assert_eq!(Value::Object(actions_used_by(&task, &actions)), json!({"a": {"result": 1}, "c": {"result": 3}}));
        let indexed: ActionStatement = serde_json::from_value(json!({
            "ref": "d", "action": "core.transform.reshape", "args": {"value": "${{ ACTIONS['b'].result }}"},
        }))
        .unwrap();
        assert_eq!(actions_used_by(&indexed, &actions), actions, "other forms keep everything");
    }

    #[test]
    fn typenames_follow_python() {
        assert_eq!(typename(&json!(1)), "int");
        assert_eq!(typename(&json!(1.5)), "float");
        assert_eq!(typename(&json!(null)), "NoneType");
        assert_eq!(typename(&json!({"a": 1})), "dict");
    }
}
