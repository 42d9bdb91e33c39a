//! Webhooks. Management under `/workflows/{id}/webhook` (and its optional API key under
//! `/workflows/{id}/webhook/api-key`); the public receiver at `/webhooks/{workflow_id}/{secret}`
//! (start a run, answer once Temporal accepted it) and `/webhooks/{workflow_id}/{secret}/wait`
//! (answer with the run's result). Checks, in order: the webhook exists, the secret matches
//! (constant time), online (400), method (405), client address (403), the API key when the
//! webhook has one (401), the per-webhook rate limit (429), then the body (413 beyond
//! `FERROCAT_WEBHOOK_MAX_PAYLOAD_BYTES`). Only requests that pass the secret, address and key
//! checks count against the webhook's rate limit; refused ones count in a bucket of their own,
//! so someone with the URL but not the key cannot lock out the real sender.
//!
//! With `include_headers` the trigger carries the request's headers, except credentials
//! ([`CREDENTIAL_HEADERS`]): a browser following a link sends its session cookie, and a run's
//! trigger is readable by every member of the workspace.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use secrecy::ExposeSecret;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use ferrocat_app::api_keys;
use ferrocat_app::db::webhooks::{self, WebhookKeyRow, WebhookRow, WebhookSettings};
use ferrocat_app::db::workflows;
use ferrocat_app::runs::{self, NewRun};
use ferrocat_dsl::Workflow;
use ferrocat_shared::ids;

use super::{Path, Query, client_ip};
use super::workflows::{load, parse_workflow_path};
use crate::auth::{Role, WorkspaceAccess};
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/workflows/{workflow_id}/webhook", get(get_webhook).post(create_webhook).patch(create_webhook))
        .route("/workflows/{workflow_id}/webhook/api-key", post(create_webhook_api_key).delete(delete_webhook_api_key))
        .route("/workflows/{workflow_id}/webhook/api-key/revoke", post(revoke_webhook_api_key))
        .route("/workflows/{workflow_id}/webhook/rotate", post(rotate_webhook_secret))
        .route("/webhooks/{workflow_id}/{secret}", any(receive_webhook))
        .route("/webhooks/{workflow_id}/{secret}/wait", post(receive_webhook_wait))
}

/// The secret in a webhook's URL: `sha256_hex("wh-" + id.hex + signing_secret)`, as Tracecat,
/// until the secret is first rotated; then `sha256_hex("wh-" + id.hex + ":" + salt + ":" +
/// signing_secret)` with the webhook's stored random salt.
pub fn webhook_secret(webhook_id: Uuid, salt: Option<&str>, signing_secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"wh-");
    hasher.update(webhook_id.simple().to_string().as_bytes());
    if let Some(salt) = salt {
        hasher.update(b":");
        hasher.update(salt.as_bytes());
        hasher.update(b":");
    }
    hasher.update(signing_secret.as_bytes());
    hex::encode(hasher.finalize())
}

fn secret_of(state: &AppState, row: &WebhookRow) -> String {
    webhook_secret(row.id, row.secret_salt.as_deref(), state.config.signing_secret.expose_secret())
}

/// The header that carries a webhook's API key.
pub const API_KEY_HEADER: &str = "x-tracecat-api-key";

/// Request headers never copied into a trigger: the credentials of this stack (session cookie,
/// bearer tokens, API keys, the model gateway's token) and of proxies. Header names arrive
/// lowercased, so every spelling of these is caught.
pub const CREDENTIAL_HEADERS: &[&str] = &[
    "cookie",
    "authorization",
    "proxy-authorization",
    API_KEY_HEADER,
    "x-api-key",
    "x-ferrocat-token",
];

/// Whether a request header is a credential that must not reach a run (see
/// [`CREDENTIAL_HEADERS`]; also every `x-ferrocat-*` header, which only this stack sets).
pub fn is_credential_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    CREDENTIAL_HEADERS.contains(&name.as_str()) || name.starts_with("x-ferrocat-")
}

fn key_model(key: Option<&WebhookKeyRow>) -> Value {
    match key {
        Some(key) => json!({"preview": key.preview, "created_at": key.created_at, "revoked_at": key.revoked_at}),
        None => Value::Null,
    }
}

