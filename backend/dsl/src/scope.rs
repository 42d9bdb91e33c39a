//! Scope validation for scatter/gather and do-while loop regions (Tracecat's
//! `validate_structure` step 3), run only when such actions are present.
//!
//! Scopes are assigned by a topological walk: an opener (`core.transform.scatter`,
//! `core.loop.start`) starts a child scope for its successors, a closer
//! (`core.transform.gather`, `core.loop.end`) sits in the scope it closes and hands its
//! successors back to the parent scope.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use serde_json::Value;

use super::issues::ValidationIssue;
use super::model::{ActionStatement, EdgeKind, Workflow, dependencies};
use crate::expr;

/// `core.transform.scatter`.
pub const SCATTER: &str = "core.transform.scatter";
/// `core.transform.gather`.
pub const GATHER: &str = "core.transform.gather";
/// `core.loop.start`.
pub const LOOP_START: &str = "core.loop.start";
/// `core.loop.end`.
pub const LOOP_END: &str = "core.loop.end";
/// Runs committed workflows as subflows (child runs); orchestrated by the workflow worker.
pub const EXECUTE: &str = "core.workflow.execute";

/// What opened a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScopeKind {
    Root,
    Scatter,
    Loop,
}

/// One scope: the root, a scatter region or a loop region.
#[derive(Debug, Clone)]
pub struct Scope {
    pub kind: ScopeKind,
    /// Ref of the opener (`<root>` for the root).
    pub opener: String,
    /// Index of the opening action.
    pub opener_index: Option<usize>,
    /// Enclosing scope.
    pub parent: Option<usize>,
    closers: usize,
    /// Index of the closing action (gather or loop end), if any.
    pub closer_index: Option<usize>,
}

/// Where every action runs, for the scheduler: `scope_of[i]` is the scope action `i` runs in.
/// An opener runs in the enclosing scope; a closer runs in the scope it closes.
#[derive(Debug, Clone)]
pub struct ScopePlan {
    pub scopes: Vec<Scope>,
    pub scope_of: Vec<usize>,
}

impl ScopePlan {
    /// Whether `scope` is `ancestor` or lies inside it.
    pub fn within(&self, mut scope: usize, ancestor: usize) -> bool {
        loop {
            if scope == ancestor {
                return true;
            }
            match self.scopes[scope].parent {
                Some(parent) => scope = parent,
                None => return false,
            }
        }
    }

    /// The nearest scope at or above `scope` that has streams of its own (a scatter, or the
    /// root): loop regions run in the stream that encloses them.
    pub fn stream_scope(&self, mut scope: usize) -> usize {
        while self.scopes[scope].kind == ScopeKind::Loop {
            scope = self.scopes[scope].parent.unwrap_or(0);
        }
        scope
    }
}

/// Assigns scopes for the scheduler; `None` when the workflow has a cycle (validation rejects
/// those first).
pub fn plan_scopes(wf: &Workflow) -> Option<ScopePlan> {
    let walk = walk(wf)?;
    Some(ScopePlan { scopes: walk.scopes, scope_of: walk.scope_of })
}

struct Walk {
    scopes: Vec<Scope>,
    scope_of: Vec<usize>,
    result_scope: Vec<usize>,
    index: HashMap<String, usize>,
    issues: Vec<ValidationIssue>,
}

/// Whether the workflow has any scope action, so scope validation applies.
pub(crate) fn has_scopes(wf: &Workflow) -> bool {
    wf.actions
        .iter()
        .any(|a| matches!(a.action.as_str(), SCATTER | GATHER | LOOP_START | LOOP_END))
}

/// Validates scopes. The caller guarantees unique refs, known dependencies and no cycle.
pub(crate) fn validate_scopes(wf: &Workflow) -> Vec<ValidationIssue> {
    let Some(Walk { scopes, scope_of, result_scope, index, mut issues }) = walk(wf) else {
        return Vec::new();
    };
    for s in &scopes {
        match s.kind {
            ScopeKind::Loop if s.closers != 1 => issues.push(ValidationIssue {
                loc: format!("actions.{}", s.opener),
                msg: format!(
                    "loop '{}' must be closed by exactly one {LOOP_END}, found {}",
                    s.opener, s.closers
                ),
            }),
            ScopeKind::Scatter if s.closers > 1 => issues.push(ValidationIssue {
                loc: format!("actions.{}", s.opener),
                msg: format!(
                    "scatter '{}' is closed by {} gathers; at most one is allowed",
                    s.opener, s.closers
                ),
            }),
            _ => {}
        }
    }
    let index: HashMap<&str, usize> = index.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    issues.extend(loop_paths(wf, &index, &scopes, &scope_of));

    for (i, a) in wf.actions.iter().enumerate() {
        for (loc, r) in expression_refs(a) {
            let Some(&target) = index.get(r.as_str()) else {
                continue;
            };
            if let Some(blocking) = unreachable_scope(&scopes, scope_of[i], result_scope[target]) {
                issues.push(ValidationIssue {
                    loc,
                    msg: format!(
                        "'{r}' is inside scatter scope '{}' and cannot be referenced from here",
                        scopes[blocking].opener
                    ),
                });
            }
        }
    }
    issues
}

