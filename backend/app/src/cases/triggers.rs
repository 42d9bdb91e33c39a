//! Case triggers: a workflow subscribes to case events (types, optionally only for cases with
//! some tags), and each event starts each subscribed workflow exactly once.
//!
//! Delivery is an outbox: events are written `pending` in the transaction that made the
//! change; the dispatcher takes pending events with `FOR UPDATE SKIP LOCKED` (so several api
//! replicas share the work), starts each subscribed workflow under an execution id derived
//! from (event, workflow) that Temporal refuses to reuse, and clears `pending` in the same
//! transaction. A dispatcher that dies half-way leaves the events pending; the next one starts
//! the same ids again and Temporal answers "already started": once, whatever restarts.
//! Events made by runs are never pending (no loops). A subscriber that cannot run (nothing
//! committed, inputs it refuses) is switched off with the reason.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::Digest as _;
use sqlx::PgPool;
use uuid::Uuid;

use super::events::{CHANNEL, EventType};
use crate::checks::invalid;
use crate::{App, AppError, runs};

/// Most tag filters of one trigger.
const MAX_TAG_FILTERS: usize = 50;
/// Events taken per transaction.
const BATCH: i64 = 100;

/// A workflow's case trigger.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TriggerRow {
    pub workflow_id: Uuid,
    pub status: String,
    pub event_types: Vec<String>,
    pub tag_filters: Vec<String>,
    pub disabled_reason: Option<String>,
    pub updated_at: DateTime<Utc>,
}

impl TriggerRow {
    pub fn read_model(&self) -> Value {
        json!({
            "workflow_id": ferrocat_shared::ids::workflow_id(self.workflow_id),
            "status": self.status,
            "event_types": self.event_types,
            "tag_filters": self.tag_filters,
            "disabled_reason": self.disabled_reason,
            "updated_at": self.updated_at,
        })
    }
}

/// Changes to a trigger (`None` keeps a value).
#[derive(Debug, Default)]
pub struct TriggerInput {
    pub status: Option<String>,
    pub event_types: Option<Vec<String>>,
    pub tag_filters: Option<Vec<String>>,
}

/// The trigger of the workflow (offline with no events when none was set).
pub async fn get(db: &PgPool, workspace_id: Uuid, workflow_id: Uuid) -> Result<TriggerRow, AppError> {
    let row = sqlx::query_as::<_, TriggerRow>(
        "SELECT workflow_id, status, event_types, tag_filters, disabled_reason, updated_at FROM case_triggers WHERE workspace_id = $1 AND workflow_id = $2",
    )
    .bind(workspace_id)
    .bind(workflow_id)
    .fetch_optional(db)
    .await?;
    Ok(row.unwrap_or_else(|| blank(workflow_id)))
}

fn blank(workflow_id: Uuid) -> TriggerRow {
    TriggerRow { workflow_id, status: "offline".into(), event_types: vec![], tag_filters: vec![], disabled_reason: None, updated_at: Utc::now() }
}

/// Sets the trigger of the workflow: `replace` starts from nothing (POST), else from what is
/// set (PATCH). Online needs at least one event type.
pub async fn set(db: &PgPool, workspace_id: Uuid, workflow_id: Uuid, input: TriggerInput, replace: bool) -> Result<TriggerRow, AppError> {
    let current = if replace { blank(workflow_id) } else { get(db, workspace_id, workflow_id).await? };
    let status = input.status.unwrap_or(current.status);
    if !matches!(status.as_str(), "online" | "offline") {
        return Err(invalid("status", "status is online or offline"));
    }
    let event_types = input.event_types.unwrap_or(current.event_types);
    for kind in &event_types {
        if EventType::parse(kind).is_none() {
            let known: Vec<&str> = EventType::ALL.iter().map(|t| t.as_str()).collect();
            return Err(invalid("event_types", format!("{kind:?} is not a case event type (one of {known:?})")));
        }
    }
    if status == "online" && event_types.is_empty() {
        return Err(invalid("event_types", "an online case trigger needs at least one event type"));
    }
    let tag_filters: Vec<String> = input.tag_filters.unwrap_or(current.tag_filters).iter().map(|t| super::tags::slug(t)).collect();
    if tag_filters.len() > MAX_TAG_FILTERS || tag_filters.iter().any(String::is_empty) {
        return Err(invalid("tag_filters", format!("at most {MAX_TAG_FILTERS} tag refs")));
    }
    Ok(sqlx::query_as::<_, TriggerRow>(
        "INSERT INTO case_triggers (workflow_id, workspace_id, status, event_types, tag_filters, disabled_reason, updated_at)
         VALUES ($1, $2, $3, $4, $5, NULL, now())
         ON CONFLICT (workflow_id) DO UPDATE SET status = $3, event_types = $4, tag_filters = $5, disabled_reason = NULL, updated_at = now()
         RETURNING workflow_id, status, event_types, tag_filters, disabled_reason, updated_at",
    )
    .bind(workflow_id)
    .bind(workspace_id)
    .bind(&status)
    .bind(&event_types)
    .bind(&tag_filters)
    .fetch_one(db)
    .await?)
}

