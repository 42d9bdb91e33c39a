//! The contract between the api (which starts runs and reads their history) and the workers
//! (which run them): names that appear in Temporal history, the payload types, and how to connect.
//! Renaming anything here breaks the replay of runs already in flight.

use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use secrecy::{ExposeSecret as _, SecretString};
use temporalio_client::{Client, ClientOptions, ClientTlsOptions, Connection, ConnectionOptions, TlsOptions};
use url::Url;
use uuid::Uuid;

use crate::config::{ConfigError, Env};
use ferrocat_dsl::{ActionStatement, Workflow};

/// Workflow type of a DSL run (Tracecat's name, so histories read alike).
pub const DSL_WORKFLOW: &str = "DSLWorkflow";
/// Activity type that runs one action on the executor's queue.
pub const EXECUTE_ACTION: &str = "execute_action_activity";

/// Where Temporal is and which queues the services share.
#[derive(Debug, Clone)]
pub struct TemporalConfig {
    /// gRPC endpoint, `http://127.0.0.1:7233` by default (`FERROCAT_TEMPORAL_ADDRESS`).
    pub address: Url,
    /// `FERROCAT_TEMPORAL_NAMESPACE`, default `default`.
    pub namespace: String,
    /// Queue of the DSL worker (`FERROCAT_TEMPORAL_TASK_QUEUE`, default `ferrocat-task-queue`).
    pub task_queue: String,
    /// Queue of the action executor (`FERROCAT_EXECUTOR_QUEUE`, default `ferrocat-action-queue`).
    pub executor_queue: String,
    /// TLS to a Temporal cluster, with a client certificate for mTLS: on with an `https://`
    /// address or any `FERROCAT_TEMPORAL_TLS_*` file, or with an API key.
    pub tls: Option<TemporalTls>,
    /// `FERROCAT_TEMPORAL_API_KEY`: sent as a bearer token (Temporal Cloud's API keys); needs TLS.
    pub api_key: Option<SecretString>,
}

/// TLS settings of the connection to Temporal.
#[derive(Debug, Clone, Default)]
pub struct TemporalTls {
    /// `FERROCAT_TEMPORAL_TLS_CA_FILE`: PEM of the CA that signed the server's certificate
    /// (default: the system's roots).
    pub server_ca: Option<Vec<u8>>,
    /// `FERROCAT_TEMPORAL_TLS_SERVER_NAME`: the name to check the server's certificate against
    /// (default: the address's host).
    pub server_name: Option<String>,
    /// `FERROCAT_TEMPORAL_TLS_CERT_FILE` and `FERROCAT_TEMPORAL_TLS_KEY_FILE` (PEM), together:
    /// this service's client certificate, for mTLS.
    pub client: Option<(Vec<u8>, SecretBytes)>,
}

/// A private key's bytes, never printed.
#[derive(Clone)]
pub struct SecretBytes(pub Vec<u8>);

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretBytes(***)")
    }
}

/// The bytes of the file named by `key`, if set.
fn read_file(env: &Env, key: &str) -> Result<Option<Vec<u8>>, ConfigError> {
    let Some(path) = env.get(key).map(str::trim).filter(|p| !p.is_empty()) else { return Ok(None) };
    std::fs::read(path)
        .map(Some)
        .map_err(|e| ConfigError::Invalid { key: key.into(), value: path.into(), reason: format!("cannot be read: {e}") })
}

impl TemporalTls {
    fn from_env(env: &Env, https: bool, api_key: bool) -> Result<Option<Self>, ConfigError> {
        let server_ca = read_file(env, "FERROCAT_TEMPORAL_TLS_CA_FILE")?;
        let cert = read_file(env, "FERROCAT_TEMPORAL_TLS_CERT_FILE")?;
        let key = read_file(env, "FERROCAT_TEMPORAL_TLS_KEY_FILE")?;
        let client = match (cert, key) {
            (Some(cert), Some(key)) => Some((cert, SecretBytes(key))),
            (None, None) => None,
            (Some(_), None) | (None, Some(_)) => {
                return Err(ConfigError::Invalid {
                    key: "FERROCAT_TEMPORAL_TLS_CERT_FILE".into(),
                    value: "(one of two)".into(),
                    reason: "FERROCAT_TEMPORAL_TLS_CERT_FILE and FERROCAT_TEMPORAL_TLS_KEY_FILE go together".into(),
                });
            }
        };
        let server_name = env.get("FERROCAT_TEMPORAL_TLS_SERVER_NAME").map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned);
        let wanted = env.parse_or("FERROCAT_TEMPORAL_TLS", https || api_key || server_ca.is_some() || client.is_some() || server_name.is_some())?;
        if !wanted && api_key {
            return Err(ConfigError::Invalid {
                key: "FERROCAT_TEMPORAL_TLS".into(),
                value: "false".into(),
                reason: "an API key (FERROCAT_TEMPORAL_API_KEY) is only sent over TLS".into(),
            });
        }
        Ok(wanted.then_some(Self { server_ca, server_name, client }))
    }
}

