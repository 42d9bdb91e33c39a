//! The executor: one Temporal activity, `execute_action_activity`, that evaluates an action's
//! templated arguments against the run's context and runs the action from the registry.

use futures::StreamExt as _;
use secrecy::ExposeSecret as _;
use serde_json::{Map, Value};
use temporalio_macros::activities;
use temporalio_sdk::ApplicationFailure;
use temporalio_sdk::activities::{ActivityContext, ActivityError};

use ferrocat_dsl::expr::{self, ExprContext};
use ferrocat_shared::objects::ResultStore;
use ferrocat_shared::temporal::RunActionInput;

use ferrocat_registry::{ActionDeps, ActionError, Call, Checkpoint, StepTrace};

use crate::config::ExecutorConfig;

/// How many `for_each` iterations of one action run at once (Tracecat's default).
pub const FOR_EACH_CONCURRENCY: usize = 4;

/// How long one attempt waits in place, in all, for the platform's own dependencies (its
/// database, its object store) to come back, before the attempt fails and Temporal's reserve
/// of attempts takes over: an outage this long costs a run time, not attempts or a failure.
pub const DEPENDENCY_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs `op` again while it fails because a dependency of the platform is out of reach
/// ([`ActionError::Unavailable`]), pausing up to 2 s between tries, for as long as `patience`
/// lasts (the pauses are taken from it); then returns its answer. `what` names the dependency
/// in the log lines that say the attempt waits and that it came back.
async fn patiently<T, F, Fut>(patience: &mut std::time::Duration, what: &str, mut op: F) -> Result<T, ActionError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ActionError>>,
{
    let mut pause = std::time::Duration::from_millis(200);
    let mut waited = false;
    loop {
        match op().await {
            Err(ActionError::Unavailable(message)) if *patience >= pause => {
                if !waited {
                    tracing::warn!(%message, "{what} is unavailable; the action waits for it");
                    waited = true;
                }
                tokio::time::sleep(pause).await;
                *patience -= pause;
                pause = (pause * 2).min(std::time::Duration::from_secs(2));
            }
            answer => {
                if waited && answer.is_ok() {
                    tracing::info!("{what} is back; the action goes on");
                }
                return answer;
            }
        }
    }
}

/// How an attempt ended when it did not return a value.
enum AttemptError {
    /// The action (or the platform, for [`ActionError::is_infrastructure`]) failed.
    Failed(ActionError),
    /// The action ran past its own timeout.
    TimedOut,
}

impl From<ActionError> for AttemptError {
    fn from(error: ActionError) -> Self {
        AttemptError::Failed(error)
    }
}

/// A failed read or write of object storage as the action's error: the store out of reach is
/// the platform's outage (waited out), anything else a fault of what was stored.
fn storage_error(error: ferrocat_shared::objects::StoreError) -> ActionError {
    if error.is_unreachable() { ActionError::Unavailable(error.to_string()) } else { ActionError::Storage(error.to_string()) }
}

/// State shared by every activity execution: connection pools and clients.
pub struct Executor {
    deps: ActionDeps,
    secrets: Option<crate::secret_store::SecretStore>,
    /// Where templates' steps are kept for the run's events (with the secrets store).
    db: Option<sqlx::PgPool>,
    /// Object storage for results above the threshold, and for reading them back.
    results: Option<ResultStore>,
}

impl Executor {
    /// The executor's shared clients as `config` describes them, without the secrets store.
    pub fn new(config: &ExecutorConfig) -> anyhow::Result<Self> {
        Ok(Self { deps: ActionDeps::new(&config.actions)?, secrets: None, db: None, results: config.results.as_ref().map(ResultStore::new) })
    }

    /// [`Executor::new`] from settings in `env` (tests, benchmarks, `ferrocat run`).
    pub fn build(env: &ferrocat_shared::config::Env) -> anyhow::Result<Self> {
        Self::new(&ExecutorConfig::from_env(env)?)
    }

    /// This executor with every result kept inline (`ferrocat run`: no server, no history).
    pub fn without_result_store(self) -> Self {
        Self { results: None, ..self }
    }

