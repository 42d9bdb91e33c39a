//! The workflow document as serde types, and parsing of YAML/JSON text (the bare DSL or
//! Tracecat's export wrapper). Unknown keys are ignored, as Tracecat's pydantic models do.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use super::DslError;

/// A workflow definition (Tracecat's `DSLInput`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workflow {
    /// Workflow title.
    pub title: String,
    /// Workflow description.
    pub description: String,
    /// Entrypoint: the legacy `ref` and the trigger input schema (`expects`).
    pub entrypoint: Entrypoint,
    /// The actions; at least one is required (checked by `validate`).
    pub actions: Vec<ActionStatement>,
    /// Run configuration.
    #[serde(default)]
    pub config: RunConfig,
    /// Informational trigger declarations (live webhooks and schedules are DB rows).
    #[serde(default)]
    pub triggers: Vec<Trigger>,
    /// Template evaluated at the end of the run as the workflow's return value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returns: Option<Value>,
    /// Workflow id or alias of the error handler workflow.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_handler: Option<String>,
    /// The versions of the git registries (ids) the workflow was validated against when it was
    /// committed: its runs use their templates until it is committed again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registry_lock: Vec<String>,
}

/// `entrypoint: {ref?, expects?}`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Entrypoint {
    /// Legacy first action ref; has no effect at run time.
    #[serde(default, rename = "ref", skip_serializing_if = "Option::is_none")]
    pub ref_: Option<String>,
    /// Trigger input fields, by name.
    #[serde(
        default,
        skip_serializing_if = "Map::is_empty",
        deserialize_with = "null_as_default"
    )]
    pub expects: Map<String, Value>,
}

impl Entrypoint {
    /// The `expects` entries parsed as [`ExpectedField`]s.
    pub fn expected_fields(&self) -> Result<Vec<(String, ExpectedField)>, DslError> {
        self.expects
            .iter()
            .map(|(name, v)| {
                serde_json::from_value(v.clone())
                    .map(|f| (name.clone(), f))
                    .map_err(|e| DslError::Expects {
                        field: name.clone(),
                        msg: e.to_string(),
                    })
            })
            .collect()
    }
}

/// One `entrypoint.expects.<name>` entry (`extra=forbid` in Tracecat).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedField {
    /// Type expression, e.g. `str`, `list[int]`, `int | None`.
    #[serde(rename = "type")]
    pub ty: String,
    /// Human description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Default value; `Some(Value::Null)` for an explicit `default: null`.
    #[serde(
        default,
        deserialize_with = "present",
        skip_serializing_if = "Option::is_none"
    )]
    pub default: Option<Value>,
    /// Allowed values.
    #[serde(default, rename = "enum", skip_serializing_if = "Option::is_none")]
    pub enum_: Option<Vec<Value>>,
    /// Whether the field may be omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional: Option<bool>,
}

impl ExpectedField {
    /// A field without a default is required.
    pub fn is_required(&self) -> bool {
        self.default.is_none() && self.optional != Some(true)
    }
}

/// `config: {environment, timeout}`; other keys (e.g. `scheduler`) are ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// Secrets/variables environment.
    #[serde(default = "default_environment")]
    pub environment: String,
    /// Workflow execution timeout in seconds; 0 means none.
    #[serde(default)]
    pub timeout: f64,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            environment: default_environment(),
            timeout: 0.0,
        }
    }
}

fn default_environment() -> String {
    "default".to_owned()
}

/// An informational trigger declaration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    /// `webhook` or `schedule`.
    #[serde(rename = "type")]
    pub kind: TriggerKind,
    /// Trigger ref.
    #[serde(rename = "ref")]
    pub ref_: String,
    /// Trigger arguments.
    #[serde(default)]
    pub args: Map<String, Value>,
}

/// Trigger types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TriggerKind {
    /// A webhook trigger.
    Webhook,
    /// A schedule trigger.
    Schedule,
}

/// One action of the workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActionStatement {
    /// Action identifier, `^[a-z0-9_]+$`, unique in the workflow.
    #[serde(rename = "ref")]
    pub ref_: String,
    /// Registry key, e.g. `core.http_request`.
    pub action: String,
    /// Templated inputs.
    #[serde(default, deserialize_with = "null_as_default")]
    pub args: Map<String, Value>,
    /// `ref`, `ref.success` or `ref.error`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub depends_on: Vec<String>,
    /// Human description.
    #[serde(default, deserialize_with = "null_as_default")]
    pub description: String,
    /// `${{ … }}` condition; the action is skipped when it is falsy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_if: Option<String>,
    /// `${{ for var.x in … }}` or a list of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_each: Option<Value>,
    /// Attempts, timeout and `retry_until`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub retry_policy: RetryPolicy,
    /// Seconds to wait before running.
    #[serde(default)]
    pub start_delay: f64,
    /// Time to wait for (overrides `start_delay`); not templated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_until: Option<String>,
    /// How several dependencies combine.
    #[serde(default)]
    pub join_strategy: JoinStrategy,
    /// Per-action secrets environment (a string or a whole-string expression).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// Redact the result in execution views.
    #[serde(default)]
    pub mask_output: bool,
}

/// `retry_policy: {max_attempts, timeout, retry_until}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryPolicy {
    /// Total attempts; 0 means unlimited.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Per-attempt timeout in seconds.
    #[serde(default = "default_timeout")]
    pub timeout: f64,
    /// Re-run the action until this expression is truthy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_until: Option<String>,
}

impl RetryPolicy {
    /// One attempt's timeout: `timeout` seconds, at least one.
    pub fn attempt_timeout(&self) -> std::time::Duration {
        seconds(self.timeout.max(1.0))
    }
}

