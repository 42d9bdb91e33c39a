//! The public webhook receiver: every refusal (unknown, wrong secret, offline, method, CIDR,
//! malformed bodies, flags) changes nothing and starts no run; accepted requests carry JSON,
//! form and NDJSON bodies, headers when asked, answer with echo/empty_echo/okta, and `/wait`
//! answers with the run's result.

use std::time::Duration;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use crate::common::{ECHO_WORKFLOW, TestApp, echo_worker, eventually, runs_of, spawn_app, spawn_app_with};

/// A committed workflow with a webhook configured by `settings`; returns (wf id, receiver URL).
pub(crate) async fn webhook(app: &TestApp, admin: &Client, settings: Value) -> (String, String) {
    let wf = app.committed_workflow(admin, ECHO_WORKFLOW).await;
    let created = admin.post(app.at(&format!("/workflows/{wf}/webhook"))).json(&settings).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::OK, "create webhook");
    let created: Value = created.json().await.unwrap();
    let secret = created["secret"].as_str().unwrap();
    assert!(created["url"].as_str().unwrap().ends_with(&format!("/api/webhooks/{wf}/{secret}")));
    (wf.clone(), app.at(&format!("/webhooks/{wf}/{secret}")))
}

async fn patch_webhook(app: &TestApp, admin: &Client, wf: &str, settings: Value) {
    let response = admin.patch(app.at(&format!("/workflows/{wf}/webhook"))).json(&settings).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "update webhook");
}

async fn detail(app: &TestApp, admin: &Client, exec_id: &str) -> Value {
    admin.get(app.at(&format!("/workflow-executions/{exec_id}"))).send().await.unwrap().json().await.unwrap()
}

/// Waits until Temporal lists exactly `n` runs of `wf` (visibility lags the start a little).
async fn wait_for_runs(app: &TestApp, admin: &Client, wf: &str, n: usize) -> Vec<String> {
    let runs = eventually(Duration::from_secs(10), "the run to be listed", || async {
        let runs = runs_of(app, admin, wf).await;
        (runs.len() >= n).then_some(runs)
    })
    .await;
    assert_eq!(runs.len(), n, "runs of {wf}: {runs:?}");
    runs
}

