//! The MCP resources: the DSL reference (a markdown document written for models) and the
//! action catalogue (the one action table, as JSON).

use rmcp::model::{Resource, ResourceContents};
use serde_json::json;

/// URI of the DSL reference.
pub const DSL_URI: &str = "ferrocat://docs/dsl";
/// URI of the action catalogue.
pub const ACTIONS_URI: &str = "ferrocat://registry/actions";

const DSL_REFERENCE: &str = include_str!("dsl.md");

/// Every resource.
pub fn list() -> Vec<Resource> {
    vec![
        Resource::new(DSL_URI, "dsl-reference")
            .with_title("Workflow DSL reference")
            .with_description("How to write ferrocat workflows in YAML: actions, dependencies, expressions, control flow.")
            .with_mime_type("text/markdown"),
        Resource::new(ACTIONS_URI, "action-catalogue")
            .with_title("Action catalogue")
            .with_description("Every action a workflow can use, with what it does and the JSON schema of its arguments.")
            .with_mime_type("application/json"),
    ]
}

/// The action catalogue as JSON: `actions` as the registry describes them.
pub fn catalogue(actions: Vec<serde_json::Value>) -> serde_json::Value {
    json!({"actions": actions})
}

/// One resource's contents, if `uri` names one; the catalogue is built from `actions`, asked
/// for only when it is the one read.
pub async fn read<F, Fut, E>(uri: &str, actions: F) -> Result<Option<ResourceContents>, E>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<Vec<serde_json::Value>, E>>,
{
    Ok(match uri {
        DSL_URI => Some(ResourceContents::text(DSL_REFERENCE, DSL_URI).with_mime_type("text/markdown")),
        ACTIONS_URI => Some(
            ResourceContents::text(serde_json::to_string_pretty(&catalogue(actions().await?)).unwrap_or_default(), ACTIONS_URI)
                .with_mime_type("application/json"),
        ),
        _ => None,
    })
}
