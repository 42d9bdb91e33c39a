//! Webhooks. Management under `/workflows/{id}/webhook` (and its optional API key under
//! `/workflows/{id}/webhook/api-key`); the public receiver at `/webhooks/{workflow_id}/{secret}`
//! (start a run, answer once Temporal accepted it) and `/webhooks/{workflow_id}/{secret}/wait`
//! (answer with the run's result). Checks, in order: the webhook exists, the secret matches
//! (constant time), the per-webhook rate limit (429), online (400), method (405), client address
//! (403), the API key when the webhook has one (401), then the body.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

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

use ferrocat_shared::dsl::Workflow;
use ferrocat_shared::ids;

use super::{Path, Query, client_ip};
use super::workflows::{load, parse_workflow_path};
use crate::auth::{Role, WorkspaceAccess};
use crate::api_keys;
use crate::db::webhooks::{self, WebhookKeyRow, WebhookRow, WebhookSettings};
use crate::db::workflows;
use crate::error::ApiError;
use crate::runs::{self, NewRun};
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/workflows/{workflow_id}/webhook", get(get_webhook).post(create_webhook).patch(create_webhook))
        .route("/workflows/{workflow_id}/webhook/api-key", post(create_webhook_api_key).delete(delete_webhook_api_key))
        .route("/workflows/{workflow_id}/webhook/api-key/revoke", post(revoke_webhook_api_key))
        .route("/webhooks/{workflow_id}/{secret}", any(receive_webhook))
        .route("/webhooks/{workflow_id}/{secret}/wait", post(receive_webhook_wait))
}

/// The secret in a webhook's URL: `sha256_hex("wh-" + id.hex + signing_secret)`, as Tracecat.
pub fn webhook_secret(webhook_id: Uuid, signing_secret: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(b"wh-");
    hasher.update(webhook_id.simple().to_string().as_bytes());
    hasher.update(signing_secret.as_bytes());
    hex::encode(hasher.finalize())
}

/// The header that carries a webhook's API key.
pub const API_KEY_HEADER: &str = "x-tracecat-api-key";

fn key_model(key: Option<&WebhookKeyRow>) -> Value {
    match key {
        Some(key) => json!({"preview": key.preview, "created_at": key.created_at, "revoked_at": key.revoked_at}),
        None => Value::Null,
    }
}

fn read_model(state: &AppState, row: &WebhookRow, key: Option<&WebhookKeyRow>) -> Value {
    let secret = webhook_secret(row.id, state.config.signing_secret.expose_secret());
    let wf = ids::workflow_id(row.workflow_id);
    json!({
        "id": row.id,
        "workflow_id": wf,
        "secret": secret,
        "url": format!("{}/api/webhooks/{wf}/{secret}", state.config.public_url),
        "status": row.status,
        "methods": row.methods,
        "allowlisted_cidrs": row.allowlisted_cidrs,
        "include_headers": row.include_headers,
        "api_key": key_model(key),
        "created_at": row.created_at,
        "updated_at": row.updated_at,
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

/// An IPv4 or IPv6 network in CIDR notation (a bare address is a /32 or /128).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `10.0.0.0/8`, `2001:db8::/32` or a single address.
    pub fn parse(text: &str) -> Result<Cidr, String> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (text, None),
        };
        let addr: IpAddr = addr.trim().parse().map_err(|_| format!("invalid CIDR {text:?}"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max).ok_or_else(|| format!("invalid CIDR {text:?}"))?,
            None => max,
        };
        Ok(Cidr { addr, prefix })
    }

    /// Whether `ip` lies in this network (IPv4-mapped IPv6 addresses count as IPv4).
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
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
        Cidr::parse(cidr).map_err(|msg| ApiError::Unprocessable {
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
    responses((status = 200, description = "the webhook, with its URL", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
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
    Ok(Json(read_model(&state, &row, key.as_ref())))
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
    Ok(Json(read_model(&state, &row, key.as_ref())))
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
    let expected = webhook_secret(webhook.id, state.config.signing_secret.expose_secret());
    if !bool::from(expected.as_bytes().ct_eq(secret.as_bytes())) {
        return Err(ApiError::Unauthorized("invalid webhook secret".into()));
    }
    check_rate(state, &webhook).await?;
    if webhook.status != "online" {
        return Err(ApiError::BadRequest("Webhook is offline".into()));
    }
    if !webhook.methods.iter().any(|m| m == method.as_str()) {
        return Err(ApiError::MethodNotAllowed(format!("method {method} is not allowed for this webhook")));
    }
    if !webhook.allowlisted_cidrs.is_empty() {
        let ip = client_ip(peer, headers);
        let allowed = webhook.allowlisted_cidrs.iter().filter_map(|c| Cidr::parse(c).ok()).any(|c| c.contains(ip));
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
    let definition = workflows::definition(&state.db, webhook.workspace_id, id, None)
        .await?
        .ok_or_else(|| ApiError::NotFound("the workflow has no committed definition".into()))?;
    let dsl: Workflow = serde_json::from_value(definition.content).map_err(|e| ApiError::Internal(e.into()))?;
    let mut trigger = parse_payload(headers, body)?;
    if webhook.include_headers {
        let mut header_map = Map::new();
        for (name, value) in headers {
            if name.as_str() != API_KEY_HEADER {
                header_map.insert(name.as_str().into(), Value::String(String::from_utf8_lossy(value.as_bytes()).into()));
            }
        }
        trigger = json!({
            "status_code": 200,
            "headers": header_map,
            "data": trigger,
            "raw_body": String::from_utf8_lossy(body),
        });
    }
    // Refuse inputs the workflow's `expects` would reject, before anything starts.
    ferrocat_shared::dsl::normalize_trigger_inputs(&dsl.entrypoint.expects, &trigger)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    Ok(Accepted { webhook, dsl, version: definition.version, trigger })
}

/// Counts the request against its webhook's window in Redis; 429 with `Retry-After` beyond the
/// limit. When Redis cannot answer the request is let through (and the failure logged): the
/// limit protects capacity, and the secret, not the limit, guards access.
async fn check_rate(state: &AppState, webhook: &WebhookRow) -> Result<(), ApiError> {
    let limit = state.config.webhook_rate_limit;
    if limit == 0 {
        return Ok(());
    }
    match state.limiter.hit(&format!("webhook:{}", webhook.id), limit, state.config.webhook_rate_window).await {
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
        assert_eq!(webhook_secret(id, "signing"), expected);
        assert_ne!(webhook_secret(id, "other"), expected);
    }

    #[test]
    fn cidrs_match_v4_v6_and_mapped() {
        let net = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(net.contains("10.1.200.3".parse().unwrap()));
        assert!(!net.contains("10.2.0.1".parse().unwrap()));
        assert!(net.contains("::ffff:10.1.0.9".parse().unwrap()));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::1".parse().unwrap()));
        assert!(!v6.contains("2001:db9::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope").is_err());
        assert_eq!(Cidr::parse("1.2.3.4").unwrap().prefix, 32);
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
}
