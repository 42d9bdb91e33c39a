//! Built-in stand-ins for the Python SDK actions Tracecat's templates call, so those templates
//! run unchanged: `tools.slack_sdk.call_method` / `call_paginated_method` (Slack's Web API),
//! `tools.falconpy.call_command` (CrowdStrike's API by FalconPy operation id) and
//! `tools.google_api.call_api` / `call_paginated_api` (any Google API, by its discovery
//! document). Each reads its
//! base URL from its `base_url` argument, then the `VARS.<vendor>.base_url` variable, then the
//! vendor's public host, so tests and on-prem users can point it elsewhere.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::http::{headers_map, scalar_text};
use super::parse_args;
use crate::error::ActionError;
use crate::table::Call;

/// Arguments of `tools.slack_sdk.call_method`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SlackCallArgs {
    /// SDK (`chat_postMessage`) or Web API (`chat.postMessage`) method name.
    sdk_method: String,
    /// The method's parameters.
    #[serde(default)]
    params: Option<Map<String, Value>>,
    /// Web API host; default VARS.slack.base_url, then https://slack.com.
    #[serde(default)]
    base_url: Option<String>,
}

/// Arguments of `tools.slack_sdk.call_paginated_method`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SlackPagedArgs {
    /// A method that pages by cursor (`conversations_history`, `users_list`).
    sdk_method: String,
    #[serde(default)]
    params: Option<Map<String, Value>>,
    /// The list to collect from each page (`members`, `messages`); whole pages without it.
    #[serde(default)]
    key: Option<String>,
    /// Most items to return (default 200).
    #[serde(default = "default_limit")]
    limit: usize,
    #[serde(default)]
    base_url: Option<String>,
}

fn default_limit() -> usize {
    200
}

/// Most pages one paginated call reads, whatever the limit.
const MAX_PAGES: usize = 1000;

/// The base URL: the argument, the `VARS.<vendor>.base_url` variable, or `default`.
fn base_url(given: Option<&str>, call: &Call<'_>, vendor: &str, default: &str) -> String {
    let from_vars = call.vars().get(vendor).and_then(|v| v.get("base_url")).and_then(Value::as_str);
    given.filter(|s| !s.is_empty()).or(from_vars).unwrap_or(default).trim_end_matches('/').to_owned()
}

/// `KEY` of secret `name`, or an error naming both (never a value).
fn secret<'a>(call: &'a Call<'_>, name: &str, key: &str) -> Result<&'a str, ActionError> {
    call.secrets
        .get(name)
        .and_then(|s| s.get(key))
        .and_then(Value::as_str)
        .ok_or_else(|| ActionError::Invalid(format!("secret '{name}' has no key {key}")))
}

/// One Web API call: a form POST (nested values as JSON text, as Slack's SDK sends them); an
/// answer with `ok: false` is an error naming Slack's reason.
async fn slack_call(call: &Call<'_>, base: &str, sdk_method: &str, params: &Map<String, Value>) -> Result<Value, ActionError> {
    let method = sdk_method.replace('_', ".");
    if method.is_empty() || !method.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
        return Err(ActionError::Invalid(format!("invalid Slack method {sdk_method:?}")));
    }
    let token = secret(call, "slack", "SLACK_BOT_TOKEN")?;
    let url = url::Url::parse(&format!("{base}/api/{method}")).map_err(|e| ActionError::Invalid(format!("Slack base URL {base:?}: {e}")))?;
    let form: Vec<(String, String)> = params.iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k.clone(), scalar_text(v))).collect();
    let response = call
        .deps
        .http
        .request(reqwest::Method::POST, url)
        .map_err(|refused| ActionError::Http(format!("Slack {method}: {refused}")))?
        .bearer_auth(token)
        .form(&form)
        .send()
        .await
        .map_err(|e| ActionError::Http(format!("Slack {method}: {e}")))?;
    let status = response.status();
    let body: Value = response.json().await.map_err(|e| ActionError::Http(format!("Slack {method} answered HTTP {status} without JSON: {e}")))?;
    if body.get("ok") != Some(&Value::Bool(true)) {
        let reason = body.get("error").and_then(Value::as_str).unwrap_or("no reason given");
        let message = format!("The request to the Slack API failed. (method: {method}, status: {}) error: {reason}", status.as_u16());
        // Rate limits and Slack's own faults may pass; anything else is the caller's to fix.
        return Err(if status.as_u16() == 429 || status.is_server_error() { ActionError::Http(message) } else { ActionError::Value(message) });
    }
    Ok(body)
}