fn detail_of(response: Value) -> String {
    response["detail"].as_str().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn refused_webhook_requests_change_nothing_and_start_no_run() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (wf, url) = webhook(&app, &admin, json!({"methods": ["POST"], "allowlisted_cidrs": ["10.0.0.0/8", "2001:db8::/32"]})).await;
    let http = Client::new();
    let before = app.snapshot().await;

    // Unknown workflow and wrong secret: not found, unauthorised.
    let wrong_secret = url.rsplit_once('/').unwrap().0.to_owned() + "/" + &"0".repeat(64);
    let unknown = app.at(&format!("/webhooks/wf_0000000000000000000000/{}", "0".repeat(64)));
    let response = http.post(&unknown).json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = http.post(&wrong_secret).header("x-real-ip", "10.1.2.3").json(&json!({})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(detail_of(response.json().await.unwrap()), "invalid webhook secret");

    // Method not in the webhook's list.
    let response = http.get(&url).header("x-real-ip", "10.1.2.3").send().await.unwrap();
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);

    // The test client is a loopback peer without X-Real-IP (127.0.0.1), then an address outside
    // both networks as the edge would forward it, then an IPv6 one outside 2001:db8::/32.
    for forwarded in [None, Some("192.168.1.10"), Some("2001:db9::1")] {
        let mut request = http.post(&url).json(&json!({"a": 1}));
        if let Some(ip) = forwarded {
            request = request.header("x-real-ip", ip);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{forwarded:?}");
    }

    // Malformed bodies and flags from an allowed address.
    let inside = |request: reqwest::RequestBuilder| request.header("x-real-ip", "10.1.2.3");
    let malformed = [
        inside(http.post(&url)).header("content-type", "application/json").body("{not json"),
        inside(http.post(&url)).header("content-type", "application/x-ndjson").body("{\"a\":1}\n{nope"),
        inside(http.post(format!("{url}?echo=maybe"))).json(&json!({})),
        inside(http.post(format!("{url}?vendor=acme"))).json(&json!({})),
    ];
    for request in malformed {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert!(response.json::<Value>().await.unwrap()["detail"].is_string());
    }
    assert_eq!(app.snapshot().await, before, "a refused webhook changed the database");

    // Offline: 400 even from an allowed address with a good body.
    patch_webhook(&app, &admin, &wf, json!({"status": "offline"})).await;
    let offline = app.snapshot().await;
    let response = inside(http.post(&url)).json(&json!({"a": 1})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(detail_of(response.json().await.unwrap()), "Webhook is offline");
    assert_eq!(app.snapshot().await, offline);

    // Back online, one accepted request (IPv6 inside the allowlist): exactly one run exists,
    // so none of the refusals above started one.
    patch_webhook(&app, &admin, &wf, json!({"status": "online"})).await;
    let response = http.post(&url).header("x-real-ip", "2001:db8::7").json(&json!({"a": 1})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let accepted: Value = response.json().await.unwrap();
    assert_eq!(accepted["message"], "Workflow execution created");
    assert_eq!(accepted["wf_id"], wf);
    let runs = wait_for_runs(&app, &admin, &wf, 1).await;
    assert_eq!(runs, vec![accepted["wf_exec_id"].as_str().unwrap().to_owned()]);
    let run = detail(&app, &admin, &runs[0]).await;
    assert_eq!(run["trigger_type"], "webhook");
    assert_eq!(run["trigger"], json!({"a": 1}));
}

#[tokio::test]
async fn form_and_ndjson_bodies_become_the_trigger_and_echo_flags_shape_the_answer() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (wf, url) = webhook(&app, &admin, json!({"methods": ["GET", "POST"]})).await;
    let http = Client::new();

    let form = http.post(&url).form(&[("alert", "brute force"), ("host", "db-1")]).send().await.unwrap();
    assert_eq!(form.status(), StatusCode::OK);
    let form: Value = form.json().await.unwrap();
    assert!(form.get("payload").is_none(), "payload without echo: {form}");
    let run = detail(&app, &admin, form["wf_exec_id"].as_str().unwrap()).await;
    assert_eq!(run["trigger"], json!({"alert": "brute force", "host": "db-1"}));

    let ndjson = http
        .post(format!("{url}?echo=true"))
        .header("content-type", "application/x-ndjson")
        .body("{\"n\":1}\n\n{\"n\":2}\n")
        .send()
        .await
        .unwrap();
    assert_eq!(ndjson.status(), StatusCode::OK);
    let ndjson: Value = ndjson.json().await.unwrap();
    assert_eq!(ndjson["payload"], json!([{"n": 1}, {"n": 2}]), "echo returns the parsed payload");
    let run = detail(&app, &admin, ndjson["wf_exec_id"].as_str().unwrap()).await;
    assert_eq!(run["trigger"], json!([{"n": 1}, {"n": 2}]));

    let empty = http.post(format!("{url}?empty_echo=true")).json(&json!({"quiet": true})).send().await.unwrap();
    assert_eq!(empty.status(), StatusCode::OK);
    assert_eq!(empty.bytes().await.unwrap().len(), 0, "empty_echo answers with no body");

    // Okta's one-time verification answers the challenge and starts no run.
    let okta = http
        .get(format!("{url}?vendor=okta"))
        .header("x-okta-verification-challenge", "challenge-123")
        .send()
        .await
        .unwrap();
    assert_eq!(okta.status(), StatusCode::OK);
    assert_eq!(okta.json::<Value>().await.unwrap(), json!({"verification": "challenge-123"}));

    // Three runs: form, NDJSON, empty_echo; none for the Okta handshake.
    let runs = wait_for_runs(&app, &admin, &wf, 3).await;
    assert!(runs.contains(&form["wf_exec_id"].as_str().unwrap().to_owned()));
}

#[tokio::test]
async fn include_headers_wraps_the_payload_and_never_carries_credentials() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (_, url) = webhook(&app, &admin, json!({"include_headers": true})).await;
    // Every credential this stack knows, in mixed case; the trigger is readable by viewers.
    let credentials = [
        ("x-tracecat-api-key", "tc_sk_not-for-the-trigger"),
        ("Cookie", "ferrocat_session=stolen-session-token"),
        ("AUTHORIZATION", "Bearer stolen-bearer-token"),
        ("Proxy-Authorization", "Basic c3RvbGVuOnByb3h5"),
        ("X-Api-Key", "stolen-api-key"),
        ("X-Ferrocat-Token", "stolen-gateway-token"),
    ];
    let mut request = Client::new().post(&url).header("x-alert-source", "siem");
    for (name, value) in credentials {
        request = request.header(name, value);
    }
    let response = request.json(&json!({"id": 7})).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let exec = response.json::<Value>().await.unwrap()["wf_exec_id"].as_str().unwrap().to_owned();
    let run = detail(&app, &admin, &exec).await;
    let trigger = run["trigger"].clone();
    assert_eq!(trigger["data"], json!({"id": 7}));
    assert_eq!(trigger["headers"]["x-alert-source"], "siem");
    assert_eq!(trigger["headers"]["content-type"], "application/json");
    assert_eq!(trigger["raw_body"], r#"{"id":7}"#);
    for (name, value) in credentials {
        assert!(trigger["headers"].get(name.to_ascii_lowercase()).is_none(), "{name} in {trigger}");
        let secret = value.split_once('=').map_or(value, |(_, v)| v);
        assert!(!run.to_string().contains(secret), "{name} reached the run: {run}");
    }
    // Sent straight to the api (not through the edge, which drops it), the cookie is reported
    // in the log, by webhook id and without its value; the e2e test looks for this line.
    let logs = String::from_utf8_lossy(&crate::common::logs().lock().unwrap()).into_owned();
    let webhook_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM webhooks").fetch_one(&app.db).await.unwrap();
    assert!(
        logs.lines().any(|l| l.contains("carried a Cookie header") && l.contains(&webhook_id.to_string())),
        "no warning for the cookie"
    );
    assert!(!logs.contains("stolen-session-token"), "the cookie's value reached the log");
}

#[tokio::test]
async fn wait_answers_with_the_run_result_in_an_envelope_or_unwrapped() {
    let queue = format!("webhook-wait-{}", uuid::Uuid::new_v4().simple());
    let app = spawn_app_with(&[("FERROCAT_TEMPORAL_TASK_QUEUE", queue.as_str())]).await;
    let worker = echo_worker(&app.state, &queue);
    let admin = app.admin().await;
    let (wf, url) = webhook(&app, &admin, json!({})).await;
    let http = Client::new();

    let wrapped = http.post(format!("{url}/wait")).json(&json!({"verdict": "benign"})).send().await.unwrap();
    assert_eq!(wrapped.status(), StatusCode::OK);
    assert_eq!(wrapped.json::<Value>().await.unwrap(), json!({"kind": "value", "value": {"verdict": "benign"}}));
    let unwrapped = http.post(format!("{url}/wait?unwrap=true")).json(&json!({"verdict": "malicious"})).send().await.unwrap();
    assert_eq!(unwrapped.status(), StatusCode::OK);
    assert_eq!(unwrapped.json::<Value>().await.unwrap(), json!({"verdict": "malicious"}));

    // /wait applies the same checks: a wrong secret is refused before anything starts.
    let before = app.snapshot().await;
    let wrong = url.rsplit_once('/').unwrap().0.to_owned() + "/" + &"f".repeat(64) + "/wait";
    let refused = http.post(&wrong).json(&json!({})).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.snapshot().await, before);
    let runs = wait_for_runs(&app, &admin, &wf, 2).await;
    for run in &runs {
        assert_eq!(detail(&app, &admin, run).await["status"], "COMPLETED");
    }
    worker.abort();
}

#[tokio::test]
async fn the_rate_limit_refuses_beyond_its_window_per_webhook_with_retry_after() {
    let app = spawn_app_with(&[("FERROCAT_WEBHOOK_RATE_LIMIT", "3"), ("FERROCAT_WEBHOOK_RATE_WINDOW_SECONDS", "60")]).await;
    let admin = app.admin().await;
    let (wf, url) = webhook(&app, &admin, json!({})).await;
    let (other_wf, other_url) = webhook(&app, &admin, json!({})).await;
    let http = Client::new();
    for i in 0..3 {
        let response = http.post(&url).json(&json!({"i": i})).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "request {i}");
    }
    let before = app.snapshot().await;
    let limited = http.post(&url).json(&json!({"i": 3})).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = limited.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after), "Retry-After {retry_after}");
    assert_eq!(detail_of(limited.json().await.unwrap()), "too many requests for this webhook");
    // /wait shares the budget; another webhook has its own.
    let limited_wait = http.post(format!("{url}/wait")).json(&json!({})).send().await.unwrap();
    assert_eq!(limited_wait.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(app.snapshot().await, before);
    let other = http.post(&other_url).json(&json!({})).send().await.unwrap();
    assert_eq!(other.status(), StatusCode::OK);
    wait_for_runs(&app, &admin, &wf, 3).await;
    wait_for_runs(&app, &admin, &other_wf, 1).await;

    // The counter lives in Redis under the configured prefix, with the window as its expiry.
    let redis = redis::Client::open(crate::common::REDIS_URL).unwrap();
    let mut connection = redis.get_multiplexed_async_connection().await.unwrap();
    let workflow_id = ferrocat_shared::ids::parse_workflow_id(&wf).unwrap();
    let webhook_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM webhooks WHERE workflow_id = $1").bind(workflow_id).fetch_one(&app.db).await.unwrap();
    let key = app.state.limiter.key(&format!("webhook:{webhook_id}"));
    assert!(key.starts_with(&format!("ferrocat-test:{}:", app.db_name)), "{key}");
    let count: u64 = redis::cmd("GET").arg(&key).query_async(&mut connection).await.unwrap();
    assert_eq!(count, 5, "three accepted and two refused hits");
    let ttl: i64 = redis::cmd("TTL").arg(&key).query_async(&mut connection).await.unwrap();
    assert!((1..=60).contains(&ttl), "ttl {ttl}");
}

