//! The action registry: each built-in action by its name, its argument checks and its effect.

pub mod ai;
pub mod dedup;
pub mod egress_proxy;
pub mod email;
pub mod http;
pub mod http_poll;
pub mod lambda;
pub mod require;
pub mod sandbox;
pub mod script;
pub mod transform;

use std::sync::Arc;

use serde_json::{Map, Value};

use ferrocat_shared::egress::{EgressClient, EgressPolicy, Mode};
use ferrocat_shared::temporal::error_types;

/// `strict` (the services' default) or `permissive` (`ferrocat run`'s): see
/// [`ferrocat_shared::egress`].
pub const MODE_KEY: &str = "FERROCAT_EGRESS_MODE";

/// Why an action failed. The message is shown to the user as the action's error.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("unknown action '{0}'")]
    Unknown(String),
    #[error("invalid arguments: {0}")]
    Invalid(String),
    #[error("{0}")]
    Expression(String),
    #[error("{0}")]
    Http(String),
    /// A Python `ValueError` in Tracecat (bad values, rejected lambdas).
    #[error("ValueError: {0}")]
    Value(String),
    /// A failed check (`core.require`).
    #[error("AssertionError: {0}")]
    Assertion(String),
    /// A user's Python code failed; the message names the Python exception.
    #[error("{0}")]
    Python(String),
    /// The sandbox itself could not run (host problem, not the user's code).
    #[error("sandbox error: {0}")]
    Sandbox(String),
    /// A stored result could not be written to or read from object storage.
    #[error("{0}")]
    Storage(String),
    #[error("LoopExecutionError: iteration {iteration} failed: {source}")]
    Loop { iteration: usize, source: Box<ActionError> },
    /// Another error whose message had secret values replaced by `***`.
    #[error("{message}")]
    Masked { message: String, type_name: &'static str, retryable: bool },
}

impl ActionError {
    /// Whether trying again could succeed (a retry policy decides whether it will).
    pub fn is_retryable(&self) -> bool {
        match self {
            ActionError::Http(_) | ActionError::Sandbox(_) | ActionError::Storage(_) => true,
            ActionError::Loop { source, .. } => source.is_retryable(),
            ActionError::Masked { retryable, .. } => *retryable,
            _ => false,
        }
    }

    /// The failure type recorded in history and shown by the api.
    pub fn type_name(&self) -> &'static str {
        match self {
            ActionError::Unknown(_) => error_types::UNKNOWN_ACTION,
            ActionError::Masked { type_name, .. } => type_name,
            ActionError::Storage(_) => "StorageError",
            _ => error_types::ACTION_ERROR,
        }
    }
}

pub use ferrocat_shared::registry::{ActionSpec, REGISTRY};

/// What actions share across calls: the HTTP client and, when configured, Redis.
pub struct ActionDeps {
    /// The shared HTTP client ([`http::client`]); its egress policy also governs the sandbox's
    /// network and SMTP.
    pub http: EgressClient,
    /// Redis for `core.transform.deduplicate` / `is_duplicate` with `persist`.
    pub redis: Option<dedup::RedisStore>,
    /// The model gateway for `ai.action` and `ai.agent`.
    pub ai: Option<ai::AiGateway>,
}

impl ActionDeps {
    /// The HTTP client under the egress policy of `env` (`FERROCAT_EGRESS_MODE`, strict by
    /// default, `FERROCAT_EGRESS_ALLOW`/`_DENY`, the stack's own services), plus Redis from
    /// `FERROCAT_REDIS_URL` / `FERROCAT_REDIS_PREFIX` and the model gateway.
    pub fn from_env(env: &ferrocat_shared::config::Env) -> anyhow::Result<Self> {
        let mode = env.parse_or(MODE_KEY, Mode::Strict)?;
        let policy = Arc::new(EgressPolicy::from_env(env, mode)?);
        Ok(Self { http: http::client(policy)?, redis: dedup::RedisStore::from_env(env)?, ai: ai::AiGateway::from_env(env)? })
    }
}

/// Runs the action `name` with evaluated `args`, no Redis (persistent deduplication fails with
/// a message saying so) and no secrets. Prefer [`dispatch_with`].
pub async fn dispatch(name: &str, args: Map<String, Value>, http: &EgressClient) -> Result<Value, ActionError> {
    dispatch_with(name, args, &ActionDeps { http: http.clone(), redis: None, ai: None }, &Map::new()).await
}

/// Runs the action `name` with evaluated `args`; `secrets` (name → `{KEY: value}`) serve the
/// actions that read a secret of their own (`core.send_email_smtp`).
pub async fn dispatch_with(
    name: &str,
    args: Map<String, Value>,
    deps: &ActionDeps,
    secrets: &Map<String, Value>,
) -> Result<Value, ActionError> {
    let http = &deps.http;
    match name {
        "core.send_email_smtp" => email::send_email_smtp(args, secrets, http.policy()).await,
        "core.transform.deduplicate" => dedup::deduplicate(deps.redis.as_ref(), args).await,
        "core.transform.is_duplicate" => dedup::is_duplicate(deps.redis.as_ref(), args).await,
        "core.transform.reshape" => transform::reshape(args),
        "core.http_request" => http::http_request(http, args).await,
        "core.http_poll" => http_poll::http_poll(http, args).await,
        "core.http_paginate" => http_poll::http_paginate(http, args).await,
        "core.transform.filter" => transform::filter(args).await,
        "core.transform.map" => transform::map(args).await,
        "core.transform.apply" => transform::apply(args).await,
        "core.transform.is_in" => transform::is_in(args, true).await,
        "core.transform.not_in" => transform::is_in(args, false).await,
        "core.transform.drop_nulls" => transform::drop_nulls(args),
        "core.transform.flatten_json" => transform::flatten_json(args),
        "core.transform.eval_jsonpaths" => transform::eval_jsonpaths(args),
        "core.require" => require::require(args),
        "core.script.run_python" => script::run_python(args, http.policy()).await,
        other => Err(ActionError::Unknown(other.to_owned())),
    }
}