/// `tools.slack_sdk.call_method`.
pub(crate) async fn slack_call_method(call: Call<'_>) -> Result<Value, ActionError> {
    let args: SlackCallArgs = parse_args(call.args.clone())?;
    let base = base_url(args.base_url.as_deref(), &call, "slack", "https://slack.com");
    slack_call(&call, &base, &args.sdk_method, &args.params.unwrap_or_default()).await
}

/// `tools.slack_sdk.call_paginated_method`: follows `response_metadata.next_cursor` until it
/// is empty or `limit` items are in hand.
pub(crate) async fn slack_call_paginated(call: Call<'_>) -> Result<Value, ActionError> {
    let args: SlackPagedArgs = parse_args(call.args.clone())?;
    let base = base_url(args.base_url.as_deref(), &call, "slack", "https://slack.com");
    let mut params = args.params.unwrap_or_default();
    params.insert("limit".into(), json!(args.limit));
    let mut items = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = slack_call(&call, &base, &args.sdk_method, &params).await?;
        match &args.key {
            Some(key) => match page.get(key) {
                Some(Value::Array(found)) => items.extend(found.iter().cloned()),
                Some(other) => items.push(other.clone()),
                None => {
                    let fields: Vec<&String> = page.as_object().map(|m| m.keys().collect()).unwrap_or_default();
                    return Err(ActionError::Value(format!("Key {key} not found in data with fields {fields:?}")));
                }
            },
            None => items.push(page.clone()),
        }
        let cursor = page.pointer("/response_metadata/next_cursor").and_then(Value::as_str).unwrap_or("");
        if items.len() >= args.limit || cursor.is_empty() {
            break;
        }
        params.insert("cursor".into(), Value::String(cursor.to_owned()));
    }
    items.truncate(args.limit);
    Ok(Value::Array(items))
}

/// Arguments of `tools.falconpy.call_command`.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct FalconArgs {
    /// A FalconPy operation id (see [`FALCON_OPERATIONS`] for those supported).
    operation_id: String,
    /// Query parameters, and `body` for the JSON body.
    #[serde(default)]
    params: Option<Map<String, Value>>,
    /// A child tenant's CID (Flight Control).
    #[serde(default)]
    member_cid: Option<String>,
    /// API host; default VARS.crowdstrike.base_url, then https://api.crowdstrike.com.
    #[serde(default)]
    base_url: Option<String>,
    /// FalconPy client options; accepted for compatibility, not used.
    #[serde(default)]
    extra_kwargs: Option<Map<String, Value>>,
}

/// The FalconPy operations ferrocat serves: id, method and path (those Tracecat's templates
/// and the common detection, incident and alert reads use).
pub(crate) const FALCON_OPERATIONS: &[(&str, &str, &str)] = &[
    ("QueryDetects", "GET", "/detects/queries/detects/v1"),
    ("GetDetectSummaries", "POST", "/detects/entities/summaries/GET/v1"),
    ("UpdateDetectsByIdsV2", "PATCH", "/detects/entities/detects/v2"),
    ("QueryIncidents", "GET", "/incidents/queries/incidents/v1"),
    ("GetIncidents", "POST", "/incidents/entities/incidents/GET/v1"),
    ("PerformIncidentAction", "POST", "/incidents/entities/incident-actions/v1"),
    ("GetQueriesAlertsV2", "GET", "/alerts/queries/alerts/v2"),
    ("PostEntitiesAlertsV2", "POST", "/alerts/entities/alerts/v2"),
    ("PatchEntitiesAlertsV3", "PATCH", "/alerts/entities/alerts/v3"),
    ("QueryDevicesByFilter", "GET", "/devices/queries/devices/v1"),
    ("GetDeviceDetailsV2", "GET", "/devices/entities/devices/v2"),
    ("PerformActionV2", "POST", "/devices/entities/devices-actions/v2"),
];