#[tokio::test]
async fn a_rate_limited_webhook_accepts_again_once_its_window_closes() {
    let app = spawn_app_with(&[("FERROCAT_WEBHOOK_RATE_LIMIT", "1"), ("FERROCAT_WEBHOOK_RATE_WINDOW_SECONDS", "2")]).await;
    let admin = app.admin().await;
    let (_, url) = webhook(&app, &admin, json!({})).await;
    let http = Client::new();
    assert_eq!(http.post(&url).json(&json!({})).send().await.unwrap().status(), StatusCode::OK);
    let limited = http.post(&url).json(&json!({})).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers()["retry-after"].to_str().unwrap().parse::<u64>().unwrap() <= 2);
    eventually(Duration::from_secs(5), "the window to close", || async {
        let status = http.post(&url).json(&json!({})).send().await.unwrap().status();
        (status == StatusCode::OK).then_some(())
    })
    .await;
}

#[tokio::test]
async fn an_issued_api_key_is_required_rotated_revoked_and_deleted() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (wf, url) = webhook(&app, &admin, json!({})).await;
    let key_url = app.at(&format!("/workflows/{wf}/webhook/api-key"));
    let http = Client::new();
    let post_with = |key: Option<&str>| {
        let mut request = http.post(&url).json(&json!({"k": 1}));
        if let Some(key) = key {
            request = request.header("x-tracecat-api-key", key);
        }
        request
    };

    // Viewers and API keys cannot manage the webhook's key; nothing changes.
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    let before = app.snapshot().await;
    assert_eq!(viewer.post(&key_url).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(viewer.delete(&key_url).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(admin.delete(&key_url).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(admin.post(format!("{key_url}/revoke")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(app.snapshot().await, before);

    let issued = admin.post(&key_url).send().await.unwrap();
    assert_eq!(issued.status(), StatusCode::CREATED);
    let issued: Value = issued.json().await.unwrap();
    let first = issued["api_key"].as_str().unwrap().to_owned();
    assert!(first.starts_with("tc_sk_"), "{first}");
    let shown: Value = admin.get(app.at(&format!("/workflows/{wf}/webhook"))).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown["api_key"]["preview"], issued["preview"]);
    assert!(!shown.to_string().contains(&first), "the key was shown again");
    let stored: Vec<u8> = sqlx::query_scalar("SELECT secret_hash FROM webhook_api_keys").fetch_one(&app.db).await.unwrap();
    assert!(!stored.windows(first.len()).any(|w| w == first.as_bytes()), "the key is stored in clear");

    let before = app.snapshot().await;
    for key in [None, Some("tc_sk_wrong"), Some(&first[..first.len() - 1])] {
        let response = post_with(key).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{key:?}");
    }
    assert_eq!(app.snapshot().await, before);
    assert_eq!(post_with(Some(&first)).send().await.unwrap().status(), StatusCode::OK);

    // Rotation: the old key stops working at once.
    let second: Value = admin.post(&key_url).send().await.unwrap().json().await.unwrap();
    let second = second["api_key"].as_str().unwrap().to_owned();
    assert_ne!(second, first);
    assert_eq!(post_with(Some(&first)).send().await.unwrap().status(), StatusCode::UNAUTHORIZED);
    assert_eq!(post_with(Some(&second)).send().await.unwrap().status(), StatusCode::OK);

    // Revoked: refused even with the key, and without one, until the key is deleted.
    assert_eq!(admin.post(format!("{key_url}/revoke")).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    for key in [Some(second.as_str()), None] {
        let response = post_with(key).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{key:?}");
        assert_eq!(detail_of(response.json().await.unwrap()), "the webhook API key was revoked");
    }
    assert_eq!(admin.delete(&key_url).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(post_with(None).send().await.unwrap().status(), StatusCode::OK);
    wait_for_runs(&app, &admin, &wf, 3).await;
}

#[tokio::test]
async fn callers_without_the_key_cannot_use_up_the_senders_rate_limit() {
    let app = spawn_app_with(&[("FERROCAT_WEBHOOK_RATE_LIMIT", "3"), ("FERROCAT_WEBHOOK_RATE_WINDOW_SECONDS", "60")]).await;
    let admin = app.admin().await;
    let (wf, url) = webhook(&app, &admin, json!({})).await;
    let issued: Value = admin.post(app.at(&format!("/workflows/{wf}/webhook/api-key"))).send().await.unwrap().json().await.unwrap();
    let key = issued["api_key"].as_str().unwrap().to_owned();
    let http = Client::new();

    // Someone with the URL but not the key: refused, then limited in a bucket of their own.
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(http.post(&url).header("x-tracecat-api-key", "tc_sk_wrong").json(&json!({})).send().await.unwrap().status());
    }
    assert_eq!(&statuses[..3], [StatusCode::UNAUTHORIZED; 3]);
    assert_eq!(&statuses[3..], [StatusCode::TOO_MANY_REQUESTS; 7], "{statuses:?}");

    // The sender with the key keeps its whole budget.
    for i in 0..3 {
        let response = http.post(&url).header("x-tracecat-api-key", &key).json(&json!({"i": i})).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "request {i} with the key");
    }
    let limited = http.post(&url).header("x-tracecat-api-key", &key).json(&json!({})).send().await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS, "the sender's own limit still holds");
    wait_for_runs(&app, &admin, &wf, 3).await;

    // The two buckets in Redis.
    let workflow_id = ferrocat_shared::ids::parse_workflow_id(&wf).unwrap();
    let webhook_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM webhooks WHERE workflow_id = $1").bind(workflow_id).fetch_one(&app.db).await.unwrap();
    let redis = redis::Client::open(crate::common::REDIS_URL).unwrap();
    let mut connection = redis.get_multiplexed_async_connection().await.unwrap();
    let mut counts = Vec::new();
    for bucket in [format!("webhook:{webhook_id}"), format!("webhook-refused:{webhook_id}")] {
        let key = app.state.limiter.key(&bucket);
        counts.push(redis::cmd("GET").arg(&key).query_async::<u64>(&mut connection).await.unwrap());
    }
    assert_eq!(counts, [4, 10], "the sender's bucket: three accepted and one limited; the refused bucket: ten");
}

#[tokio::test]
async fn viewers_never_see_a_webhooks_secret_or_url() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (wf, url) = webhook(&app, &admin, json!({})).await;
    let secret = url.rsplit('/').next().unwrap().to_owned();
    let at = app.at(&format!("/workflows/{wf}/webhook"));

    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    let response = viewer.get(&at).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let seen: Value = response.json().await.unwrap();
    assert_eq!(seen["workflow_id"], wf.as_str());
    assert_eq!(seen["status"], "online");
    assert!(seen.get("secret").is_none() && seen.get("url").is_none(), "{seen}");
    assert!(!seen.to_string().contains(&secret), "{seen}");
    // Nor by rotating it.
    assert_eq!(viewer.post(format!("{at}/rotate")).send().await.unwrap().status(), StatusCode::FORBIDDEN);

    let editor = app.user("editor@example.com", app.workspace_id, "editor").await;
    let seen: Value = editor.get(&at).send().await.unwrap().json().await.unwrap();
    assert_eq!(seen["secret"], secret.as_str());
    assert!(seen["url"].as_str().unwrap().ends_with(&format!("/api/webhooks/{wf}/{secret}")), "{seen}");
}

#[tokio::test]
async fn rotating_the_secret_retires_the_old_url_and_keeps_the_settings() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let (wf, old_url) = webhook(&app, &admin, json!({"methods": ["POST"], "include_headers": true})).await;
    let at = app.at(&format!("/workflows/{wf}/webhook"));

    // Before any rotation the secret is the one Tracecat derives (and every webhook made before
    // the rotation migration had): existing URLs keep working.
    let workflow_id = ferrocat_shared::ids::parse_workflow_id(&wf).unwrap();
    let webhook_id: uuid::Uuid =
        sqlx::query_scalar("SELECT id FROM webhooks WHERE workflow_id = $1").bind(workflow_id).fetch_one(&app.db).await.unwrap();
    let legacy = {
        use sha2::Digest as _;
        let mut hasher = sha2::Sha256::new();
        hasher.update(format!("wh-{}test-signing-secret-0123456789", webhook_id.simple()));
        hex::encode(hasher.finalize())
    };
    assert!(old_url.ends_with(&format!("/{legacy}")), "{old_url}");

    let http = Client::new();
    assert_eq!(http.post(&old_url).json(&json!({"n": 1})).send().await.unwrap().status(), StatusCode::OK);
    let rotated = admin.post(format!("{at}/rotate")).send().await.unwrap();
    assert_eq!(rotated.status(), StatusCode::OK);
    let rotated: Value = rotated.json().await.unwrap();
    let new_secret = rotated["secret"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, legacy);
    assert_eq!(new_secret.len(), 64);
    assert_eq!(rotated["include_headers"], true, "settings stay");
    let new_url = app.at(&format!("/webhooks/{wf}/{new_secret}"));
    assert!(rotated["url"].as_str().unwrap().ends_with(&format!("/api/webhooks/{wf}/{new_secret}")));

    let before = app.snapshot().await;
    for target in [old_url.clone(), format!("{old_url}/wait")] {
        let refused = http.post(&target).json(&json!({"n": 2})).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED, "{target}");
    }
    assert_eq!(app.snapshot().await, before);
    assert_eq!(http.post(&new_url).json(&json!({"n": 3})).send().await.unwrap().status(), StatusCode::OK);
    let shown: Value = admin.get(&at).send().await.unwrap().json().await.unwrap();
    assert_eq!(shown["secret"], new_secret.as_str(), "the new secret is stable");

    // A second rotation gives yet another secret; a workflow without a webhook is a 404.
    let again: Value = admin.post(format!("{at}/rotate")).send().await.unwrap().json().await.unwrap();
    assert_ne!(again["secret"], new_secret.as_str());
    let bare = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let missing = admin.post(app.at(&format!("/workflows/{bare}/webhook/rotate"))).send().await.unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    wait_for_runs(&app, &admin, &wf, 2).await;
}

