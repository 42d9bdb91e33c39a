//! Managing a workflow's webhook: read it (its URL secret for editors only), create or change
//! it, rotate its secret, and give it an API key, revoke or delete that key.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use ferrocat_app::api_keys;
use ferrocat_app::db::webhooks::{self, WebhookKeyRow, WebhookRow, WebhookSettings};
use ferrocat_shared::ids;
use ferrocat_shared::net::Cidr;

use super::{Path, secret_of};
use crate::http::workflows::load;
use crate::auth::{Role, WorkspaceAccess};
use crate::error::ApiError;
use crate::state::AppState;

/// A webhook's API key as the management routes show it: never the key itself.
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct WebhookKeyRead {
    /// The key's first characters, to tell keys apart.
    preview: String,
    created_at: DateTime<Utc>,
    revoked_at: Option<DateTime<Utc>>,
}

fn key_model(key: &WebhookKeyRow) -> WebhookKeyRead {
    WebhookKeyRead { preview: key.preview.clone(), created_at: key.created_at, revoked_at: key.revoked_at }
}

/// The webhook as the management routes show it. The secret and the URL (which carries it) are
/// a credential that runs the workflow: only for editors and above (`with_secret`).
#[derive(Serialize, utoipa::ToSchema)]
pub(super) struct WebhookRead {
    id: Uuid,
    /// `wf_…`
    workflow_id: String,
    /// `online` or `offline`.
    status: String,
    methods: Vec<String>,
    allowlisted_cidrs: Vec<String>,
    include_headers: bool,
    api_key: Option<WebhookKeyRead>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// The URL to call, secret included (editors and above only).
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    /// The URL's secret (editors and above only).
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<String>,
}