/// `tools.falconpy.call_command`: an OAuth2 client-credentials token, then the operation; the
/// answer as FalconPy returns it, `{status_code, headers, body}`, whatever the status.
pub(crate) async fn falcon_call_command(call: Call<'_>) -> Result<Value, ActionError> {
    let args: FalconArgs = parse_args(call.args.clone())?;
    let _ = args.extra_kwargs;
    let Some((_, method, path)) = FALCON_OPERATIONS.iter().find(|(id, _, _)| *id == args.operation_id) else {
        let known: Vec<&str> = FALCON_OPERATIONS.iter().map(|(id, _, _)| *id).collect();
        return Err(ActionError::Invalid(format!("operation {:?} is not one ferrocat serves ({})", args.operation_id, known.join(", "))));
    };
    let base = base_url(args.base_url.as_deref(), &call, "crowdstrike", "https://api.crowdstrike.com");
    let parse = |text: String| url::Url::parse(&text).map_err(|e| ActionError::Invalid(format!("CrowdStrike URL {text:?}: {e}")));
    let mut form = vec![
        ("client_id".to_owned(), secret(&call, "crowdstrike", "CROWDSTRIKE_CLIENT_ID")?.to_owned()),
        ("client_secret".to_owned(), secret(&call, "crowdstrike", "CROWDSTRIKE_CLIENT_SECRET")?.to_owned()),
    ];
    if let Some(cid) = &args.member_cid {
        form.push(("member_cid".into(), cid.clone()));
    }
    let http = &call.deps.http;
    let refused = |e| ActionError::Http(format!("CrowdStrike: {e}"));
    let token: Value = http
        .request(reqwest::Method::POST, parse(format!("{base}/oauth2/token"))?)
        .map_err(refused)?
        .form(&form)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| ActionError::Http(format!("CrowdStrike token: {e}")))?
        .json()
        .await
        .map_err(|e| ActionError::Http(format!("CrowdStrike token: {e}")))?;
    let access = token.get("access_token").and_then(Value::as_str).ok_or_else(|| ActionError::Http("CrowdStrike token: no access_token in the answer".into()))?;
    let mut params = args.params.unwrap_or_default();
    let body = params.remove("body");
    let query: Vec<(String, String)> = params
        .iter()
        .filter(|(_, v)| !v.is_null())
        .flat_map(|(k, v)| match v {
            Value::Array(items) => items.iter().map(|item| (k.clone(), scalar_text(item))).collect::<Vec<_>>(),
            other => vec![(k.clone(), scalar_text(other))],
        })
        .collect();
    let method = reqwest::Method::from_bytes(method.as_bytes()).map_err(|e| ActionError::Invalid(e.to_string()))?;
    let mut request = http.request(method, parse(format!("{base}{path}"))?).map_err(refused)?.bearer_auth(access).query(&query);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.map_err(|e| ActionError::Http(format!("CrowdStrike {}: {e}", args.operation_id)))?;
    let status = response.status().as_u16();
    let headers = headers_map(response.headers());
    let bytes = response.bytes().await.map_err(|e| ActionError::Http(format!("CrowdStrike {}: {e}", args.operation_id)))?;
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
    Ok(json!({"status_code": status, "headers": headers, "body": body}))
}

