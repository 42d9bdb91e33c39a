//! The DAG scheduler: starts each action when its dependencies allow, propagates skips, follows
//! error edges, and fails the run on an error nobody handles. It is written against [`Driver`],
//! so the same code runs inside Temporal (`DSLWorkflow`) and in-process (`ferrocat run`).
//! Concurrency uses `select_all` over boxed futures, which Temporal's determinism checker accepts.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use futures::future::{LocalBoxFuture, select_all};
use serde_json::{Map, Value, json};

use chrono::{DateTime, Utc};
use ferrocat_dsl::{
    ActionStatement, EdgeKind, GATHER, JoinStrategy, LOOP_END, LOOP_START, SCATTER, ScopePlan, Workflow, dependencies,
    normalize_trigger_inputs, plan_scopes,
};
use ferrocat_dsl::expr::{self, ExprContext};
use ferrocat_shared::objects::{StoredRef, typename};
use ferrocat_shared::temporal::{DslRunArgs, RunActionInput, RunContext};

use super::subflow;
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

/// The refs `texts` name as `ACTIONS.<ref>`; `None` when one uses `ACTIONS` any other way, so
/// that all of them are needed.
fn refs_named<'t>(texts: impl IntoIterator<Item = &'t str>) -> Option<Vec<String>> {
    let mut used = Vec::new();
    for text in texts {
        for (start, _) in text.match_indices("ACTIONS") {
            let rest = text[start + "ACTIONS".len()..].strip_prefix('.')?;
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !used.contains(&name) {
                used.push(name);
            }
        }
    }
    Some(used)
}

/// The refs an action's expressions name as `ACTIONS.<ref>` (args, for_each, retry_until,
/// environment, and with `workflow_side` also run_if and wait_until, which the workflow itself
/// evaluates); `None` when `ACTIONS` is used any other way.
fn refs_used_by(task: &ActionStatement, workflow_side: bool) -> Option<Vec<String>> {
    let args = Value::Object(task.args.clone()).to_string();
    let for_each = task.for_each.as_ref().map(Value::to_string);
    let texts = [Some(args.as_str()), for_each.as_deref(), task.retry_policy.retry_until.as_deref(), task.environment.as_deref()];
    let activity = refs_named(texts.into_iter().flatten());
    if workflow_side { with_workflow_side(task, activity) } else { activity }
}

/// `activity` (an action's activity-side refs) and those its run_if and wait_until name.
fn with_workflow_side(task: &ActionStatement, activity: Option<Vec<String>>) -> Option<Vec<String>> {
    let mut refs = activity?;
    for name in refs_named([task.run_if.as_deref(), task.wait_until.as_deref()].into_iter().flatten())? {
        if !refs.contains(&name) {
            refs.push(name);
        }
    }
    Some(refs)
}

/// The refs whose results the workflow reads itself rather than through an activity: in
/// run_if, wait_until and retry_until, and in every argument of the actions it orchestrates
/// (scatter, gather, loops, subflows). Those results must come back inline.
fn refs_read_by_workflow(task: &ActionStatement) -> Option<Vec<String>> {
    let orchestrated = [SCATTER, GATHER, LOOP_START, LOOP_END, subflow::EXECUTE].contains(&task.action.as_str());
    let mut texts = vec![task.run_if.as_deref(), task.wait_until.as_deref(), task.retry_policy.retry_until.as_deref()];
    let (args, for_each);
    if orchestrated {
        args = Value::Object(task.args.clone()).to_string();
        for_each = task.for_each.as_ref().map(Value::to_string);
        texts.extend([Some(args.as_str()), for_each.as_deref(), task.environment.as_deref()]);
    }
    refs_named(texts.into_iter().flatten())
}

/// Per action: whether the workflow reads its result itself (see [`refs_read_by_workflow`]),
/// so that it must not be swapped for a reference to object storage. (`returns` is not among
/// them: when it names a stored result, the executor evaluates it.)
fn read_by_workflow(dsl: &Workflow) -> Vec<bool> {
    let mut read: Vec<String> = Vec::new();
    for refs in dsl.actions.iter().map(refs_read_by_workflow) {
        match refs {
            Some(refs) => read.extend(refs),
            None => return vec![true; dsl.actions.len()],
        }
    }
    dsl.actions.iter().map(|a| read.contains(&a.ref_)).collect()
}

