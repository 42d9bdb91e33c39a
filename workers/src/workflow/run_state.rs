//! The state of one run as the interpreter advances it: its streams (the root and each scatter
//! item), their outcomes and results, the fan-outs, do-while loops, and which actions are ready.
//! Deciding what an action's parents allow ([`decide`]) and recording what became of it.

use std::collections::{BTreeSet, VecDeque};

use serde_json::{Map, Value, json};

use ferrocat_dsl::expr::{self, ExprContext};
use ferrocat_dsl::{EdgeKind, GATHER, JoinStrategy, LOOP_END, LOOP_START, SCATTER};
use ferrocat_shared::objects::{StoredRef, typename};
use ferrocat_shared::temporal::{RunActionInput, RunContext};

use super::driver::{Driver, Failure};
use super::inputs::only;
use super::plan::Plan;

/// The root stream's index and id (Tracecat's).
pub(super) const ROOT: usize = 0;
const ROOT_STREAM_ID: &str = "<root>:0";

/// The most times a do-while loop may run its body, whatever its `max_iterations` says.
pub const LOOP_ITERATION_CAP: u64 = 2048;
const LOOP_DEFAULT_MAX_ITERATIONS: u64 = 100;

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

/// An action's `ACTIONS` entry for a result.
pub(super) fn entry(value: &Value) -> Value {
    match StoredRef::from_value(value) {
        Some(stored) => json!({"result": value, "result_typename": stored.typename}),
        None => json!({"result": value, "result_typename": typename(value)}),
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
pub(super) struct Run<'p, 'w> {
    plan: &'p Plan<'w>,
    base: ExprContext,
    pub(super) run_context: RunContext,
    streams: Vec<Stream>,
    groups: Vec<Group>,
    pub(super) dirty: BTreeSet<usize>,
    /// Actions ready to run, waiting for a place among those in flight.
    pub(super) ready: VecDeque<(usize, usize, RunActionInput)>,
}

impl<'p, 'w> Run<'p, 'w> {
    pub(super) fn new(plan: &'p Plan<'w>, base: ExprContext, run_context: RunContext) -> Self {
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
    pub(super) fn context(&self, stream: usize) -> ExprContext {
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
    pub(super) fn scan(&mut self, stream: usize, driver: &impl Driver) -> Result<(), Failure> {
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
    pub(super) fn finish(&mut self, stream: usize, i: usize, result: Result<Value, Failure>) -> Result<(), Failure> {
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