#[derive(Debug, sqlx::FromRow)]
struct PendingEvent {
    id: Uuid,
    workspace_id: Uuid,
    case_id: Uuid,
    #[sqlx(rename = "type")]
    kind: String,
    data: Value,
    user_id: Option<Uuid>,
    wf_exec_id: Option<String>,
    created_at: DateTime<Utc>,
}

/// Whether a trigger subscribed to `subscribed` hears an event of type `kind`: closing and
/// reopening are status changes too.
pub fn hears(subscribed: &[String], kind: &str) -> bool {
    subscribed.iter().any(|s| s == kind || (s == "status_changed" && matches!(kind, "case_closed" | "case_reopened")))
}

/// The execution id a trigger's run of `event` gets: the same every time it is delivered.
pub fn execution_id(workflow_id: Uuid, event_id: Uuid) -> String {
    let digest = sha2::Sha256::new().chain_update(event_id.as_bytes()).chain_update(workflow_id.as_bytes()).finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    format!("{}/exec_{}", ferrocat_shared::ids::workflow_id(workflow_id), ferrocat_shared::ids::base62(Uuid::from_bytes(bytes)))
}

/// What one [`dispatch_pending`] did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Events taken off the outbox.
    pub events: usize,
    /// Runs started.
    pub started: usize,
    /// Runs that had already been started by an earlier delivery of the same event.
    pub already_started: usize,
    /// Triggers switched off because their workflow cannot run.
    pub switched_off: usize,
}

/// Offers every pending event (a batch per transaction) to the triggers. An engine that does
/// not answer leaves the batch pending for the next call.
pub async fn dispatch_pending(app: &App) -> Result<Delivery, AppError> {
    let mut handled = Delivery::default();
    loop {
        let mut tx = app.db.begin().await?;
        let events = sqlx::query_as::<_, PendingEvent>(
            "SELECT id, workspace_id, case_id, type, data, user_id, wf_exec_id, created_at FROM case_events WHERE pending ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
        )
        .bind(BATCH)
        .fetch_all(&mut *tx)
        .await?;
        if events.is_empty() {
            return Ok(handled);
        }
        for event in &events {
            deliver(app, event, &mut handled).await?;
        }
        let ids: Vec<Uuid> = events.iter().map(|e| e.id).collect();
        sqlx::query("UPDATE case_events SET pending = false WHERE id = ANY($1)").bind(&ids).execute(&mut *tx).await?;
        tx.commit().await?;
        handled.events += events.len();
    }
}

/// Starts the workflow a comment asked for by name, then every online trigger of the event's
/// workspace that hears it (none for an event a run caused).
async fn deliver(app: &App, event: &PendingEvent, handled: &mut Delivery) -> Result<(), AppError> {
    if let Some(requested) = event.data.get(super::events::RUN_WORKFLOW_KEY).and_then(Value::as_str) {
        run_for_comment(app, event, requested, handled).await?;
    }
    if event.wf_exec_id.is_some() {
        return Ok(());
    }
    let triggers: Vec<(Uuid, Vec<String>, Vec<String>)> =
        sqlx::query_as("SELECT workflow_id, event_types, tag_filters FROM case_triggers WHERE workspace_id = $1 AND status = 'online'")
            .bind(event.workspace_id)
            .fetch_all(&app.db)
            .await?;
    let listening: Vec<_> = triggers.into_iter().filter(|(_, types, _)| hears(types, &event.kind)).collect();
    if listening.is_empty() {
        return Ok(());
    }
    let tags = super::tags::of_case(&app.db, event.case_id).await?;
    let case_number: Option<i64> = sqlx::query_scalar("SELECT case_number FROM cases WHERE id = $1").bind(event.case_id).fetch_optional(&app.db).await?;
    let trigger = json!({
        "case_id": event.case_id,
        "short_id": case_number.map(super::short_id),
        "workspace_id": ferrocat_shared::ids::workspace_id(event.workspace_id),
        "event": {"id": event.id, "type": event.kind, "data": event.data, "created_at": event.created_at, "user_id": event.user_id, "wf_exec_id": null},
        "tags": tags.iter().map(|t| t.read_model()).collect::<Vec<_>>(),
    });
    for (workflow_id, _, tag_filters) in listening {
        if !tag_filters.is_empty() && !tags.iter().any(|t| tag_filters.contains(&t.tag_ref)) {
            continue;
        }
        start(app, event, workflow_id, trigger.clone(), handled).await?;
    }
    Ok(())
}