impl TemporalConfig {
    /// Reads the `FERROCAT_TEMPORAL_*` settings.
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let raw = env.string_or("FERROCAT_TEMPORAL_ADDRESS", "http://127.0.0.1:7233");
        // Accept a bare host:port as operators often write it.
        let with_scheme = if raw.contains("://") { raw.clone() } else { format!("http://{raw}") };
        let mut address = Url::from_str(&with_scheme).map_err(|e| ConfigError::Invalid {
            key: "FERROCAT_TEMPORAL_ADDRESS".into(),
            value: raw,
            reason: e.to_string(),
        })?;
        let api_key = env.get("FERROCAT_TEMPORAL_API_KEY").map(str::trim).filter(|k| !k.is_empty()).map(|k| SecretString::from(k.to_owned()));
        let tls = TemporalTls::from_env(env, address.scheme() == "https", api_key.is_some())?;
        // The gRPC channel speaks TLS to https addresses only.
        if tls.is_some() && address.scheme() == "http" {
            let _ = address.set_scheme("https");
        }
        Ok(Self {
            address,
            namespace: env.string_or("FERROCAT_TEMPORAL_NAMESPACE", "default"),
            task_queue: env.string_or("FERROCAT_TEMPORAL_TASK_QUEUE", "ferrocat-task-queue"),
            executor_queue: env.string_or("FERROCAT_EXECUTOR_QUEUE", "ferrocat-action-queue"),
            tls,
            api_key,
        })
    }

    /// Connects a client to the namespace.
    pub async fn connect(&self) -> anyhow::Result<Client> {
        let tls_options = self.tls.as_ref().map(|tls| {
            let client = tls.client.as_ref().map(|(cert, key)| ClientTlsOptions::builder().client_cert(cert.clone()).client_private_key(key.0.clone()).build());
            TlsOptions::builder().maybe_server_root_ca_cert(tls.server_ca.clone()).maybe_domain(tls.server_name.clone()).maybe_client_tls_options(client).build()
        });
        let options = ConnectionOptions::new(self.address.clone())
            .maybe_tls_options(tls_options)
            .maybe_api_key(self.api_key.as_ref().map(|k| k.expose_secret().to_owned()))
            .build();
        let connection = Connection::connect(options).await?;
        // With traces on, the SDK's plugin carries the trace in Temporal's headers: a start
        // made inside a request's span continues in the worker's and the executor's spans (the
        // workers built on this client carry the plugin too).
        let plugins = crate::telemetry::traces_on().then(|| temporalio_sdk::opentelemetry::OpenTelemetryPlugin::builder().global_propagator().build());
        Ok(Client::new(connection, ClientOptions::new(self.namespace.clone()).plugins(plugins).build())?)
    }

    /// Connects, retrying for up to `patience` while Temporal is still starting next to us.
    pub async fn connect_patiently(&self, patience: std::time::Duration) -> anyhow::Result<Client> {
        let deadline = tokio::time::Instant::now() + patience;
        loop {
            match self.connect().await {
                Ok(client) => return Ok(client),
                Err(e) if tokio::time::Instant::now() >= deadline => {
                    return Err(e.context(format!("connecting to Temporal at {}", self.address)));
                }
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(250)).await,
            }
        }
    }
}

/// Input of a [`DSL_WORKFLOW`] run. The definition travels with the run, so a run keeps the
/// version it started with whatever is committed later.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DslRunArgs {
    /// `wf_…` of the workflow.
    pub wf_id: String,
    /// Workspace that owns the workflow.
    pub workspace_id: Uuid,
    /// Committed version being run.
    pub version: i32,
    /// The committed definition.
    pub dsl: Workflow,
    /// The trigger payload (`TRIGGER`).
    pub trigger: Value,
    /// `webhook`, `manual`, `scheduled`.
    pub trigger_type: String,
    /// Queue the executor polls; recorded so replays schedule alike.
    pub executor_queue: String,
    /// `VARS`: name → `{key: value}`, the workspace's variables of the run's environment as the
    /// api read them when it started the run (absent in runs started before variables existed).
    #[serde(default)]
    pub vars: Map<String, Value>,
}

/// Identity of the run an action belongs to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunContext {
    pub wf_id: String,
    pub wf_exec_id: String,
    pub wf_run_id: String,
    pub workspace_id: Uuid,
    pub environment: String,
    /// The git registry versions the workflow is pinned to (its definition's `registry_lock`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub registry_lock: Vec<String>,
}

/// Input of [`EXECUTE_ACTION`]: the statement with its unevaluated args and the context to
/// evaluate them in (the executor adds secrets, which never enter workflow history).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunActionInput {
    pub task: ActionStatement,
    /// `ACTIONS` so far: ref → `{result, result_typename}` or `{error, error_typename}`.
    pub actions: Map<String, Value>,
    /// `TRIGGER`.
    pub trigger: Value,
    /// `ENV`.
    pub env: Map<String, Value>,
    pub run: RunContext,
    /// The scatter stream the action runs in (`None` in the root stream); part of the activity
    /// id, since one ref runs once per stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_id: Option<String>,
    /// `VARS`: name → `{key: value}` (workspace variables resolved when the run started).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub vars: Map<String, Value>,
    /// The workflow itself reads this action's result (in a `run_if`, a loop condition, a
    /// scatter, `returns`...), so it comes back inline whatever its size; otherwise a result
    /// above the threshold comes back as a reference to object storage.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub inline_result: bool,
}

impl RunActionInput {
    /// The expression context the action's fields are evaluated in (without `SECRETS`, which
    /// the executor adds).
    pub fn expr_context(&self) -> ferrocat_dsl::expr::ExprContext {
        ferrocat_dsl::expr::ExprContext {
            actions: self.actions.clone(),
            trigger: self.trigger.clone(),
            env: self.env.clone(),
            vars: self.vars.clone(),
            ..ferrocat_dsl::expr::ExprContext::default()
        }
    }
}

/// Error type names the executor raises; the api shows them.
pub mod error_types {
    /// An action failed (bad arguments, HTTP error, expression error...).
    pub const ACTION_ERROR: &str = "ActionError";
    /// The action name is not in the registry.
    pub const UNKNOWN_ACTION: &str = "UnknownActionError";
}
