//! Structural validation of a workflow (Tracecat's `validate_structure` plus the expression
//! checks of its commit-time validator), reporting every problem with its location.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::expects::TypeExpr;
use super::issues::ValidationIssue;
use super::model::{EdgeKind, MAX_SECONDS, Workflow, parse_dependency};
use crate::expr::{self, ContextRoot, Expr, PathSegment};

/// The fields of a stored action result that `ACTIONS.<ref>.<field>` may name.
const TASK_RESULT_FIELDS: &[&str] = &[
    "result",
    "result_typename",
    "error",
    "error_typename",
    "interaction",
    "interaction_id",
    "interaction_type",
    "collection_index",
];

fn valid_ref(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn valid_action(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'.')
}

/// Where an expression sits, which decides what it may contain.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// Any templated field.
    Value,
    /// `for_each`: the iterator form is required.
    ForEach,
}

struct Checker<'a> {
    refs: &'a BTreeSet<&'a str>,
    issues: Vec<ValidationIssue>,
}

impl Checker<'_> {
    /// A number of seconds a workflow names: finite, not negative, at most [`MAX_SECONDS`].
    fn check_seconds(&mut self, loc: &str, secs: f64) {
        if !(0.0..=MAX_SECONDS).contains(&secs) {
            let got = if secs.abs() < 1e12 { secs.to_string() } else { format!("{secs:e}") };
            self.push(loc, format!("must be a number of seconds from 0 to {MAX_SECONDS} (366 days), got {got}"));
        }
    }

    fn push(&mut self, loc: &str, msg: impl Into<String>) {
        self.issues.push(ValidationIssue::new(loc, msg));
    }

    /// Checks every `${{ … }}` inside a string.
    fn check_string(&mut self, loc: &str, s: &str, slot: Slot) {
        for inner in expr::find_templates(s) {
            self.check_expression(loc, inner, slot);
        }
    }

    fn check_expression(&mut self, loc: &str, text: &str, slot: Slot) {
        let parsed = match expr::parse_expression(text) {
            Ok(p) => p,
            Err(expr::ExprError::Parse { expr, detail }) => {
                // `expr` is the text as the error shows it (cut when long).
                self.push(loc, format!("invalid expression `{expr}`: {detail}"));
                return;
            }
            Err(other) => {
                self.push(loc, format!("invalid expression `{text}`: {other}"));
                return;
            }
        };
        match (&parsed, slot) {
            (Expr::Iterator { collection, .. }, Slot::ForEach) => {
                if expr::referenced_contexts(collection).contains(&ContextRoot::Var) {
                    self.push(
                        loc,
                        format!("the for_each collection in `{text}` cannot use var"),
                    );
                }
            }
            (Expr::Iterator { .. }, Slot::Value) => {
                self.push(
                    loc,
                    format!("`{text}`: iterator expressions are only valid in for_each"),
                );
            }
            (_, Slot::ForEach) => {
                self.push(
                    loc,
                    format!("`{text}` must be an iterator like `for var.x in ...`"),
                );
            }
            (_, Slot::Value) => {}
        }
        for root in expr::referenced_contexts(&parsed) {
            if matches!(root, ContextRoot::Inputs | ContextRoot::Steps) {
                self.push(
                    loc,
                    format!(
                        "`{text}`: the {} context is only valid inside template actions",
                        root.name()
                    ),
                );
            }
        }
        for r in expr::referenced_actions(&parsed) {
            if !self.refs.contains(r.as_str()) {
                self.push(loc, format!("unknown action '{r}' in `{text}`"));
            }
        }
        let mut bad_fields = Vec::new();
        expr::walk(&parsed, &mut |e| {
            if let Expr::Context {
                root: ContextRoot::Actions,
                path,
            } = e
                && let Some(PathSegment::Key(field)) = path.segments.get(1)
                && !TASK_RESULT_FIELDS.contains(&field.as_str())
                && !bad_fields.contains(field)
            {
                bad_fields.push(field.clone());
            }
        });
        for field in bad_fields {
            self.push(
                loc,
                format!(
                    "'{field}' in `{text}` is not an action result field (expected one of {})",
                    TASK_RESULT_FIELDS.join(", ")
                ),
            );
        }
    }

    /// Checks every string (dict keys included) of a templated JSON document.
    fn check_value(&mut self, loc: &str, v: &Value) {
        match v {
            Value::String(s) => self.check_string(loc, s, Slot::Value),
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.check_value(&format!("{loc}[{i}]"), item);
                }
            }
            Value::Object(map) => {
                for (k, item) in map {
                    self.check_string(loc, k, Slot::Value);
                    self.check_value(&format!("{loc}.{k}"), item);
                }
            }
            _ => {}
        }
    }
}