#[tokio::test]
async fn a_payload_larger_than_a_run_accepts_is_413_before_anything_starts() {
    let app = spawn_app_with(&[("FERROCAT_WEBHOOK_MAX_PAYLOAD_BYTES", "2000")]).await;
    let admin = app.admin().await;
    let (wf, url) = webhook(&app, &admin, json!({})).await;
    let (headers_wf, headers_url) = webhook(&app, &admin, json!({"include_headers": true})).await;
    let http = Client::new();
    let before = app.snapshot().await;

    let big = json!({"blob": "x".repeat(3000)});
    let refused = http.post(&url).json(&big).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let detail = detail_of(refused.json().await.unwrap());
    assert!(detail.contains("at most 2000 bytes"), "{detail}");
    // With headers the body travels twice (parsed and raw): 1,200 bytes of body is too much.
    let doubled = json!({"blob": "x".repeat(1200)});
    let refused = http.post(&headers_url).json(&doubled).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(app.snapshot().await, before);

    // Under the limit both are accepted.
    assert_eq!(http.post(&url).json(&doubled).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(http.post(&headers_url).json(&json!({"small": 1})).send().await.unwrap().status(), StatusCode::OK);
    wait_for_runs(&app, &admin, &wf, 1).await;
    wait_for_runs(&app, &admin, &headers_wf, 1).await;
}