/// `actions` narrowed to `refs` (`None`: all of them), so each activity input (and so the
/// history) carries what the action needs rather than every earlier result.
fn only(actions: Map<String, Value>, refs: Option<&[String]>) -> Map<String, Value> {
    match refs {
        None => actions,
        Some(refs) => {
            let mut actions = actions;
            refs.iter().filter_map(|r| actions.remove(r).map(|entry| (r.clone(), entry))).collect()
        }
    }
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

/// An action's `ACTIONS` entry for a result.
fn entry(value: &Value) -> Value {
    match StoredRef::from_value(value) {
        Some(stored) => json!({"result": value, "result_typename": stored.typename}),
        None => json!({"result": value, "result_typename": typename(value)}),
    }
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
    let returns_refs = args.dsl.returns.as_ref().map(|t| refs_named([t.to_string().as_str()]));
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

/// The root stream's index and id (Tracecat's).
const ROOT: usize = 0;
const ROOT_STREAM_ID: &str = "<root>:0";

/// The most times a do-while loop may run its body, whatever its `max_iterations` says.
pub const LOOP_ITERATION_CAP: u64 = 2048;
const LOOP_DEFAULT_MAX_ITERATIONS: u64 = 100;

/// What the run needs to know about the workflow at every step, computed once.
struct Plan<'w> {
    dsl: &'w Workflow,
    deps: Vec<Vec<(usize, EdgeKind)>>,
    has_error_edge: Vec<bool>,
    scopes: ScopePlan,
    /// Per scope: the actions that run in that scope's streams, in index order (loop regions
    /// run in the stream that encloses them).
    members: Vec<Vec<usize>>,
    /// Per action: the `ACTIONS` refs its expressions can reach (`None`: all), so building its
    /// context copies those results only, not every earlier one (which made long chains
    /// quadratic: 1.5 ms per action at 2,000 actions).
    uses: Vec<Option<Vec<String>>>,
    /// Per action: the refs its activity evaluates (`uses` without run_if and wait_until),
    /// the part of its context its input carries.
    activity_uses: Vec<Option<Vec<String>>>,
    /// Per action: whether the workflow reads its result itself, so it must come back inline.
    inline: Vec<bool>,
}

impl<'w> Plan<'w> {
    fn build(dsl: &'w Workflow) -> Result<Self, Failure> {
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
        let has_error_edge =
            (0..dsl.actions.len()).map(|i| deps.iter().flatten().any(|(s, k)| *s == i && *k == EdgeKind::Error)).collect();
        let scopes = plan_scopes(dsl).ok_or_else(|| Failure::new("the workflow's dependencies form a cycle", "DSLError"))?;
        let mut members = vec![Vec::new(); scopes.scopes.len()];
        for (i, &scope) in scopes.scope_of.iter().enumerate() {
            members[scopes.stream_scope(scope)].push(i);
        }
        // Each action's args are scanned once: the workflow side adds run_if and wait_until.
        let activity_uses: Vec<_> = dsl.actions.iter().map(|a| refs_used_by(a, false)).collect();
        let uses = dsl.actions.iter().zip(&activity_uses).map(|(a, refs)| with_workflow_side(a, refs.clone())).collect();
        let inline = read_by_workflow(dsl);
        Ok(Self { dsl, deps, has_error_edge, scopes, members, uses, activity_uses, inline })
    }

    fn action(&self, i: usize) -> &'w ActionStatement {
        &self.dsl.actions[i]
    }

    /// The scope action `i` opens (scatter or loop start).
    fn opened_by(&self, i: usize) -> Option<usize> {
        self.scopes.scopes.iter().position(|s| s.opener_index == Some(i))
    }

    /// The gather that closes the scatter `i`, if any.
    fn gather_of(&self, i: usize) -> Option<usize> {
        self.opened_by(i).and_then(|scope| self.scopes.scopes[scope].closer_index)
    }
}