/// The paging arguments of `tools.google_api.call_paginated_api`, beside a [`GoogleTarget`]'s.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GooglePaging {
    /// The request parameter that carries the next page's token (default `pageToken`).
    #[serde(default = "page_token_param")]
    page_token_param: String,
    /// Dot-separated path of the next page's token in an answer (default `nextPageToken`).
    #[serde(default = "next_page_token_path")]
    next_page_token_path: String,
    /// Most pages to read (all when null).
    #[serde(default)]
    max_pages: Option<usize>,
}

fn page_token_param() -> String {
    "pageToken".into()
}

fn next_page_token_path() -> String {
    "nextPageToken".into()
}

/// Which Google API method to call, with what, as whom: `tools.google_api.call_api`'s arguments.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GoogleTarget {
    /// API name, e.g. `securitycenter`, `drive`.
    service_name: String,
    /// API version, e.g. `v2`.
    version: String,
    /// Dot-separated resource path, e.g. `organizations.sources.findings`.
    resource: String,
    /// Method of that resource, e.g. `list`.
    method_name: String,
    /// The method's parameters (path and query by the discovery document; `body` is the body).
    #[serde(default)]
    params: Option<Map<String, Value>>,
    /// Service-account scopes (default cloud-platform); needs GOOGLE_API_CREDENTIALS.
    #[serde(default)]
    scopes: Option<Vec<String>>,
    /// A user to act as (domain-wide delegation); needs GOOGLE_API_CREDENTIALS.
    #[serde(default)]
    subject: Option<String>,
    /// Accepted for compatibility: discovery documents are always fetched (and kept per process).
    #[serde(default)]
    static_discovery: Option<bool>,
    /// Where discovery documents come from instead of `https://<service>.googleapis.com`
    /// (default VARS.google_api.base_url).
    #[serde(default)]
    base_url: Option<String>,
}

const GOOGLE_DEFAULT_SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

/// Discovery documents fetched by this process, by URL.
static DISCOVERY: std::sync::LazyLock<std::sync::Mutex<std::collections::HashMap<String, Value>>> = std::sync::LazyLock::new(Default::default);

/// A Google API method ready to call: its HTTP method, URL template and parameters.
struct GoogleMethod {
    http_method: reqwest::Method,
    /// `rootUrl` + `servicePath`.
    base: String,
    /// The path template, e.g. `v2/{+parent}/findings`.
    path: String,
    /// Parameter name → where it goes (`path` or `query`) and whether it repeats.
    parameters: Map<String, Value>,
}

