//! Checking templates before they enter the table: each problem names the file and, where it
//! can be found, the line.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use serde_json::Value;

use ferrocat_dsl::expr::{ContextRoot, References};

use super::{Definition, SecretSpec, TemplateFile};
use crate::table::{Registry, valid_name};

/// A template file's text and where it came from.
#[derive(Debug, Clone)]
pub struct Source {
    /// The path shown in problems (relative to the registry's root where there is one).
    pub path: String,
    pub text: String,
}

/// `{path: text}` (a stored registry version's files) as sources.
pub fn sources_of(files: &Value) -> Vec<Source> {
    files
        .as_object()
        .map(|files| files.iter().map(|(path, text)| Source { path: path.clone(), text: text.as_str().unwrap_or_default().to_owned() }).collect())
        .unwrap_or_default()
}

/// What is wrong with a template, where.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub path: String,
    /// 1-based, when the problem could be placed.
    pub line: Option<usize>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path, self.message),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

impl Source {
    /// A problem in this file, placed at the first line holding `needle` (after `anchor`, when
    /// given).
    pub fn problem(&self, anchor: Option<&str>, needle: &str, message: impl Into<String>) -> Problem {
        let start = anchor.and_then(|a| self.text.find(a)).unwrap_or(0);
        let line = self.text[start..].find(needle).map(|at| self.text[..start + at].matches('\n').count() + 1);
        Problem { path: self.path.clone(), line, message: message.into() }
    }

    /// Reads the file as a template.
    pub fn parse(&self) -> Result<Definition, Problem> {
        let file: TemplateFile = serde_yaml::from_str(&self.text).map_err(|e| Problem {
            path: self.path.clone(),
            line: e.location().map(|l| l.line()),
            message: e.to_string(),
        })?;
        if file.kind != "action" {
            return Err(self.problem(None, "type:", format!("type must be 'action', not {:?}", file.kind)));
        }
        Ok(file.definition)
    }
}

/// What the checks know of the actions a template's steps may call: the set being loaded, then
/// the table.
pub struct Known<'a> {
    pub set: &'a HashMap<String, &'a Definition>,
    pub table: &'a Registry,
}

impl Known<'_> {
    /// The argument schema of `action`, or `None` when no such action exists.
    fn schema(&self, action: &str) -> Option<Value> {
        match self.set.get(action) {
            Some(definition) => ferrocat_dsl::expects_schema(&definition.expects).ok().or(Some(Value::Null)),
            None => self.table.get(action).map(|a| a.args_schema()),
        }
    }
}

const ROOTS_OUTSIDE_TEMPLATES: [ContextRoot; 2] = [ContextRoot::Actions, ContextRoot::Trigger];

/// Every problem of one template.
pub fn check(source: &Source, definition: &Definition, known: &Known<'_>) -> Vec<Problem> {
    let mut problems = Vec::new();
    let key = definition.key();
    if !valid_name(&key) {
        problems.push(source.problem(None, "name:", format!("invalid action name {key:?}: dot-separated lowercase words")));
    }
    if definition.title.trim().is_empty() {
        problems.push(source.problem(None, "title:", "title must not be empty"));
    }
    check_secrets(source, definition, &mut problems);
    let mut inputs = BTreeSet::new();
    for (name, spec) in &definition.expects {
        inputs.insert(name.as_str());
        if let Err(e) = ferrocat_dsl::expected_field(name, spec) {
            problems.push(source.problem(Some("expects:"), &format!("{name}:"), format!("expects.{name}: {e}")));
        }
    }
    if definition.steps.is_empty() {
        problems.push(source.problem(None, "steps:", "a template needs at least one step"));
    }
    let declared: BTreeSet<String> = definition.secrets.iter().map(SecretSpec::name).collect();
    let mut earlier: BTreeSet<&str> = BTreeSet::new();
    for step in &definition.steps {
        let at = format!("ref: {}", step.ref_);
        let mut here = |message: String| problems.push(source.problem(Some("steps:"), &at, format!("step '{}': {message}", step.ref_)));
        if step.ref_.is_empty() || !step.ref_.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            here("a ref is letters, digits and underscores".into());
        }
        if earlier.contains(step.ref_.as_str()) {
            here("another step has this ref".into());
        }
        if step.action == key {
            here("a template cannot call itself".into());
        }
        let mut refs = References::default();
        refs.add_str(&step.action);
        refs.add_value(&Value::Object(step.args.clone()));
        for message in expression_problems(&refs, &inputs, &earlier, &declared) {
            here(message);
        }
        if !step.action.contains("${{") {
            match known.schema(&step.action) {
                None => here(format!("unknown action '{}'", step.action)),
                Some(schema) => {
                    for message in argument_problems(&schema, &step.args) {
                        here(message);
                    }
                }
            }
        }
        earlier.insert(step.ref_.as_str());
    }
    let mut refs = References::default();
    refs.add_value(&definition.returns);
    for message in expression_problems(&refs, &inputs, &earlier, &declared) {
        problems.push(source.problem(None, "returns:", format!("returns: {message}")));
    }
    problems
}

