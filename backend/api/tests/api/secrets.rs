//! Secrets: sealed at rest, names only on the way out, per workspace and environment, roles
//! enforced, key rotation, and the value in no response and no log line.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use ferrocat_shared::secrets::Keyring;

use crate::common::{ENCRYPTION_KEY, MAX_BODY_BYTES, logs, spawn_app};

const VALUE: &str = "planted-secret-value-7f3a9c1e";

fn body(name: &str, value: &str) -> Value {
    json!({"name": name, "description": "api token", "keys": [{"key": "API_KEY", "value": value}, {"key": "USER", "value": "svc"}]})
}

async fn sealed(app: &crate::common::TestApp, id: &str) -> Vec<u8> {
    sqlx::query_scalar("SELECT encrypted_keys FROM secrets WHERE id = $1")
        .bind(Uuid::parse_str(id).unwrap())
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_secret_is_sealed_and_only_its_key_names_are_ever_returned() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut responses = Vec::new();

    let created = admin.post(app.at("/secrets")).json(&body("virustotal", VALUE)).send().await.unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let created = created.text().await.unwrap();
    responses.push(created.clone());
    let created: Value = serde_json::from_str(&created).unwrap();
    assert_eq!(created["keys"], json!(["API_KEY", "USER"]));
    assert_eq!(created["environment"], "default");
    assert_eq!(created["type"], "custom");
    let id = created["id"].as_str().unwrap().to_owned();

    // At rest: not the plaintext, and it opens with the configured key for this row only.
    let blob = sealed(&app, &id).await;
    assert!(!blob.windows(VALUE.len()).any(|w| w == VALUE.as_bytes()));
    let ring = Keyring::parse(ENCRYPTION_KEY, &[]).unwrap();
    let keys = ring.open_keys(Uuid::parse_str(&id).unwrap(), &blob).unwrap();
    assert_eq!(keys, vec![("API_KEY".to_owned(), VALUE.to_owned()), ("USER".to_owned(), "svc".to_owned())]);

    for path in ["/secrets", "/secrets/virustotal", "/secrets?environment=default&type=custom"] {
        let response = admin.get(app.at(path)).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        responses.push(response.text().await.unwrap());
    }
    let listed: Value = serde_json::from_str(&responses[1]).unwrap();
    assert_eq!(listed[0]["name"], "virustotal");
    assert_eq!(listed[0]["keys"], json!(["API_KEY", "USER"]));
    let updated = admin.post(app.at(&format!("/secrets/{id}"))).json(&json!({"description": "rotated"})).send().await.unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    responses.push(updated.text().await.unwrap());
    // Errors about values do not echo them either.
    let duplicate = admin.post(app.at("/secrets")).json(&body("virustotal", VALUE)).send().await.unwrap();
    assert_eq!(duplicate.status(), StatusCode::CONFLICT);
    responses.push(duplicate.text().await.unwrap());
    let bad_key = json!({"name": "x", "keys": [{"key": "bad key", "value": VALUE}]});
    let refused = admin.post(app.at("/secrets")).json(&bad_key).send().await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    responses.push(refused.text().await.unwrap());
    let bad_json = admin
        .post(app.at("/secrets"))
        .header("content-type", "application/json")
        .body(format!("{{\"name\": \"{VALUE}"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_json.status(), StatusCode::BAD_REQUEST);
    responses.push(bad_json.text().await.unwrap());

    for text in &responses {
        assert!(!text.contains(VALUE), "the value leaked into a response: {text}");
    }
    let logged = String::from_utf8_lossy(&logs().lock().unwrap()).into_owned();
    assert!(logged.contains("secret created"), "logs were not captured");
    assert!(!logged.contains(VALUE), "the value leaked into the logs");
}

#[tokio::test]
async fn names_are_unique_per_environment_and_reads_take_the_environment() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let mut prod = body("slack", "prod-token");
    prod["environment"] = json!("prod");
    assert_eq!(
        admin.post(app.at("/secrets")).json(&body("slack", "dev-token")).send().await.unwrap().status(),
        StatusCode::CREATED
    );
    assert_eq!(admin.post(app.at("/secrets")).json(&prod).send().await.unwrap().status(), StatusCode::CREATED);
    let before = app.snapshot().await;
    assert_eq!(admin.post(app.at("/secrets")).json(&prod).send().await.unwrap().status(), StatusCode::CONFLICT);
    assert_eq!(app.snapshot().await, before);

    let got: Value = admin.get(app.at("/secrets/slack?environment=prod")).send().await.unwrap().json().await.unwrap();
    assert_eq!(got["environment"], "prod");
    let only_prod: Value = admin.get(app.at("/secrets?environment=prod")).send().await.unwrap().json().await.unwrap();
    assert_eq!(only_prod.as_array().unwrap().len(), 1);
    assert_eq!(admin.get(app.at("/secrets/slack?environment=staging")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn updating_keys_replaces_them_and_delete_removes_the_secret() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let created: Value = admin.post(app.at("/secrets")).json(&body("github", "old")).send().await.unwrap().json().await.unwrap();
    let id = created["id"].as_str().unwrap();
    let update = json!({"name": "github_app", "keys": [{"key": "TOKEN", "value": "new-value"}], "tags": {"team": "soc"}});
    let updated: Value = admin.post(app.at(&format!("/secrets/{id}"))).json(&update).send().await.unwrap().json().await.unwrap();
    assert_eq!(updated["name"], "github_app");
    assert_eq!(updated["keys"], json!(["TOKEN"]));
    assert_eq!(updated["tags"], json!({"team": "soc"}));
    let ring = Keyring::parse(ENCRYPTION_KEY, &[]).unwrap();
    let opened = ring.open_keys(Uuid::parse_str(id).unwrap(), &sealed(&app, id).await).unwrap();
    assert_eq!(opened, vec![("TOKEN".to_owned(), "new-value".to_owned())]);

    assert_eq!(admin.delete(app.at(&format!("/secrets/{id}"))).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(admin.get(app.at("/secrets/github_app")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(admin.delete(app.at(&format!("/secrets/{id}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn viewers_cannot_write_editors_cannot_delete_and_nothing_changes() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let created: Value = admin.post(app.at("/secrets")).json(&body("okta", "v")).send().await.unwrap().json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    let editor = app.user("editor@example.com", app.workspace_id, "editor").await;
    let before = app.snapshot().await;

    assert_eq!(viewer.get(app.at("/secrets")).send().await.unwrap().status(), StatusCode::OK);
    let writes = [
        viewer.post(app.at("/secrets")).json(&body("new", "v")),
        viewer.post(app.at(&format!("/secrets/{id}"))).json(&json!({"description": "x"})),
        viewer.delete(app.at(&format!("/secrets/{id}"))),
        editor.delete(app.at(&format!("/secrets/{id}"))),
    ];
    for request in writes {
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(app.snapshot().await, before);
    let edited = editor.post(app.at(&format!("/secrets/{id}"))).json(&json!({"description": "by editor"})).send().await.unwrap();
    assert_eq!(edited.status(), StatusCode::OK);
}

#[tokio::test]
async fn another_workspace_sees_none_of_the_secrets() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let created: Value =
        admin.post(app.at("/secrets")).json(&body("crowdstrike", "v")).send().await.unwrap().json().await.unwrap();
    let id = created["id"].as_str().unwrap().to_owned();
    let other = app.create_workspace("Other").await;
    let outsider = app.user("outsider@example.com", other, "admin").await;
    let before = app.snapshot().await;

    let listed: Value = outsider.get(app.at("/secrets")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed, json!([]));
    let requests = [
        outsider.get(app.at("/secrets/crowdstrike")),
        outsider.post(app.at(&format!("/secrets/{id}"))).json(&json!({"description": "mine now"})),
        outsider.delete(app.at(&format!("/secrets/{id}"))),
    ];
    for request in requests {
        assert_eq!(request.send().await.unwrap().status(), StatusCode::NOT_FOUND);
    }
    assert_eq!(app.snapshot().await, before);
    // The same name is free in the other workspace.
    assert_eq!(
        outsider.post(app.at("/secrets")).json(&body("crowdstrike", "w")).send().await.unwrap().status(),
        StatusCode::CREATED
    );
}

#[tokio::test]
async fn malformed_and_oversized_bodies_change_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let before = app.snapshot().await;
    let cases: Vec<(Value, &str)> = vec![
        (json!({"keys": [{"key": "A", "value": "v"}]}), "name"),
        (json!({"name": "has space", "keys": [{"key": "A", "value": "v"}]}), "name"),
        (json!({"name": "ok", "keys": []}), "keys"),
        (json!({"name": "ok", "keys": [{"key": "A", "value": "v"}, {"key": "A", "value": "w"}]}), "keys.key"),
        (json!({"name": "ok", "keys": [{"key": "A", "value": ""}]}), "keys.value"),
        (json!({"name": "ok", "type": "nuclear", "keys": [{"key": "A", "value": "v"}]}), "type"),
        (json!({"name": "ok", "environment": "no spaces", "keys": [{"key": "A", "value": "v"}]}), "environment"),
        (json!({"name": "ok", "tags": [1], "keys": [{"key": "A", "value": "v"}]}), "tags"),
        (json!({"name": "ok", "keys": [{"key": "A", "value": "v"}], "surprise": true}), "surprise"),
        (json!({"name": "ok", "keys": [{"key": "A"}]}), "keys[0].value"),
    ];
    for (case, loc) in cases {
        let response = admin.post(app.at("/secrets")).json(&case).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{case}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["errors"][0]["loc"], loc, "{case}: {error}");
        if loc == "name" && case.get("name").is_none() {
            assert!(error["detail"].as_str().unwrap().contains("name"), "{error}");
        }
    }
    let not_json = admin.post(app.at("/secrets")).header("content-type", "application/json").body("{").send().await.unwrap();
    assert_eq!(not_json.status(), StatusCode::BAD_REQUEST);
    let huge = body("big", &"x".repeat(MAX_BODY_BYTES));
    assert_eq!(admin.post(app.at("/secrets")).json(&huge).send().await.unwrap().status(), StatusCode::PAYLOAD_TOO_LARGE);
    let not_a_uuid = admin.post(app.at("/secrets/not-a-uuid")).json(&json!({"description": "x"})).send().await.unwrap();
    assert_eq!(not_a_uuid.status(), StatusCode::NOT_FOUND);
    assert_eq!(app.snapshot().await, before);
}

#[tokio::test]
async fn a_restart_with_a_new_key_reseals_old_secrets() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let created: Value =
        admin.post(app.at("/secrets")).json(&body("rotating", "keep-me")).send().await.unwrap().json().await.unwrap();
    let id = Uuid::parse_str(created["id"].as_str().unwrap()).unwrap();
    let new_key = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";
    app.rebuild(&[("FERROCAT_DB_ENCRYPTION_KEY", new_key), ("FERROCAT_DB_ENCRYPTION_KEYS_OLD", ENCRYPTION_KEY)]).await;
    let blob = sealed(&app, &id.to_string()).await;
    // Now the new key alone opens it: the old one can be retired.
    let new_only = Keyring::parse(new_key, &[]).unwrap();
    assert!(!new_only.is_stale(&blob));
    assert_eq!(new_only.open_keys(id, &blob).unwrap()[0], ("API_KEY".to_owned(), "keep-me".to_owned()));
}

#[tokio::test]
async fn organisation_secrets_are_for_superusers_and_no_workspace_lists_them() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let member = app.user("ws-admin@example.com", app.workspace_id, "admin").await;

    // A workspace admin is not an organisation admin: nothing is created.
    let before = app.snapshot().await;
    let response = member.post(app.at("/organization/secrets")).json(&body("openai", VALUE)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(member.get(app.at("/organization/secrets")).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(app.snapshot().await, before);

    let response = admin.post(app.at("/organization/secrets")).json(&body("openai", VALUE)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["workspace_id"], Value::Null);
    assert!(!created.to_string().contains(VALUE));
    let id = created["id"].as_str().unwrap().to_owned();
    let opened = Keyring::parse(ENCRYPTION_KEY, &[]).unwrap().open_keys(Uuid::parse_str(&id).unwrap(), &sealed(&app, &id).await).unwrap();
    assert_eq!(opened[0], ("API_KEY".to_owned(), VALUE.to_owned()));

    // Unique within the organisation; a workspace may hold its own of the same name.
    let again = admin.post(app.at("/organization/secrets")).json(&body("openai", "other")).send().await.unwrap();
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let own = admin.post(app.at("/secrets")).json(&body("openai", "workspace-value")).send().await.unwrap();
    assert_eq!(own.status(), StatusCode::CREATED);
    let listed: Value = admin.get(app.at("/secrets")).send().await.unwrap().json().await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1, "the workspace lists only its own: {listed}");
    assert_ne!(listed[0]["id"], json!(id));
    let org: Value = admin.get(app.at("/organization/secrets")).send().await.unwrap().json().await.unwrap();
    assert_eq!(org.as_array().unwrap().iter().map(|s| s["id"].clone()).collect::<Vec<_>>(), [json!(id)]);
    let got: Value = admin.get(app.at("/organization/secrets/openai")).send().await.unwrap().json().await.unwrap();
    assert_eq!(got["id"], json!(id));

    // A workspace route cannot reach it by id, nor the organisation route a workspace's.
    let own_id = own.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(admin.delete(app.at(&format!("/secrets/{id}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(admin.delete(app.at(&format!("/organization/secrets/{own_id}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);

    let update = json!({"keys": [{"key": "API_KEY", "value": "rotated-value"}]});
    assert_eq!(member.post(app.at(&format!("/organization/secrets/{id}"))).json(&update).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let updated = admin.post(app.at(&format!("/organization/secrets/{id}"))).json(&update).send().await.unwrap();
    assert_eq!(updated.status(), StatusCode::OK);
    assert_eq!(updated.json::<Value>().await.unwrap()["keys"], json!(["API_KEY"]));
    assert_eq!(admin.delete(app.at(&format!("/organization/secrets/{id}"))).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(admin.get(app.at("/organization/secrets/openai")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}