/// The run a comment asked for: once, under an id derived from the event; a workflow that can
/// no longer run (deleted, uncommitted since) is logged and skipped.
async fn run_for_comment(app: &App, event: &PendingEvent, requested: &str, handled: &mut Delivery) -> Result<(), AppError> {
    let (Ok(workflow_id), Some(comment_id)) = (
        ferrocat_shared::ids::parse_workflow_id(requested),
        event.data.get("comment_id").and_then(Value::as_str).and_then(|c| Uuid::try_parse(c).ok()),
    ) else {
        return Ok(());
    };
    let case = super::load(&app.db, event.workspace_id, event.case_id).await?;
    let Ok(comment) = super::comments::get(&app.db, case.id, comment_id).await else {
        return Ok(()); // deleted before it was delivered
    };
    let tags = super::tags::of_case(&app.db, case.id).await?;
    let actor = match (&event.wf_exec_id, event.user_id) {
        (Some(exec), _) => super::Actor::Run(exec.clone()),
        (None, Some(user)) => super::Actor::User(user),
        (None, None) => super::Actor::Run(String::new()),
    };
    let trigger = super::comments::comment_trigger(&case, &comment, &tags, super::comments::triggered_by(&actor));
    let (dsl, version) = match runs::latest_committed(app, event.workspace_id, workflow_id).await {
        Ok(found) => found,
        Err(AppError::Unavailable(msg)) => return Err(AppError::Unavailable(msg)),
        Err(e) => {
            tracing::warn!(workflow = requested, error = %e, "the workflow a comment asked for cannot run");
            return Ok(());
        }
    };
    let run = runs::NewRun { workflow_id, workspace_id: event.workspace_id, version, dsl, trigger, trigger_type: "case" };
    if runs::start_once(app, run, &execution_id(workflow_id, event.id)).await? {
        handled.started += 1;
    } else {
        handled.already_started += 1;
    }
    Ok(())
}

async fn start(app: &App, event: &PendingEvent, workflow_id: Uuid, trigger: Value, handled: &mut Delivery) -> Result<(), AppError> {
    let prepared = match runs::latest_committed(app, event.workspace_id, workflow_id).await {
        Ok((dsl, version)) => runs::check_inputs(&dsl, &trigger).map(|()| (dsl, version)),
        Err(e) => Err(e),
    };
    let (dsl, version) = match prepared {
        Ok(found) => found,
        Err(AppError::Unavailable(msg)) => return Err(AppError::Unavailable(msg)),
        Err(e) => {
            handled.switched_off += 1;
            return switch_off(&app.db, workflow_id, &format!("the workflow cannot run on case events: {e}")).await;
        }
    };
    let exec_id = execution_id(workflow_id, event.id);
    let run = runs::NewRun { workflow_id, workspace_id: event.workspace_id, version, dsl, trigger, trigger_type: "case" };
    let started = runs::start_once(app, run, &exec_id).await?;
    if started {
        handled.started += 1;
    } else {
        handled.already_started += 1;
    }
    tracing::info!(exec_id, event = %event.id, event_type = %event.kind, started, "case trigger delivered");
    Ok(())
}

async fn switch_off(db: &PgPool, workflow_id: Uuid, reason: &str) -> Result<(), AppError> {
    tracing::warn!(workflow_id = %workflow_id, reason, "case trigger switched off");
    sqlx::query("UPDATE case_triggers SET status = 'offline', disabled_reason = $2, updated_at = now() WHERE workflow_id = $1")
        .bind(workflow_id)
        .bind(reason)
        .execute(db)
        .await?;
    Ok(())
}

/// Delivers pending events for as long as the process runs: woken by each commit that wrote
/// one (`LISTEN`), and every few seconds in case a notification was missed (a reconnect).
pub async fn run_dispatcher(app: App) {
    let mut listener = None;
    loop {
        match dispatch_pending(&app).await {
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, "case events not delivered yet; retrying"),
        }
        if listener.is_none() {
            listener = match sqlx::postgres::PgListener::connect_with(&app.db).await {
                Ok(mut l) => l.listen(CHANNEL).await.ok().map(|()| l),
                Err(error) => {
                    tracing::warn!(error = %error, "cannot listen for case events; polling");
                    None
                }
            };
        }
        let wait = tokio::time::sleep(Duration::from_secs(3));
        match listener.as_mut() {
            Some(l) => {
                tokio::select! {
                    received = l.recv() => if received.is_err() { listener = None },
                    () = wait => {}
                }
            }
            None => wait.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_and_reopening_are_status_changes() {
        let subscribed = vec!["status_changed".to_owned()];
        assert!(hears(&subscribed, "status_changed"));
        assert!(hears(&subscribed, "case_closed"));
        assert!(hears(&subscribed, "case_reopened"));
        assert!(!hears(&subscribed, "case_created"));
        assert!(hears(&["case_created".to_owned()], "case_created"));
    }

    #[test]
    fn a_delivery_always_gets_the_same_execution_id() {
        let (wf, ev) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(execution_id(wf, ev), execution_id(wf, ev));
        assert_ne!(execution_id(wf, ev), execution_id(wf, Uuid::now_v7()));
        assert_eq!(ferrocat_shared::ids::parse_execution_id(&execution_id(wf, ev)).unwrap(), wf);
    }
}
