//! The DAG scheduler: starts each action when its dependencies allow, propagates skips, follows
//! error edges, and fails the run on an error nobody handles. It is written against [`Driver`],
//! so the same code runs inside Temporal (`DSLWorkflow`) and in-process (`ferrocat run`).
//! Concurrency uses `select_all` over boxed futures, which Temporal's determinism checker accepts.
//! The run's state is [`super::run_state`]; what it knows of the workflow, [`super::plan`].

use std::time::Duration;

use futures::future::{LocalBoxFuture, select_all};
use serde_json::{Map, Value, json};

use ferrocat_dsl::expr::{self, ExprContext};
use ferrocat_dsl::{ActionStatement, normalize_trigger_inputs};
use ferrocat_shared::temporal::{DslRunArgs, RunActionInput, RunContext};

use super::driver::{Driver, Failure};
use super::inputs::{only, refs_in};
use super::plan::Plan;
use super::run_state::{ROOT, Run, entry};
use super::subflow;

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
            None => ferrocat_dsl::seconds(task.start_delay),
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
        let mut context = input.expr_context();
        context.actions.insert(task.ref_.clone(), entry(&value));
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
    let now = driver.now();
    let target = super::when::parse(when, now).ok_or_else(|| {
        Failure::new(
            format!("wait_until {when:?} is not a date: write ISO 8601 (2026-04-01T09:00:00Z), or e.g. \"9am tomorrow\" or \"in 2 hours\" (UTC)"),
            "ValueError",
        )
    })?;
    Ok((target - now).to_std().unwrap_or(Duration::ZERO))
}

type Running<'a> = LocalBoxFuture<'a, (usize, usize, Result<Value, Failure>)>;

/// A run that completed: its `returns` value and the final `ACTIONS` of the root stream.
#[derive(Debug, Clone, PartialEq)]
pub struct Finished {
    pub value: Value,
    pub actions: Map<String, Value>,
}

/// Interprets `args.dsl` to completion and evaluates its `returns`.
pub async fn interpret(driver: &impl Driver, args: &DslRunArgs, run_context: RunContext) -> Result<Finished, Failure> {
    let plan = Plan::build(&args.dsl)?;
    let start = driver.now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut env = Map::new();
    env.insert(
        "workflow".into(),
        json!({
            "execution_id": run_context.wf_exec_id,
            "run_id": run_context.wf_run_id,
            "trigger_type": args.trigger_type,
            "start_time": start,
            "time_anchor": start,
            "logical_time": start,
        }),
    );
    env.insert("environment".into(), Value::String(run_context.environment.clone()));

    // `entrypoint.expects` checks and fills the trigger before anything runs.
    let trigger = normalize_trigger_inputs(&args.dsl.entrypoint.expects, &args.trigger)
        .map_err(|e| Failure::new(e.to_string(), "TriggerValidationError"))?;
    let base = ExprContext { trigger, env, vars: args.vars.clone(), ..ExprContext::default() };
    let mut run = Run::new(&plan, base, run_context);
    let mut running: Vec<Running<'_>> = Vec::new();

    loop {
        // Start or skip everything that can be decided now, stream by stream in a fixed order.
        while let Some(stream) = run.dirty.pop_first() {
            run.scan(stream, driver)?;
        }
        while running.len() < MAX_IN_FLIGHT
            && let Some((stream, i, input)) = run.ready.pop_front()
        {
            running.push(Box::pin(async move { (stream, i, run_action(driver, input, args).await) }));
        }
        if running.is_empty() {
            break;
        }
        let ((stream, i, result), _, rest) = select_all(running).await;
        running = rest;
        run.finish(stream, i, result)?;
    }

    let context = run.context(ROOT);
    // The refs `returns` names (inner `None`: it uses ACTIONS wholesale).
    let returns_refs = args.dsl.returns.as_ref().map(refs_in);
    let value = match (&args.dsl.returns, returns_refs) {
        (Some(template), Some(refs)) if returns_reads_stored(refs.as_deref(), &context.actions) => {
            returns_by_executor(driver, template, refs.as_deref(), &context, &run).await?
        }
        (Some(template), _) => expr::eval_templated(template, &context)
            .map_err(|e| Failure::new(format!("Couldn't parse return value expression: {e}"), "ExpressionError"))?,
        (None, _) => json!({
            "wf_id": run.run_context.wf_id,
            "wf_exec_id": run.run_context.wf_exec_id,
            "wf_run_id": run.run_context.wf_run_id,
            "environment": run.run_context.environment,
            "logical_time": start,
        }),
    };
    Ok(Finished { value, actions: context.actions })
}

/// The ref under which `returns` is evaluated by the executor.
const RETURNS_REF: &str = "__returns__";

/// Whether the refs `returns` names (`None`: all) hold a result kept in object storage, which
/// workflow code cannot read.
fn returns_reads_stored(refs: Option<&[String]>, actions: &Map<String, Value>) -> bool {
    match refs {
        Some(refs) => refs.iter().any(|r| actions.get(r).is_some_and(ferrocat_shared::objects::contains_stored)),
        None => actions.values().any(ferrocat_shared::objects::contains_stored),
    }
}

/// `returns` evaluated by the executor, as a reshape of the template: it reads the stored
/// results back, and a large value goes to object storage in turn, so neither passes through
/// history.
async fn returns_by_executor(
    driver: &impl Driver,
    template: &Value,
    refs: Option<&[String]>,
    context: &ExprContext,
    run: &Run<'_, '_>,
) -> Result<Value, Failure> {
    let task: ActionStatement = serde_json::from_value(json!({
        "ref": RETURNS_REF,
        "action": "core.transform.reshape",
        "args": {"value": template},
    }))
    .map_err(|e| Failure::new(e.to_string(), "DSLError"))?;
    let input = RunActionInput {
        actions: only(context.actions.clone(), refs),
        task,
        trigger: context.trigger.clone(),
        env: context.env.clone(),
        run: run.run_context.clone(),
        stream_id: None,
        vars: context.vars.clone(),
        inline_result: false,
    };
    driver.execute(input).await.map_err(|f| {
        // The executor's own preamble says nothing here: keep Tracecat's wording.
        let detail = f.message.split_once("\n\n").map_or(f.message.as_str(), |(_, rest)| rest);
        Failure::new(format!("Couldn't parse return value expression: {detail}"), "ExpressionError")
    })
}

/// Most actions in flight at once (Tracecat's `DSL_SCHEDULER_MAX_PENDING_TASKS`); the rest wait
/// their turn in the order they became ready.
pub const MAX_IN_FLIGHT: usize = 64;