impl GoogleTarget {
    /// The method, from the service's discovery document.
    async fn method(&self, call: &Call<'_>) -> Result<GoogleMethod, ActionError> {
        let name = &self.service_name;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(ActionError::Invalid(format!("invalid Google API name {name:?}")));
        }
        let root = base_url(self.base_url.as_deref(), call, "google_api", &format!("https://{name}.googleapis.com"));
        let url = format!("{root}/$discovery/rest?version={}", url::form_urlencoded::byte_serialize(self.version.as_bytes()).collect::<String>());
        let cached = DISCOVERY.lock().unwrap_or_else(|p| p.into_inner()).get(&url).cloned();
        let document = match cached {
            Some(document) => document,
            None => {
                let parsed = url::Url::parse(&url).map_err(|e| ActionError::Invalid(format!("discovery URL {url:?}: {e}")))?;
                let document: Value = call
                    .deps
                    .http
                    .request(reqwest::Method::GET, parsed)
                    .map_err(|refused| ActionError::Http(format!("Google discovery: {refused}")))?
                    .send()
                    .await
                    .and_then(reqwest::Response::error_for_status)
                    .map_err(|e| ActionError::Http(format!("Google discovery of {name} {}: {e}", self.version)))?
                    .json()
                    .await
                    .map_err(|e| ActionError::Http(format!("Google discovery of {name} {}: {e}", self.version)))?;
                DISCOVERY.lock().unwrap_or_else(|p| p.into_inner()).insert(url, document.clone());
                document
            }
        };
        let mut node = &document;
        for part in self.resource.split('.') {
            node = node.pointer(&format!("/resources/{part}")).ok_or_else(|| ActionError::Invalid(format!("{name} {} has no resource {:?}", self.version, self.resource)))?;
        }
        let method = node
            .pointer(&format!("/methods/{}", self.method_name))
            .ok_or_else(|| ActionError::Invalid(format!("{name} {} resource {} has no method {:?}", self.version, self.resource, self.method_name)))?;
        let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
        Ok(GoogleMethod {
            http_method: reqwest::Method::from_bytes(text(method.get("httpMethod")).as_bytes()).map_err(|e| ActionError::Invalid(e.to_string()))?,
            base: format!("{}{}", text(document.get("rootUrl")), text(document.get("servicePath"))),
            // `path` names the method's own parameters (`v2/{+parent}/findings`); `flatPath`
            // splits them into segments the caller does not pass.
            path: text(method.get("path")),
            parameters: method.get("parameters").and_then(Value::as_object).cloned().unwrap_or_default(),
        })
    }

    /// A bearer token: the `google` OAuth integration's service token, or one minted from the
    /// service account in GOOGLE_API_CREDENTIALS (always when scopes or a subject are given).
    async fn token(&self, call: &Call<'_>) -> Result<String, ActionError> {
        let service_token = call.secrets.get("google_oauth").and_then(|s| s.get("GOOGLE_SERVICE_TOKEN")).and_then(Value::as_str);
        let account = call.secrets.get("google_api").and_then(|s| s.get("GOOGLE_API_CREDENTIALS")).and_then(Value::as_str);
        let overrides = self.scopes.is_some() || self.subject.is_some();
        match (service_token, account) {
            (Some(token), _) if !overrides => Ok(token.to_owned()),
            (_, Some(account)) => self.service_account_token(call, account).await,
            (Some(_), None) => Err(ActionError::Invalid(
                "scopes and subject need GOOGLE_API_CREDENTIALS (a service account): an OAuth service token cannot change them".into(),
            )),
            (None, None) => Err(ActionError::Invalid(
                "Google API calls need GOOGLE_SERVICE_TOKEN of the google OAuth integration or GOOGLE_API_CREDENTIALS (service account JSON) of the google_api secret".into(),
            )),
        }
    }

    /// Google's JWT-bearer grant: a token signed (RS256) with the service account's key.
    async fn service_account_token(&self, call: &Call<'_>, account: &str) -> Result<String, ActionError> {
        let account: Value = serde_json::from_str(account).map_err(|_| ActionError::Value("GOOGLE_API_CREDENTIALS is not a valid JSON string".into()))?;
        let field = |name: &str| account.get(name).and_then(Value::as_str).ok_or_else(|| ActionError::Value(format!("GOOGLE_API_CREDENTIALS has no {name}")));
        let token_uri = account.get("token_uri").and_then(Value::as_str).unwrap_or("https://oauth2.googleapis.com/token");
        let now = chrono::Utc::now().timestamp();
        let scopes = self.scopes.clone().unwrap_or_else(|| vec![GOOGLE_DEFAULT_SCOPE.to_owned()]);
        let mut claims = json!({"iss": field("client_email")?, "scope": scopes.join(" "), "aud": token_uri, "iat": now, "exp": now + 3600});
        if let Some(subject) = &self.subject {
            claims["sub"] = Value::String(subject.clone());
        }
        let assertion = sign_rs256(&claims, field("private_key")?)?;
        let parsed = url::Url::parse(token_uri).map_err(|e| ActionError::Invalid(format!("token_uri {token_uri:?}: {e}")))?;
        let answer: Value = call
            .deps
            .http
            .request(reqwest::Method::POST, parsed)
            .map_err(|refused| ActionError::Http(format!("Google token: {refused}")))?
            .form(&[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion.as_str())])
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| ActionError::Http(format!("Google token: {e}")))?
            .json()
            .await
            .map_err(|e| ActionError::Http(format!("Google token: {e}")))?;
        answer.get("access_token").and_then(Value::as_str).map(str::to_owned).ok_or_else(|| ActionError::Http("Google token: no access_token in the answer".into()))
    }
}

