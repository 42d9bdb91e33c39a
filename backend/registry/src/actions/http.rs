//! `core.http_request`: one HTTP request with Tracecat's arguments and result shape
//! `{status_code, headers, data}`.

use std::collections::BTreeMap;
use std::sync::Arc;

use base64::Engine as _;
use serde::Deserialize;
use serde_json::{Map, Value};

use ferrocat_shared::egress::{ClientOptions, EgressClient, EgressPolicy};

use super::{ActionError, parse_args};

/// The shared HTTP client under `policy`: every connection it opens passes the egress policy
/// (IP literals before sending, names when resolved, every redirect target). Redirects and TLS
/// settings are decided per request.
pub fn client(policy: Arc<EgressPolicy>) -> anyhow::Result<EgressClient> {
    Ok(EgressClient::new(policy, ClientOptions::default())?)
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct HttpRequestArgs {
    url: String,
    #[serde(default = "default_method")]
    method: String,
    #[serde(default)]
    headers: Option<BTreeMap<String, Option<String>>>,
    #[serde(default)]
    params: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    payload: Option<Value>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    form_data: Option<BTreeMap<String, Value>>,
    /// Multipart uploads: `{field: base64}` or `{field: {filename, content_base64, content_type}}`.
    #[serde(default)]
    files: Option<BTreeMap<String, Value>>,
    #[serde(default)]
    auth: Option<BasicAuth>,
    #[serde(default = "default_timeout")]
    timeout: f64,
    #[serde(default)]
    follow_redirects: bool,
    #[serde(default = "default_max_redirects")]
    max_redirects: usize,
    #[serde(default)]
    ignore_status_codes: Vec<u16>,
    #[serde(default)]
    base64_encode_data: bool,
    #[serde(default = "default_true")]
    verify_ssl: bool,
}

#[derive(Deserialize, schemars::JsonSchema)]
pub(crate) struct BasicAuth {
    username: String,
    password: Option<String>,
}

fn default_method() -> String {
    "GET".into()
}
fn default_timeout() -> f64 {
    10.0
}
fn default_max_redirects() -> usize {
    20
}
fn default_true() -> bool {
    true
}

/// Response headers as a JSON object of text values (as `core.http_request` answers them).
pub(crate) fn headers_map(headers: &reqwest::header::HeaderMap) -> Map<String, Value> {
    headers.iter().map(|(name, value)| (name.as_str().to_owned(), Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned()))).collect()
}

