//! The action table: every action described once (name, title, description, the JSON schema of
//! its arguments, the secrets it reads, how it runs and what runs it). The api's registry
//! routes, the MCP catalogue, the DSL worker (which runs pure actions itself) and the executor
//! all read the process's one table (`global()` at the crate's root); integrations add entries
//! to it at run time.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};

use serde_json::{Map, Value, json};

use ferrocat_shared::temporal::RunContext;

use crate::deps::ActionDeps;
use crate::error::ActionError;

/// A future that may cross threads, as every handler's is.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What an action is called with: its evaluated arguments and what the executor shares.
pub struct Call<'a> {
    /// The action's name (a handler may serve several).
    pub name: &'a str,
    pub args: Map<String, Value>,
    pub deps: &'a ActionDeps,
    /// The secrets the run resolved for this action (name → `{KEY: value}`).
    pub secrets: &'a Map<String, Value>,
    /// The run the action belongs to; `None` outside one (a one-off call).
    pub run: Option<&'a RunContext>,
    /// Where a long action records how far it got, so a retry resumes.
    pub progress: Option<&'a dyn Checkpoint>,
    /// The table that runs the call (an agent's tools come from it).
    table: Option<&'a Registry>,
    /// `VARS` and `ENV` of the run, for templates' steps.
    vars: &'a Map<String, Value>,
    env: &'a Map<String, Value>,
    /// How many templates this call is nested in.
    depth: u8,
    /// Where templates record their steps, when the caller keeps them.
    trace: Option<&'a StepTrace>,
}

/// The steps templates ran for one action (nested ones too, in the order they finished): what
/// the run's events show under the action. Records hold names, outcomes and times, never
/// arguments or results.
#[derive(Debug, Default)]
pub struct StepTrace(std::sync::Mutex<Vec<Value>>);

impl StepTrace {
    /// Records one step.
    pub fn push(&self, record: Value) {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(record);
    }

    /// Every record so far.
    pub fn records(&self) -> Vec<Value> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }
}

/// The empty map a call outside any run sees as `VARS` and `ENV`.
static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);

impl<'a> Call<'a> {
    /// A call outside any run, with no checkpoint.
    pub fn new(name: &'a str, args: Map<String, Value>, deps: &'a ActionDeps, secrets: &'a Map<String, Value>) -> Self {
        Self { name, args, deps, secrets, run: None, progress: None, table: None, vars: &EMPTY, env: &EMPTY, depth: 0, trace: None }
    }

    /// This call seeing the run's `VARS` and `ENV` (what templates' steps read).
    pub fn with_context(self, vars: &'a Map<String, Value>, env: &'a Map<String, Value>) -> Self {
        Self { vars, env, ..self }
    }

    /// `VARS`: name → `{key: value}`.
    pub fn vars(&self) -> &'a Map<String, Value> {
        self.vars
    }

    /// `ENV`.
    pub fn env(&self) -> &'a Map<String, Value> {
        self.env
    }

    /// How many templates this call runs inside.
    pub fn depth(&self) -> u8 {
        self.depth
    }

    /// This call recording templates' steps into `trace`.
    pub fn with_trace(self, trace: Option<&'a StepTrace>) -> Self {
        Self { trace, ..self }
    }

    /// Where templates record their steps, if anywhere.
    pub fn trace(&self) -> Option<&'a StepTrace> {
        self.trace
    }

    /// A template's step: `name` with `args`, sharing this call's secrets, variables and run,
    /// `depth` templates deep, without the checkpoint (only the outer action keeps one).
    pub fn nested<'b>(&self, name: &'b str, args: Map<String, Value>, depth: u8) -> Call<'b>
    where
        'a: 'b,
    {
        Call { name, args, deps: self.deps, secrets: self.secrets, run: self.run, progress: None, table: None, vars: self.vars, env: self.env, depth, trace: self.trace }
    }

    /// This call as part of `run`.
    pub fn in_run(self, run: &'a RunContext) -> Self {
        Self { run: Some(run), ..self }
    }

    /// This call, checkpointing into `progress`.
    pub fn with_progress(self, progress: Option<&'a dyn Checkpoint>) -> Self {
        Self { progress, ..self }
    }

    /// The table that runs this call (set by [`Registry::run`]).
    pub fn table(&self) -> Option<&'a Registry> {
        self.table
    }
}

/// Where a long action (an agent) keeps its progress between attempts: the executor's is the
/// activity's heartbeat, which Temporal hands to the next attempt.
pub trait Checkpoint: Send + Sync {
    /// What an earlier attempt saved, if anything.
    fn resume(&self) -> Option<Value>;
    /// Saves `state` (already free of secrets) for a later attempt.
    fn save(&self, state: Value) -> BoxFuture<'_, ()>;
}

