//! The one walker over expression references: which contexts (`ACTIONS`, `SECRETS`, `TRIGGER`,
//! …) and which first keys under them (`SECRETS.api` → `api`) an expression, or every `${{ … }}`
//! template inside a JSON value, names. It reads the parsed AST, so text that merely mentions
//! `SECRETS.x` outside a template, or inside a string literal, is not a reference.

use serde_json::Value;

use super::ast::{ContextRoot, Expr, PathSegment};
use super::{find_templates, parse_expression};

/// A context an expression reads, with the first key after it: `SECRETS.api.TOKEN` is
/// `(Secrets, Some("api"))`, `ACTIONS['a']` is `(Actions, Some("a"))`, and `ACTIONS` itself or
/// `ACTIONS[*]` is `(Actions, None)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The context.
    pub root: ContextRoot,
    /// The first key under it, when the path starts with one.
    pub key: Option<String>,
}

/// What the templates in one or more JSON values reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct References {
    /// Every reference, first occurrence first, without repeats.
    pub found: Vec<Reference>,
    /// The inner text of each `${{ … }}` that does not parse, in order. Validation reports
    /// these; callers that must not miss a name (secrets) decide what to do with them.
    pub unparsed: Vec<String>,
}

impl References {
    /// Adds the references of every template in `value`: strings, object keys and the
    /// contents of lists and objects, at any depth.
    pub fn add_value(&mut self, value: &Value) {
        match value {
            Value::String(s) => self.add_str(s),
            Value::Array(items) => items.iter().for_each(|v| self.add_value(v)),
            Value::Object(map) => {
                for (k, v) in map {
                    self.add_str(k);
                    self.add_value(v);
                }
            }
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }

    /// Adds the references of every `${{ … }}` template in `s`; text outside templates is
    /// not read.
    pub fn add_str(&mut self, s: &str) {
        for inner in find_templates(s) {
            match parse_expression(inner) {
                Ok(parsed) => self.add_expr(&parsed),
                Err(_) => self.unparsed.push(inner.to_owned()),
            }
        }
    }

    /// Adds the references of one parsed expression.
    pub fn add_expr(&mut self, expr: &Expr) {
        walk(expr, &mut |e| {
            if let Expr::Context { root, path } = e {
                let key = match path.segments.first() {
                    Some(PathSegment::Key(k)) => Some(k.clone()),
                    _ => None,
                };
                let found = Reference { root: *root, key };
                if !self.found.contains(&found) {
                    self.found.push(found);
                }
            }
        });
    }

    /// The first keys named under `root`, first occurrence first (`SECRETS.api` → `api`).
    pub fn keys(&self, root: ContextRoot) -> impl Iterator<Item = &str> {
        self.found
            .iter()
            .filter(move |r| r.root == root)
            .filter_map(|r| r.key.as_deref())
    }

    /// Whether any parsed template reads `root`.
    pub fn uses(&self, root: ContextRoot) -> bool {
        self.found.iter().any(|r| r.root == root)
    }
}

/// The references of every template inside `value` (see [`References::add_value`]).
pub fn references(value: &Value) -> References {
    let mut out = References::default();
    out.add_value(value);
    out
}

/// The action refs named by `ACTIONS.<ref>` anywhere in the expression, first occurrence first.
pub fn referenced_actions(expr: &Expr) -> Vec<String> {
    let mut out = Vec::new();
    walk(expr, &mut |e| {
        if let Expr::Context {
            root: ContextRoot::Actions,
            path,
        } = e
            && let Some(PathSegment::Key(r)) = path.segments.first()
            && !out.contains(r)
        {
            out.push(r.clone());
        }
    });
    out
}

/// The contexts used anywhere in the expression, first occurrence first.
pub fn referenced_contexts(expr: &Expr) -> Vec<ContextRoot> {
    let mut out = Vec::new();
    walk(expr, &mut |e| {
        if let Expr::Context { root, .. } = e
            && !out.contains(root)
        {
            out.push(*root);
        }
    });
    out
}

/// Calls `f` on `expr` and every sub-expression, parents first.
pub fn walk(expr: &Expr, f: &mut impl FnMut(&Expr)) {
    f(expr);
    match expr {
        Expr::Literal(_) | Expr::Context { .. } => {}
        Expr::List(items) | Expr::Call { args: items, .. } => items.iter().for_each(|e| walk(e, f)),
        Expr::Dict(entries) => entries.iter().for_each(|(_, e)| walk(e, f)),
        Expr::Cast { expr, .. }
        | Expr::TrailingCast { expr, .. }
        | Expr::Unary { expr, .. }
        | Expr::Not(expr)
        | Expr::Iterator {
            collection: expr, ..
        } => walk(expr, f),
        Expr::Index { target, index } => {
            walk(target, f);
            walk(index, f);
        }
        Expr::Binary { left, right, .. } => {
            walk(left, f);
            walk(right, f);
        }
        Expr::Ternary {
            then,
            cond,
            otherwise,
        } => {
            walk(then, f);
            walk(cond, f);
            walk(otherwise, f);
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn secrets(value: &Value) -> Vec<String> {
        references(value)
            .keys(ContextRoot::Secrets)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn finds_references_in_templates_nested_in_objects_lists_and_keys() {
        let found = references(&json!({
            "headers": {"Authorization": "Bearer ${{ SECRETS.api.TOKEN }}"},
            "items": [1, null, ["${{ ACTIONS.step_a.result }} and ${{ TRIGGER.x }}"]],
            "${{ VARS.names.first }}": true,
        }));
        assert_eq!(
            found.found,
            vec![
                Reference {
                    root: ContextRoot::Secrets,
                    key: Some("api".into())
                },
                Reference {
                    root: ContextRoot::Actions,
                    key: Some("step_a".into())
                },
                Reference {
                    root: ContextRoot::Trigger,
                    key: Some("x".into())
                },
                Reference {
                    root: ContextRoot::Vars,
                    key: Some("names".into())
                },
            ]
        );
        assert!(found.unparsed.is_empty());
    }

    #[test]
    fn finds_secrets_inside_function_calls_for_each_and_run_if() {
        assert_eq!(
            secrets(&json!(
                "${{ FN.concat(SECRETS.a.K, FN.lowercase(SECRETS.b.K)) }}"
            )),
            ["a", "b"]
        );
        assert_eq!(
            secrets(&json!(["${{ for var.x in SECRETS.list.ITEMS }}"])),
            ["list"]
        );
        assert_eq!(
            secrets(&json!(
                "${{ SECRETS.api.TOKEN != None || SECRETS.api.OTHER }}"
            )),
            ["api"],
            "each name once"
        );
        assert_eq!(secrets(&json!("${{ SECRETS['quoted'].K }}")), ["quoted"]);
    }

    #[test]
    fn text_outside_templates_or_in_literals_is_not_a_reference() {
        let found = references(&json!({
            "note": "rotate SECRETS.api.TOKEN monthly",
            "literal": "${{ 'SECRETS.fake.K' }}",
            "SECRETS.key": 1,
        }));
        assert!(found.found.is_empty(), "{found:?}");
        assert!(!found.uses(ContextRoot::Secrets));
    }

    #[test]
    fn a_bare_context_has_no_key_and_unparsable_templates_are_reported() {
        let found = references(&json!("${{ ACTIONS[*] }} ${{ SECRETS.a.K + }}"));
        assert_eq!(
            found.found,
            vec![Reference {
                root: ContextRoot::Actions,
                key: None
            }]
        );
        assert_eq!(found.unparsed, vec!["SECRETS.a.K +".to_owned()]);
        // A template inside a template ends at the first `}}`, so it does not parse either.
        let nested = references(&json!("${{ FN.f(${{ SECRETS.a.K }}) }}"));
        assert_eq!(nested.unparsed.len(), 1);
    }
}
