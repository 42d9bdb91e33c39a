//! The arguments of the actions the workflow worker runs itself (control flow), read by the
//! worker and described here so the table can show their schema like any other's.

use serde::Deserialize;
use serde_json::Value;

/// How a `core.workflow.execute` loop dispatches its subflows.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum LoopStrategy {
    #[default]
    Batch,
    Parallel,
    Sequential,
}

/// Whether one failed subflow of a loop fails the others (`all`) or only itself.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FailStrategy {
    #[default]
    Isolated,
    All,
}

/// Whether the parent waits for its subflows' results or detaches.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WaitStrategy {
    Wait,
    Detach,
}

/// `core.workflow.execute`'s arguments (Tracecat's names).
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExecuteArgs {
    pub workflow_id: Option<String>,
    pub workflow_alias: Option<String>,
    #[serde(default)]
    pub trigger_inputs: Value,
    pub environment: Option<String>,
    pub timeout: Option<f64>,
    pub version: Option<i32>,
    #[serde(default)]
    pub loop_strategy: LoopStrategy,
    #[serde(default = "default_batch_size")]
    pub batch_size: usize,
    #[serde(default)]
    pub fail_strategy: FailStrategy,
    pub wait_strategy: Option<WaitStrategy>,
}

fn default_batch_size() -> usize {
    32
}