pub(crate) fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The multipart body of `files` (each part base64, with an optional file name and type) and
/// `form_data` (text parts).
fn multipart(files: &BTreeMap<String, Value>, form: Option<&BTreeMap<String, Value>>) -> Result<reqwest::multipart::Form, ActionError> {
    let mut body = reqwest::multipart::Form::new();
    for (name, value) in form.into_iter().flatten() {
        body = body.text(name.clone(), scalar_text(value));
    }
    for (field, file) in files {
        let (content, filename, content_type) = match file {
            Value::String(content) => (content.as_str(), field.as_str(), None),
            Value::Object(spec) => (
                spec.get("content_base64").and_then(Value::as_str).ok_or_else(|| {
                    ActionError::Invalid(format!("files.{field} needs content_base64"))
                })?,
                spec.get("filename").and_then(Value::as_str).unwrap_or(field),
                spec.get("content_type").and_then(Value::as_str),
            ),
            other => return Err(ActionError::Invalid(format!("files.{field} must be base64 text or an object, got {other}"))),
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(content.trim())
            .map_err(|e| ActionError::Invalid(format!("files.{field} is not valid base64: {e}")))?;
        let mut part = reqwest::multipart::Part::bytes(bytes).file_name(filename.to_owned());
        if let Some(content_type) = content_type {
            part = part.mime_str(content_type).map_err(|e| ActionError::Invalid(format!("files.{field}.content_type: {e}")))?;
        }
        body = body.part(field.clone(), part);
    }
    Ok(body)
}

/// Sends the request described by `args`.
pub async fn http_request(shared: &EgressClient, args: Map<String, Value>) -> Result<Value, ActionError> {
    let args: HttpRequestArgs = parse_args(args)?;
    let method = reqwest::Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .ok()
        .filter(|m| ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"].contains(&m.as_str()))
        .ok_or_else(|| ActionError::Invalid(format!("unsupported method {:?}", args.method)))?;
    let url = reqwest::Url::parse(&args.url).map_err(|e| ActionError::Invalid(format!("url {:?}: {e}", args.url)))?;
    if !(args.timeout > 0.0 && args.timeout.is_finite()) {
        return Err(ActionError::Invalid(format!("timeout must be a positive number of seconds, got {}", args.timeout)));
    }
    // Files go with form fields (a multipart body), never with a JSON or raw body.
    let bodies = [args.payload.is_some(), args.content.is_some(), args.form_data.is_some() || args.files.is_some()];
    if bodies.iter().filter(|b| **b).count() > 1 {
        return Err(ActionError::Invalid("payload, content and form_data/files are mutually exclusive".into()));
    }
    let upload = match &args.files {
        Some(files) => Some(multipart(files, args.form_data.as_ref())?),
        None => None,
    };

    // A per-request client only when the request needs other redirect or TLS settings.
    let custom;
    let client = if args.follow_redirects || !args.verify_ssl {
        let options = ClientOptions {
            follow_redirects: args.follow_redirects.then_some(args.max_redirects),
            accept_invalid_certs: !args.verify_ssl,
            timeout: None,
        };
        custom = shared.with_options(options).map_err(|e| ActionError::Http(e.to_string()))?;
        &custom
    } else {
        shared
    };

    // Refused addresses fail here (IP literals) or at connect time (names), before any byte
    // is sent, so nothing of a refused service's answer can come back.
    let mut request = client
        .request(method.clone(), url)
        .map_err(|refused| ActionError::Http(format!("request to {} failed: {refused}", args.url)))?
        .timeout(ferrocat_dsl::seconds(args.timeout));
    for (name, value) in args.headers.iter().flatten() {
        if let Some(value) = value {
            request = request.header(name, value);
        }
    }
    let params: Vec<(String, String)> = args
        .params
        .iter()
        .flatten()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (k.clone(), scalar_text(v)))
        .collect();
    if !params.is_empty() {
        request = request.query(&params);
    }
    if let Some(payload) = &args.payload {
        request = request.json(payload);
    } else if let Some(content) = args.content {
        request = request.body(content);
    } else if let Some(form) = upload {
        request = request.multipart(form);
    } else if let Some(form) = &args.form_data {
        let pairs: Vec<(String, String)> = form.iter().map(|(k, v)| (k.clone(), scalar_text(v))).collect();
        request = request.form(&pairs);
    }
    if let Some(auth) = args.auth {
        request = request.basic_auth(auth.username, auth.password);
    }

    let response = request.send().await.map_err(|e| {
        if e.is_timeout() {
            ActionError::Http(format!("ReadTimeout: request to {} timed out after {}s", args.url, args.timeout))
        } else {
            ActionError::Http(format!("request to {} failed: {}", args.url, root_cause(&e)))
        }
    })?;
    let status = response.status();
    let headers = headers_map(response.headers());
    let is_json = response
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.trim_start().to_ascii_lowercase().starts_with("application/json"));
    let body = response.bytes().await.map_err(|e| ActionError::Http(format!("reading the response of {}: {e}", args.url)))?;

    if status.as_u16() >= 400 && !args.ignore_status_codes.contains(&status.as_u16()) {
        let snippet: String = String::from_utf8_lossy(&body).chars().take(500).collect();
        return Err(ActionError::Http(format!("HTTP {} from {} {}: {}", status.as_u16(), method, args.url, snippet)));
    }
    let data = if status == reqwest::StatusCode::NO_CONTENT || method == reqwest::Method::HEAD {
        Value::Null
    } else if args.base64_encode_data {
        Value::String(base64::engine::general_purpose::STANDARD.encode(&body))
    } else if is_json && !body.is_empty() {
        serde_json::from_slice(&body).map_err(|e| ActionError::Http(format!("invalid JSON from {}: {e}", args.url)))?
    } else {
        Value::String(String::from_utf8_lossy(&body).into_owned())
    };
    Ok(serde_json::json!({"status_code": status.as_u16(), "headers": headers, "data": data}))
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}