    /// [`Executor::new`] plus the secrets store when the database and key are configured.
    pub async fn with_store(config: &ExecutorConfig) -> anyhow::Result<Self> {
        let mut executor = Self::new(config)?;
        let (secrets, db) = match &config.secrets {
            Some((url, keyring)) => {
                let db = ferrocat_shared::db::connect(url.expose_secret(), 4).await?;
                // core.cases.* change cases through the use cases, as the run.
                let blobs = config.results.as_ref().map(|store| ferrocat_shared::objects::BlobStore::new(store, &config.attachments));
                let host = ferrocat_app::cases::host::Host::new(db.clone(), blobs, config.attachments.clone());
                executor.deps.cases = Some(std::sync::Arc::new(host));
                // core.table.* read and write lookup tables through the use cases too.
                executor.deps.tables = Some(std::sync::Arc::new(ferrocat_app::tables::host::Host::new(db.clone())));
                // Tokens are refreshed through the actions' client: the same egress policy.
                let store = crate::secret_store::SecretStore::new(db.clone(), keyring.clone()).with_oauth(executor.deps.http.clone(), config.oauth.clone());
                (Some(store), Some(db))
            }
            None => {
                tracing::warn!("no FERROCAT_DATABASE_URL or FERROCAT_DB_ENCRYPTION_KEY: actions cannot use SECRETS");
                (None, None)
            }
        };
        Ok(Self { secrets, db, ..executor })
    }

    /// The table a run pinned to `lock` uses: `None` when nothing is pinned (the process's
    /// own), else the process's table with the pinned registry versions' templates, read from
    /// the database the first time a lock is seen.
    async fn table_for(&self, lock: &[String]) -> Result<Option<std::sync::Arc<ferrocat_registry::Registry>>, ActionError> {
        if lock.is_empty() {
            return Ok(None);
        }
        let db = self
            .db
            .as_ref()
            .ok_or_else(|| ActionError::Invalid("this executor has no database to read the pinned registry versions from (FERROCAT_DATABASE_URL)".into()))?;
        ferrocat_registry::template::load::pinned_from(db, lock).await.map_err(unavailable_or_invalid)
    }

    /// Loads the secrets `input`'s action refers to, for its run's workspace and environment.
    async fn secrets_for(&self, input: &RunActionInput, table: &ferrocat_registry::Registry) -> Result<Map<String, Value>, ActionError> {
        let names = crate::secret_store::referenced(&input.task, table);
        let optional = crate::secret_store::optional(&input.task, &names, table);
        if names.is_empty() && optional.is_empty() {
            return Ok(Map::new());
        }
        let store = self
            .secrets
            .as_ref()
            .ok_or_else(|| ActionError::Invalid("this executor has no secrets store (FERROCAT_DATABASE_URL, FERROCAT_DB_ENCRYPTION_KEY)".into()))?;
        // A per-action environment may itself be an expression (`${{ ... }}`).
        let environment = match &input.task.environment {
            None => input.run.environment.clone(),
            Some(raw) => {
                let context = input.expr_context();
                match expr::eval_templated(&Value::String(raw.clone()), &context) {
                    Ok(Value::String(env)) => env,
                    Ok(other) => return Err(ActionError::Invalid(format!("environment must be a string, got {other}"))),
                    Err(e) => return Err(ActionError::Expression(e.to_string())),
                }
            }
        };
        store.load(input.run.workspace_id, &environment, &names, &optional).await.map_err(unavailable_or_invalid)
    }

    /// Evaluates the arguments and runs the action; the error carries the message users see.
    /// With `for_each`, the action runs once per iteration (up to [`FOR_EACH_CONCURRENCY`] at a
    /// time) and the result is the list of results in order; any failing iteration fails it.
    pub async fn run(&self, input: RunActionInput) -> Result<Value, ActionError> {
        self.run_with_secrets(input, Map::new()).await
    }

    /// [`Executor::run`] with `SECRETS` available to expressions; every secret value is then
    /// replaced by `***` in the result and in error messages.
    pub async fn run_with_secrets(&self, input: RunActionInput, secrets: Map<String, Value>) -> Result<Value, ActionError> {
        self.run_with_progress(input, secrets, None, None).await
    }

    /// [`Executor::run_with_secrets`], where an `ai.agent` (outside a loop) checkpoints into
    /// `progress` and resumes from what an earlier attempt saved there.
    pub async fn run_with_progress(
        &self,
        input: RunActionInput,
        secrets: Map<String, Value>,
        progress: Option<&dyn Checkpoint>,
        trace: Option<&StepTrace>,
    ) -> Result<Value, ActionError> {
        let pinned = self.table_for(&input.run.registry_lock).await?;
        // No wait here: `ferrocat run` and tests see an outage at once.
        let input = self.materialized(input, &mut std::time::Duration::default()).await?;
        self.run_with_table(pinned.as_deref().unwrap_or_else(|| ferrocat_registry::global()), input, secrets, progress, trace).await
    }

