//! `core.workflow.execute`: subflows as Temporal child workflows, orchestrated in the workflow
//! (Tracecat's semantics, reference §3.6): by id or alias, optional version, `trigger_inputs`,
//! environment override, wait or detach, and `for_each` loops dispatched in batches with
//! isolated or all-or-nothing failure.

use futures::future::{LocalBoxFuture, select_all};
use serde_json::{Value, json};

use ferrocat_dsl::expr::{self, ExprContext};
use ferrocat_shared::ids;
use ferrocat_shared::temporal::{DslRunArgs, RunActionInput};

use ferrocat_registry::control::{ExecuteArgs, FailStrategy, LoopStrategy, WaitStrategy};

use super::driver::{Driver, Failure};
use crate::catalog::ResolveWorkflow;

pub use ferrocat_dsl::EXECUTE;
/// Most iterations a subflow loop may have.
pub const MAX_ITERATIONS: usize = 4096;

fn invalid(message: impl Into<String>) -> Failure {
    Failure::new(message, "ValueError")
}

/// Awaits futures in windows of `window`, keeping their order (select_all, not FuturesOrdered,
/// which Temporal's determinism checker refuses).
async fn run_in_windows<'a, T: 'a>(futures: Vec<LocalBoxFuture<'a, T>>, window: usize) -> Vec<T> {
    let mut results: Vec<Option<T>> = Vec::new();
    results.resize_with(futures.len(), || None);
    let mut pending = futures.into_iter().enumerate();
    let mut running: Vec<LocalBoxFuture<'a, (usize, T)>> = Vec::new();
    loop {
        while running.len() < window.max(1) {
            let Some((i, future)) = pending.next() else { break };
            running.push(Box::pin(async move { (i, future.await) }));
        }
        if running.is_empty() {
            break;
        }
        let ((i, value), _, rest) = select_all(running).await;
        running = rest;
        results[i] = Some(value);
    }
    results.into_iter().map(|r| r.expect("every future finished")).collect()
}

/// Runs the subflow action `input.task` for the parent run `parent`.
pub(super) async fn execute(driver: &impl Driver, input: &RunActionInput, parent: &DslRunArgs) -> Result<Value, Failure> {
    let context = input.expr_context();
    let evaluate = |context: &ExprContext| -> Result<ExecuteArgs, Failure> {
        let value = expr::eval_templated(&Value::Object(input.task.args.clone()), context)
            .map_err(|e| Failure::new(e.to_string(), "ExpressionError"))?;
        serde_json::from_value(value).map_err(|e| invalid(format!("invalid arguments for {EXECUTE}: {e}")))
    };
    let (looped, iterations) = match &input.task.for_each {
        None => (false, vec![evaluate(&context)?]),
        Some(for_each) => {
            let bindings = expr::eval_for_each(for_each, &context)
                .map_err(|e| Failure::new(e.to_string(), "ExpressionError"))?;
            if bindings.len() > MAX_ITERATIONS {
                return Err(invalid(format!("{EXECUTE} loops at most {MAX_ITERATIONS} times, got {}", bindings.len())));
            }
            let args = bindings
                .into_iter()
                .map(|var| evaluate(&ExprContext { var, ..context.clone() }))
                .collect::<Result<Vec<_>, _>>()?;
            (true, args)
        }
    };
    let Some(first) = iterations.first() else { return Ok(Value::Array(Vec::new())) };
    // A single subflow defaults to detach, a loop to wait (Tracecat's code).
    let wait = first.wait_strategy.unwrap_or(if looped { WaitStrategy::Wait } else { WaitStrategy::Detach }) == WaitStrategy::Wait;
    let window = match first.loop_strategy {
        LoopStrategy::Sequential => 1,
        LoopStrategy::Batch => first.batch_size.max(1),
        LoopStrategy::Parallel => iterations.len(),
    };
    let fail_strategy = first.fail_strategy;

    // Resolve once per distinct target; iterations usually name the same workflow.
    let mut resolved: Vec<(ResolveWorkflow, crate::catalog::ResolvedWorkflow)> = Vec::new();
    let mut children = Vec::with_capacity(iterations.len());
    for args in iterations {
        if args.workflow_id.is_none() && args.workflow_alias.is_none() {
            return Err(invalid(format!("{EXECUTE} needs workflow_id or workflow_alias")));
        }
        let request = ResolveWorkflow {
            workspace_id: parent.workspace_id,
            workflow_id: args.workflow_id.clone(),
            alias: args.workflow_alias.clone(),
            version: args.version,
            environment: args.environment.clone(),
        };
        let known = resolved.iter().find(|(r, _)| {
            r.workflow_id == request.workflow_id
                && r.alias == request.alias
                && r.version == request.version
                && r.environment == request.environment
        });
        let target = match known {
            Some((_, target)) => target.clone(),
            None => {
                let target = driver.resolve(request.clone()).await?;
                resolved.push((request, target.clone()));
                target
            }
        };
        let mut dsl = target.dsl;
        if let Some(environment) = args.environment {
            dsl.config.environment = environment;
        }
        let vars = target.vars.unwrap_or_else(|| parent.vars.clone());
        let timeout = args.timeout.unwrap_or(dsl.config.timeout);
        let exec_id = format!("{}/exec_{}", ids::workflow_id(target.workflow_id), ids::base62(driver.new_uuid()));
        let child = DslRunArgs {
            wf_id: ids::workflow_id(target.workflow_id),
            workspace_id: parent.workspace_id,
            version: target.version,
            dsl,
            trigger: args.trigger_inputs,
            trigger_type: "subflow".into(),
            executor_queue: parent.executor_queue.clone(),
            vars,
        };
        let timeout = (timeout > 0.0).then(|| ferrocat_dsl::seconds(timeout));
        children.push(driver.run_child(child, exec_id, wait, timeout));
    }

    let results = run_in_windows(children, window).await;
    if !looped {
        return results.into_iter().next().expect("one child");
    }
    let mut values = Vec::with_capacity(results.len());
    for result in results {
        match result {
            Ok(value) => values.push(value),
            Err(failure) if fail_strategy == FailStrategy::Isolated => {
                values.push(json!({"is_error": true, "type": failure.type_name, "message": failure.message}));
            }
            Err(failure) => return Err(failure),
        }
    }
    Ok(Value::Array(values))
}