/// The longest time a workflow may name (a timeout, a delay): 366 days, in seconds.
pub const MAX_SECONDS: f64 = 366.0 * 24.0 * 3600.0;

/// `secs` seconds as a Duration, for any number an author or caller wrote: below zero and NaN
/// are none, more than [`MAX_SECONDS`] (infinity included) is `MAX_SECONDS`. Where
/// `Duration::from_secs_f64` would panic, this cannot.
pub fn seconds(secs: f64) -> std::time::Duration {
    if secs.is_nan() || secs <= 0.0 {
        return std::time::Duration::ZERO;
    }
    std::time::Duration::from_secs_f64(secs.min(MAX_SECONDS))
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: default_max_attempts(),
            timeout: default_timeout(),
            retry_until: None,
        }
    }
}

fn default_max_attempts() -> u32 {
    1
}

fn default_timeout() -> f64 {
    300.0
}

/// How an action with several dependencies decides to run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JoinStrategy {
    /// Every dependency edge must be taken.
    #[default]
    All,
    /// At least one dependency edge must be taken.
    Any,
}

/// The kind of a dependency edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EdgeKind {
    /// Taken when the source succeeds (`ref` or `ref.success`).
    Success,
    /// Taken when the source fails (`ref.error`).
    Error,
}

/// A dependency edge of the workflow graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Edge {
    /// Source action ref.
    pub source: String,
    /// Target action ref.
    pub target: String,
    /// Success or error edge.
    pub kind: EdgeKind,
}

/// Parses one `depends_on` entry: `ref`, `ref.success` or `ref.error`.
pub fn parse_dependency(dep: &str) -> Result<(String, EdgeKind), DslError> {
    match dep.split_once('.') {
        None => Ok((dep.to_owned(), EdgeKind::Success)),
        Some((source, "success")) => Ok((source.to_owned(), EdgeKind::Success)),
        Some((source, "error")) => Ok((source.to_owned(), EdgeKind::Error)),
        Some(_) => Err(DslError::Dependency {
            dep: dep.to_owned(),
        }),
    }
}

/// The action's dependency edges as `(source ref, kind)`. Entries with an invalid suffix are
/// left out; [`Workflow::validate`] reports them.
pub fn dependencies(action: &ActionStatement) -> Vec<(String, EdgeKind)> {
    action
        .depends_on
        .iter()
        .filter_map(|d| parse_dependency(d).ok())
        .collect()
}

/// Tracecat's import/export file: the definition plus layout and trigger settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowExport {
    /// The workflow definition.
    pub definition: Workflow,
    /// Editor layout.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layout: Option<Value>,
    /// Schedules: `[{cron|every, status, …}]`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub schedules: Vec<Value>,
    /// Webhook settings: `{methods, status}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub webhook: Option<Value>,
    /// Case trigger settings: `{status, event_types, tag_filters}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub case_trigger: Option<Value>,
}

impl WorkflowExport {
    /// Parses YAML or JSON text holding either the export wrapper or a bare definition (which
    /// then comes back with no layout or trigger settings).
    pub fn parse(text: &str) -> Result<WorkflowExport, DslError> {
        let doc = parse_document(text)?;
        let Value::Object(map) = &doc else {
            return Err(DslError::Shape {
                found: crate::expr::typename(&doc),
            });
        };
        if map.contains_key("definition") && !map.contains_key("actions") {
            serde_json::from_value(doc).map_err(|e| DslError::Invalid { msg: e.to_string() })
        } else {
            let definition = serde_json::from_value(doc)
                .map_err(|e| DslError::Invalid { msg: e.to_string() })?;
            Ok(WorkflowExport {
                definition,
                layout: None,
                schedules: Vec::new(),
                webhook: None,
                case_trigger: None,
            })
        }
    }
}

impl Workflow {
    /// Parses YAML or JSON text: either the DSL itself, or Tracecat's export wrapper
    /// `{definition: <dsl>, layout, schedules, webhook, case_trigger}`.
    pub fn parse(text: &str) -> Result<Workflow, DslError> {
        WorkflowExport::parse(text).map(|e| e.definition)
    }

    /// Every dependency edge, in action order then `depends_on` order.
    pub fn edges(&self) -> Vec<Edge> {
        self.actions
            .iter()
            .flat_map(|a| {
                dependencies(a).into_iter().map(|(source, kind)| Edge {
                    source,
                    target: a.ref_.clone(),
                    kind,
                })
            })
            .collect()
    }

    /// The action with this ref.
    pub fn action(&self, ref_: &str) -> Option<&ActionStatement> {
        self.actions.iter().find(|a| a.ref_ == ref_)
    }
}

/// YAML or JSON text into a JSON value (JSON first when it looks like JSON, for exact numbers).
fn parse_document(text: &str) -> Result<Value, DslError> {
    let limit = crate::limits::get().max_document_bytes;
    if text.len() > limit {
        return Err(DslError::Syntax {
            msg: format!("the document is {} bytes; the limit is {limit} (FERROCAT_MAX_WORKFLOW_BYTES)", text.len()),
        });
    }
    if text.trim_start().starts_with('{')
        && let Ok(v) = serde_json::from_str::<Value>(text)
    {
        return Ok(v);
    }
    serde_yaml::from_str::<Value>(text).map_err(|e| DslError::Syntax { msg: e.to_string() })
}

/// Treats an explicit `null` like a missing key (YAML `args:` with nothing after it).
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Distinguishes `key: null` (Some(Null)) from a missing key (None, via `#[serde(default)]`).
fn present<'de, D>(deserializer: D) -> Result<Option<Value>, D::Error>
where
    D: Deserializer<'de>,
{
    Value::deserialize(deserializer).map(Some)
}