    /// [`Executor::run_with_progress`] with the table the run's registry lock resolved to and
    /// the stored results in `input` read back.
    async fn run_with_table(
        &self,
        table: &ferrocat_registry::Registry,
        input: RunActionInput,
        secrets: Map<String, Value>,
        progress: Option<&dyn Checkpoint>,
        trace: Option<&StepTrace>,
    ) -> Result<Value, ActionError> {
        let masks = ferrocat_registry::masking::secret_values(&secrets);
        let context = ExprContext {
            actions: input.actions,
            trigger: input.trigger,
            env: input.env,
            vars: input.vars,
            secrets,
            ..ExprContext::default()
        };
        match self.run_in(table, &input.task, &context, &input.run, progress, trace).await {
            Ok(value) => Ok(ferrocat_registry::masking::mask(value, &masks)),
            Err(error) if masks.is_empty() => Err(error),
            Err(error) => Err(ActionError::Masked {
                message: ferrocat_registry::masking::mask_text(&error.to_string(), &masks),
                type_name: error.type_name(),
                retryable: error.is_retryable(),
                infrastructure: error.is_infrastructure(),
            }),
        }
    }

    /// `input` with every stored result in its `ACTIONS` and `TRIGGER` read back from object
    /// storage, waiting out an outage of the store for as long as `patience` lasts.
    async fn materialized(&self, mut input: RunActionInput, patience: &mut std::time::Duration) -> Result<RunActionInput, ActionError> {
        let Some(store) = &self.results else { return Ok(input) };
        let both = Value::Array(vec![Value::Object(std::mem::take(&mut input.actions)), std::mem::take(&mut input.trigger)]);
        let workspace = input.run.workspace_id.to_string();
        let loaded = if ferrocat_shared::objects::contains_stored(&both) {
            patiently(patience, "the object store", || async { store.materialize_in(&workspace, both.clone()).await.map_err(storage_error) }).await?
        } else {
            both
        };
        let Value::Array(mut parts) = loaded else { unreachable!("materialize keeps the shape") };
        input.trigger = parts.pop().unwrap_or_default();
        let Some(Value::Object(actions)) = parts.pop() else { unreachable!("materialize keeps the shape") };
        input.actions = actions;
        Ok(input)
    }

    /// `value` as it goes into history: a reference to object storage when it is above the
    /// threshold and the workflow does not read it itself (waiting out an outage of the store
    /// for as long as `patience` lasts).
    async fn externalize(&self, owner: Option<(String, String)>, value: Value, patience: &mut std::time::Duration) -> Result<Value, ActionError> {
        let (Some(store), Some((workspace, execution))) = (&self.results, owner) else { return Ok(value) };
        let stored = patiently(patience, "the object store", || async { store.store(&workspace, &execution, &value).await.map_err(storage_error) }).await?;
        Ok(stored.unwrap_or(value))
    }

    /// The workspace and execution `input`'s result would be stored under; `None` when it
    /// must stay inline.
    fn result_owner(&self, input: &RunActionInput) -> Option<(String, String)> {
        if self.results.is_none() || input.inline_result {
            return None;
        }
        Some((input.run.workspace_id.to_string(), input.run.wf_exec_id.clone()))
    }

    async fn run_in(
        &self,
        table: &ferrocat_registry::Registry,
        task: &ferrocat_dsl::ActionStatement,
        context: &ExprContext,
        run: &ferrocat_shared::temporal::RunContext,
        progress: Option<&dyn Checkpoint>,
        trace: Option<&StepTrace>,
    ) -> Result<Value, ActionError> {
        let Some(for_each) = &task.for_each else {
            return self.run_once(table, &task.action, &task.args, context, run, progress, trace).await;
        };
        let bindings = expr::eval_for_each(for_each, context).map_err(|e| ActionError::Expression(e.to_string()))?;
        let iterations = bindings.into_iter().map(|var| {
            let context = ExprContext { var, ..context.clone() };
            async move { self.run_once(table, &task.action, &task.args, &context, run, None, trace).await }
        });
        let results: Vec<Result<Value, ActionError>> =
            futures::stream::iter(iterations).buffered(FOR_EACH_CONCURRENCY).collect().await;
        let mut values = Vec::with_capacity(results.len());
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(value) => values.push(value),
                Err(error) => return Err(ActionError::Loop { iteration: i, source: Box::new(error) }),
            }
        }
        Ok(Value::Array(values))
    }

    #[allow(clippy::too_many_arguments)]
    async fn run_once(
        &self,
        table: &ferrocat_registry::Registry,
        action: &str,
        args: &Map<String, Value>,
        context: &ExprContext,
        run: &ferrocat_shared::temporal::RunContext,
        progress: Option<&dyn Checkpoint>,
        trace: Option<&StepTrace>,
    ) -> Result<Value, ActionError> {
        let args = expr::eval_templated(&Value::Object(args.clone()), context)
            .map_err(|e| ActionError::Expression(e.to_string()))?;
        let Value::Object(args) = args else {
            return Err(ActionError::Invalid("args must be a mapping".into()));
        };
        let call = Call::new(action, args, &self.deps, &context.secrets)
            .with_context(&context.vars, &context.env)
            .in_run(run)
            .with_progress(progress)
            .with_trace(trace);
        table.run(action, call).await
    }
}

