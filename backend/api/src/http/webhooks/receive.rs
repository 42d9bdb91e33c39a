//! The public receiver: `/webhooks/{workflow_id}/{secret}` starts a run and answers once
//! Temporal accepted it, `/wait` answers with the run's result. The checks run in the order the
//! module above describes; the body is parsed by its content type.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, Method, header};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use ferrocat_app::api_keys;
use ferrocat_app::db::webhooks::{self, WebhookRow};
use ferrocat_app::runs::{self, NewRun};
use ferrocat_dsl::Workflow;
use ferrocat_shared::ids;
use ferrocat_shared::net::Cidr;

use super::{API_KEY_HEADER, Path, Query, client_ip, is_credential_header, secret_of};
use crate::http::workflows::parse_workflow_path;
use crate::error::ApiError;
use crate::state::AppState;

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

impl Accepted {
    /// Starts the run this request asked for; its execution id.
    async fn start(self, state: &AppState) -> Result<String, ApiError> {
        let run = NewRun {
            workflow_id: self.webhook.workflow_id,
            workspace_id: self.webhook.workspace_id,
            version: self.version,
            dsl: self.dsl,
            trigger: self.trigger,
            trigger_type: "webhook",
        };
        Ok(runs::start(state, run).await?)
    }
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
    let (dsl, version) = runs::latest_committed(state, webhook.workspace_id, id).await?;
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
    runs::check_inputs(&dsl, &trigger)?;
    Ok(Accepted { webhook, dsl, version, trigger })
}

/// A place among the webhook requests being taken in, or 503 at once when all are taken (a
/// flood sheds load here instead of queueing in memory).
fn slot(state: &AppState) -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    state
        .webhook_slots
        .clone()
        .try_acquire_owned()
        .map_err(|_| ApiError::Unavailable("the api is taking in as many webhooks as it can; try again shortly".into()))
}

/// Counts a refused webhook request (`ferrocat_webhooks_total` by why) and passes its error on.
fn refused(error: ApiError) -> ApiError {
    let outcome = match &error {
        ApiError::BadRequest(_) | ApiError::Unprocessable { .. } => "invalid",
        ApiError::Unauthorized(_) => "unauthorized",
        ApiError::Forbidden(_) => "forbidden",
        ApiError::NotFound(_) => "not_found",
        ApiError::MethodNotAllowed(_) => "method_not_allowed",
        ApiError::PayloadTooLarge(_) => "too_large",
        ApiError::TooManyRequests { .. } => "rate_limited",
        ApiError::Unavailable(_) => "unavailable",
        ApiError::Conflict(_) | ApiError::ExecutionFailed(_) | ApiError::Internal(_) => "error",
    };
    ferrocat_shared::metrics::get().webhook(outcome);
    error
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
pub(super) async fn receive_webhook(
    State(state): State<AppState>,
    Path((workflow_id, secret)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let query = parse_query(&query).map_err(refused)?;
    let taking_in = slot(&state).map_err(refused)?;
    if let Some(vendor) = &query.vendor
        && vendor != "okta"
    {
        return Err(refused(ApiError::BadRequest(format!("unsupported vendor {vendor:?}"))));
    }
    let accepted = accept(&state, &workflow_id, &secret, &method, peer, &headers, &body).await.map_err(refused)?;
    if query.vendor.as_deref() == Some("okta") {
        ferrocat_shared::metrics::get().webhook("verification");
        let challenge = headers.get("x-okta-verification-challenge").and_then(|v| v.to_str().ok()).unwrap_or("");
        return Ok(Json(json!({"verification": challenge})).into_response());
    }
    let echo_payload = query.echo.then(|| accepted.trigger.clone());
    let workflow_id = accepted.webhook.workflow_id;
    let exec_id = accepted.start(&state).await.map_err(refused)?;
    drop(taking_in);
    ferrocat_shared::metrics::get().webhook("accepted");
    tracing::info!(wf_exec_id = %exec_id, "webhook started a run");
    if query.empty_echo {
        return Ok(().into_response());
    }
    let mut body = json!({
        "message": "Workflow execution created",
        "wf_id": ids::workflow_id(workflow_id),
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
pub(super) async fn receive_webhook_wait(
    State(state): State<AppState>,
    Path((workflow_id, secret)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let query = parse_query(&query).map_err(refused)?;
    let taking_in = slot(&state).map_err(refused)?;
    let accepted = accept(&state, &workflow_id, &secret, &Method::POST, peer, &headers, &body).await.map_err(refused)?;
    let exec_id = accepted.start(&state).await.map_err(refused)?;
    // Waiting for the result holds no place: the run is Temporal's work now.
    drop(taking_in);
    ferrocat_shared::metrics::get().webhook("accepted");
    let value = runs::wait_result(&state, &exec_id).await?;
    // A return value kept in object storage: a short-lived download link, or (unwrap) the value.
    if let Some(stored) = ferrocat_shared::objects::StoredRef::from_value(&value)
        && let Some(store) = &state.results
    {
        if query.unwrap {
            let value = store.load(&stored).await.map_err(ferrocat_app::AppError::from)?;
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