/// The topological walk that assigns scopes, with the issues it finds on the way.
fn walk(wf: &Workflow) -> Option<Walk> {
    let mut issues = Vec::new();
    let index: HashMap<&str, usize> = wf
        .actions
        .iter()
        .enumerate()
        .map(|(i, a)| (a.ref_.as_str(), i))
        .collect();
    let order = topological_order(wf, &index)?;
    let mut scopes = vec![Scope {
        kind: ScopeKind::Root,
        opener: "<root>".into(),
        opener_index: None,
        parent: None,
        closers: 0,
        closer_index: None,
    }];
    let mut scope_of = vec![0usize; wf.actions.len()];
    let mut outgoing = vec![0usize; wf.actions.len()];
    let mut result_scope = vec![0usize; wf.actions.len()];

    for &i in &order {
        let a = &wf.actions[i];
        let parents: Vec<usize> = dependencies(a)
            .iter()
            .filter_map(|(s, _)| index.get(s.as_str()).copied())
            .collect();
        let scope = parents.first().map_or(0, |p| outgoing[*p]);
        for p in parents.iter().skip(1) {
            if outgoing[*p] != scope {
                issues.push(ValidationIssue {
                    loc: format!("actions.{}.depends_on", a.ref_),
                    msg: format!(
                        "'{}' is in scope '{}' but '{}' is in scope '{}'; edges may not cross scopes",
                        wf.actions[parents[0]].ref_,
                        scopes[scope].opener,
                        wf.actions[*p].ref_,
                        scopes[outgoing[*p]].opener
                    ),
                });
            }
        }
        scope_of[i] = scope;
        let (out, visible) = match a.action.as_str() {
            SCATTER | LOOP_START => {
                let kind = if a.action == SCATTER {
                    ScopeKind::Scatter
                } else {
                    ScopeKind::Loop
                };
                scopes.push(Scope {
                    kind,
                    opener: a.ref_.clone(),
                    opener_index: Some(i),
                    parent: Some(scope),
                    closers: 0,
                    closer_index: None,
                });
                (scopes.len() - 1, scopes.len() - 1)
            }
            GATHER | LOOP_END => {
                let want = if a.action == GATHER {
                    (ScopeKind::Scatter, SCATTER)
                } else {
                    (ScopeKind::Loop, LOOP_START)
                };
                if scopes[scope].kind == want.0 {
                    scopes[scope].closers += 1;
                    scopes[scope].closer_index = Some(i);
                } else {
                    issues.push(ValidationIssue {
                        loc: format!("actions.{}.action", a.ref_),
                        msg: format!(
                            "{} must close a {} scope, but it is in scope '{}'",
                            a.action, want.1, scopes[scope].opener
                        ),
                    });
                }
                let parent = scopes[scope].parent.unwrap_or(0);
                (parent, parent)
            }
            _ => (scope, scope),
        };
        outgoing[i] = out;
        result_scope[i] = visible;
    }

    let index = index.into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
    Some(Walk { scopes, scope_of, result_scope, index, issues })
}