#[activities]
impl Executor {
    /// Runs one action of a DSL run.
    #[activity(name = "execute_action_activity")]
    pub async fn execute_action(
        self: std::sync::Arc<Self>,
        ctx: ActivityContext,
        input: RunActionInput,
    ) -> Result<Value, ActivityError> {
        let action = input.task.action.clone();
        let action_ref = input.task.ref_.clone();
        let owner = self.result_owner(&input);
        let attempt = ctx.info().attempt.max(1);
        let place = (input.run.clone(), input.stream_id.clone().unwrap_or_default(), attempt);
        // The author's attempts and per-attempt timeout are kept here: Temporal has a few more
        // attempts (for executors that die) and a longer timeout (for executors that hang).
        let max_attempts = input.task.retry_policy.max_attempts;
        let timeout = input.task.retry_policy.attempt_timeout();
        let queued = queue_wait(ctx.info());
        let heartbeat = Heartbeat::new(ctx);
        let beating = heartbeat.keep_beating();
        let trace = StepTrace::default();
        let started = std::time::Instant::now();
        let outcome = self.run_activity(input, heartbeat, &trace, &place, &action_ref, owner, timeout).await;
        beating.abort();
        let label = match &outcome {
            Ok(_) => "ok",
            Err(AttemptError::Failed(_)) => "error",
            Err(AttemptError::TimedOut) => "timeout",
        };
        ferrocat_shared::metrics::get().action(&action, label, started.elapsed(), queued);
        // How long the action took inside the executor (benchmarks read it at debug level).
        tracing::debug!(action = %action, action_ref = %action_ref, micros = started.elapsed().as_micros() as u64, ok = outcome.is_ok(), "action ran");
        let spent = max_attempts != 0 && attempt >= max_attempts;
        let (message, type_name, retryable, infrastructure) = match outcome {
            Ok(value) => return Ok(value),
            Err(AttemptError::Failed(error)) => {
                tracing::info!(action = %action, action_ref = %action_ref, %error, attempt, "action failed");
                (error.to_string(), error.type_name(), error.is_retryable(), error.is_infrastructure())
            }
            Err(AttemptError::TimedOut) => {
                tracing::info!(action = %action, action_ref = %action_ref, attempt, "action timed out");
                (format!("the action did not finish within its timeout of {} s", timeout.as_secs_f64()), "TimeoutError", true, false)
            }
        };
        // The platform's own failures (its database or object store out of reach) are tried
        // again from the attempts Temporal keeps in reserve, whatever the author's are.
        let failure = ApplicationFailure::builder(anyhow::anyhow!("There was an error in the executor when calling action '{action}'.\n\n{message}"))
            .type_name(type_name.to_owned())
            .non_retryable(!retryable || (spent && !infrastructure))
            .build();
        Err(ActivityError::Application(Box::new(failure)))
    }
}

/// A read the action needed: the database out of reach is the platform's failure (tried again),
/// anything else the action's (a missing secret, a pinned version gone).
fn unavailable_or_invalid(error: ferrocat_shared::db::ReadError) -> ActionError {
    match error {
        ferrocat_shared::db::ReadError::Unreachable(message) => ActionError::Unavailable(message),
        ferrocat_shared::db::ReadError::Failed(message) => ActionError::Invalid(message),
    }
}

/// How long this attempt waited on its queue: from when Temporal scheduled it to when this
/// process took it (unknown for local activities).
fn queue_wait(info: &temporalio_sdk::activities::ActivityInfo) -> Option<std::time::Duration> {
    let started = info.started_time?;
    started.duration_since(info.current_attempt_scheduled_time?).ok()
}