/// Tracecat's error handler: after a run fails, its `error_handler` workflow (an id or an alias)
/// runs as a child with the failure as its trigger, and is waited for. The caller then fails the
/// run with the original error, whatever became of the handler.
pub(super) async fn run_error_handler(
    driver: &impl Driver,
    parent: &DslRunArgs,
    run: &ferrocat_shared::temporal::RunContext,
    failure: &Failure,
) -> Result<Value, Failure> {
    let Some(handler) = parent.dsl.error_handler.as_deref().map(str::trim).filter(|h| !h.is_empty()) else {
        return Ok(Value::Null);
    };
    let by_id = ids::parse_workflow_id(handler).is_ok();
    let request = ResolveWorkflow {
        workspace_id: parent.workspace_id,
        workflow_id: by_id.then(|| handler.to_owned()),
        alias: (!by_id).then(|| handler.to_owned()),
        version: None,
        environment: None,
    };
    let target = driver.resolve(request).await?;
    let handler_id = ids::workflow_id(target.workflow_id);
    let trigger = json!({
        "message": failure.message,
        "handler_wf_id": handler_id,
        "orig_wf_id": run.wf_id,
        "orig_wf_exec_id": run.wf_exec_id,
        "orig_wf_title": parent.dsl.title,
        "trigger_type": parent.trigger_type,
        "errors": failure.errors,
    });
    let timeout = (target.dsl.config.timeout > 0.0).then(|| ferrocat_dsl::seconds(target.dsl.config.timeout));
    let child = DslRunArgs {
        wf_id: handler_id.clone(),
        workspace_id: parent.workspace_id,
        version: target.version,
        dsl: target.dsl,
        trigger,
        trigger_type: "error_handler".into(),
        executor_queue: parent.executor_queue.clone(),
        vars: target.vars.unwrap_or_else(|| parent.vars.clone()),
    };
    let exec_id = format!("{handler_id}/exec_{}", ids::base62(driver.new_uuid()));
    driver.run_child(child, exec_id, true, timeout).await
}
