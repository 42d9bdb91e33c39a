//! Template actions in Tracecat's format, loaded unchanged: a YAML file `type: action` whose
//! `definition` names the action, declares its secrets and its arguments (`expects`), and runs
//! `steps` (other actions, templates included) in order before evaluating `returns`.
//!
//! A template becomes one entry of the action table ([`load::install`]): its argument schema
//! comes from `expects`, its secrets are its own plus those of every action its steps call, and
//! its handler ([`TemplateHandler`]) runs on the executor like any effect action, so the
//! calling step's egress policy, masking and retries hold for every step inside.

pub mod check;
pub mod load;
pub mod model;

pub use model::{CustomSecret, Definition, OAuthSecret, SecretSpec, Step, TemplateFile, describe, oauth_token_key};

use std::sync::Arc;

use serde_json::{Value, json};

use ferrocat_dsl::expr::{self, ExprContext};

use crate::error::ActionError;
use crate::table::{BoxFuture, Call, Handler};

/// How deep templates may call templates before a run gives up (a cycle that slipped past
/// [`load::install`], or a chain no one should write).
pub const MAX_DEPTH: u8 = 16;

/// Runs a template: arguments checked against `expects`, steps in order, then `returns`.
pub struct TemplateHandler {
    key: String,
    definition: Arc<Definition>,
}

impl TemplateHandler {
    pub fn new(definition: Arc<Definition>) -> Self {
        Self { key: definition.key(), definition }
    }
}

impl Handler for TemplateHandler {
    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Value, ActionError>> {
        Box::pin(self.run_steps(call))
    }
}

impl TemplateHandler {
    async fn run_steps(&self, call: Call<'_>) -> Result<Value, ActionError> {
        let depth = call.depth() + 1;
        if depth > MAX_DEPTH {
            return Err(ActionError::Invalid(format!("{}: templates call each other more than {MAX_DEPTH} deep", self.key)));
        }
        let inputs = match ferrocat_dsl::normalize_fields(&self.definition.expects, &call.args) {
            Ok(Ok(inputs)) => inputs,
            Ok(Err(errors)) => return Err(ActionError::Invalid(format!("{}: {}", self.key, errors.join("; ")))),
            Err(malformed) => return Err(ActionError::Invalid(format!("{}: {malformed}", self.key))),
        };
        let table: &crate::Registry = match call.table() {
            Some(table) => table,
            None => crate::global(),
        };
        let mut context = ExprContext {
            inputs,
            secrets: call.secrets.clone(),
            vars: call.vars().clone(),
            env: call.env().clone(),
            ..ExprContext::default()
        };
        for step in &self.definition.steps {
            let fail = |source: ActionError| ActionError::Step { action: self.key.clone(), step: step.ref_.clone(), source: Box::new(source) };
            let action = step_action(step, &context).map_err(fail)?;
            let args = match expr::eval_templated(&Value::Object(step.args.clone()), &context) {
                Ok(Value::Object(args)) => args,
                Ok(_) => return Err(fail(ActionError::Invalid("args must be a mapping".into()))),
                Err(e) => return Err(fail(ActionError::Expression(e.to_string()))),
            };
            let nested = call.nested(&action, args, depth);
            let started = chrono::Utc::now();
            let outcome = table.run(&action, nested).await;
            if let Some(trace) = call.trace() {
                trace.push(json!({
                    "template": self.key,
                    "ref": step.ref_,
                    "action": action,
                    "depth": depth,
                    "status": if outcome.is_ok() { "completed" } else { "failed" },
                    "error": outcome.as_ref().err().map(ToString::to_string),
                    "start_time": started,
                    "close_time": chrono::Utc::now(),
                }));
            }
            let result = outcome.map_err(fail)?;
            context.steps.insert(step.ref_.clone(), json!({"result": result}));
        }
        expr::eval_templated(&self.definition.returns, &context)
            .map_err(|e| ActionError::Expression(format!("{} returns: {e}", self.key)))
    }
}

/// The action a step runs: its name, or what an expression naming one evaluates to.
fn step_action(step: &Step, context: &ExprContext) -> Result<String, ActionError> {
    if !step.action.contains("${{") {
        return Ok(step.action.clone());
    }
    match expr::eval_templated(&Value::String(step.action.clone()), context) {
        Ok(Value::String(name)) => Ok(name),
        Ok(other) => Err(ActionError::Invalid(format!("the step's action must be a name, got {other}"))),
        Err(e) => Err(ActionError::Expression(e.to_string())),
    }
}