impl Workflow {
    /// Structural validation per Tracecat: non-empty actions, ref and action patterns, unique
    /// refs, at least one entrypoint, known `depends_on` sources with `.success`/`.error`
    /// suffixes only, every `ACTIONS.<ref>` in args/run_if/for_each/retry_until/environment/
    /// returns names an action and one of its result fields (`result`, `error`, …), no cycles,
    /// every expression parses, `run_if` is exactly one template and `for_each` is made of
    /// iterator templates whose collection does not use `var`. Returns every problem found.
    pub fn validate(&self) -> Result<(), Vec<ValidationIssue>> {
        let mut issues = Vec::new();
        let limits = crate::limits::get();
        if self.actions.len() > limits.max_actions {
            issues.push(ValidationIssue::new(
                "actions",
                format!(
                    "a workflow has at most {} actions (FERROCAT_MAX_ACTIONS), this one has {}",
                    limits.max_actions,
                    self.actions.len()
                ),
            ));
        }
        for action in self.actions.iter().filter(|a| a.depends_on.len() > limits.max_depends_on) {
            issues.push(ValidationIssue::new(
                format!("actions.{}.depends_on", action.ref_),
                format!(
                    "an action depends on at most {} others (FERROCAT_MAX_DEPENDS_ON), this one on {}",
                    limits.max_depends_on,
                    action.depends_on.len()
                ),
            ));
        }
        if !issues.is_empty() {
            // Checking a graph past these sizes is the work the limits exist to refuse.
            return Err(issues);
        }
        if self.actions.is_empty() {
            issues.push(ValidationIssue::new(
                "actions",
                "at least one action is required",
            ));
        }

        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for a in &self.actions {
            *counts.entry(a.ref_.as_str()).or_default() += 1;
        }
        let refs: BTreeSet<&str> = counts.keys().copied().collect();
        let duplicates: Vec<String> = counts
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(r, _)| format!("'{r}'"))
            .collect();
        if !duplicates.is_empty() {
            issues.push(ValidationIssue::new(
                "actions",
                format!(
                    "All action references (the action title in snake case) must be unique. Duplicate refs: {}",
                    duplicates.join(", ")
                ),
            ));
        }
        if !self.actions.is_empty() && self.actions.iter().all(|a| !a.depends_on.is_empty()) {
            issues.push(ValidationIssue::new("actions", "No entrypoints found"));
        }

        match self.entrypoint.expected_fields() {
            Err(e) => issues.push(ValidationIssue::new("entrypoint.expects", e.to_string())),
            Ok(fields) => {
                for (name, field) in fields {
                    if let Err(e) = TypeExpr::parse(&field.ty) {
                        issues.push(ValidationIssue::new(
                            format!("entrypoint.expects.{name}.type"),
                            e.to_string(),
                        ));
                    }
                }
            }
        }