/// One line of execution: the root, or one item of a scatter. Actions see their own stream's
/// `ACTIONS` and, through their parents, every enclosing stream's.
struct Stream {
    id: String,
    parent: Option<usize>,
    scope: usize,
    /// The scatter fan-out this stream is an item of, and its position there.
    group: Option<(usize, usize)>,
    actions: Map<String, Value>,
    outcomes: Vec<Option<Outcome>>,
    started: Vec<bool>,
    /// Actions of this stream in flight, and scatters opened here still running.
    running: usize,
    open_groups: usize,
    /// The first error nobody handled here; the gather collects it.
    error: Option<Value>,
    /// Seconds before the stream's first actions start (`i * interval`).
    delay: f64,
    /// Loop start index → current iteration.
    iterations: std::collections::HashMap<usize, u64>,
    closed: bool,
}

impl Stream {
    fn new(id: String, parent: Option<usize>, scope: usize, group: Option<(usize, usize)>, n: usize) -> Self {
        Self {
            id,
            parent,
            scope,
            group,
            actions: Map::new(),
            outcomes: vec![None; n],
            started: vec![false; n],
            running: 0,
            open_groups: 0,
            error: None,
            delay: 0.0,
            iterations: std::collections::HashMap::new(),
            closed: false,
        }
    }
}

/// One scatter's fan-out: a stream per item, collected in order by the gather.
struct Group {
    gather: Option<usize>,
    /// The stream the scatter ran in, where the gather's result lands.
    stream: usize,
    values: Vec<Option<Value>>,
    errors: Vec<Option<Value>>,
    open: usize,
}

/// The state of one run: its streams, fan-outs, and which streams need another look.
struct Run<'p, 'w> {
    plan: &'p Plan<'w>,
    base: ExprContext,
    run_context: RunContext,
    streams: Vec<Stream>,
    groups: Vec<Group>,
    dirty: BTreeSet<usize>,
    /// Actions ready to run, waiting for a place among the [`MAX_IN_FLIGHT`].
    ready: VecDeque<(usize, usize, RunActionInput)>,
}

impl<'p, 'w> Run<'p, 'w> {
    fn new(plan: &'p Plan<'w>, base: ExprContext, run_context: RunContext) -> Self {
        let root = Stream::new(ROOT_STREAM_ID.into(), None, 0, None, plan.dsl.actions.len());
        Self {
            plan,
            base,
            run_context,
            streams: vec![root],
            groups: Vec::new(),
            dirty: BTreeSet::from([ROOT]),
            ready: VecDeque::new(),
        }
    }

    /// The expression context of `stream`: its `ACTIONS` over those of every enclosing stream.
    fn context(&self, stream: usize) -> ExprContext {
        self.context_with(stream, None)
    }

    /// The context action `i`'s expressions are evaluated in: only the `ACTIONS` entries they
    /// can reach.
    fn context_for(&self, stream: usize, i: usize) -> ExprContext {
        self.context_with(stream, self.plan.uses[i].as_deref())
    }

    fn context_with(&self, stream: usize, only: Option<&[String]>) -> ExprContext {
        let mut chain = Vec::new();
        let mut cursor = Some(stream);
        while let Some(s) = cursor {
            chain.push(s);
            cursor = self.streams[s].parent;
        }
        let mut actions = Map::new();
        for &s in chain.iter().rev() {
            let entries = &self.streams[s].actions;
            match only {
                None => {
                    for (k, v) in entries {
                        actions.insert(k.clone(), v.clone());
                    }
                }
                Some(refs) => {
                    for r in refs {
                        if let Some(v) = entries.get(r) {
                            actions.insert(r.clone(), v.clone());
                        }
                    }
                }
            }
        }
        ExprContext { actions, ..self.base.clone() }
    }

    fn set(&mut self, stream: usize, i: usize, outcome: Outcome, entry: Option<Value>) {
        if let Some(entry) = entry {
            self.streams[stream].actions.insert(self.plan.action(i).ref_.clone(), entry);
        }
        self.streams[stream].outcomes[i] = Some(outcome);
    }

