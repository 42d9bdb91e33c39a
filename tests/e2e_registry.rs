//! A registry synced from git, through the whole stack: a repository served by `git daemon`
//! syncs, its template appears in the registry and runs; a bad file fails the sync naming its
//! path and line and leaves the current version; a committed workflow stays on the version it
//! was committed against until it is committed again; promoting an older version rolls back.

mod common;

use serde_json::json;

use common::{Stack, commit_workflow, json_of, login};
use ferrocat_test_support::git_server::GitServer;

fn triage(verdict: &str) -> String {
    format!(
        r#"type: action
definition:
  name: triage
  namespace: tools.acme
  title: Triage a hash
  display_group: ACME
  expects:
    file_hash: {{type: str}}
  steps:
    - ref: decide
      action: core.transform.reshape
      args:
        value:
          verdict: {verdict}
          hash: ${{{{ inputs.file_hash }}}}
  returns: ${{{{ steps.decide.result }}}}
"#
    )
}

const BROKEN: &str = "type: action
definition:
  name: broken
  namespace: tools.acme
  title: Broken
  steps:
    - ref: call
      action: tools.acme.nowhere
  returns: 1
";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_git_registry_syncs_pins_and_rolls_back() {
    let git = GitServer::start();
    let first = git.commit("triage v1", &[("acme/triage.yml", Some(&triage("v1"))), ("README.md", Some("templates"))]);
    let env = [("FERROCAT_EGRESS_ALLOW", format!("127.0.0.1:{}", git.port))];
    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&env)).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, ws) = login(&stack.url).await;

    for refused in ["file:///etc", "ext::sh -c id", "/srv/registry", "-uhack@host:x"] {
        let (status, body) = json_of(http.post(format!("{api}/registry/repos")).json(&json!({"origin": refused})).send().await.unwrap()).await;
        assert_eq!(status, 422, "{refused}: {body}");
    }
    let (status, repo) = json_of(http.post(format!("{api}/registry/repos")).json(&json!({"origin": git.url})).send().await.unwrap()).await;
    assert_eq!(status, 201, "{repo}");
    let repo = repo["id"].as_str().unwrap().to_owned();
    let sync = || async { json_of(http.post(format!("{api}/registry/repos/{repo}/sync")).json(&json!({})).send().await.unwrap()).await };

    let (status, v1) = sync().await;
    assert_eq!(status, 200, "{v1}");
    assert_eq!((v1["version"].as_i64(), v1["commit_sha"].as_str(), v1["actions"].clone()), (Some(1), Some(first.as_str()), json!(["tools.acme.triage"])));
    let (status, listed) = json_of(http.get(format!("{api}/registry/actions/tools.acme.triage")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["origin"], format!("git:{}", git.url));
    // The catalogue the console and the MCP server read lists it too.
    let (_, all) = json_of(http.get(format!("{api}/registry/actions")).send().await.unwrap()).await;
    assert!(all.as_array().unwrap().iter().any(|a| a["name"] == "tools.acme.triage"), "the catalogue lists the synced template");

    let yaml = "title: Triage from git\ndescription: uses a synced template\nentrypoint: {}\nactions:\n  - ref: t\n    action: tools.acme.triage\n    args: {file_hash: \"${{ TRIGGER.hash }}\"}\nreturns: ${{ ACTIONS.t.result }}\n".to_owned();
    let wf = commit_workflow(&http, &stack.url, &ws, yaml).await;
    let (_, hook) = json_of(http.post(format!("{api}/workflows/{wf}/webhook?workspace_id={ws}")).send().await.unwrap()).await;
    let hook = format!("{}/wait", hook["url"].as_str().unwrap());
    let run = || async {
        let (status, waited) = json_of(reqwest::Client::new().post(&hook).json(&json!({"hash": "abc"})).send().await.unwrap()).await;
        assert_eq!(status, 200, "{waited}");
        waited["value"].clone()
    };
    assert_eq!(run().await, json!({"verdict": "v1", "hash": "abc"}));

    // A bad file fails the sync with its path and line; the current version stays.
    git.commit("a broken template", &[("acme/broken.yml", Some(BROKEN))]);
    let (status, failed) = sync().await;
    assert_eq!(status, 422, "{failed}");
    let errors = failed["errors"].as_array().unwrap();
    assert!(errors.iter().any(|e| e["loc"] == "acme/broken.yml:7" && e["msg"].as_str().unwrap().contains("unknown action 'tools.acme.nowhere'")), "{failed}");
    let (_, shown) = json_of(http.get(format!("{api}/registry/repos/{repo}")).send().await.unwrap()).await;
    assert_eq!(shown["current_version_id"], v1["id"]);
    assert!(shown["last_error"].as_str().unwrap().contains("acme/broken.yml:7"), "{shown}");

    // Version 2 changes the template; the committed workflow stays on version 1.
    git.commit("triage v2", &[("acme/broken.yml", None), ("acme/triage.yml", Some(&triage("v2")))]);
    let (status, v2) = sync().await;
    assert_eq!((status, v2["version"].as_i64()), (200, Some(2)), "{v2}");
    assert_eq!(run().await, json!({"verdict": "v1", "hash": "abc"}), "pinned to the version it was committed against");
    let (status, body) = json_of(http.post(format!("{api}/workflows/{wf}/commit?workspace_id={ws}")).send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(run().await, json!({"verdict": "v2", "hash": "abc"}), "committed again: the new version");

    // Rolling back: version 1 current again, and the next commit pins it.
    let (_, versions) = json_of(http.get(format!("{api}/registry/repos/{repo}/versions")).send().await.unwrap()).await;
    let numbers: Vec<i64> = versions.as_array().unwrap().iter().map(|v| v["version"].as_i64().unwrap()).collect();
    assert_eq!(numbers, [2, 1]);
    let (status, promoted) =
        json_of(http.post(format!("{api}/registry/repos/{repo}/versions/{}/promote", v1["id"].as_str().unwrap())).send().await.unwrap()).await;
    assert_eq!((status, &promoted["current_version_id"]), (200, &v1["id"]), "{promoted}");
    let (status, _) = json_of(http.post(format!("{api}/workflows/{wf}/commit?workspace_id={ws}")).send().await.unwrap()).await;
    assert_eq!(status, 200);
    assert_eq!(run().await, json!({"verdict": "v1", "hash": "abc"}));

    let mut stack = stack;
    assert!(tokio::task::spawn_blocking(move || stack.stop()).await.unwrap());
}
