//! The HTTP actions that repeat a request: `core.http_poll` (same request until a condition or
//! a status says stop) and `core.http_paginate` (follow `next_request` until `stop_condition`).
//! Both take `core.http_request`'s arguments for the request itself; their lambdas receive the
//! response `{status_code, headers, data}` and run in the sandbox like every `python_lambda`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::{Map, Value};

use ferrocat_shared::egress::EgressClient;
use ferrocat_dsl::expr::{python_repr, truthy};

use super::lambda::{self, Mode};
use super::{ActionError, http, parse_args, transform};

/// Safety stop for `core.http_paginate` when pages keep coming without items or a stop.
pub const MAX_PAGES: usize = 10_000;

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PollArgs {
    #[serde(default)]
    poll_retry_codes: Option<RetryCodes>,
    #[serde(default)]
    poll_interval: Option<f64>,
    #[serde(default = "default_attempts")]
    poll_max_attempts: u32,
    #[serde(default)]
    poll_condition: Option<String>,
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub(crate) enum RetryCodes {
    One(u16),
    Many(Vec<u16>),
}

fn default_attempts() -> u32 {
    10
}

/// Splits `args` into the keys of the repeating action (`own`) and the request's arguments.
fn split_args(mut args: Map<String, Value>, own: &[&str]) -> (Map<String, Value>, Map<String, Value>) {
    let mine = own.iter().filter_map(|k| args.remove(*k).map(|v| ((*k).to_owned(), v))).collect();
    (mine, args)
}

/// One request that returns the response whatever its status (polling looks at the status).
async fn send_any_status(client: &EgressClient, request: &Map<String, Value>) -> Result<Value, ActionError> {
    let mut request = request.clone();
    request.insert("ignore_status_codes".into(), Value::Array((400..600).map(Value::from).collect()));
    http::http_request(client, request).await
}

/// Tracecat's default back-off between polls: 2·2^(n-1) seconds, between 1 and 60.
fn backoff(attempt: u32) -> Duration {
    let secs = 2u64.saturating_mul(1u64 << (attempt.saturating_sub(1)).min(6));
    Duration::from_secs(secs.clamp(1, 60))
}

/// `core.http_poll`: repeats the request while its status is in `poll_retry_codes`, or, when
/// `poll_condition` is given, until that lambda is truthy for the response.
pub async fn http_poll(client: &EgressClient, args: Map<String, Value>) -> Result<Value, ActionError> {
    let (own, request) =
        split_args(args, &["poll_retry_codes", "poll_interval", "poll_max_attempts", "poll_condition"]);
    let poll: PollArgs = parse_args(own)?;
    let retry_codes = match poll.poll_retry_codes {
        Some(RetryCodes::One(code)) => vec![code],
        Some(RetryCodes::Many(codes)) => codes,
        None => Vec::new(),
    };
    let condition = poll.poll_condition.filter(|c| !c.trim().is_empty());
    if condition.is_none() && retry_codes.is_empty() {
        return Err(ActionError::Value("At least one of poll_condition or poll_retry_codes must be specified".into()));
    }
    if let Some(interval) = poll.poll_interval
        && !(interval >= 0.0 && interval.is_finite())
    {
        return Err(ActionError::Invalid(format!("poll_interval must be a non-negative number, got {interval}")));
    }
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let response = send_any_status(client, &request).await?;
        let done = match &condition {
            Some(source) => truthy(&lambda::eval(source, Mode::Apply, &response).await?),
            None => {
                let status = response["status_code"].as_u64().unwrap_or(0);
                !retry_codes.iter().any(|c| u64::from(*c) == status)
            }
        };
        if done {
            return Ok(response);
        }
        if poll.poll_max_attempts > 0 && attempt >= poll.poll_max_attempts {
            return Err(ActionError::Http(format!(
                "RetryError: polling gave up after {attempt} attempts; the last response had status {}",
                response["status_code"]
            )));
        }
        let wait = poll.poll_interval.map(ferrocat_dsl::seconds).unwrap_or_else(|| backoff(attempt));
        tokio::time::sleep(wait).await;
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PaginateArgs {
    stop_condition: String,
    next_request: String,
    #[serde(default)]
    items_jsonpath: Option<String>,
    #[serde(default = "default_limit")]
    limit: usize,
}

fn default_limit() -> usize {
    1000
}

/// The request keys `next_request` may replace.
const NEXT_REQUEST_KEYS: &[&str] = &["url", "method", "headers", "params", "payload", "form_data"];

/// `core.http_paginate`: with `items_jsonpath`, the items of every page (at most `limit`);
/// without it, the page responses themselves (at most `limit` pages).
pub async fn http_paginate(client: &EgressClient, args: Map<String, Value>) -> Result<Value, ActionError> {
    let (own, mut request) = split_args(args, &["stop_condition", "next_request", "items_jsonpath", "limit"]);
    let page: PaginateArgs = parse_args(own)?;
    let mut results: Vec<Value> = Vec::new();
    let mut pages = 0usize;
    while results.len() < page.limit {
        pages += 1;
        if pages > MAX_PAGES {
            return Err(ActionError::Http(format!(
                "pagination stopped after {MAX_PAGES} pages without stop_condition becoming true"
            )));
        }
        let response = http::http_request(client, request.clone()).await?;
        match &page.items_jsonpath {
            Some(path) => {
                let items = match &response["data"] {
                    data @ Value::Object(_) => transform::eval_jsonpath_in(path, data)?,
                    other => other.clone(),
                };
                let items = match items {
                    Value::Null => Vec::new(),
                    Value::Array(items) => items,
                    one => vec![one],
                };
                let room = page.limit - results.len();
                results.extend(items.into_iter().take(room));
            }
            None => results.push(response.clone()),
        }
        if results.len() >= page.limit || truthy(&lambda::eval(&page.stop_condition, Mode::Apply, &response).await?) {
            break;
        }
        let next = lambda::eval(&page.next_request, Mode::Apply, &response).await?;
        let Value::Object(next) = next else {
            return Err(ActionError::Value(format!(
                "next_request must return a dict of {}, got {}",
                NEXT_REQUEST_KEYS.join(", "),
                python_repr(&next)
            )));
        };
        for (key, value) in next {
            if NEXT_REQUEST_KEYS.contains(&key.as_str()) {
                request.insert(key, value);
            }
        }
    }
    Ok(Value::Array(results))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_between_one_and_sixty_seconds() {
        let waits: Vec<u64> = (1..=8).map(|n| backoff(n).as_secs()).collect();
        assert_eq!(waits, [2, 4, 8, 16, 32, 60, 60, 60]);
    }
}
