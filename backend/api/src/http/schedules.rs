//! Schedules, as in Tracecat: `GET/POST /schedules`, `GET/POST(update)/PATCH/DELETE
//! /schedules/{id}`. Each is a Temporal schedule (cron or every-interval with an offset, start
//! and end times, inputs, timeout); offline pauses it, online unpauses it. The row and the
//! Temporal schedule change together: the row's transaction commits only once Temporal agreed.

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::{Value, json};
use uuid::Uuid;

use ferrocat_app::db::schedules::{self, ScheduleRow, ScheduleSettings};
use ferrocat_app::db::workflows;
use ferrocat_app::schedules::{parse_schedule_id, schedule_id};
use ferrocat_dsl::Workflow;
use ferrocat_shared::ids;

use super::{JsonBody, Path, Query};
use super::validate::invalid;
use super::workflows::load;
use crate::auth::{Role, WorkspaceAccess};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/schedules", get(list_schedules).post(create_schedule)).route(
        "/schedules/{schedule_id}",
        get(get_schedule).post(update_schedule).patch(update_schedule).delete(delete_schedule),
    )
}

/// A duration as Tracecat's API writes one: ISO 8601 (`PT1H30M`, `P1DT2H`, `PT0.5S`) or seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Millis(i64);

impl<'de> Deserialize<'de> for Millis {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Seconds(f64),
            Text(String),
        }
        let seconds = match Raw::deserialize(deserializer)? {
            Raw::Seconds(s) => s,
            Raw::Text(text) => parse_iso_duration(&text).ok_or_else(|| {
                serde::de::Error::custom(format!("invalid duration {text:?}: use ISO 8601 (PT1H) or seconds"))
            })?,
        };
        if !seconds.is_finite() || !(0.0..=10.0 * 365.0 * 86400.0).contains(&seconds) {
            return Err(serde::de::Error::custom("a duration must be between 0 seconds and 10 years"));
        }
        Ok(Millis((seconds * 1000.0).round() as i64))
    }
}

/// Seconds in an ISO 8601 duration (`PnW`, `PnDTnHnMnS`; fractions on the last part).
fn parse_iso_duration(text: &str) -> Option<f64> {
    let rest = text.trim().strip_prefix('P').or_else(|| text.trim().strip_prefix('p'))?;
    if rest.is_empty() {
        return None;
    }
    let (date, time) = match rest.split_once(['T', 't']) {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut total = 0.0;
    let mut parse_part = |part: &str, units: &[(char, f64)]| -> Option<()> {
        let mut number = String::new();
        let mut allowed = units.iter();
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                number.push(c);
                continue;
            }
            let factor = allowed.by_ref().find(|(u, _)| *u == c.to_ascii_uppercase())?.1;
            total += number.parse::<f64>().ok()? * factor;
            number.clear();
        }
        number.is_empty().then_some(())
    };
    parse_part(date, &[('Y', 365.0 * 86400.0), ('M', 30.0 * 86400.0), ('W', 7.0 * 86400.0), ('D', 86400.0)])?;
    if let Some(time) = time {
        parse_part(time, &[('H', 3600.0), ('M', 60.0), ('S', 1.0)])?;
    }
    Some(total)
}

/// ISO 8601 for a duration in milliseconds (`PT1S`, `P1DT2H30M`, `PT0.5S`).
fn iso_duration(ms: i64) -> String {
    let (days, rest) = (ms / 86_400_000, ms % 86_400_000);
    let (hours, rest) = (rest / 3_600_000, rest % 3_600_000);
    let (minutes, rest) = (rest / 60_000, rest % 60_000);
    let mut out = String::from("P");
    if days > 0 {
        out.push_str(&format!("{days}D"));
    }
    if hours > 0 || minutes > 0 || rest > 0 || days == 0 {
        out.push('T');
        if hours > 0 {
            out.push_str(&format!("{hours}H"));
        }
        if minutes > 0 {
            out.push_str(&format!("{minutes}M"));
        }
        if rest > 0 || (hours == 0 && minutes == 0) {
            if rest % 1000 == 0 {
                out.push_str(&format!("{}S", rest / 1000));
            } else {
                out.push_str(&format!("{}S", rest as f64 / 1000.0));
            }
        }
    }
    out
}

