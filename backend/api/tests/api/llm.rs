//! The model catalog through the api: superusers edit it, every change is validated whole and a
//! bad one changes nothing, running gateways are told of each change; usage is read per
//! workspace, period and run.

use std::time::Duration;

use chrono::{TimeZone as _, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};

use ferrocat_app::llm_catalog::{CATALOG_CHANNEL, SECRETS_CHANNEL};
use ferrocat_llm_gateway::store::DbUsageSink;
use ferrocat_llm_gateway::usage::{Usage, UsageRecord, UsageSink as _};

use crate::common::spawn_app;

async fn status_and_body(response: reqwest::Response) -> (StatusCode, Value) {
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn superusers_edit_the_catalog_and_a_bad_change_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut listener = sqlx::postgres::PgListener::connect_with(&app.db).await.unwrap();
    listener.listen_all([CATALOG_CHANNEL, SECRETS_CHANNEL]).await.unwrap();
    let provider = json!({"kind": "openai_compatible", "base_url": "http://127.0.0.1:11434/v1"});

    // A workspace admin who is not a superuser reads but does not edit.
    let editor = app.user("ws-admin@example.com", app.workspace_id, "admin").await;
    let response = editor.put(app.at("/llm/providers/local")).json(&provider).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(editor.get(app.at("/llm/providers")).send().await.unwrap().status(), StatusCode::OK);

    let before = app.snapshot().await;
    let bad = [
        ("/llm/providers/bad%20name", provider.clone(), "provider name"),
        ("/llm/providers/p", json!({"kind": "openai"}), "needs a credential"),
        ("/llm/providers/p", json!({"kind": "azure", "base_url": "https://x.example", "credential": "secret:az"}), "api_version"),
        ("/llm/providers/p", json!({"kind": "openai", "credential": "env:FERROCAT_DB_ENCRYPTION_KEY"}), "catalog file"),
        ("/llm/providers/p", json!({"kind": "openai", "credential": "sk-a-raw-key"}), "secret:NAME"),
        ("/llm/providers/p", json!({"kind": "nope"}), "kind"),
        ("/llm/providers/p", json!({"kind": "openai_compatible", "base_url": "ftp://x"}), "http or https"),
        ("/llm/models/m", json!({"provider": "missing"}), "unknown provider"),
        ("/llm/models/m", json!({"provider": "missing", "colour": "red"}), "colour"),
    ];
    for (path, body, expected) in bad {
        let (status, error) = status_and_body(admin.put(app.at(path)).json(&body).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{path} {body}: {error}");
        assert!(error.to_string().contains(expected), "{path} {body}: {error}");
    }
    assert_eq!(app.snapshot().await, before, "refused changes left the database as it was");

    let (status, saved) = status_and_body(admin.put(app.at("/llm/providers/local")).json(&provider).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");
    assert_eq!(saved, json!({"name": "local", "kind": "openai_compatible", "base_url": "http://127.0.0.1:11434/v1", "passthrough": false}));
    let notified = tokio::time::timeout(Duration::from_secs(10), listener.recv()).await.unwrap().unwrap();
    assert_eq!(notified.channel(), CATALOG_CHANNEL, "gateways are told of the change");

    for (name, spec) in [("small", json!({"provider": "local", "upstream_model": "llama3.2:1b"})), ("big", json!({"provider": "local", "fallbacks": ["small"], "rpm": 60}))] {
        let (status, saved) = status_and_body(admin.put(app.at(&format!("/llm/models/{name}"))).json(&spec).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::CREATED, "{saved}");
    }
    let (status, _) = status_and_body(admin.put(app.at("/llm/models/small")).json(&json!({"provider": "local", "max_tokens": 512})).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "replacing keeps the model's place");
    let (_, models) = status_and_body(editor.get(app.at("/llm/models")).send().await.unwrap()).await;
    assert_eq!(models, json!([{"name": "small", "provider": "local", "max_tokens": 512}, {"name": "big", "provider": "local", "fallbacks": ["small"], "rpm": 60}]));
    let (status, got) = status_and_body(editor.get(app.at("/llm/models/big")).send().await.unwrap()).await;
    assert_eq!((status, got["rpm"].clone()), (StatusCode::OK, json!(60)));
    assert_eq!(editor.get(app.at("/llm/models/none")).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    // What is still used cannot go; then it can.
    let before = app.snapshot().await;
    let (status, error) = status_and_body(admin.delete(app.at("/llm/models/small")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error.to_string().contains("fallback"), "{error}");
    let (status, error) = status_and_body(admin.delete(app.at("/llm/providers/local")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error.to_string().contains("unknown provider"), "{error}");
    assert_eq!(app.snapshot().await, before);
    assert_eq!(editor.delete(app.at("/llm/models/big")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    for path in ["/llm/models/big", "/llm/models/small", "/llm/providers/local"] {
        assert_eq!(admin.delete(app.at(path)).send().await.unwrap().status(), StatusCode::NO_CONTENT, "{path}");
        assert_eq!(admin.delete(app.at(path)).send().await.unwrap().status(), StatusCode::NOT_FOUND, "{path}");
    }

    // A secret change is announced too, naming its workspace (the gateway caches keys).
    while tokio::time::timeout(Duration::from_millis(1), listener.try_recv()).await.is_ok_and(|n| n.is_ok_and(|n| n.is_some())) {}
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let response = admin
        .post(app.at(&format!("/secrets?workspace_id={ws}")))
        .json(&json!({"name": "openai", "keys": [{"key": "OPENAI_API_KEY", "value": "sk-x"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let notified = loop {
        let n = tokio::time::timeout(Duration::from_secs(10), listener.recv()).await.unwrap().unwrap();
        if n.channel() == SECRETS_CHANNEL {
            break n;
        }
    };
    assert_eq!(notified.payload(), app.workspace_id.to_string());
}

fn record(workspace: uuid::Uuid, run: &str, model: &str, status: u16, day: u32) -> UsageRecord {
    UsageRecord {
        workspace_id: workspace.to_string(),
        run_id: Some(run.to_owned()),
        model: model.to_owned(),
        served_by: Some((model.to_owned(), "p".to_owned())),
        endpoint: "chat",
        stream: false,
        status,
        attempts: 1,
        usage: Usage { input: 10, output: 3 },
        latency: Duration::from_millis(u64::from(day) * 10),
        first_event: None,
        at: Utc.with_ymd_and_hms(2026, 10, day, 12, 0, 0).unwrap(),
    }
}

#[tokio::test]
async fn usage_is_read_per_workspace_period_and_run() {
    let app = spawn_app().await;
    let other = app.create_workspace("elsewhere").await;
    let sink = DbUsageSink::new(app.db.clone());
    let ws = app.workspace_id;
    sink.record_batch(&[
        record(ws, "r1", "gpt", 200, 1),
        record(ws, "r1", "gpt", 200, 2),
        record(ws, "r2", "gpt", 429, 3),
        record(ws, "r2", "claude", 200, 3),
        record(other, "r9", "gpt", 200, 2),
        UsageRecord { workspace_id: "not-a-workspace".into(), ..record(ws, "r0", "gpt", 200, 2) },
    ])
    .await;

    let viewer = app.user("viewer@example.com", ws, "viewer").await;
    let wsid = ferrocat_shared::ids::workspace_id(ws);
    let get = |query: &str| viewer.get(app.at(&format!("/workspaces/{wsid}/llm/usage{query}"))).send();
    let (status, all) = status_and_body(get("?since=2026-10-01T00:00:00Z&until=2026-10-31T00:00:00Z").await.unwrap()).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    assert_eq!(all["total"], json!({"requests": 4, "errors": 1, "input_tokens": 40, "output_tokens": 12}));
    assert_eq!(all["models"].as_array().unwrap().iter().map(|m| m["model"].as_str().unwrap()).collect::<Vec<_>>(), ["claude", "gpt"]);
    assert_eq!(all["models"][1]["requests"], 3);
    assert_eq!(all["models"][1]["p50_latency_ms"], 20.0);

    let (_, period) = status_and_body(get("?since=2026-10-02T00:00:00Z&until=2026-10-03T00:00:00Z").await.unwrap()).await;
    assert_eq!(period["total"]["requests"], 1, "{period}");
    let (_, run) = status_and_body(get("?since=2026-10-01T00:00:00Z&until=2026-10-31T00:00:00Z&run_id=r2").await.unwrap()).await;
    assert_eq!(run["total"]["requests"], 2, "{run}");
    let (_, recent) = status_and_body(get("").await.unwrap()).await;
    assert_eq!(recent["total"]["requests"], 0, "the default period is the last 30 days: {recent}");

    let (status, _) = status_and_body(get("?since=2026-10-03T00:00:00Z&until=2026-10-02T00:00:00Z").await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, error) = status_and_body(get("?since=yesterday").await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error.to_string().contains("since"), "{error}");
    let elsewhere = ferrocat_shared::ids::workspace_id(other);
    let response = viewer.get(app.at(&format!("/workspaces/{elsewhere}/llm/usage"))).send().await.unwrap();
    assert!(matches!(response.status(), StatusCode::FORBIDDEN | StatusCode::NOT_FOUND), "{}", response.status());
}

#[tokio::test]
async fn only_superusers_see_a_providers_base_url_and_credential() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let provider = json!({"kind": "openai_compatible", "base_url": "http://10.0.0.7:8080/v1", "credential": "secret:internal_llm"});
    let (status, saved) = status_and_body(admin.put(app.at("/llm/providers/internal")).json(&provider).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{saved}");

    // The superuser sees everything, in the list and alone.
    let (_, listed) = status_and_body(admin.get(app.at("/llm/providers")).send().await.unwrap()).await;
    assert_eq!(listed[0]["base_url"], "http://10.0.0.7:8080/v1");
    assert_eq!(listed[0]["credential"], "secret:internal_llm");

    // A workspace admin (not a superuser) sees the provider's name and kind, not where it lives
    // or which secret it uses.
    let ws_admin = app.user("ws-admin@example.com", app.workspace_id, "admin").await;
    let (status, listed) = status_and_body(ws_admin.get(app.at("/llm/providers")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(listed, json!([{"name": "internal", "kind": "openai_compatible", "passthrough": false}]));
    let (status, one) = status_and_body(ws_admin.get(app.at("/llm/providers/internal")).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one, json!({"name": "internal", "kind": "openai_compatible", "passthrough": false}));
    assert!(!one.to_string().contains("10.0.0.7") && !one.to_string().contains("internal_llm"), "{one}");
}