/// Actions whose result depends only on their arguments: no network, no clock, no store, no
/// sandbox. When they touch no secret the DSL worker runs them itself as local activities.
const PURE: &[&str] = &[
    "core.transform.reshape",
    "core.transform.drop_nulls",
    "core.transform.flatten_json",
    "core.transform.eval_jsonpaths",
    "core.require",
];

/// Whether `task` may run on the DSL worker instead of the executor: a pure action that names
/// no secret (secrets are only ever resolved on the executor).
pub fn is_pure(task: &ferrocat_shared::dsl::ActionStatement) -> bool {
    PURE.contains(&task.action.as_str()) && !serde_json::to_string(task).is_ok_and(|text| text.contains("SECRETS"))
}

/// Deserializes evaluated args into an action's typed arguments, naming the field at fault.
pub(crate) fn parse_args<T: serde::de::DeserializeOwned>(args: Map<String, Value>) -> Result<T, ActionError> {
    serde_json::from_value(Value::Object(args)).map_err(|e| ActionError::Invalid(e.to_string()))
}

/// The JSON schema of an action's arguments, made from the very types they are read into
/// (control-flow actions, which the scheduler reads itself, have theirs written here).
pub fn arg_schema(name: &str) -> Option<Value> {
    fn of<T: schemars::JsonSchema>() -> Value {
        serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()
    }
    /// A repeating HTTP action: its own arguments beside the request's.
    fn with_request<T: schemars::JsonSchema>() -> Value {
        let mut schema = of::<http::HttpRequestArgs>();
        let own = of::<T>();
        for key in ["properties", "$defs"] {
            if let (Some(Value::Object(into)), Some(Value::Object(from))) = (schema.get_mut(key), own.get(key)) {
                into.extend(from.clone());
            }
        }
        if let (Some(Value::Array(into)), Some(Value::Array(from))) = (schema.get_mut("required"), own.get("required")) {
            into.extend(from.iter().cloned());
        }
        schema
    }
    let object = |properties: Value, required: &[&str]| {
        serde_json::json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
    };
    Some(match name {
        "ai.action" => of::<ai::ActionArgs>(),
        "ai.agent" => of::<ai::AgentArgs>(),
        "core.http_request" => of::<http::HttpRequestArgs>(),
        "core.http_poll" => with_request::<http_poll::PollArgs>(),
        "core.http_paginate" => with_request::<http_poll::PaginateArgs>(),
        "core.send_email_smtp" => of::<email::EmailArgs>(),
        "core.transform.deduplicate" => of::<dedup::DeduplicateArgs>(),
        "core.transform.is_duplicate" => of::<dedup::IsDuplicateArgs>(),
        "core.transform.reshape" => of::<transform::ReshapeArgs>(),
        "core.transform.filter" | "core.transform.map" => of::<transform::LambdaItemsArgs>(),
        "core.transform.apply" => of::<transform::ApplyArgs>(),
        "core.transform.is_in" | "core.transform.not_in" => of::<transform::MembershipArgs>(),
        "core.transform.drop_nulls" => of::<transform::ItemsArgs>(),
        "core.transform.flatten_json" => of::<transform::FlattenArgs>(),
        "core.transform.eval_jsonpaths" => of::<transform::JsonPathsArgs>(),
        "core.require" => of::<require::RequireArgs>(),
        "core.script.run_python" => of::<script::RunPythonArgs>(),
        "core.workflow.execute" => of::<crate::workflow::subflow::ExecuteArgs>(),
        "core.transform.scatter" => object(serde_json::json!({"collection": {}, "interval": {"type": "number"}}), &["collection"]),
        "core.transform.gather" => object(
            serde_json::json!({"items": {}, "drop_nulls": {"type": "boolean"}, "error_strategy": {"enum": ["partition", "include", "drop", "raise"]}}),
            &["items"],
        ),
        "core.loop.start" => object(serde_json::json!({}), &[]),
        "core.loop.end" => object(serde_json::json!({"condition": {}, "max_iterations": {"type": "integer"}}), &["condition"]),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_action_describes_its_arguments() {
        for spec in ferrocat_shared::registry::REGISTRY {
            let schema = super::arg_schema(spec.name).unwrap_or_else(|| panic!("{} has no argument schema", spec.name));
            assert_eq!(schema["type"], "object", "{}: {schema}", spec.name);
        }
        let http = super::arg_schema("core.http_request").unwrap();
        assert_eq!(http["required"], serde_json::json!(["url"]));
        assert!(http["properties"]["verify_ssl"].is_object());
        let poll = super::arg_schema("core.http_poll").unwrap();
        assert!(poll["properties"]["url"].is_object() && poll["properties"]["poll_condition"].is_object(), "{poll}");
        assert!(super::arg_schema("core.nope").is_none());
    }
}