/// `Some(value)` for a present field, even when the value is `null` (so an update can clear it).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct CreateSchedule {
    workflow_id: String,
    #[serde(default)]
    inputs: Value,
    cron: Option<String>,
    #[schema(value_type = Option<f64>)]
    every: Option<Millis>,
    #[schema(value_type = Option<f64>)]
    offset: Option<Millis>,
    start_at: Option<DateTime<Utc>>,
    end_at: Option<DateTime<Utc>>,
    timeout: Option<f64>,
    #[serde(default = "online")]
    status: String,
}

fn online() -> String {
    "online".into()
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct UpdateSchedule {
    inputs: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    cron: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    every: Option<Option<Millis>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<f64>)]
    offset: Option<Option<Millis>>,
    #[serde(default, deserialize_with = "present")]
    start_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    end_at: Option<Option<DateTime<Utc>>>,
    #[serde(default, deserialize_with = "present")]
    timeout: Option<Option<f64>>,
    status: Option<String>,
}

/// Checks a whole configuration; each refusal names its field.
fn check(settings: &ScheduleSettings) -> Result<(), ApiError> {
    if settings.status != "online" && settings.status != "offline" {
        return Err(invalid("status", "status must be online or offline"));
    }
    match (&settings.cron, settings.every_ms) {
        (Some(_), Some(_)) => return Err(invalid("cron", "give either cron or every, not both")),
        (None, None) => return Err(invalid("every", "a schedule needs cron or every")),
        (Some(cron), None) => {
            if cron.trim().is_empty() || cron.len() > 200 {
                return Err(invalid("cron", "cron must be a cron expression of at most 200 characters"));
            }
            if settings.offset_ms.is_some() {
                return Err(invalid("offset", "offset applies to every, not to cron"));
            }
        }
        (None, Some(every)) => {
            if every < 1000 {
                return Err(invalid("every", "every must be at least 1 second"));
            }
            if settings.offset_ms.is_some_and(|offset| offset >= every) {
                return Err(invalid("offset", "offset must be shorter than every"));
            }
        }
    }
    if let (Some(start), Some(end)) = (settings.start_at, settings.end_at)
        && end <= start
    {
        return Err(invalid("end_at", "end_at must be after start_at"));
    }
    if settings.timeout_s.is_some_and(|t| !t.is_finite() || t < 0.0) {
        return Err(invalid("timeout", "timeout must be a number of seconds, at least 0"));
    }
    Ok(())
}

fn read_model(row: &ScheduleRow) -> Value {
    json!({
        "id": schedule_id(row.id),
        "workflow_id": ids::workflow_id(row.workflow_id),
        "workspace_id": ids::workspace_id(row.workspace_id),
        "status": row.status,
        "cron": row.cron,
        "every": row.every_ms.map(iso_duration),
        "offset": row.offset_ms.map(iso_duration),
        "start_at": row.start_at,
        "end_at": row.end_at,
        "inputs": row.inputs,
        "timeout": row.timeout_s,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    })
}