/// The webhook as the management routes show it. The secret and the URL (which carries it) are
/// a credential that runs the workflow: only for editors and above (`with_secret`).
fn read_model(state: &AppState, row: &WebhookRow, key: Option<&WebhookKeyRow>, with_secret: bool) -> Value {
    let wf = ids::workflow_id(row.workflow_id);
    let mut model = json!({
        "id": row.id,
        "workflow_id": wf,
        "status": row.status,
        "methods": row.methods,
        "allowlisted_cidrs": row.allowlisted_cidrs,
        "include_headers": row.include_headers,
        "api_key": key_model(key),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    });
    if with_secret {
        let secret = secret_of(state, row);
        model["url"] = Value::String(format!("{}/api/webhooks/{wf}/{secret}", state.config.public_url));
        model["secret"] = Value::String(secret);
    }
    model
}

#[derive(Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct WebhookUpdate {
    status: Option<String>,
    methods: Option<Vec<String>>,
    allowlisted_cidrs: Option<Vec<String>>,
    include_headers: Option<bool>,
}

/// Allow-list entries: the one CIDR type, lenient about host bits (lists typed before that
/// was checked keep working).
pub use ferrocat_shared::net::Cidr;

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
    responses((status = 200, description = "the webhook; its secret and URL only for editors and above", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_webhook(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let workflow = load(&state, &access, &workflow_id).await?;
    let row = webhooks::for_workflow(&state.db, workflow.id)
        .await?
        .ok_or_else(|| ApiError::NotFound("this workflow has no webhook".into()))?;
    let key = webhooks::api_key(&state.db, row.id).await?;
    let with_secret = access.require(Role::Editor).is_ok();
    Ok(Json(read_model(&state, &row, key.as_ref(), with_secret)))
}

#[utoipa::path(
    post,
    path = "/workflows/{workflow_id}/webhook",
    tag = "webhooks",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body(content = WebhookUpdate, content_type = "application/json"),
    responses((status = 200, description = "the webhook, with its URL", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_webhook(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let workflow = load(&state, &access, &workflow_id).await?;
    let update: WebhookUpdate = if body.iter().all(u8::is_ascii_whitespace) {
        WebhookUpdate::default()
    } else {
        // Settings are JSON like every other body here: a text/plain form is not read as JSON.
        super::require_json(&headers)?;
        serde_json::from_slice(&body).map_err(|e| ApiError::BadRequest(format!("invalid webhook settings: {e}")))?
    };
    let current = webhooks::for_workflow(&state.db, workflow.id).await?;
    let settings = validate_settings(update, current.as_ref())?;
    let row = webhooks::upsert(&state.db, access.workspace_id, workflow.id, &settings).await?;
    let key = webhooks::api_key(&state.db, row.id).await?;
    Ok(Json(read_model(&state, &row, key.as_ref(), true)))
}

/// `POST /workflows/{id}/webhook/rotate`: a new URL secret (editor role). The old URL stops
/// working at once (401); settings and the API key stay.
#[utoipa::path(
    post,
    path = "/workflows/{workflow_id}/webhook/rotate",
    tag = "webhooks",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the webhook, with its new secret and URL", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn rotate_webhook_secret(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let workflow = load(&state, &access, &workflow_id).await?;
    let mut salt = [0u8; 32];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut salt);
    let row = webhooks::rotate_secret(&state.db, workflow.id, &hex::encode(salt))
        .await?
        .ok_or_else(|| ApiError::NotFound("this workflow has no webhook".into()))?;
    tracing::info!(webhook_id = %row.id, "webhook secret rotated");
    let key = webhooks::api_key(&state.db, row.id).await?;
    Ok(Json(read_model(&state, &row, key.as_ref(), true)))
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
async fn create_webhook_api_key(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path(workflow_id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (webhook, user) = webhook_for_keys(&state, &access, &workflow_id).await?;
    let (key, hash, preview) = api_keys::generate_webhook_key();
    let row = webhooks::put_api_key(&state.db, webhook.id, &hash, &preview, user).await?;
    tracing::info!(webhook_id = %webhook.id, "webhook API key issued");
    let mut body = key_model(Some(&row));
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
async fn revoke_webhook_api_key(
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
async fn delete_webhook_api_key(
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

#[derive(Deserialize, Default)]
struct ReceiveQuery {
    #[serde(default)]
    echo: bool,
    #[serde(default)]
    empty_echo: bool,
    vendor: Option<String>,
    #[serde(default)]
    unwrap: bool,
}

/// A request that passed every webhook check, with its parsed payload.
struct Accepted {
    webhook: WebhookRow,
    dsl: Workflow,
    version: i32,
    trigger: Value,
}

fn parse_payload(headers: &HeaderMap, body: &[u8]) -> Result<Value, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
        .unwrap_or_default();
    match content_type.as_str() {
        "application/x-www-form-urlencoded" => {
            let map: Map<String, Value> = url::form_urlencoded::parse(body)
                .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
                .collect();
            Ok(Value::Object(map))
        }
        "application/x-ndjson" | "application/jsonlines" | "application/jsonl" => {
            let text = std::str::from_utf8(body).map_err(|_| ApiError::BadRequest("body is not UTF-8".into()))?;
            text.lines()
                .enumerate()
                .filter(|(_, line)| !line.trim().is_empty())
                .map(|(i, line)| {
                    serde_json::from_str(line)
                        .map_err(|e| ApiError::BadRequest(format!("invalid NDJSON on line {}: {e}", i + 1)))
                })
                .collect::<Result<Vec<Value>, _>>()
                .map(Value::Array)
        }
        _ => serde_json::from_slice(body).map_err(|e| ApiError::BadRequest(format!("invalid JSON body: {e}"))),
    }
}

async fn accept(
    state: &AppState,
    workflow_id: &str,
    secret: &str,
    method: &Method,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Accepted, ApiError> {
    let not_found = || ApiError::NotFound("webhook not found".into());
    let id = parse_workflow_path(workflow_id).map_err(|_| not_found())?;
    let webhook = webhooks::for_workflow(&state.db, id).await?.ok_or_else(not_found)?;
    let expected = secret_of(state, &webhook);
    if !bool::from(expected.as_bytes().ct_eq(secret.as_bytes())) {
        return Err(ApiError::Unauthorized("invalid webhook secret".into()));
    }
    if headers.contains_key(header::COOKIE) {
        // The edge removes cookies on /api/webhooks/*: this one came around it (a direct
        // connection to the api, or another proxy in front). Never passed to the run.
        tracing::warn!(webhook_id = %webhook.id, "a webhook request carried a Cookie header; it is not passed to the run");
    }
    if webhook.status != "online" {
        return Err(ApiError::BadRequest("Webhook is offline".into()));
    }
    if !webhook.methods.iter().any(|m| m == method.as_str()) {
        return Err(ApiError::MethodNotAllowed(format!("method {method} is not allowed for this webhook")));
    }
    if let Err(refused) = check_caller(state, &webhook, peer, headers).await {
        // A refusal counts in its own bucket: beyond the limit the refused caller gets 429,
        // and the sender with the key keeps its whole budget.
        check_rate(state, &webhook, Bucket::Refused).await?;
        return Err(refused);
    }
    check_rate(state, &webhook, Bucket::Accepted).await?;
    if body.len() > state.config.webhook_max_payload_bytes {
        return Err(payload_too_large(body.len(), state.config.webhook_max_payload_bytes));
    }
    let definition = workflows::definition(&state.db, webhook.workspace_id, id, None)
        .await?
        .ok_or_else(|| ApiError::NotFound("the workflow has no committed definition".into()))?;
    let dsl: Workflow = serde_json::from_value(definition.content).map_err(|e| ApiError::Internal(e.into()))?;
    let mut trigger = parse_payload(headers, body)?;
    if webhook.include_headers {
        let mut header_map = Map::new();
        for (name, value) in headers {
            if !is_credential_header(name.as_str()) {
                header_map.insert(name.as_str().into(), Value::String(String::from_utf8_lossy(value.as_bytes()).into()));
            }
        }
        trigger = json!({
            "status_code": 200,
            "headers": header_map,
            "data": trigger,
            "raw_body": String::from_utf8_lossy(body),
        });
        // Headers and the raw body double what the run carries: check the whole trigger.
        let size = serde_json::to_vec(&trigger).map_or(usize::MAX, |v| v.len());
        if size > state.config.webhook_max_payload_bytes {
            return Err(payload_too_large(size, state.config.webhook_max_payload_bytes));
        }
    }
    // Refuse inputs the workflow's `expects` would reject, before anything starts.
    ferrocat_dsl::normalize_trigger_inputs(&dsl.entrypoint.expects, &trigger)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Accepted { webhook, dsl, version: definition.version, trigger })
}

fn payload_too_large(size: usize, limit: usize) -> ApiError {
    ApiError::PayloadTooLarge(format!(
        "the webhook payload is {size} bytes; a run's trigger may be at most {limit} bytes"
    ))
}

/// The client address (when the webhook has an allow-list) and the API key (when it has one).
async fn check_caller(state: &AppState, webhook: &WebhookRow, peer: SocketAddr, headers: &HeaderMap) -> Result<(), ApiError> {
    if !webhook.allowlisted_cidrs.is_empty() {
        let ip = client_ip(peer, headers);
        let allowed = webhook.allowlisted_cidrs.iter().filter_map(|c| Cidr::parse_lenient(c).ok()).any(|c| c.contains(ip));
        if !allowed {
            return Err(ApiError::Forbidden("client address is not allowed for this webhook".into()));
        }
    }
    if let Some(key) = webhooks::api_key_credential(&state.db, webhook.id).await? {
        if key.revoked {
            return Err(ApiError::Unauthorized("the webhook API key was revoked".into()));
        }
        let presented = headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok()).unwrap_or("");
        if !api_keys::verify_webhook_key(presented, &key.secret_hash) {
            return Err(ApiError::Unauthorized(format!("missing or invalid {API_KEY_HEADER} header")));
        }
    }
    Ok(())
}

/// Which of a webhook's two rate-limit buckets a request counts in.
#[derive(Clone, Copy)]
enum Bucket {
    /// Requests that passed every check: the budget of the real sender.
    Accepted,
    /// Requests refused by the address or API-key check.
    Refused,
}

/// The limiter bucket of a webhook (also read by the tests).
pub fn rate_bucket(webhook_id: Uuid, refused: bool) -> String {
    if refused { format!("webhook-refused:{webhook_id}") } else { format!("webhook:{webhook_id}") }
}

/// Counts the request against its webhook's window in Redis; 429 with `Retry-After` beyond the
/// limit. When Redis cannot answer the request is let through (and the failure logged): the
/// limit protects capacity, and the secret, not the limit, guards access.
async fn check_rate(state: &AppState, webhook: &WebhookRow, bucket: Bucket) -> Result<(), ApiError> {
    let limit = state.config.webhook_rate_limit;
    if limit == 0 {
        return Ok(());
    }
    let key = rate_bucket(webhook.id, matches!(bucket, Bucket::Refused));
    match state.limiter.hit(&key, limit, state.config.webhook_rate_window).await {
        Ok(decision) if !decision.allowed => Err(ApiError::TooManyRequests {
            detail: "too many requests for this webhook".into(),
            retry_after: decision.retry_after_seconds(),
        }),
        Ok(_) => Ok(()),
        Err(error) => {
            tracing::error!(webhook_id = %webhook.id, error = %error, "webhook rate limit unavailable; request let through");
            Ok(())
        }
    }
}

/// The query flags a webhook takes (read by hand so that a bad value is a clear 400).
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub(super) struct ReceiveParams {
    /// Answer with the request body instead of the run's ids.
    echo: Option<bool>,
    /// Answer 204 with no body.
    empty_echo: Option<bool>,
    /// `/wait`: answer with the bare value.
    unwrap: Option<bool>,
    /// `okta` answers Okta's one-time verification challenge.
    vendor: Option<String>,
}

#[utoipa::path(
    post,
    path = "/webhooks/{workflow_id}/{secret}",
    tag = "webhooks",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("secret" = String, Path, description = "the webhook secret"), ReceiveParams),
    request_body(content = serde_json::Value, description = "any payload: JSON, form-encoded or NDJSON"),
    responses((status = 200, description = "accepted: the run's ids (or the echo)", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn receive_webhook(
    State(state): State<AppState>,
    Path((workflow_id, secret)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let query = parse_query(&query)?;
    if let Some(vendor) = &query.vendor
        && vendor != "okta"
    {
        return Err(ApiError::BadRequest(format!("unsupported vendor {vendor:?}")));
    }
    let accepted = accept(&state, &workflow_id, &secret, &method, peer, &headers, &body).await?;
    if query.vendor.as_deref() == Some("okta") {
        let challenge = headers.get("x-okta-verification-challenge").and_then(|v| v.to_str().ok()).unwrap_or("");
        return Ok(Json(json!({"verification": challenge})).into_response());
    }
    let echo_payload = query.echo.then(|| accepted.trigger.clone());
    let exec_id = runs::start(&state, NewRun {
        workflow_id: accepted.webhook.workflow_id,
        workspace_id: accepted.webhook.workspace_id,
        version: accepted.version,
        dsl: accepted.dsl,
        trigger: accepted.trigger,
        trigger_type: "webhook",
    })
    .await?;
    tracing::info!(wf_exec_id = %exec_id, "webhook started a run");
    if query.empty_echo {
        return Ok(().into_response());
    }
    let mut body = json!({
        "message": "Workflow execution created",
        "wf_id": ids::workflow_id(accepted.webhook.workflow_id),
        "wf_exec_id": exec_id,
    });
    if let Some(payload) = echo_payload {
        body["payload"] = payload;
    }
    Ok(Json(body).into_response())
}

#[utoipa::path(
    post,
    path = "/webhooks/{workflow_id}/{secret}/wait",
    tag = "webhooks",
    params(("workflow_id" = String, Path, description = "workflow id (wf_…)"), ("secret" = String, Path, description = "the webhook secret"), ReceiveParams),
    request_body(content = serde_json::Value, description = "any payload: JSON, form-encoded or NDJSON"),
    responses((status = 200, description = "the run's return value", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn receive_webhook_wait(
    State(state): State<AppState>,
    Path((workflow_id, secret)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let query = parse_query(&query)?;
    let accepted = accept(&state, &workflow_id, &secret, &Method::POST, peer, &headers, &body).await?;
    let exec_id = runs::start(&state, NewRun {
        workflow_id: accepted.webhook.workflow_id,
        workspace_id: accepted.webhook.workspace_id,
        version: accepted.version,
        dsl: accepted.dsl,
        trigger: accepted.trigger,
        trigger_type: "webhook",
    })
    .await?;
    let value = runs::wait_result(&state, &exec_id).await?;
    // A return value kept in object storage: a short-lived download link, or (unwrap) the value.
    if let Some(stored) = ferrocat_shared::objects::StoredRef::from_value(&value)
        && let Some(store) = &state.results
    {
        if query.unwrap {
            let value = store.load(&stored).await.map_err(|e| ApiError::Internal(e.into()))?;
            return Ok(Json(value).into_response());
        }
        return Ok(Json(runs::download_envelope(store, &stored).await?).into_response());
    }
    if query.unwrap {
        return Ok(Json(value).into_response());
    }
    Ok(Json(json!({"kind": "value", "value": value})).into_response())
}

/// Boolean query flags accept `true/false/1/0`; anything else is a 400, not a silent default.
fn parse_query(raw: &HashMap<String, String>) -> Result<ReceiveQuery, ApiError> {
    let flag = |name: &str| -> Result<bool, ApiError> {
        match raw.get(name).map(|v| v.to_ascii_lowercase()) {
            None => Ok(false),
            Some(v) if v == "true" || v == "1" => Ok(true),
            Some(v) if v == "false" || v == "0" => Ok(false),
            Some(v) => Err(ApiError::BadRequest(format!("query parameter {name} must be true or false, got {v:?}"))),
        }
    };
    Ok(ReceiveQuery {
        echo: flag("echo")?,
        empty_echo: flag("empty_echo")?,
        unwrap: flag("unwrap")?,
        vendor: raw.get("vendor").cloned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_is_sha256_of_prefixed_hex_id_and_signing_secret() {
        let id = Uuid::parse_str("0193a7a0-0000-7000-8000-000000000001").unwrap();
        let expected = hex::encode(Sha256::digest(b"wh-0193a7a0000070008000000000000001signing"));
        assert_eq!(webhook_secret(id, None, "signing"), expected);
        assert_ne!(webhook_secret(id, None, "other"), expected);
        let rotated = webhook_secret(id, Some("00ff"), "signing");
        assert_eq!(rotated, hex::encode(Sha256::digest(b"wh-0193a7a0000070008000000000000001:00ff:signing")));
        assert_ne!(rotated, webhook_secret(id, Some("00fe"), "signing"));
    }

    #[test]
    fn credential_headers_are_caught_in_any_case() {
        for name in ["cookie", "Cookie", "AUTHORIZATION", "Proxy-Authorization", "X-Tracecat-Api-Key", "x-api-key", "X-Ferrocat-Token", "x-ferrocat-anything"] {
            assert!(is_credential_header(name), "{name}");
        }
        for name in ["content-type", "x-alert-source", "x-hub-signature-256", "user-agent"] {
            assert!(!is_credential_header(name), "{name}");
        }
    }

    #[test]
    fn cidrs_match_v4_v6_and_mapped() {
        let net = Cidr::parse_lenient("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        let v6 = Cidr::parse_lenient("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!(Cidr::parse_lenient("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse_lenient("10.0.0.0/33").is_err());
        assert!(Cidr::parse_lenient("nope").is_err());
        assert_eq!(Cidr::parse_lenient("1.2.3.4").unwrap().prefix_len(), 32);
    }

    #[test]
    fn payloads_parse_by_content_type() {
        let mut headers = HeaderMap::new();
        assert_eq!(parse_payload(&headers, b"").unwrap(), Value::Null);
        assert_eq!(parse_payload(&headers, br#"{"a":1}"#).unwrap(), json!({"a": 1}));
        assert!(parse_payload(&headers, b"{not json").is_err());
        headers.insert(header::CONTENT_TYPE, "application/x-www-form-urlencoded".parse().unwrap());
        assert_eq!(parse_payload(&headers, b"a=1&b=x+y").unwrap(), json!({"a": "1", "b": "x y"}));
        headers.insert(header::CONTENT_TYPE, "application/x-ndjson".parse().unwrap());
        assert_eq!(parse_payload(&headers, b"{\"a\":1}\n\n{\"a\":2}\n").unwrap(), json!([{"a": 1}, {"a": 2}]));
        let err = parse_payload(&headers, b"{\"a\":1}\nnope").unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }

    /// Any JSON value, nested a few levels.
    fn json_value() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(|n| json!(n)),
            "\\PC{0,12}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 32, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map("\\PC{0,6}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 256, failure_persistence: None, ..Default::default() })]

        /// Whatever a sender posts, under whatever content type, is a value or a 400, never a
        /// panic or a 5xx.
        #[test]
        fn any_body_is_a_value_or_a_400(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512), kind in 0usize..5) {
            let mut headers = HeaderMap::new();
            let types = ["", "application/json", "application/x-www-form-urlencoded", "application/x-ndjson; charset=utf-8", "text/plain"];
            if !types[kind].is_empty() {
                headers.insert(header::CONTENT_TYPE, types[kind].parse().unwrap());
            }
            if let Err(error) = parse_payload(&headers, &body) {
                proptest::prop_assert_eq!(error.status_code(), axum::http::StatusCode::BAD_REQUEST);
            }
        }

        /// JSON and NDJSON bodies come back as the values that were sent.
        #[test]
        fn json_and_ndjson_round_trip(values in proptest::collection::vec(json_value(), 1..4)) {
            let mut headers = HeaderMap::new();
            let one = serde_json::to_vec(&values[0]).unwrap();
            let expected = if one.iter().all(u8::is_ascii_whitespace) { Value::Null } else { values[0].clone() };
            proptest::prop_assert_eq!(parse_payload(&headers, &one).unwrap(), expected);
            headers.insert(header::CONTENT_TYPE, "application/x-ndjson".parse().unwrap());
            let lines: Vec<String> = values.iter().map(|v| serde_json::to_string(v).unwrap()).collect();
            proptest::prop_assert_eq!(parse_payload(&headers, lines.join("\n").as_bytes()).unwrap(), Value::Array(values));
        }

        /// Nesting past the JSON parser's limit is a 400, however deep.
        #[test]
        fn deep_json_is_a_400(depth in 129usize..20_000, open in proptest::sample::select(vec!["[", "{\"a\":"])) {
            let close = if open == "[" { "]" } else { "}" };
            let body = format!("{}1{}", open.repeat(depth), close.repeat(depth));
            let error = parse_payload(&HeaderMap::new(), body.as_bytes()).unwrap_err();
            proptest::prop_assert_eq!(error.status_code(), axum::http::StatusCode::BAD_REQUEST);
        }
    }
}