    /// Starts or skips every action of `stream` whose dependencies are decided, until nothing
    /// changes; then closes the stream if it is done.
    fn scan(&mut self, stream: usize, driver: &impl Driver) -> Result<(), Failure> {
        if self.streams[stream].closed {
            return Ok(());
        }
        let plan = self.plan;
        let members = &plan.members[self.streams[stream].scope];
        let mut changed = true;
        while changed {
            changed = false;
            for &i in members {
                if self.streams[stream].started[i] {
                    continue;
                }
                let task = plan.action(i);
                let decision = decide(&plan.deps[i], task.join_strategy, &self.streams[stream].outcomes);
                if decision == Decision::Wait {
                    continue;
                }
                self.streams[stream].started[i] = true;
                changed = true;
                if decision == Decision::Skip {
                    self.skip(stream, i);
                    continue;
                }
                // `run_if` comes before reachability: a false condition skips cleanly.
                if let Some(condition) = &task.run_if {
                    match expr::eval_templated(&Value::String(condition.clone()), &self.context_for(stream, i)) {
                        Ok(value) if !expr::truthy(&value) => {
                            self.skip(stream, i);
                            continue;
                        }
                        Ok(_) => {}
                        Err(e) if decision == Decision::Run => {
                            let failure = Failure::new(format!("Error evaluating `run_if` condition: {e}"), "ExpressionError");
                            self.fail(stream, i, failure)?;
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
                    self.fail(stream, i, failure)?;
                    continue;
                }
                self.start(stream, i, driver)?;
            }
        }
        self.try_close(stream)
    }

    /// Skips action `i`: its out-edges are skipped and it gets no entry, except that a skipped
    /// scatter skips its gather too, and a loop end always records `continue: false`.
    fn skip(&mut self, stream: usize, i: usize) {
        let task = self.plan.action(i);
        match task.action.as_str() {
            SCATTER => {
                if let Some(gather) = self.plan.gather_of(i) {
                    self.set(stream, gather, Outcome::Skipped, None);
                }
                self.set(stream, i, Outcome::Skipped, None);
            }
            LOOP_END => {
                // A skip from outside the loop skips what follows it; one from inside the body
                // stops here and what follows runs.
                let start = self.plan.scopes.scopes[self.plan.scopes.scope_of[i]].opener_index;
                let skipped_region = start.is_some_and(|s| self.streams[stream].outcomes[s] == Some(Outcome::Skipped));
                let outcome = if skipped_region { Outcome::Skipped } else { Outcome::Succeeded };
                self.set(stream, i, outcome, Some(entry(&json!({"continue": false}))));
            }
            _ => self.set(stream, i, Outcome::Skipped, None),
        }
    }

    /// Runs action `i` in `stream`: control-flow actions here, everything else is queued for
    /// the driver.
    fn start(&mut self, stream: usize, i: usize, driver: &impl Driver) -> Result<(), Failure> {
        let task = self.plan.action(i);
        match task.action.as_str() {
            SCATTER => return self.scatter(stream, i),
            GATHER => return self.gather_item(stream, i),
            LOOP_START => {
                let iteration = self.streams[stream].iterations.get(&i).copied().unwrap_or(0);
                self.set(stream, i, Outcome::Succeeded, Some(entry(&json!({"iteration": iteration}))));
                return Ok(());
            }
            LOOP_END => return self.loop_end(stream, i),
            _ => {}
        }
        let context = self.context_for(stream, i);
        let mut task = task.clone();
        let opener = self.plan.scopes.scopes[self.streams[stream].scope].opener_index;
        if self.streams[stream].delay > 0.0 && self.plan.deps[i].iter().any(|(s, _)| Some(*s) == opener) {
            task.start_delay += self.streams[stream].delay;
        }
        let mut env = context.env;
        if let Some(Value::Object(workflow)) = env.get_mut("workflow") {
            let now = driver.now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            workflow.insert("logical_time".into(), Value::String(now));
        }
        let input = RunActionInput {
            actions: only(context.actions, self.plan.activity_uses[i].as_deref()),
            task,
            trigger: context.trigger,
            env,
            run: self.run_context.clone(),
            stream_id: (stream != ROOT).then(|| self.streams[stream].id.clone()),
            vars: context.vars,
            inline_result: self.plan.inline[i],
        };
        self.streams[stream].running += 1;
        self.ready.push_back((stream, i, input));
        Ok(())
    }

    /// Records an action's result from the driver.
    fn finish(&mut self, stream: usize, i: usize, result: Result<Value, Failure>) -> Result<(), Failure> {
        self.streams[stream].running -= 1;
        self.dirty.insert(stream);
        match result {
            Ok(value) => {
                self.set(stream, i, Outcome::Succeeded, Some(entry(&value)));
                Ok(())
            }
            Err(failure) => self.fail(stream, i, failure),
        }
    }

    /// Routes a failure of action `i`: along its `.error` edges when it has any (its entry then
    /// holds the error); else, inside a scatter stream, to that stream's gather with everything
    /// after it skipped; else the whole run fails with Tracecat's message.
    fn fail(&mut self, stream: usize, i: usize, failure: Failure) -> Result<(), Failure> {
        let task = self.plan.action(i);
        if task.action == SCATTER
            && let Some(gather) = self.plan.gather_of(i)
        {
            self.set(stream, gather, Outcome::Skipped, None);
        }
        let info = json!({
            "ref": task.ref_,
            "message": failure.message,
            "type": failure.type_name,
            "expr_context": "ACTIONS",
            "attempt": 1,
            "stream_id": self.streams[stream].id,
        });
        let failed = json!({
            "result": null,
            "result_typename": "NoneType",
            "error": info,
            "error_typename": failure.type_name,
        });
        if self.plan.has_error_edge[i] {
            self.set(stream, i, Outcome::Failed, Some(failed));
            return Ok(());
        }
        if stream == ROOT {
            return Err(Failure {
                message: format!("Workflow failed with 1 error(s)\n\n========== (1/1) ACTIONS.{} ==========\n\n{}", task.ref_, failure.message),
                type_name: failure.type_name,
                errors: vec![info],
            });
        }
        self.streams[stream].error.get_or_insert(info);
        self.set(stream, i, Outcome::Skipped, Some(failed));
        Ok(())
    }

    /// `core.transform.scatter`: one stream per item of `collection`, each seeing the item as
    /// `ACTIONS.<scatter>.result`.
    fn scatter(&mut self, stream: usize, i: usize) -> Result<(), Failure> {
        let task = self.plan.action(i);
        let context = self.context_for(stream, i);
        let evaluate = |key: &str| match task.args.get(key) {
            Some(value) => expr::eval_templated(value, &context).map(Some),
            None => Ok(None),
        };
        let items = match evaluate("collection") {
            Ok(None | Some(Value::Null)) => Vec::new(),
            Ok(Some(Value::Array(items))) if items.len() > ferrocat_dsl::limits::get().max_for_each_items => {
                let failure = Failure::new(
                    format!(
                        "Scatter collection has {} items; a scatter runs at most {} (FERROCAT_MAX_FOR_EACH_ITEMS)",
                        items.len(),
                        ferrocat_dsl::limits::get().max_for_each_items
                    ),
                    "ValueError",
                );
                return self.fail(stream, i, failure);
            }
            Ok(Some(Value::Array(items))) => items,
            Ok(Some(other)) => {
                let failure = Failure::new(format!("Scatter collection is not iterable: {}", typename(&other)), "ValueError");
                return self.fail(stream, i, failure);
            }
            Err(e) => return self.fail(stream, i, Failure::new(format!("Error evaluating `collection` in `{SCATTER}`: {e}"), "ExpressionError")),
        };
        let interval = match evaluate("interval") {
            Ok(Some(value)) => value.as_f64().unwrap_or(0.0).max(0.0),
            Ok(None) => 0.0,
            Err(e) => return self.fail(stream, i, Failure::new(format!("Error evaluating `interval` in `{SCATTER}`: {e}"), "ExpressionError")),
        };
        // The scatter has no entry of its own here; its items live in the streams.
        self.set(stream, i, Outcome::Succeeded, None);
        let gather = self.plan.gather_of(i);
        if items.is_empty() {
            if let Some(gather) = gather {
                self.set(stream, gather, Outcome::Succeeded, Some(entry(&json!([]))));
            }
            return Ok(());
        }
        let scope = self.plan.opened_by(i).expect("a scatter opens a scope");
        let group = self.groups.len();
        self.groups.push(Group {
            gather,
            stream,
            values: vec![None; items.len()],
            errors: vec![None; items.len()],
            open: items.len(),
        });
        self.streams[stream].open_groups += 1;
        let n = self.plan.dsl.actions.len();
        for (k, item) in items.into_iter().enumerate() {
            let id = format!("{}/{}:{k}", self.streams[stream].id, task.ref_);
            let mut child = Stream::new(id, Some(stream), scope, Some((group, k)), n);
            child.actions.insert(task.ref_.clone(), json!({"result": item, "result_typename": "collection_item"}));
            child.outcomes[i] = Some(Outcome::Succeeded);
            child.started[i] = true;
            child.delay = interval * k as f64;
            self.dirty.insert(self.streams.len());
            self.streams.push(child);
        }
        Ok(())
    }

    /// A gather in one item's stream: evaluates `items` there into the item's slot.
    fn gather_item(&mut self, stream: usize, i: usize) -> Result<(), Failure> {
        let task = self.plan.action(i);
        let value = match task.args.get("items") {
            Some(items) => match expr::eval_templated(items, &self.context_for(stream, i)) {
                Ok(value) => value,
                Err(e) => {
                    let failure =
                        Failure::new(format!("Error evaluating `items` expression in `{GATHER}`: {e}"), "ExpressionError");
                    return self.fail(stream, i, failure);
                }
            },
            None => Value::Null,
        };
        if let Some((group, slot)) = self.streams[stream].group {
            self.groups[group].values[slot] = Some(value);
        }
        self.set(stream, i, Outcome::Succeeded, None);
        Ok(())
    }

    /// `core.loop.end`: evaluates `condition`; while it holds, resets the loop's region and
    /// re-enters at its `core.loop.start` with the next iteration.
    fn loop_end(&mut self, stream: usize, i: usize) -> Result<(), Failure> {
        let task = self.plan.action(i);
        let context = self.context_for(stream, i);
        let condition = match task.args.get("condition").map(|c| expr::eval_templated(c, &context)) {
            Some(Ok(value)) => expr::truthy(&value),
            Some(Err(e)) => {
                return self.fail(stream, i, Failure::new(format!("Error evaluating `condition` in `{LOOP_END}`: {e}"), "ExpressionError"));
            }
            None => return self.fail(stream, i, Failure::new(format!("{LOOP_END} needs a `condition`"), "ValueError")),
        };
        let max_iterations = match task.args.get("max_iterations").map(|m| expr::eval_templated(m, &context)) {
            None => LOOP_DEFAULT_MAX_ITERATIONS,
            Some(Ok(value)) => match value.as_u64() {
                Some(n) if (1..=LOOP_ITERATION_CAP).contains(&n) => n,
                _ => {
                    let message = format!("max_iterations must be an integer from 1 to {LOOP_ITERATION_CAP}, got {value}");
                    return self.fail(stream, i, Failure::new(message, "ValueError"));
                }
            },
            Some(Err(e)) => return self.fail(stream, i, Failure::new(format!("Error evaluating `max_iterations`: {e}"), "ExpressionError")),
        };
        if !condition {
            self.set(stream, i, Outcome::Succeeded, Some(entry(&json!({"continue": false}))));
            return Ok(());
        }
        let scope = self.plan.scopes.scope_of[i];
        let Some(start) = self.plan.scopes.scopes[scope].opener_index else {
            return self.fail(stream, i, Failure::new(format!("{LOOP_END} '{}' closes no loop", task.ref_), "DSLError"));
        };
        let iteration = self.streams[stream].iterations.get(&start).copied().unwrap_or(0);
        if iteration + 1 >= max_iterations {
            let message = format!("Loop '{}' exceeded max_iterations={max_iterations}; the body ran {} times", task.ref_, iteration + 1);
            return self.fail(stream, i, Failure::new(message, "LoopMaxIterationsExceeded"));
        }
        self.set(stream, i, Outcome::Succeeded, Some(entry(&json!({"continue": true}))));
        // Entries are overwritten by the next iteration, never cleared.
        let scopes = &self.plan.scopes;
        let this = &mut self.streams[stream];
        for j in 0..self.plan.dsl.actions.len() {
            if j == start || scopes.within(scopes.scope_of[j], scope) {
                this.started[j] = false;
                this.outcomes[j] = None;
                if j != start {
                    this.iterations.remove(&j);
                }
            }
        }
        this.iterations.insert(start, iteration + 1);
        Ok(())
    }

    /// Closes an item stream once nothing in it can run any more, handing its value or error
    /// to its fan-out; the last one to close completes the gather in the parent stream.
    fn try_close(&mut self, stream: usize) -> Result<(), Failure> {
        let this = &self.streams[stream];
        let Some((group, slot)) = this.group else { return Ok(()) };
        if this.closed || this.running > 0 || this.open_groups > 0 {
            return Ok(());
        }
        if self.plan.members[this.scope].iter().any(|&i| this.outcomes[i].is_none()) {
            return Ok(());
        }
        let this = &mut self.streams[stream];
        this.closed = true;
        this.outcomes = Vec::new();
        this.started = Vec::new();
        this.actions = Map::new();
        if let Some(error) = this.error.take() {
            self.groups[group].errors[slot] = Some(error);
        }
        self.groups[group].open -= 1;
        if self.groups[group].open == 0 { self.complete(group) } else { Ok(()) }
    }

    /// The gather's result in the scatter's stream: item values in order, skipped items left
    /// out, errors handled by `error_strategy`.
    fn complete(&mut self, group: usize) -> Result<(), Failure> {
        let parent = self.groups[group].stream;
        self.streams[parent].open_groups -= 1;
        self.dirty.insert(parent);
        let Some(gather) = self.groups[group].gather else { return Ok(()) };
        let task = self.plan.action(gather);
        let context = self.context_for(parent, gather);
        let setting = |key: &str| task.args.get(key).map(|v| expr::eval_templated(v, &context)).transpose();
        let (drop_nulls, strategy) = match (setting("drop_nulls"), setting("error_strategy")) {
            (Ok(drop), Ok(strategy)) => (
                drop.as_ref().is_some_and(expr::truthy),
                strategy.as_ref().and_then(Value::as_str).unwrap_or("partition").to_owned(),
            ),
            (Err(e), _) | (_, Err(e)) => {
                return self.fail(parent, gather, Failure::new(format!("Error evaluating `{GATHER}` settings: {e}"), "ExpressionError"));
            }
        };
        if !matches!(strategy.as_str(), "partition" | "include" | "drop" | "raise") {
            let message = format!("error_strategy must be partition, include, drop or raise, got {strategy:?}");
            return self.fail(parent, gather, Failure::new(message, "ValueError"));
        }
        let group = &mut self.groups[group];
        let mut values = Vec::new();
        let mut errors = Vec::new();
        for (value, error) in group.values.drain(..).zip(group.errors.drain(..)) {
            match (error, value) {
                (Some(error), _) if strategy == "include" => values.push(error),
                (Some(_), _) if strategy == "drop" => {}
                (Some(error), _) => errors.push(error),
                (None, Some(Value::Null)) if drop_nulls => {}
                (None, Some(value)) => values.push(value),
                (None, None) => {}
            }
        }
        if strategy == "raise" && !errors.is_empty() {
            let failure = Failure::new(format!("Gather '{}' encountered {} error(s)", task.ref_, errors.len()), "GatherError");
            return self.fail(parent, gather, failure);
        }
        let mut result = json!({"result": values, "result_typename": "list"});
        if !errors.is_empty() {
            result["error"] = Value::Array(errors);
            result["error_typename"] = json!("list");
        }
        self.set(parent, gather, Outcome::Succeeded, Some(result));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use Outcome::{Failed, Skipped, Succeeded};

    fn statement(yaml: &str) -> ActionStatement {
        serde_yaml::from_str(yaml).unwrap()
    }

    #[test]
    fn an_action_reaches_the_results_its_expressions_name_or_all_of_them() {
        let task = statement(
            "ref: c\naction: core.transform.reshape\nargs: {value: '${{ ACTIONS.a.result }} ${{ ACTIONS.a.error }}'}\n\
             run_if: '${{ ACTIONS.b.result > 1 }}'\nwait_until: '${{ ACTIONS.w.result }}'",
        );
        assert_eq!(refs_used_by(&task, true), Some(vec!["a".to_owned(), "b".to_owned(), "w".to_owned()]));
        // The activity is sent what its own expressions read: run_if and wait_until stay behind.
        assert_eq!(refs_used_by(&task, false), Some(vec!["a".to_owned()]));
        let dynamic = statement("ref: d\naction: core.transform.reshape\nargs: {value: '${{ ACTIONS }}'}");
        assert_eq!(refs_used_by(&dynamic, true), None);
        let none = statement("ref: e\naction: core.transform.reshape\nargs: {value: 1}");
        assert_eq!(refs_used_by(&none, true), Some(vec![]));
        let mut actions = Map::new();
        for r in ["a", "b", "z"] {
            actions.insert(r.into(), json!({"result": r}));
        }
        assert_eq!(only(actions.clone(), refs_used_by(&task, false).as_deref()).keys().collect::<Vec<_>>(), ["a"]);
        assert_eq!(only(actions.clone(), refs_used_by(&dynamic, false).as_deref()).len(), 3);
    }

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
        assert_eq!(Value::Object(only(actions.clone(), refs_used_by(&task, false).as_deref())), json!({"a": {"result": 1}, "c": {"result": 3}}));
        let indexed: ActionStatement = serde_json::from_value(json!({
            "ref": "d", "action": "core.transform.reshape", "args": {"value": "${{ ACTIONS['b'].result }}"},
        }))
        .unwrap();
        assert_eq!(only(actions.clone(), refs_used_by(&indexed, false).as_deref()), actions, "other forms keep everything");
    }

    #[test]
    fn results_the_workflow_reads_itself_stay_inline() {
        let dsl: Workflow = serde_yaml::from_str(
            "title: t\ndescription: d\nentrypoint: {ref: a}\nreturns: '${{ ACTIONS.r.result }}'\nactions:\n\
             - {ref: a, action: core.http_request, args: {url: x}}\n\
             - {ref: b, action: core.http_request, args: {url: x}}\n\
             - {ref: c, action: core.http_request, args: {url: x}}\n\
             - {ref: r, action: core.http_request, args: {url: x}}\n\
             - {ref: s, action: core.transform.scatter, depends_on: [a], args: {collection: '${{ ACTIONS.a.result }}'}}\n\
             - {ref: u, action: core.transform.reshape, depends_on: [b], run_if: '${{ ACTIONS.b.result }}', args: {value: '${{ ACTIONS.c.result }}'}}\n",
        )
        .unwrap();
        // a: a scatter's collection; b: a run_if. c is only read by an activity, r by returns
        // (which the executor evaluates when it names a stored result).
        assert_eq!(read_by_workflow(&dsl), [true, true, false, false, false, false]);
        let mut wholesale = dsl.clone();
        wholesale.actions[5].run_if = Some("${{ ACTIONS['c'].result }}".into());
        assert!(read_by_workflow(&wholesale).iter().all(|inline| *inline), "ACTIONS used wholesale keeps every result inline");
    }

    #[test]
    fn a_stored_result_keeps_its_own_typename() {
        let stored = StoredRef {
            backend: "s3".into(),
            bucket: "b".into(),
            key: "k".into(),
            size_bytes: 1,
            sha256: "0".into(),
            content_type: "application/json".into(),
            encoding: "json".into(),
            typename: "list".into(),
        };
        assert_eq!(entry(&stored.to_value())["result_typename"], "list");
        assert_eq!(entry(&json!({"a": 1}))["result_typename"], "dict");
    }

    #[test]
    fn typenames_follow_python() {
        assert_eq!(typename(&json!(1)), "int");
        assert_eq!(typename(&json!(1.5)), "float");
        assert_eq!(typename(&json!(null)), "NoneType");
        assert_eq!(typename(&json!({"a": 1})), "dict");
    }
}