fn read_model(state: &AppState, row: &WebhookRow, key: Option<&WebhookKeyRow>, with_secret: bool) -> Json<WebhookRead> {
    let wf = ids::workflow_id(row.workflow_id);
    let secret = with_secret.then(|| secret_of(state, row));
    Json(WebhookRead {
        id: row.id,
        url: secret.as_ref().map(|secret| format!("{}/api/webhooks/{wf}/{secret}", state.config.public_url)),
        secret,
        workflow_id: wf,
        status: row.status.clone(),
        methods: row.methods.clone(),
        allowlisted_cidrs: row.allowlisted_cidrs.clone(),
        include_headers: row.include_headers,
        api_key: key.map(key_model),
        created_at: row.created_at,
        updated_at: row.updated_at,
    })
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct WebhookUpdate {
    status: Option<String>,
    methods: Option<Vec<String>>,
    allowlisted_cidrs: Option<Vec<String>>,
    include_headers: Option<bool>,
}

fn validate_settings(update: WebhookUpdate, current: Option<&WebhookRow>) -> Result<WebhookSettings, ApiError> {
    let status = update.status.or_else(|| current.map(|c| c.status.clone())).unwrap_or_else(|| "online".into());
    if status != "online" && status != "offline" {
        return Err(ApiError::Unprocessable {
            detail: "status must be online or offline".into(),
            errors: vec![json!({"loc": "status", "msg": format!("invalid status {status:?}")})],
        });
    }
    let methods: Vec<String> = match update.methods {
        Some(m) => m.into_iter().map(|m| m.to_ascii_uppercase()).collect(),
        None => current.map(|c| c.methods.clone()).unwrap_or_else(|| vec!["POST".into()]),
    };
    if methods.is_empty() || methods.iter().any(|m| m != "GET" && m != "POST") {
        return Err(ApiError::Unprocessable {
            detail: "methods must be a non-empty subset of GET, POST".into(),
            errors: vec![json!({"loc": "methods", "msg": format!("invalid methods {methods:?}")})],
        });
    }
    let cidrs = update
        .allowlisted_cidrs
        .or_else(|| current.map(|c| c.allowlisted_cidrs.clone()))
        .unwrap_or_default();
    for cidr in &cidrs {
        Cidr::parse_lenient(cidr).map_err(|msg| ApiError::Unprocessable {
            detail: msg.clone(),
            errors: vec![json!({"loc": "allowlisted_cidrs", "msg": msg})],
        })?;
    }
    Ok(WebhookSettings {
        status,
        methods,
        allowlisted_cidrs: cidrs,
        include_headers: update.include_headers.or(current.map(|c| c.include_headers)).unwrap_or(false),
    })
}

#[utoipa::path(
    get,
    path = "/workflows/{workflow_id}/webhook",
    tag = "webhooks",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the webhook; its secret and URL only for editors and above", body = WebhookRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
pub(super) async fn get_webhook(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<Json<WebhookRead>, ApiError> {
    let workflow = load(&state, &access, &workflow_id).await?;
    let row = webhooks::for_workflow(&state.db, workflow.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("this workflow has no webhook".into()))?;
    let key = webhooks::api_key(&state.db, row.id).await?;
    let with_secret = access.require(Role::Editor).is_ok();
    Ok(read_model(&state, &row, key.as_ref(), with_secret))
}

#[utoipa::path(
    post,
    path = "/workflows/{workflow_id}/webhook",
    tag = "webhooks",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body(content = WebhookUpdate, content_type = "application/json"),
    responses((status = 200, description = "the webhook, with its URL", body = WebhookRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
pub(super) async fn create_webhook(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<WebhookRead>, ApiError> {
    access.require(Role::Editor)?;
    let workflow = load(&state, &access, &workflow_id).await?;
    let update: WebhookUpdate = if body.iter().all(u8::is_ascii_whitespace) {
        WebhookUpdate::default()
    } else {
        // Settings are JSON like every other body here: a text/plain form is not read as JSON.
        crate::http::require_json(&headers)?;
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("invalid webhook settings: {e}")))?
    };
    let current = webhooks::for_workflow(&state.db, workflow.id).await?;
    let settings = validate_settings(update, current.as_ref())?;
    let row = webhooks::upsert(&state.db, access.workspace_id, workflow.id, &settings).await?;
    let key = webhooks::api_key(&state.db, row.id).await?;
    Ok(read_model(&state, &row, key.as_ref(), true))
}

/// `POST /workflows/{id}/webhook/rotate`: a new URL secret (editor role). The old URL stops
/// working at once (401); settings and the API key stay.
#[utoipa::path(
    post,
    path = "/workflows/{workflow_id}/webhook/rotate",
    tag = "webhooks",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the webhook, with its new secret and URL", body = WebhookRead), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
pub(super) async fn rotate_webhook_secret(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<Json<WebhookRead>, ApiError> {
    access.require(Role::Editor)?;
    let workflow = load(&state, &access, &workflow_id).await?;
    let mut salt = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut salt);
    let row = webhooks::rotate_secret(&state.db, workflow.id, &hex::encode(salt))
        .await?
        .ok_or_else(|| ApiError::NotFound("this workflow has no webhook".into()))?;
    tracing::info!(webhook_id = %row.id, "webhook secret rotated");
    let key = webhooks::api_key(&state.db, row.id).await?;
    Ok(read_model(&state, &row, key.as_ref(), true))
}

/// The caller's workflow's webhook, for key management (editor role, people only).
async fn webhook_for_keys(state: &AppState, access: &WorkspaceAccess, workflow_id: &str) -> Result<(WebhookRow, Option<Uuid>), ApiError> {
    let user = access.require_user(Role::Editor)?.id;
    let workflow = load(state, access, workflow_id).await?;
    let row = webhooks::for_workflow(&state.db, workflow.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("this workflow has no webhook".into()))?;
    Ok((row, Some(user)))
}

/// `POST /workflows/{id}/webhook/api-key`: issues the webhook's key, replacing any previous one
/// (rotation). The key is in this answer only.
#[utoipa::path(
    post,
    path = "/workflows/{workflow_id}/webhook/api-key",
    tag = "webhooks",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 201, description = "the new key, shown once", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
pub(super) async fn create_webhook_api_key(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (webhook, user) = webhook_for_keys(&state, &access, &workflow_id).await?;
    let (key, hash, preview) = api_keys::generate_webhook_key();
    let row = webhooks::put_api_key(&state.db, webhook.id, &hash, &preview, user).await?;
    tracing::info!(webhook_id = %webhook.id, "webhook API key issued");
    let mut body = serde_json::to_value(key_model(&row)).map_err(|e| ApiError::Internal(e.into()))?;
    body["api_key"] = Value::String(key);
    Ok((StatusCode::CREATED, Json(body)))
}

/// `POST /workflows/{id}/webhook/api-key/revoke`: the key stops working and, until a new one is
/// issued or the key is deleted, so does the webhook.
#[utoipa::path(
    post,
    path = "/workflows/{workflow_id}/webhook/api-key/revoke",
    tag = "webhooks",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "revoked"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
pub(super) async fn revoke_webhook_api_key(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (webhook, _) = webhook_for_keys(&state, &access, &workflow_id).await?;
    if !webhooks::revoke_api_key(&state.db, webhook.id).await? {
        return Err(ApiError::NotFound("this webhook has no active API key".into()));
    }
    tracing::info!(webhook_id = %webhook.id, "webhook API key revoked");
    Ok(StatusCode::NO_CONTENT)
}

/// `DELETE /workflows/{id}/webhook/api-key`: the webhook no longer needs a key.
#[utoipa::path(
    delete,
    path = "/workflows/{workflow_id}/webhook/api-key",
    tag = "webhooks",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
pub(super) async fn delete_webhook_api_key(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let (webhook, _) = webhook_for_keys(&state, &access, &workflow_id).await?;
    if !webhooks::delete_api_key(&state.db, webhook.id).await? {
        return Err(ApiError::NotFound("this webhook has no API key".into()));
    }
    tracing::info!(webhook_id = %webhook.id, "webhook API key deleted");
    Ok(StatusCode::NO_CONTENT)
}
