//! `core.script.run_python(script, inputs, timeout_seconds=300, allow_network=false, env_vars)`:
//! calls `main` (or the only top-level function) of `script` with `inputs` as keyword arguments
//! in the sandbox ([`super::sandbox`]) and returns its JSON-serialisable return value.
//! Parameters with no input receive `None`. stdout/stderr are captured (never logged: they may
//! hold secrets), and stderr's tail is part of the error when the script fails. With
//! `allow_network`, the script reaches the network only through the egress proxy. `dependencies` (pip installs) are not
//! supported yet and are rejected rather than ignored.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use ferrocat_shared::egress::EgressPolicy;

use super::sandbox::{Sandbox, SandboxError, SandboxJob, SandboxLimits};
use super::{ActionError, parse_args};

const RUNNER: &str = include_str!("python/script_runner.py");

/// Longest `timeout_seconds` accepted (one hour).
pub const MAX_TIMEOUT_SECONDS: u64 = 3600;
/// How much of stderr an error message quotes.
const STDERR_TAIL_CHARS: usize = 2000;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunPythonArgs {
    script: String,
    #[serde(default)]
    inputs: Option<Map<String, Value>>,
    #[serde(default)]
    dependencies: Option<Vec<String>>,
    #[serde(default = "default_timeout")]
    timeout_seconds: u64,
    #[serde(default)]
    allow_network: bool,
    #[serde(default)]
    env_vars: Option<BTreeMap<String, String>>,
}

fn default_timeout() -> u64 {
    300
}

/// Runs the script; see the module doc. With `allow_network`, its connections go through the
/// egress proxy under `egress` (the policy every action's connections obey).
pub async fn run_python(args: Map<String, Value>, egress: &Arc<EgressPolicy>) -> Result<Value, ActionError> {
    let args: RunPythonArgs = parse_args(args)?;
    if args.dependencies.as_ref().is_some_and(|d| !d.is_empty()) {
        return Err(ActionError::Invalid("dependencies are not supported yet by core.script.run_python".into()));
    }
    if args.timeout_seconds == 0 || args.timeout_seconds > MAX_TIMEOUT_SECONDS {
        return Err(ActionError::Invalid(format!(
            "timeout_seconds must be between 1 and {MAX_TIMEOUT_SECONDS}, got {}",
            args.timeout_seconds
        )));
    }
    let limits = SandboxLimits {
        cpu_seconds: args.timeout_seconds,
        wall_clock: Duration::from_secs(args.timeout_seconds),
        ..SandboxLimits::default()
    };
    let network = args.allow_network.then(|| egress.clone());
    run_with_limits(&args.script, args.inputs.unwrap_or_default(), args.env_vars.unwrap_or_default(), network, limits).await
}

/// Runs `script` with explicit limits (what [`run_python`] uses; tests set smaller ones).
pub async fn run_with_limits(
    script: &str,
    inputs: Map<String, Value>,
    env: BTreeMap<String, String>,
    network: Option<Arc<EgressPolicy>>,
    limits: SandboxLimits,
) -> Result<Value, ActionError> {
    let input = json!({"script": script, "inputs": inputs});
    let wall = limits.wall_clock;
    let job = SandboxJob { program: RUNNER, input: &input, env: &env, network, limits };
    let output = Sandbox::default().run(job).await.map_err(|e| match e {
        SandboxError::Timeout(_) => ActionError::Python(format!(
            "PythonScriptTimeoutError: Script execution timed out after {} seconds",
            wall.as_secs()
        )),
        SandboxError::EnvName(name) => ActionError::Invalid(format!("env_vars: invalid variable name {name:?}")),
        other => ActionError::Sandbox(other.to_string()),
    })?;
    // What a script prints may hold the secrets it was given, in any form: the log gets only
    // the sizes (a failing script's stderr tail reaches the user in its error, masked there).
    tracing::info!(stdout_bytes = output.stdout.len(), stderr_bytes = output.stderr.len(), "script finished");
    match output.result {
        Some(Value::Object(mut outcome)) if outcome.get("ok") == Some(&Value::Bool(true)) => {
            Ok(outcome.remove("result").unwrap_or(Value::Null))
        }
        Some(Value::Object(mut outcome)) => {
            let error = outcome.remove("error").and_then(|e| e.as_str().map(str::to_owned)).unwrap_or_default();
            let error = if error.starts_with("PythonScript") {
                error
            } else {
                format!("PythonScriptExecutionError: Script execution failed: {error}")
            };
            Err(ActionError::Python(with_stderr(error, &output.stderr)))
        }
        _ => {
            let how = match output.exit_code {
                Some(code) => format!("exited with code {code}"),
                None => "was killed by a signal".to_owned(),
            };
            Err(ActionError::Python(with_stderr(
                format!("PythonScriptExecutionError: Script execution failed: the process {how} without a result (resource limit reached?)"),
                &output.stderr,
            )))
        }
    }
}

fn with_stderr(message: String, stderr: &str) -> String {
    let stderr = stderr.trim();
    if stderr.is_empty() {
        return message;
    }
    let tail: String = {
        let chars: Vec<char> = stderr.chars().collect();
        chars[chars.len().saturating_sub(STDERR_TAIL_CHARS)..].iter().collect()
    };
    format!("{message}\n\nstderr:\n{tail}")
}