/// The workflow's committed definition and version, which its schedule's runs use.
async fn committed(state: &AppState, workspace_id: Uuid, workflow_id: Uuid, inputs: &Value) -> Result<(Workflow, i32), ApiError> {
    let definition = workflows::definition(&state.db, workspace_id, workflow_id, None)
        .await?
        .ok_or_else(|| ApiError::Conflict("commit the workflow before scheduling it".into()))?;
    let dsl: Workflow = serde_json::from_value(definition.content).map_err(|e| ApiError::Internal(e.into()))?;
    // Inputs the workflow's `expects` would refuse are refused now, not at every firing.
    ferrocat_dsl::normalize_trigger_inputs(&dsl.entrypoint.expects, inputs).map_err(|e| invalid("inputs", e.to_string()))?;
    Ok((dsl, definition.version))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct ListQuery {
    workflow_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/schedules",
    tag = "schedules",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)"), ListQuery),
    responses((status = 200, description = "schedules", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_schedules(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Query(query): Query<ListQuery>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let workflow = match &query.workflow_id {
        Some(id) => Some(load(&state, &access, id).await?.id),
        None => None,
    };
    let rows = schedules::list(&state.db, access.workspace_id, workflow).await?;
    Ok(Json(rows.iter().map(read_model).collect()))
}

#[utoipa::path(
    post,
    path = "/schedules",
    tag = "schedules",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = CreateSchedule,
    responses((status = 201, description = "created", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_schedule(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    JsonBody(body): JsonBody<CreateSchedule>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let workflow = load(&state, &access, &body.workflow_id).await?;
    let settings = ScheduleSettings {
        status: body.status,
        cron: body.cron,
        every_ms: body.every.map(|m| m.0),
        offset_ms: body.offset.map(|m| m.0),
        start_at: body.start_at,
        end_at: body.end_at,
        inputs: body.inputs,
        timeout_s: body.timeout,
    };
    check(&settings)?;
    let (dsl, version) = committed(&state, access.workspace_id, workflow.id, &settings.inputs).await?;
    let mut tx = state.db.begin().await?;
    let row = schedules::insert(&mut *tx, Uuid::now_v7(), access.workspace_id, workflow.id, &settings).await?;
    ferrocat_app::schedules::create(&state, &row, dsl, version).await?;
    if let Err(error) = tx.commit().await {
        // Keep Temporal and the table in step: no schedule fires without its row.
        let _ = ferrocat_app::schedules::delete(&state, row.id).await;
        return Err(error.into());
    }
    tracing::info!(schedule_id = %schedule_id(row.id), wf_id = %ids::workflow_id(row.workflow_id), "schedule created");
    Ok((StatusCode::CREATED, Json(read_model(&row))))
}

fn not_found(text: &str) -> ApiError {
    ApiError::NotFound(format!("schedule {text:?} not found"))
}

#[utoipa::path(
    get,
    path = "/schedules/{schedule_id}",
    tag = "schedules",
    params(("schedule_id" = String, Path, description = "schedule id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the schedule", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_schedule(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(text): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_schedule_id(&text).ok_or_else(|| not_found(&text))?;
    let row = schedules::get_for_update(&state.db, access.workspace_id, id).await?.ok_or_else(|| not_found(&text))?;
    let mut model = read_model(&row);
    model["temporal"] = ferrocat_app::schedules::describe(&state, row.id).await?;
    Ok(Json(model))
}

#[utoipa::path(
    patch,
    path = "/schedules/{schedule_id}",
    tag = "schedules",
    params(("schedule_id" = String, Path, description = "schedule id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = UpdateSchedule,
    responses((status = 200, description = "updated", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn update_schedule(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(text): Path<String>,
    JsonBody(body): JsonBody<UpdateSchedule>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let id = parse_schedule_id(&text).ok_or_else(|| not_found(&text))?;
    let mut tx = state.db.begin().await?;
    let current = schedules::get_for_update(&mut *tx, access.workspace_id, id).await?.ok_or_else(|| not_found(&text))?;
    let mut settings = ScheduleSettings {
        status: body.status.unwrap_or(current.status.clone()),
        cron: current.cron.clone(),
        every_ms: current.every_ms,
        offset_ms: current.offset_ms,
        start_at: body.start_at.unwrap_or(current.start_at),
        end_at: body.end_at.unwrap_or(current.end_at),
        inputs: body.inputs.unwrap_or(current.inputs.clone()),
        timeout_s: body.timeout.unwrap_or(current.timeout_s),
    };
    // Choosing cron drops the interval (and its offset), and the other way round.
    if let Some(cron) = body.cron {
        if cron.is_some() {
            settings.every_ms = None;
            settings.offset_ms = None;
        }
        settings.cron = cron;
    }
    if let Some(every) = body.every {
        if every.is_some() {
            settings.cron = None;
        }
        settings.every_ms = every.map(|m| m.0);
    }
    if let Some(offset) = body.offset {
        settings.offset_ms = offset.map(|m| m.0);
    }
    check(&settings)?;
    let (dsl, version) = committed(&state, access.workspace_id, current.workflow_id, &settings.inputs).await?;
    let row = schedules::update(&mut *tx, id, &settings).await?;
    ferrocat_app::schedules::replace(&state, &row, dsl, version).await?;
    tx.commit().await?;
    tracing::info!(schedule_id = %schedule_id(row.id), status = %row.status, "schedule updated");
    Ok(Json(read_model(&row)))
}

#[utoipa::path(
    delete,
    path = "/schedules/{schedule_id}",
    tag = "schedules",
    params(("schedule_id" = String, Path, description = "schedule id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_schedule(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(text): Path<String>,
) -> Result<StatusCode, ApiError> {
    access.require(Role::Editor)?;
    let id = parse_schedule_id(&text).ok_or_else(|| not_found(&text))?;
    let mut tx = state.db.begin().await?;
    schedules::get_for_update(&mut *tx, access.workspace_id, id).await?.ok_or_else(|| not_found(&text))?;
    schedules::delete(&mut *tx, id).await?;
    ferrocat_app::schedules::delete(&state, id).await?;
    tx.commit().await?;
    tracing::info!(schedule_id = %schedule_id(id), "schedule deleted");
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_durations_parse_and_print() {
        assert_eq!(parse_iso_duration("PT1S"), Some(1.0));
        assert_eq!(parse_iso_duration("PT1H30M"), Some(5400.0));
        assert_eq!(parse_iso_duration("P1DT2H"), Some(93600.0));
        assert_eq!(parse_iso_duration("P2W"), Some(1_209_600.0));
        assert_eq!(parse_iso_duration("PT0.5S"), Some(0.5));
        for bad in ["", "P", "PT", "1H", "PT1X", "PT1", "P1H", "PTS1"] {
            assert_eq!(parse_iso_duration(bad), None, "{bad}");
        }
        assert_eq!(iso_duration(1000), "PT1S");
        assert_eq!(iso_duration(5_400_000), "PT1H30M");
        assert_eq!(iso_duration(93_600_000), "P1DT2H");
        assert_eq!(iso_duration(86_400_000), "P1D");
        assert_eq!(iso_duration(1500), "PT1.5S");
        assert_eq!(iso_duration(0), "PT0S");
    }

    #[test]
    fn durations_deserialize_from_text_or_seconds() {
        let parse = |v: Value| serde_json::from_value::<Millis>(v);
        assert_eq!(parse(json!("PT2S")).unwrap(), Millis(2000));
        assert_eq!(parse(json!(1.5)).unwrap(), Millis(1500));
        assert!(parse(json!(-1)).is_err());
        assert!(parse(json!("soon")).is_err());
    }

    #[test]
    fn a_schedule_needs_exactly_one_of_cron_and_every() {
        let base = ScheduleSettings {
            status: "online".into(),
            cron: None,
            every_ms: Some(60_000),
            offset_ms: Some(1000),
            start_at: None,
            end_at: None,
            inputs: Value::Null,
            timeout_s: None,
        };
        assert!(check(&base).is_ok());
        let loc = |s: &ScheduleSettings| match check(s) {
            Err(ApiError::Unprocessable { errors, .. }) => errors[0]["loc"].as_str().unwrap().to_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(loc(&ScheduleSettings { cron: Some("* * * * *".into()), ..base.clone() }), "cron");
        assert_eq!(loc(&ScheduleSettings { every_ms: None, ..base.clone() }), "every");
        assert_eq!(loc(&ScheduleSettings { every_ms: Some(500), ..base.clone() }), "every");
        assert_eq!(loc(&ScheduleSettings { offset_ms: Some(60_000), ..base.clone() }), "offset");
        assert_eq!(loc(&ScheduleSettings { status: "paused".into(), ..base.clone() }), "status");
        let now = Utc::now();
        assert_eq!(loc(&ScheduleSettings { start_at: Some(now), end_at: Some(now), ..base.clone() }), "end_at");
    }
}
