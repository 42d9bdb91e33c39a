//! Git registries over ssh: a repository behind a real sshd syncs with the deploy key kept as
//! an organisation secret, and without the key the sync fails saying so. (The git protocol,
//! pinning and roll back are tested through the whole stack in tests/e2e_registry.rs.)

use reqwest::StatusCode;
use serde_json::{Value, json};

use ferrocat_test_support::git_server::GitServer;

use crate::common::spawn_app_with;

const TEMPLATE: &str = "type: action
definition:
  name: lookup
  namespace: tools.acme_ssh
  title: Look up
  expects:
    q: {type: str}
  steps:
    - ref: echo
      action: core.transform.reshape
      args:
        value: ${{ inputs.q }}
  returns: ${{ steps.echo.result }}
";

#[tokio::test]
async fn an_ssh_registry_syncs_with_a_deploy_key_from_an_organisation_secret() {
    let git = GitServer::start();
    let sha = git.commit("one template", &[("acme/lookup.yml", Some(TEMPLATE))]);
    let (origin, key, ssh) = git.serve_ssh();
    let app = spawn_app_with(&[("FERROCAT_EGRESS_ALLOW", &format!("127.0.0.1:{}", ssh.port))]).await;
    let admin = app.admin().await;

    // Without a key the server refuses, and the sync says why.
    let (status, bare): (StatusCode, Value) = {
        let r = admin.post(app.at("/registry/repos")).json(&json!({"origin": origin})).send().await.unwrap();
        (r.status(), r.json().await.unwrap())
    };
    assert_eq!(status, StatusCode::CREATED, "{bare}");
    let failed = admin.post(app.at(&format!("/registry/repos/{}/sync", bare["id"].as_str().unwrap()))).json(&json!({})).send().await.unwrap();
    assert_eq!(failed.status(), StatusCode::BAD_REQUEST);
    assert!(failed.text().await.unwrap().contains("git clone failed"));
    assert_eq!(admin.delete(app.at(&format!("/registry/repos/{}", bare["id"].as_str().unwrap()))).send().await.unwrap().status(), StatusCode::NO_CONTENT);

    let secret = admin
        .post(app.at("/organization/secrets"))
        .json(&json!({"name": "registry_deploy_key", "keys": [{"key": "PRIVATE_KEY", "value": key}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(secret.status(), StatusCode::CREATED);
    let repo: Value = admin
        .post(app.at("/registry/repos"))
        .json(&json!({"origin": origin, "git_ref": "main", "ssh_key_secret": "registry_deploy_key"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let synced = admin.post(app.at(&format!("/registry/repos/{}/sync", repo["id"].as_str().unwrap()))).json(&json!({})).send().await.unwrap();
    assert_eq!(synced.status(), StatusCode::OK);
    let version: Value = synced.json().await.unwrap();
    assert_eq!((version["commit_sha"].as_str(), version["actions"].clone()), (Some(sha.as_str()), json!(["tools.acme_ssh.lookup"])));
    let listed = admin.get(app.at("/registry/actions/tools.acme_ssh.lookup")).send().await.unwrap();
    assert_eq!(listed.status(), StatusCode::OK);
    let shown: Value = admin.get(app.at(&format!("/registry/repos/{}", repo["id"].as_str().unwrap()))).send().await.unwrap().json().await.unwrap();
    assert!(!shown.to_string().contains("PRIVATE KEY"), "the key is never answered");
}