/// A compact JWS (RS256) of `claims` with the PEM PKCS#8 `private_key`.
pub(crate) fn sign_rs256(claims: &Value, private_key: &str) -> Result<String, ActionError> {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let body: String = private_key.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).map_err(|_| ActionError::Value("the service account's private_key is not PEM".into()))?;
    let key = ring::signature::RsaKeyPair::from_pkcs8(&der).map_err(|e| ActionError::Value(format!("the service account's private_key is not an RSA PKCS#8 key: {e}")))?;
    let signing_input = format!("{}.{}", b64.encode(json!({"alg": "RS256", "typ": "JWT"}).to_string()), b64.encode(claims.to_string()));
    let mut signature = vec![0; key.public().modulus_len()];
    key.sign(&ring::signature::RSA_PKCS1_SHA256, &ring::rand::SystemRandom::new(), signing_input.as_bytes(), &mut signature)
        .map_err(|_| ActionError::Value("signing the service account's token failed".into()))?;
    Ok(format!("{signing_input}.{}", b64.encode(signature)))
}

/// One call of a discovered method with `params`.
async fn google_request(call: &Call<'_>, method: &GoogleMethod, token: &str, mut params: Map<String, Value>) -> Result<Value, ActionError> {
    let body = params.remove("body");
    let mut path = method.path.clone();
    let mut query: Vec<(String, String)> = Vec::new();
    for (name, value) in params.iter().filter(|(_, v)| !v.is_null()) {
        let location = method.parameters.get(name).and_then(|p| p.get("location")).and_then(Value::as_str);
        match location {
            Some("path") => {
                let text = scalar_text(value);
                let reserved = format!("{{+{name}}}");
                if path.contains(&reserved) {
                    path = path.replace(&reserved, &text);
                } else {
                    path = path.replace(&format!("{{{name}}}"), &url::form_urlencoded::byte_serialize(text.as_bytes()).collect::<String>());
                }
            }
            Some(_) => match value {
                Value::Array(items) => query.extend(items.iter().map(|item| (name.clone(), scalar_text(item)))),
                other => query.push((name.clone(), scalar_text(other))),
            },
            None => return Err(ActionError::Invalid(format!("the method takes no parameter {name:?}"))),
        }
    }
    if let Some(missing) = path.split('{').nth(1).and_then(|rest| rest.split('}').next()) {
        return Err(ActionError::Invalid(format!("the path parameter {} is missing", missing.trim_start_matches('+'))));
    }
    let url = url::Url::parse(&format!("{}{path}", method.base)).map_err(|e| ActionError::Invalid(format!("Google API URL: {e}")))?;
    let mut request = call
        .deps
        .http
        .request(method.http_method.clone(), url)
        .map_err(|refused| ActionError::Http(format!("Google API: {refused}")))?
        .bearer_auth(token)
        .query(&query);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.map_err(|e| ActionError::Http(format!("Google API: {e}")))?;
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| ActionError::Http(format!("Google API: {e}")))?;
    if !status.is_success() {
        let snippet: String = String::from_utf8_lossy(&bytes).chars().take(500).collect();
        let message = format!("HttpError {} from the Google API: {snippet}", status.as_u16());
        return Err(if status.as_u16() == 429 || status.is_server_error() { ActionError::Http(message) } else { ActionError::Value(message) });
    }
    if bytes.is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_slice(&bytes).map_err(|e| ActionError::Http(format!("Google API answered with invalid JSON: {e}")))
}

