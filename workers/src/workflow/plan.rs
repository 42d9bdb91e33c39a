//! What the run needs to know about the workflow at every step, computed once per run: each
//! action's incoming edges, its scope, the results its expressions reach.

use ferrocat_dsl::{ActionStatement, EdgeKind, ScopePlan, Workflow, dependencies, plan_scopes};

use super::driver::Failure;
use super::inputs::{ActionReferences, read_by_workflow};

/// What the run needs to know about the workflow at every step, computed once.
pub(super) struct Plan<'w> {
    pub(super) dsl: &'w Workflow,
    pub(super) deps: Vec<Vec<(usize, EdgeKind)>>,
    pub(super) has_error_edge: Vec<bool>,
    pub(super) scopes: ScopePlan,
    /// Per scope: the actions that run in that scope's streams, in index order (loop regions
    /// run in the stream that encloses them).
    pub(super) members: Vec<Vec<usize>>,
    /// Per action: the `ACTIONS` refs its expressions can reach (`None`: all), so building its
    /// context copies those results only, not every earlier one (which made long chains
    /// quadratic: 1.5 ms per action at 2,000 actions).
    pub(super) uses: Vec<Option<Vec<String>>>,
    /// Per action: the refs its activity evaluates (`uses` without run_if and wait_until),
    /// the part of its context its input carries.
    pub(super) activity_uses: Vec<Option<Vec<String>>>,
    /// Per action: whether the workflow reads its result itself, so it must come back inline.
    pub(super) inline: Vec<bool>,
}

impl<'w> Plan<'w> {
    pub(super) fn build(dsl: &'w Workflow) -> Result<Self, Failure> {
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
        // Each action's templates are walked once; what its activity, its context and the
        // workflow itself read are all derived from that.
        let refs: Vec<ActionReferences> = dsl.actions.iter().map(ActionReferences::of).collect();
        let activity_uses = refs.iter().map(ActionReferences::activity).collect();
        let uses = refs.iter().map(ActionReferences::all).collect();
        let inline = read_by_workflow(dsl, &refs);
        Ok(Self { dsl, deps, has_error_edge, scopes, members, uses, activity_uses, inline })
    }

    pub(super) fn action(&self, i: usize) -> &'w ActionStatement {
        &self.dsl.actions[i]
    }

    /// The scope action `i` opens (scatter or loop start).
    pub(super) fn opened_by(&self, i: usize) -> Option<usize> {
        self.scopes.scopes.iter().position(|s| s.opener_index == Some(i))
    }

    /// The gather that closes the scatter `i`, if any.
    pub(super) fn gather_of(&self, i: usize) -> Option<usize> {
        self.opened_by(i).and_then(|scope| self.scopes.scopes[scope].closer_index)
    }
}