/// What runs an action. Any `fn(Call) -> BoxFuture` is one; integrations bring their own.
pub trait Handler: Send + Sync {
    /// Runs the action.
    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Value, ActionError>>;
}

impl<F> Handler for F
where
    F: for<'a> Fn(Call<'a>) -> BoxFuture<'a, Result<Value, ActionError>> + Send + Sync,
{
    fn run<'a>(&'a self, call: Call<'a>) -> BoxFuture<'a, Result<Value, ActionError>> {
        self(call)
    }
}

/// How an action runs.
#[derive(Clone)]
pub enum Kind {
    /// The workflow worker runs it itself: scatter, gather, loops, subflows.
    ControlFlow,
    /// Its result depends on its arguments alone (no network, clock, store or sandbox): the DSL
    /// worker may run it as a local activity when it names no secret.
    Pure(Arc<dyn Handler>),
    /// It reaches out (network, sandbox, stores, the model gateway): only the executor runs it.
    Effect(Arc<dyn Handler>),
}

/// Where an action's argument schema comes from.
#[derive(Clone)]
enum Schema {
    /// The type its arguments are read into.
    Typed(fn() -> Value),
    /// Written out (control flow, integrations' templates).
    Given(Value),
}

/// One action, as every service sees it.
#[derive(Clone)]
pub struct Action {
    name: String,
    title: String,
    description: String,
    secrets: Vec<String>,
    /// Secrets it reads when they exist (a template's `optional: true` ones).
    optional_secrets: Vec<String>,
    schema: Schema,
    kind: Kind,
    origin: String,
    /// The template it runs, when it is one.
    template: Option<Arc<crate::template::model::Definition>>,
}

/// Where the built-in actions come from, in [`Action::origin`].
pub const BUILTIN_ORIGIN: &str = "ferrocat";

impl Action {
    /// An action `handler` runs on the executor.
    pub fn effect<F>(name: &str, title: &str, description: &str, handler: F) -> Self
    where
        F: for<'a> Fn(Call<'a>) -> BoxFuture<'a, Result<Value, ActionError>> + Send + Sync + 'static,
    {
        Self::with_kind(name, title, description, Kind::Effect(Arc::new(handler)))
    }

    /// An action whose result depends on its arguments alone.
    pub fn pure<F>(name: &str, title: &str, description: &str, handler: F) -> Self
    where
        F: for<'a> Fn(Call<'a>) -> BoxFuture<'a, Result<Value, ActionError>> + Send + Sync + 'static,
    {
        Self::with_kind(name, title, description, Kind::Pure(Arc::new(handler)))
    }

    /// An action run on the executor by a handler of its own kind (an integration's template).
    pub fn effect_with(name: &str, title: &str, description: &str, handler: Arc<dyn Handler>) -> Self {
        Self::with_kind(name, title, description, Kind::Effect(handler))
    }

    /// An action the workflow worker runs itself.
    pub fn control_flow(name: &str, title: &str, description: &str) -> Self {
        Self::with_kind(name, title, description, Kind::ControlFlow)
    }

    fn with_kind(name: &str, title: &str, description: &str, kind: Kind) -> Self {
        Self {
            name: name.to_owned(),
            title: title.to_owned(),
            description: description.to_owned(),
            secrets: Vec::new(),
            optional_secrets: Vec::new(),
            schema: Schema::Given(json!({"type": "object"})),
            kind,
            origin: BUILTIN_ORIGIN.to_owned(),
            template: None,
        }
    }

    /// Its arguments are read into `T`, whose JSON schema is theirs.
    pub fn args<T: schemars::JsonSchema>(self) -> Self {
        Self { schema: Schema::Typed(|| serde_json::to_value(schemars::schema_for!(T)).unwrap_or_default()), ..self }
    }

    /// Its arguments' schema, written out.
    pub fn schema(self, schema: Value) -> Self {
        Self { schema: Schema::Given(schema), ..self }
    }

    /// Secrets it reads whether or not its arguments name them.
    pub fn secrets(self, names: &[&str]) -> Self {
        Self { secrets: names.iter().map(|s| (*s).to_owned()).collect(), ..self }
    }

    /// Secrets it reads when they exist, and goes on without when they do not.
    pub fn optional_secrets(self, names: Vec<String>) -> Self {
        Self { optional_secrets: names, ..self }
    }

    /// It runs `definition` (what the registry shows of it).
    pub fn template(self, definition: Arc<crate::template::model::Definition>) -> Self {
        Self { template: Some(definition), ..self }
    }

    /// Where it comes from (a registry's name; built-ins are [`BUILTIN_ORIGIN`]).
    pub fn origin(self, origin: &str) -> Self {
        Self { origin: origin.to_owned(), ..self }
    }

    /// Registry key, e.g. `core.http_request`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Everything before the last dot, e.g. `core.transform`.
    pub fn namespace(&self) -> &str {
        self.name.rsplit_once('.').map_or("", |(namespace, _)| namespace)
    }

    /// A short title, e.g. `HTTP request`.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// What it does, in a line.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Secrets it reads whether or not its arguments name them (by secret name).
    pub fn secret_names(&self) -> &[String] {
        &self.secrets
    }

    /// Secrets it reads only when they exist.
    pub fn optional_secret_names(&self) -> &[String] {
        &self.optional_secrets
    }

    /// Where it comes from.
    pub fn origin_name(&self) -> &str {
        &self.origin
    }

    /// The template it runs, when it is one.
    pub fn template_definition(&self) -> Option<&Arc<crate::template::model::Definition>> {
        self.template.as_ref()
    }

    /// The JSON schema of its arguments.
    pub fn args_schema(&self) -> Value {
        match &self.schema {
            Schema::Typed(schema) => schema(),
            Schema::Given(schema) => schema.clone(),
        }
    }

    /// How it runs.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// Whether the DSL worker may run it itself (its secrets permitting).
    pub fn is_pure(&self) -> bool {
        matches!(self.kind, Kind::Pure(_))
    }

    /// Whether the executor runs it (not control flow).
    pub fn runs_on_executor(&self) -> bool {
        !matches!(self.kind, Kind::ControlFlow)
    }

    /// The read model the api's registry routes and the MCP catalogue show.
    pub fn describe(&self) -> Value {
        let mut read = json!({
            "action": self.name,
            "name": self.name,
            "namespace": self.namespace(),
            "title": self.title,
            "description": self.description,
            "secrets": self.secrets,
            "optional_secrets": self.optional_secrets,
            "origin": self.origin,
            "type": "builtin",
            "args": self.args_schema(),
        });
        if let (Some(definition), Value::Object(read)) = (&self.template, &mut read)
            && let Value::Object(more) = crate::template::model::describe(definition)
        {
            read.extend(more);
        }
        read
    }
}