/// Every action of a loop region (and its `loop.start`) needs a success path to the region's
/// `loop.end`, otherwise iterations could interleave.
fn loop_paths(
    wf: &Workflow,
    index: &HashMap<&str, usize>,
    scopes: &[Scope],
    scope_of: &[usize],
) -> Vec<ValidationIssue> {
    let mut success_children: Vec<Vec<usize>> = vec![Vec::new(); wf.actions.len()];
    for (i, a) in wf.actions.iter().enumerate() {
        for (s, kind) in dependencies(a) {
            if let (Some(&p), EdgeKind::Success) = (index.get(s.as_str()), kind) {
                success_children[p].push(i);
            }
        }
    }
    let reaches = |from: usize, to: usize| {
        let mut seen = vec![false; wf.actions.len()];
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if !std::mem::replace(&mut seen[n], true) {
                stack.extend(&success_children[n]);
            }
        }
        false
    };
    let mut issues = Vec::new();
    for (s_idx, s) in scopes.iter().enumerate() {
        let (ScopeKind::Loop, Some(end), Some(start)) = (s.kind, s.closer_index, s.opener_index) else {
            continue;
        };
        let members = (0..wf.actions.len()).filter(|&i| scope_of[i] == s_idx && i != end);
        for i in std::iter::once(start).chain(members) {
            if !reaches(i, end) {
                issues.push(ValidationIssue {
                    loc: format!("actions.{}", wf.actions[i].ref_),
                    msg: format!(
                        "'{}' is in loop '{}' but has no success path to its {LOOP_END} '{}'",
                        wf.actions[i].ref_, s.opener, wf.actions[end].ref_
                    ),
                });
            }
        }
    }
    issues
}

/// `None` if an expression in scope `from` may see results in scope `to`: the same scope, an
/// ancestor, or a descendant reached through loop scopes only. Otherwise the scatter scope in
/// the way.
fn unreachable_scope(scopes: &[Scope], from: usize, to: usize) -> Option<usize> {
    let mut ancestors = Vec::new();
    let mut up = Some(from);
    while let Some(s) = up {
        ancestors.push(s);
        up = scopes[s].parent;
    }
    // Walk up from `to` to the closest common ancestor; any scatter scope on the way blocks.
    let mut blocking = None;
    let mut cursor = Some(to);
    while let Some(s) = cursor {
        if ancestors.contains(&s) {
            return blocking;
        }
        if scopes[s].kind == ScopeKind::Scatter {
            blocking = Some(s);
        }
        cursor = scopes[s].parent;
    }
    blocking
}

/// Kahn's algorithm over action indices, lowest index first; `None` on a cycle.
fn topological_order(wf: &Workflow, index: &HashMap<&str, usize>) -> Option<Vec<usize>> {
    let n = wf.actions.len();
    let mut indegree = vec![0usize; n];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (i, a) in wf.actions.iter().enumerate() {
        for (s, _) in dependencies(a) {
            if let Some(&p) = index.get(s.as_str()) {
                indegree[i] += 1;
                children[p].push(i);
            }
        }
    }
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|i| indegree[*i] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &c in &children[i] {
            indegree[c] -= 1;
            if indegree[c] == 0 {
                ready.push(Reverse(c));
            }
        }
    }
    (order.len() == n).then_some(order)
}

/// Every `ACTIONS.<ref>` used by the action's expressions, with the field it appears in.
fn expression_refs(a: &ActionStatement) -> Vec<(String, String)> {
    let base = format!("actions.{}", a.ref_);
    let mut owned: Vec<(String, String)> = Vec::new();
    for (k, v) in &a.args {
        owned.push((format!("{base}.args"), k.clone()));
        collect_strings(&format!("{base}.args.{k}"), v, &mut owned);
    }
    if let Some(run_if) = &a.run_if {
        owned.push((format!("{base}.run_if"), run_if.clone()));
    }
    if let Some(until) = &a.retry_policy.retry_until {
        owned.push((format!("{base}.retry_policy.retry_until"), until.clone()));
    }
    match &a.for_each {
        Some(Value::String(s)) => owned.push((format!("{base}.for_each"), s.clone())),
        Some(Value::Array(items)) => {
            owned.extend(
                items
                    .iter()
                    .filter_map(|v| v.as_str())
                    .map(|s| (format!("{base}.for_each"), s.to_owned())),
            );
        }
        _ => {}
    }
    let mut out = Vec::new();
    for (loc, text) in owned {
        for inner in expr::find_templates(&text) {
            if let Ok(parsed) = expr::parse_expression(inner) {
                for r in expr::referenced_actions(&parsed) {
                    out.push((loc.clone(), r));
                }
            }
        }
    }
    out
}

fn collect_strings(loc: &str, v: &Value, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) => out.push((loc.to_owned(), s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                collect_strings(&format!("{loc}[{i}]"), item, out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                out.push((loc.to_owned(), k.clone()));
                collect_strings(&format!("{loc}.{k}"), item, out);
            }
        }
        _ => {}
    }
}
