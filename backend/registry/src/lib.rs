//! The one action table and the built-in actions behind it. Every action is described once
//! ([`builtins`]: name, title, description, argument schema from the type its arguments are
//! read into, secrets, pure or not, handler); the api's registry routes, the MCP catalogue, the
//! DSL worker and the executor all read [`global`], and integrations add to it at run time.

pub mod actions;
mod builtins;
pub mod control;
mod dedup_store;
pub mod deps;
pub mod error;
mod gateway;
pub mod masking;
mod table;
pub mod template;

use std::sync::OnceLock;

use serde_json::{Map, Value};

use ferrocat_shared::egress::EgressClient;

pub use dedup_store::RedisSettings;
pub use deps::{ActionDeps, ActionSettings};
pub use error::ActionError;
pub use gateway::GatewaySettings;
pub use table::{Action, BUILTIN_ORIGIN, BoxFuture, Call, Checkpoint, Handler, Kind, Registry, RegistryError, StepTrace};

/// The process's table: the built-in actions, and whatever was added since.
pub fn global() -> &'static Registry {
    static GLOBAL: OnceLock<Registry> = OnceLock::new();
    GLOBAL.get_or_init(|| {
        let table = Registry::new(builtins::builtins());
        // The library's own tests keep it free of problems; should one slip in, the rest of
        // the table still serves and the problem is logged.
        match template::load::prepare(&template::load::library_sources(), &table, template::load::LIBRARY_ORIGIN) {
            Ok(set) => {
                if let Err(e) = template::load::install(&table, set) {
                    tracing::error!(error = %e, "the integration library could not be installed");
                }
            }
            Err(problems) => {
                for problem in problems {
                    tracing::error!(%problem, "the integration library has a problem");
                }
            }
        }
        table
    })
}

/// Adds the templates under each of `dirs` (`FERROCAT_REGISTRY_DIRS`) to the process's table:
/// how many; every problem of every file when a set does not load.
pub fn install_dirs(dirs: &[std::path::PathBuf]) -> Result<usize, Vec<template::check::Problem>> {
    template::load::install_dirs(global(), dirs)
}

/// What the process's table says of `dsl`'s actions (see [`template::check::check_workflow`]).
pub fn check_workflow(dsl: &ferrocat_dsl::Workflow) -> Vec<ferrocat_dsl::ValidationIssue> {
    template::check::check_workflow(dsl, global())
}

/// Runs the action `name` with evaluated `args`, outside any run, with no Redis (persistent
/// deduplication fails with a message saying so), no gateway and no secrets.
pub async fn dispatch(name: &str, args: Map<String, Value>, http: &EgressClient) -> Result<Value, ActionError> {
    dispatch_with(name, args, &ActionDeps::with_http(http.clone()), &Map::new()).await
}

/// Runs the action `name` with evaluated `args` outside any run; `secrets` (name →
/// `{KEY: value}`) serve the actions that read a secret of their own (`core.send_email_smtp`).
pub async fn dispatch_with(name: &str, args: Map<String, Value>, deps: &ActionDeps, secrets: &Map<String, Value>) -> Result<Value, ActionError> {
    global().run(name, Call::new(name, args, deps, secrets)).await
}

/// Whether `task` may run on the DSL worker instead of the executor: a pure action none of whose
/// `${{ … }}` templates reads `SECRETS` (secrets are only ever resolved on the executor).
pub fn is_pure(task: &ferrocat_dsl::ActionStatement) -> bool {
    global().get(&task.action).is_some_and(|action| action.is_pure()) && !reads_secrets(task)
}

/// Whether any template anywhere in `task` reads `SECRETS`.
fn reads_secrets(task: &ferrocat_dsl::ActionStatement) -> bool {
    // Serializing a statement cannot fail; if it did, the executor is the safe place to run.
    let Ok(doc) = serde_json::to_value(task) else { return true };
    let refs = ferrocat_dsl::expr::references(&doc);
    // A template that does not parse has no AST; the text test keeps such an action on the
    // executor when it mentions SECRETS, as before the walker.
    refs.uses(ferrocat_dsl::expr::ContextRoot::Secrets) || refs.unparsed.iter().any(|text| text.contains("SECRETS"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(doc: Value) -> ferrocat_dsl::ActionStatement {
        serde_json::from_value(doc).unwrap()
    }

    #[test]
    fn a_pure_action_stays_on_the_worker_unless_a_template_reads_secrets() {
        let plain = task(serde_json::json!({
            "ref": "a", "action": "core.require",
            "description": "checks SECRETS.api is set up elsewhere",
            "args": {"conditions": ["${{ TRIGGER.ok }}"]},
        }));
        assert!(is_pure(&plain), "a mention outside a template is not a read");
        let reads = task(serde_json::json!({
            "ref": "a", "action": "core.require",
            "args": {"conditions": ["${{ FN.is_null(SECRETS.api.KEY) }}"]},
        }));
        assert!(!is_pure(&reads));
        let broken = task(serde_json::json!({"ref": "a", "action": "core.require", "run_if": "${{ SECRETS.api.KEY + }}"}));
        assert!(!is_pure(&broken), "an unparsable template naming SECRETS stays on the executor");
        let impure = task(serde_json::json!({"ref": "a", "action": "core.http_request"}));
        assert!(!is_pure(&impure));
    }
}