/// Why an action could not be added.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum RegistryError {
    #[error("invalid action name {0:?}: dot-separated lowercase words, at least a namespace and a name")]
    Name(String),
    #[error("{0} is a built-in action and cannot be replaced")]
    Builtin(String),
}

/// The table: built-ins, plus whatever was added at run time.
pub struct Registry {
    actions: RwLock<BTreeMap<String, Arc<Action>>>,
}

impl Registry {
    /// A table holding `actions`.
    pub fn new(actions: Vec<Action>) -> Self {
        let actions = actions.into_iter().map(|a| (a.name.clone(), Arc::new(a))).collect();
        Self { actions: RwLock::new(actions) }
    }

    /// Adds `action`, replacing an earlier one of the same name unless that is a built-in.
    pub fn add(&self, action: Action) -> Result<(), RegistryError> {
        if !valid_name(&action.name) {
            return Err(RegistryError::Name(action.name));
        }
        let mut actions = self.actions.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if actions.get(&action.name).is_some_and(|old| old.origin == BUILTIN_ORIGIN) {
            return Err(RegistryError::Builtin(action.name));
        }
        actions.insert(action.name.clone(), Arc::new(action));
        Ok(())
    }

    /// The action named `name`.
    pub fn get(&self, name: &str) -> Option<Arc<Action>> {
        self.actions.read().unwrap_or_else(|poisoned| poisoned.into_inner()).get(name).cloned()
    }

    /// Every action, by name.
    pub fn list(&self) -> Vec<Arc<Action>> {
        self.actions.read().unwrap_or_else(|poisoned| poisoned.into_inner()).values().cloned().collect()
    }

    /// Runs the action `name`; control flow is the workflow worker's and fails here.
    pub async fn run<'a>(&'a self, name: &str, mut call: Call<'a>) -> Result<Value, ActionError> {
        let action = self.get(name).ok_or_else(|| ActionError::Unknown(name.to_owned()))?;
        call.table = Some(self);
        match action.kind() {
            Kind::Pure(handler) | Kind::Effect(handler) => handler.run(call).await,
            Kind::ControlFlow => Err(ActionError::Invalid(format!("{name} is run by the workflow itself, not as a step of its own"))),
        }
    }
}

/// Dot-separated words of lowercase letters, digits and `_`, at least two of them.
pub(crate) fn valid_name(name: &str) -> bool {
    let words: Vec<&str> = name.split('.').collect();
    words.len() >= 2
        && words.iter().all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
}
