//! An OAuth integration used by a library template through the whole stack: the operator points
//! the `microsoft_entra` provider at a real OAuth server (npm oauth2-mock-server) on loopback,
//! a workspace connects it with client credentials through the edge, and a committed workflow's
//! `tools.microsoft_entra.get_user` step reaches a stand-in Microsoft Graph with that token,
//! which appears in no result; the template's step shows in the run's events. Then a person
//! connects the authorization-code grant, the provider returning the browser through the edge,
//! and the template uses the person's token.

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::Path;
use axum::http::HeaderMap;
use axum::routing::get;
use serde_json::json;

use common::{Stack, commit_workflow, json_of, login};
use ferrocat_test_support::oauth_server::OAuthServer;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_library_template_calls_graph_with_the_integrations_token() {
    let oauth = OAuthServer::start(3600);
    // The stand-in Graph: records the Authorization it gets and answers a user.
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let recorded = seen.clone();
    let graph = axum::Router::new().route(
        "/v1.0/users/{id}",
        get(move |Path(id): Path<String>, headers: HeaderMap| {
            let recorded = recorded.clone();
            async move {
                recorded.lock().unwrap().push(headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned());
                axum::Json(json!({"id": id, "displayName": "Adele Vance", "accountEnabled": true}))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let graph_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, graph).await.unwrap() });

    let providers = std::env::temp_dir().join(format!("ferrocat-providers-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(
        &providers,
        format!(
            "[[provider]]\nid = \"microsoft_entra\"\nname = \"Microsoft Entra ID (test tenant)\"\ngrant_types = [\"authorization_code\", \"client_credentials\"]\nauthorization_endpoint = \"{url}/authorize\"\ntoken_endpoint = \"{url}/token\"\nscopes.client_credentials = [\"https://graph.microsoft.com/.default\"]\nscopes.authorization_code = [\"offline_access\", \"User.Read.All\"]\n",
            url = oauth.url
        ),
    )
    .unwrap();
    let env = [
        ("FERROCAT_EGRESS_ALLOW", format!("127.0.0.1:{},{graph_addr}", oauth.port())),
        ("FERROCAT_OAUTH_PROVIDERS", providers.display().to_string()),
    ];
    let stack = tokio::task::spawn_blocking(move || Stack::up_with(&env)).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, ws) = login(&stack.url).await;

    let at = |path: &str| format!("{api}{path}?workspace_id={ws}&grant_type=client_credentials");
    let (status, body) = json_of(
        http.put(at("/integrations/microsoft_entra")).json(&json!({"client_id": "tenant-app", "client_secret": "tenant-app-secret"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = json_of(http.post(at("/integrations/microsoft_entra/connect")).send().await.unwrap()).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("connected")), "{body}");
    let issued = oauth.next_token_request();
    assert_eq!(issued["scope"], "https://graph.microsoft.com/.default");
    let token = issued["issued_access_token"].as_str().unwrap().to_owned();

    let yaml = format!(
        r#"
title: Who is this
description: looks a user up in Entra ID
entrypoint: {{}}
actions:
  - ref: user
    action: tools.microsoft_entra.get_user
    args:
      user_id: adele@contoso.example
      base_url: http://{graph_addr}
returns: ${{{{ ACTIONS.user.result }}}}
"#
    );
    let wf = commit_workflow(&http, &stack.url, &ws, yaml).await;
    let (_, hook) = json_of(http.post(format!("{api}/workflows/{wf}/webhook?workspace_id={ws}")).send().await.unwrap()).await;
    let (status, waited) =
        json_of(reqwest::Client::new().post(format!("{}/wait", hook["url"].as_str().unwrap())).send().await.unwrap()).await;
    assert_eq!(status, 200, "{waited}");
    assert_eq!(waited["value"], json!({"id": "adele@contoso.example", "displayName": "Adele Vance", "accountEnabled": true}));
    assert_eq!(seen.lock().unwrap().as_slice(), [format!("Bearer {token}")], "Graph got the integration's token");

    let (_, runs) = json_of(http.get(format!("{api}/workflow-executions?workflow_id={wf}&workspace_id={ws}")).send().await.unwrap()).await;
    let exec = runs[0]["id"].as_str().unwrap().to_owned();
    let (_, detail) = json_of(http.get(format!("{api}/workflow-executions/{exec}?workspace_id={ws}")).send().await.unwrap()).await;
    assert_eq!(detail["status"], "COMPLETED", "{detail}");
    // The template's step is in the run's events, under its action.
    let event = detail["events"].as_array().unwrap().iter().find(|e| e["action_ref"] == "user").expect("the user action's event");
    let steps = event["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 1, "{event}");
    assert_eq!(
        (steps[0]["template"].as_str(), steps[0]["ref"].as_str(), steps[0]["action"].as_str(), steps[0]["status"].as_str(), steps[0]["depth"].as_i64()),
        (Some("tools.microsoft_entra.get_user"), Some("get_user"), Some("core.http_request"), Some("completed"), Some(1))
    );
    assert!(!detail.to_string().contains(&token), "the token is in no event");

    // A person connects the delegated grant: the provider sends the browser back through the
    // edge to the api's callback, which returns it to the console's integrations page.
    let at_code = |path: &str| format!("{api}{path}?workspace_id={ws}&grant_type=authorization_code");
    let (status, body) = json_of(
        http.put(at_code("/integrations/microsoft_entra")).json(&json!({"client_id": "tenant-app", "client_secret": "tenant-app-secret"})).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (_, started) = json_of(http.post(at_code("/integrations/microsoft_entra/connect")).send().await.unwrap()).await;
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let consent = no_redirects.get(started["auth_url"].as_str().unwrap()).send().await.unwrap();
    let back = consent.headers()["location"].to_str().unwrap().to_owned();
    assert!(back.starts_with(&format!("{}/api/integrations/callback?", stack.url)), "{back}");
    let landed = http.get(&back).send().await.unwrap();
    assert_eq!(landed.status(), 200);
    assert_eq!(landed.url().path(), format!("/workspaces/{ws}/integrations"));
    assert!(landed.url().query().unwrap().contains("status=connected"), "{}", landed.url());
    let exchanged = oauth.next_token_request();
    assert_eq!(exchanged["grant_type"], "authorization_code");
    let user_token = exchanged["issued_access_token"].as_str().unwrap().to_owned();
    // The template prefers the person's token once there is one.
    let (status, waited) =
        json_of(reqwest::Client::new().post(format!("{}/wait", hook["url"].as_str().unwrap())).send().await.unwrap()).await;
    assert_eq!(status, 200, "{waited}");
    assert_eq!(seen.lock().unwrap().last().unwrap(), &format!("Bearer {user_token}"));

    let mut stack = stack;
    assert!(!stack.logs().contains(&token), "a log line carries the token");
    assert!(!stack.logs().contains(&user_token), "a log line carries the user's token");
    assert!(tokio::task::spawn_blocking(move || stack.stop()).await.unwrap());
    let _ = std::fs::remove_file(&providers);
}