fn check_secrets(source: &Source, definition: &Definition, problems: &mut Vec<Problem>) {
    for secret in &definition.secrets {
        match secret {
            SecretSpec::Custom(custom) => {
                let at = format!("name: {}", custom.name);
                let structured = matches!(custom.secret_type.as_deref(), Some("ssh_key" | "mtls" | "ca_cert"));
                if !matches!(custom.secret_type.as_deref(), None | Some("custom" | "ssh_key" | "mtls" | "ca_cert")) {
                    problems.push(source.problem(Some("secrets:"), &at, format!("secret {}: secret_type must be custom, ssh_key, mtls or ca_cert", custom.name)));
                }
                if !structured && custom.keys.is_none() && custom.optional_keys.is_none() {
                    problems.push(source.problem(Some("secrets:"), &at, format!("secret {}: give keys or optional_keys", custom.name)));
                }
                if custom.name.ends_with("_oauth") {
                    problems.push(source.problem(Some("secrets:"), &at, format!("secret {}: names ending in _oauth are OAuth integrations' (use type: oauth)", custom.name)));
                }
                if custom.name.is_empty() || !custom.name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
                    problems.push(source.problem(Some("secrets:"), &at, format!("secret {:?}: a name is letters, digits, '_' and '-'", custom.name)));
                }
            }
            SecretSpec::OAuth(oauth) => {
                let at = format!("provider_id: {}", oauth.provider_id);
                if oauth.kind != "oauth" {
                    problems.push(source.problem(Some("secrets:"), "type:", format!("secret type must be oauth, not {:?}", oauth.kind)));
                }
                if !matches!(oauth.grant_type.as_str(), "authorization_code" | "client_credentials") {
                    problems.push(source.problem(Some("secrets:"), &at, format!("oauth {}: grant_type must be authorization_code or client_credentials", oauth.provider_id)));
                }
            }
        }
    }
}

/// Expressions that do not parse, or read what a template cannot see.
fn expression_problems(refs: &References, inputs: &BTreeSet<&str>, steps: &BTreeSet<&str>, secrets: &BTreeSet<String>) -> Vec<String> {
    let mut out: Vec<String> = refs.unparsed.iter().map(|text| format!("expression does not parse: ${{{{{text}}}}}")).collect();
    for found in &refs.found {
        let key = found.key.as_deref();
        match found.root {
            ContextRoot::Inputs => {
                if let Some(name) = key.filter(|name| !inputs.contains(name)) {
                    out.push(format!("inputs.{name} is not among the expected arguments"));
                }
            }
            ContextRoot::Steps => {
                if let Some(name) = key.filter(|name| !steps.contains(name)) {
                    out.push(format!("steps.{name} is not an earlier step"));
                }
            }
            ContextRoot::Secrets => {
                if let Some(name) = key.filter(|name| !secrets.contains(*name)) {
                    out.push(format!("SECRETS.{name} is not a declared secret"));
                }
            }
            root if ROOTS_OUTSIDE_TEMPLATES.contains(&root) => {
                out.push(format!("{} is not available in a template (only inputs, steps, SECRETS, VARS, ENV and FN)", root.name()));
            }
            _ => {}
        }
    }
    out
}

/// Arguments the step's action does not take, or required ones it is not given.
fn argument_problems(schema: &Value, args: &serde_json::Map<String, Value>) -> Vec<String> {
    let mut out = Vec::new();
    let Some(properties) = schema.get("properties").and_then(Value::as_object) else { return out };
    if schema.get("additionalProperties") == Some(&Value::Bool(false)) {
        for name in args.keys().filter(|name| !properties.contains_key(*name)) {
            out.push(format!("argument '{name}' is not one the action takes"));
        }
    }
    for name in schema.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        if !args.contains_key(name) {
            out.push(format!("required argument '{name}' is missing"));
        }
    }
    out
}

/// What the table says of a workflow's actions before it is committed or run: each action must
/// exist, be given only arguments it takes and every one it requires, and a template's literal
/// arguments must have the types its `expects` names (values with `${{ … }}` are checked when
/// the step runs).
pub fn check_workflow(dsl: &ferrocat_dsl::Workflow, table: &Registry) -> Vec<ferrocat_dsl::ValidationIssue> {
    let mut issues = Vec::new();
    for statement in &dsl.actions {
        let loc = format!("actions.{}", statement.ref_);
        let Some(action) = table.get(&statement.action) else {
            issues.push(ferrocat_dsl::ValidationIssue { loc: format!("{loc}.action"), msg: format!("unknown action '{}'", statement.action) });
            continue;
        };
        for msg in argument_problems(&action.args_schema(), &statement.args) {
            issues.push(ferrocat_dsl::ValidationIssue { loc: format!("{loc}.args"), msg });
        }
        let Some(template) = action.template_definition() else { continue };
        for (name, value) in &statement.args {
            let (Some(spec), false) = (template.expects.get(name), has_template(value)) else { continue };
            if let Ok((_, ty)) = ferrocat_dsl::expected_field(name, spec)
                && let Err(msg) = ferrocat_dsl::coerce(&ty, value)
            {
                issues.push(ferrocat_dsl::ValidationIssue { loc: format!("{loc}.args.{name}"), msg });
            }
        }
    }
    issues
}

fn has_template(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains("${{"),
        Value::Array(items) => items.iter().any(has_template),
        Value::Object(map) => map.iter().any(|(k, v)| k.contains("${{") || has_template(v)),
        _ => false,
    }
}
