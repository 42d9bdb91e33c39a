//! The OpenAPI document: served at /openapi.json, every operation in it is a real route, and
//! schemathesis (PyPI) finds no server error anywhere in it.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::common::{ECHO_WORKFLOW, TestApp, spawn_app};

async fn document(app: &TestApp) -> Value {
    let response = reqwest::get(app.at("/openapi.json")).await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

#[tokio::test]
async fn every_documented_operation_is_a_route() {
    let app = spawn_app().await;
    let doc = document(&app).await;
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    let admin = app.admin().await;
    let mut operations = 0;
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            operations += 1;
            assert!(item[method]["responses"].as_object().is_some_and(|r| !r.is_empty()), "{method} {path} documents no response");
            // Placeholders for the path's parameters: the route must exist whatever they are.
            let concrete: String = path.split('/').map(|seg| if seg.starts_with('{') { "x" } else { seg }).collect::<Vec<_>>().join("/");
            if concrete == "/auth/logout" {
                continue;
            }
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = admin.request(method.clone(), app.at(&concrete)).json(&json!({})).send().await.unwrap();
            let status = response.status();
            let body = response.text().await.unwrap();
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {path}: {body}");
            assert!(!body.contains("no such route"), "{method} {path} is documented but not routed");
            assert!(status.as_u16() < 500, "{method} {path}: {status} {body}");
        }
    }
    assert!(operations >= 55, "only {operations} operations documented");
    // The schemas of request bodies come from the handlers' own types.
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    for name in ["CreateSecret", "CreateSchedule", "UpdateWorkflow", "CreateExecution", "ErrorBody"] {
        assert!(schemas.contains_key(name), "{name} missing from components");
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_server_error() {
    let python = std::env::var("FERROCAT_TEST_PYTHON")
        .expect("FERROCAT_TEST_PYTHON must name a Python with PyPI schemathesis (deploy/test.sh sets it up)");
    let schemathesis = std::path::Path::new(&python).parent().unwrap().join("schemathesis");
    assert!(schemathesis.exists(), "{} is missing: pip install schemathesis", schemathesis.display());
    let app = spawn_app().await;
    let admin = app.admin().await;
    // An admin service account's key: every operation reachable, no session to log out of.
    let ws = ferrocat_shared::ids::workspace_id(app.workspace_id);
    let account: Value = admin
        .post(app.at(&format!("/workspaces/{ws}/service-accounts")))
        .json(&json!({"name": "schemathesis", "role": "admin"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key: Value = admin
        .post(app.at(&format!("/workspaces/{ws}/service-accounts/{}/api-keys", account["id"].as_str().unwrap())))
        .json(&json!({"name": "fuzz"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let key = key["key"].as_str().expect("a key").to_owned();
    // Real objects for the path parameters, so requests reach the handlers, not only 404s.
    let workflow = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let hook: Value = admin.post(app.at(&format!("/workflows/{workflow}/webhook"))).json(&json!({})).send().await.unwrap().json().await.unwrap();
    let secret = hook["url"].as_str().and_then(|u| u.rsplit('/').next()).expect("a webhook URL").to_owned();
    let dir = std::env::temp_dir().join(format!("ferrocat-schemathesis-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("schemathesis.toml");
    let parameters = format!(
        "[parameters]\n\"path.workflow_id\" = \"{workflow}\"\n\"path.secret\" = \"{secret}\"\n\"path.workspace_id\" = \"{ws}\"\n\"path.account_id\" = \"{}\"\n",
        account["id"].as_str().unwrap()
    );
    std::fs::write(&config, parameters).unwrap();
    let output = tokio::process::Command::new(&schemathesis)
        // Its cache of found crashes goes with the config, not into the source tree.
        .current_dir(&dir)
        .arg("--config-file")
        .arg(&config)
        .args(["run", &app.at("/openapi.json"), "--checks", "not_a_server_error", "--max-examples", "10"])
        .args(["--header", &format!("Authorization: Bearer {key}"), "--no-color", "--seed", "1"])
        // /wait waits for the run, and no worker runs here; the e2e tests cover it.
        .args(["--exclude-path", "/auth/logout", "--exclude-path-regex", "/wait$", "--request-timeout", "30"])
        .output()
        .await
        .unwrap();
    let report = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "schemathesis found problems:\n{report}");
    assert!(!report.contains(&key), "the key leaked into the report");
}