/// `tools.google_api.call_api`.
pub(crate) async fn google_call_api(call: Call<'_>) -> Result<Value, ActionError> {
    let target: GoogleTarget = parse_args(call.args.clone())?;
    let _ = target.static_discovery;
    let token = target.token(&call).await?;
    let method = target.method(&call).await?;
    google_request(&call, &method, &token, target.params.clone().unwrap_or_default()).await
}

/// `tools.google_api.call_paginated_api`: every page (up to `max_pages`), following the token
/// at `next_page_token_path`.
pub(crate) async fn google_call_paginated(call: Call<'_>) -> Result<Value, ActionError> {
    let mut rest = call.args.clone();
    let paging: Map<String, Value> =
        ["page_token_param", "next_page_token_path", "max_pages"].iter().filter_map(|k| rest.remove(*k).map(|v| ((*k).to_owned(), v))).collect();
    let args: GooglePaging = parse_args(paging)?;
    let target: GoogleTarget = parse_args(rest)?;
    if args.page_token_param.is_empty() || args.next_page_token_path.is_empty() {
        return Err(ActionError::Value("page_token_param and next_page_token_path must not be empty".into()));
    }
    if args.max_pages == Some(0) {
        return Err(ActionError::Invalid("max_pages must be at least 1".into()));
    }
    let token = target.token(&call).await?;
    let method = target.method(&call).await?;
    let mut params = target.params.clone().unwrap_or_default();
    let pointer = format!("/{}", args.next_page_token_path.replace('.', "/"));
    let mut pages = Vec::new();
    loop {
        let page = google_request(&call, &method, &token, params.clone()).await?;
        let next = page.pointer(&pointer).and_then(Value::as_str).filter(|t| !t.is_empty()).map(str::to_owned);
        pages.push(page);
        if args.max_pages.is_some_and(|max| pages.len() >= max) || pages.len() >= MAX_PAGES {
            break;
        }
        match next {
            Some(token) => {
                params.insert(args.page_token_param.clone(), Value::String(token));
            }
            None => break,
        }
    }
    Ok(Value::Array(pages))
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use serde_json::json;

    /// A key made for this test alone (`openssl genpkey -algorithm RSA`); it signs nothing else.
    const TEST_KEY: &str = "
-----BEGIN PRIVATE KEY-----
MIIEvwIBADANBgkqhkiG9w0BAQEFAASCBKkwggSlAgEAAoIBAQDyZNSCQynmBiol
nuGaoRgesgIevMFNeF9a0P4gf01cCkqRa1UT/D6dfXFU4TMAb4w0qPiFpSYJSeVo
qm9DJYiEvPjY3Vnh2XvsSQxn8Lsv5nkZRf0HhXBAM3lmDVtDxRl8BTfnVWDlyL5D
UpFGJFAcWNwbaoR7JNmT1Jrm4Dz8O2l15zQB1zJIh7YfJetR22m7w6yXw3Il3CFk
SazCTCI5/6zm5rTIKxKCZ3LKeLXbK0tQa0Us4KQihEfMn9NYKoVzrfelFyG1/GRF
T1U5dgLkUoCPA5DsJNTUXitijNJL8BkeQY5+XpDQB1jQqVJ41ci/bRkWKJF+Uqgc
eS93sVfzAgMBAAECggEAOjkaCogTglssuIinbDsRzh24AKYaUH9/eBMHV8r8TAV0
z+VWNEy8xZuiI19MnugsZ2HHAGMg9c44OqHlw906I5g4te7FbkiNSb5qKnVaoTDd
GcMD+lCFHAbBPFAtAeRQMMgYG4sYkVlcylME7jI+w/BcPoGhfOrnEGlbI+XtADDV
gI/oLvBd83GMLZgN7ATfWuvV7xpApi0MG8IoyeWkw7BmJRcDaWKatzxq5Fm8t6RZ
lGtY2hiPRVY9NBTEUiZhD4HE/uEGGuPZ6oCYL2F/4Ah+xghceTBOHvhAIWwV/iIZ
lXCoZuzNJFAPPVvZKUgdD1Iaoa00pvOOBl06ZlgQ4QKBgQD7vZDQeqMcN1ZW1QWS
XlOv8AXcQmYba6iSLwT3TapLR+xleTHHurfvqGLfTPum6pUteuf1xMipvIaCA1OG
4ZVA/U1ZWUTMwx8/+9NLoZCkP+hqRZIMSMcC9JL6s3HePjkf3W1PqHl752hGAtfU
NlppNUkTdH6a/5dxqN09/KJ4+wKBgQD2fsdd2umXOZBZi/O7Vin3ynQhyr4JvChm
HdivqlKyZiLcZhwV3T+M+0Wfeq5hbpGbuURB0gkPR+Gx+UWoO3mJctntKE35S9Gl
wtuEoj5vCsudYoiq1EVGa84ychX8kkhteHl45gHlspQnCyyeRyUMOJ2REUIKuQMC
xYSUC33baQKBgQC6Bno15PoVhrrxjZcBc1zqPTdHbXWgu6yk4cQMr8KwwKRq0+U6
T7tOiSMPGgc4cE7ufc1dax5Rd7P57VVS7e3qSYRYC0Rw/5tfH8sjL3AAQA2SQnjL
RRhzEaJvSh1R+q8h4fG+FKQ5MGZ4ne85rTSgXDT1AHfyN/+EiSF8hezV8wKBgQDU
Las1agPazY0o16R05KV5i4bNs7RDsvhfdl+YTpeiwvJNH4QbefiDRaPXtIW4jrG+
BwrvUXnE8o4fYcAJITDsFLXsQ95islYDRqkpEXOGqBc/IZsc2V3MUW4L1FKCt/Sq
bqK5Y9vMOhz3QtIkaH9GdtGDFwTvL/SchSMrQH0UyQKBgQDnJQdGxkVD7UrvNfK8
iDq9AAaVeXu5ynx/RCmpQNYsmPuNrJw9OjLasdQQqomNoFEiJj5XSQgSR0uWK8XK
BWSSVfKo15Ebg5yVSRufUugcZY5zrmMpSoQJXBAHRdZC84cR4cnp1SzxV9Rd8PWq
0+fpy/plpsWma3W5W6MMFr3zDw==
-----END PRIVATE KEY-----
";

    #[test]
    fn a_service_account_token_is_a_jwt_signed_with_its_key() {
        let claims = json!({"iss": "sa@project.iam.gserviceaccount.com", "scope": "s", "aud": "https://oauth2.googleapis.com/token", "iat": 1, "exp": 3601});
        let jwt = super::sign_rs256(&claims, TEST_KEY).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header: serde_json::Value = serde_json::from_slice(&b64.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header, json!({"alg": "RS256", "typ": "JWT"}));
        assert_eq!(serde_json::from_slice::<serde_json::Value>(&b64.decode(parts[1]).unwrap()).unwrap(), claims);
        let body: String = TEST_KEY.lines().filter(|l| !l.starts_with("-----")).map(str::trim).collect();
        let der = base64::engine::general_purpose::STANDARD.decode(body).unwrap();
        let pair = ring::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
        let public = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, ring::signature::KeyPair::public_key(&pair).as_ref().to_vec());
        public.verify(format!("{}.{}", parts[0], parts[1]).as_bytes(), &b64.decode(parts[2]).unwrap()).expect("the signature verifies with the key's public half");
        assert!(public.verify(b"other.input", &b64.decode(parts[2]).unwrap()).is_err());
        let wrong = super::sign_rs256(&claims, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----").unwrap_err();
        assert!(wrong.to_string().contains("not an RSA PKCS#8 key"), "{wrong}");
    }
}