impl Executor {
    /// One attempt of an action: the table its run is pinned to, resolved once, names its
    /// secrets and runs it; its template steps are kept, its result stored when large. Only
    /// the action itself runs against its `timeout`: the platform's reads and writes around it
    /// wait out an outage of their dependency (up to [`DEPENDENCY_WAIT`] in all) instead.
    #[allow(clippy::too_many_arguments)]
    async fn run_activity(
        &self,
        input: RunActionInput,
        heartbeat: Heartbeat,
        trace: &StepTrace,
        place: &(ferrocat_shared::temporal::RunContext, String, u32),
        action_ref: &str,
        owner: Option<(String, String)>,
        timeout: std::time::Duration,
    ) -> Result<Value, AttemptError> {
        let mut patience = DEPENDENCY_WAIT;
        let pinned = patiently(&mut patience, "the database", || self.table_for(&input.run.registry_lock)).await?;
        let table = pinned.as_deref().unwrap_or_else(|| ferrocat_registry::global());
        let secrets = patiently(&mut patience, "the database", || self.secrets_for(&input, table)).await?;
        let masks = ferrocat_registry::masking::secret_values(&secrets);
        let input = self.materialized(input, &mut patience).await?;
        let outcome = tokio::time::timeout(timeout, self.run_with_table(table, input, secrets, Some(&heartbeat), Some(trace))).await;
        self.keep_steps(place, action_ref, trace, &masks).await;
        let value = outcome.map_err(|_| AttemptError::TimedOut)??;
        Ok(self.externalize(owner, value, &mut patience).await?)
    }

    /// Stores the steps templates ran for this attempt of `action_ref` (errors masked); a
    /// failure to store is logged, never the action's.
    async fn keep_steps(
        &self,
        (run, stream, attempt): &(ferrocat_shared::temporal::RunContext, String, u32),
        action_ref: &str,
        trace: &StepTrace,
        masks: &[String],
    ) {
        let (Some(db), records) = (&self.db, trace.records()) else { return };
        if records.is_empty() {
            return;
        }
        let steps: Vec<Value> = records
            .into_iter()
            .map(|mut record| {
                if let Some(Value::String(error)) = record.get_mut("error") {
                    *error = ferrocat_registry::masking::mask_text(error, masks);
                }
                record
            })
            .collect();
        let attempt = i32::try_from(*attempt).unwrap_or(i32::MAX);
        let stored = sqlx::query!(
            "INSERT INTO action_step_traces (workspace_id, wf_exec_id, action_ref, stream_id, attempt, steps)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (wf_exec_id, action_ref, stream_id, attempt) DO UPDATE SET steps = EXCLUDED.steps, recorded_at = now()",
            run.workspace_id,
            run.wf_exec_id,
            action_ref,
            stream,
            attempt,
            Value::Array(steps)
        )
        .execute(db)
        .await;
        if let Err(error) = stored {
            tracing::warn!(%error, action_ref, "the template's steps were not kept");
        }
    }
}

/// How often an executor tells Temporal it is still running an action (well inside the
/// workflow's heartbeat timeout; the SDK batches them).
const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// The activity's heartbeats: a steady beat while the action runs, so Temporal retries an
/// attempt whose executor died on another one; and an agent's checkpoint, carried in their
/// details, which Temporal keeps and hands to the next attempt when this one fails or its
/// executor dies, so a resumed agent does not repeat the model and tool calls it had finished.
/// The beat always carries the latest checkpoint (the previous attempt's until one is saved).
#[derive(Clone)]
struct Heartbeat {
    ctx: ActivityContext,
    latest: std::sync::Arc<std::sync::Mutex<Option<Value>>>,
}

impl Heartbeat {
    fn new(ctx: ActivityContext) -> Self {
        let previous = ctx.heartbeat_details().deserialize::<Value>().ok().flatten().filter(|v| !v.is_null());
        Heartbeat { ctx, latest: std::sync::Arc::new(std::sync::Mutex::new(previous)) }
    }

    fn latest(&self) -> Option<Value> {
        self.latest.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Beats every [`HEARTBEAT_EVERY`] until the returned task is aborted.
    fn keep_beating(&self) -> tokio::task::JoinHandle<()> {
        let beat = self.clone();
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(HEARTBEAT_EVERY).await;
                let details = beat.latest().unwrap_or(Value::Null);
                if let Err(e) = beat.ctx.record_heartbeat(details).await {
                    tracing::warn!(error = %e, "recording a heartbeat failed");
                }
            }
        })
    }
}

impl Checkpoint for Heartbeat {
    fn resume(&self) -> Option<Value> {
        self.latest()
    }

    fn save(&self, state: Value) -> ferrocat_registry::BoxFuture<'_, ()> {
        Box::pin(async move {
            if let Ok(mut latest) = self.latest.lock() {
                *latest = Some(state.clone());
            }
            if let Err(e) = self.ctx.record_heartbeat(state).await {
                tracing::warn!(error = %e, "recording the agent's checkpoint failed");
            }
        })
    }
}