        let mut checker = Checker {
            refs: &refs,
            issues,
        };
        let mut edges: BTreeSet<(&str, &str)> = BTreeSet::new();
        checker.check_seconds("config.timeout", self.config.timeout);
        for a in &self.actions {
            let base = format!("actions.{}", a.ref_);
            checker.check_seconds(&format!("{base}.retry_policy.timeout"), a.retry_policy.timeout);
            checker.check_seconds(&format!("{base}.start_delay"), a.start_delay);
            if !valid_ref(&a.ref_) {
                checker.push(
                    &format!("{base}.ref"),
                    format!("invalid ref '{}': must match ^[a-z0-9_]+$", a.ref_),
                );
            }
            if !valid_action(&a.action) {
                checker.push(
                    &format!("{base}.action"),
                    format!("invalid action '{}': must match ^[a-z0-9_.]+$", a.action),
                );
            }
            let loc = format!("{base}.depends_on");
            let mut seen: BTreeSet<(String, EdgeKind)> = BTreeSet::new();
            for dep in &a.depends_on {
                match parse_dependency(dep) {
                    Err(e) => checker.push(&loc, e.to_string()),
                    Ok((source, kind)) => {
                        if !refs.contains(source.as_str()) {
                            checker.push(&loc, format!("unknown action '{source}'"));
                        } else if let Some(s) = refs.get(source.as_str()) {
                            edges.insert((*s, a.ref_.as_str()));
                        }
                        if !seen.insert((source, kind)) {
                            checker.push(&loc, format!("duplicate dependency '{dep}'"));
                        }
                    }
                }
            }

            checker.check_value(&format!("{base}.args"), &Value::Object(a.args.clone()));
            if let Some(run_if) = &a.run_if {
                let loc = format!("{base}.run_if");
                match expr::standalone_expression(run_if) {
                    Some(inner) => checker.check_expression(&loc, inner, Slot::Value),
                    None => checker.push(
                        &loc,
                        format!("must be exactly one ${{{{ ... }}}} expression, got '{run_if}'"),
                    ),
                }
            }
            if let Some(for_each) = &a.for_each {
                let loc = format!("{base}.for_each");
                let specs: Vec<&Value> = match for_each {
                    Value::Array(items) => items.iter().collect(),
                    other => vec![other],
                };
                if specs.is_empty() {
                    checker.push(&loc, "must not be an empty list");
                }
                for spec in specs {
                    match spec.as_str().map(|s| (s, expr::standalone_expression(s))) {
                        Some((_, Some(inner))) => checker.check_expression(&loc, inner, Slot::ForEach),
                        Some((s, None)) => checker.push(
                            &loc,
                            format!("must be exactly one ${{{{ for var.x in ... }}}} expression, got '{s}'"),
                        ),
                        None => checker.push(&loc, "must be a string or a list of strings"),
                    }
                }
            }
            if let Some(until) = &a.retry_policy.retry_until {
                checker.check_string(
                    &format!("{base}.retry_policy.retry_until"),
                    until,
                    Slot::Value,
                );
            }
            if let Some(env) = &a.environment {
                checker.check_string(&format!("{base}.environment"), env, Slot::Value);
            }
        }
        if let Some(returns) = &self.returns {
            checker.check_value("returns", returns);
        }

        let cycle = find_cycle(&refs, &edges);
        if cycle.is_none() && duplicates.is_empty() && super::scope::has_scopes(self) {
            checker.issues.extend(super::scope::validate_scopes(self));
        }
        if let Some(cycle) = cycle {
            checker.push(
                "actions",
                format!(
                    "Cycle detected in control-flow workflow: {}",
                    cycle.join(", ")
                ),
            );
        }

        if checker.issues.is_empty() {
            Ok(())
        } else {
            Err(checker.issues)
        }
    }
}

/// The refs that never reach indegree 0 in Kahn's algorithm (members of or downstream of a
/// cycle), sorted; `None` for a DAG.
fn find_cycle<'a>(
    refs: &BTreeSet<&'a str>,
    edges: &BTreeSet<(&'a str, &'a str)>,
) -> Option<Vec<&'a str>> {
    let mut indegree: BTreeMap<&str, usize> = refs.iter().map(|r| (*r, 0)).collect();
    for (_, target) in edges {
        if let Some(d) = indegree.get_mut(target) {
            *d += 1;
        }
    }
    let mut ready: Vec<&str> = indegree
        .iter()
        .filter(|(_, d)| **d == 0)
        .map(|(r, _)| *r)
        .collect();
    while let Some(node) = ready.pop() {
        for (_, target) in edges.range((node, "")..).take_while(|(s, _)| *s == node) {
            if let Some(d) = indegree.get_mut(target) {
                *d -= 1;
                if *d == 0 {
                    ready.push(target);
                }
            }
        }
        indegree.remove(node);
    }
    if indegree.is_empty() {
        None
    } else {
        Some(indegree.into_keys().collect())
    }
}
