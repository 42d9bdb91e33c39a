//! Two stacks on one host at once (as the tests and some operators run them): each on its own
//! ports, with its own database, Temporal and data dir, and neither sees the other's objects.

mod common;

use serde_json::Value;

use common::{Stack, login};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_stacks_run_side_by_side_without_sharing_state() {
    let (a, b) = tokio::join!(tokio::task::spawn_blocking(Stack::up), tokio::task::spawn_blocking(Stack::up));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a.url, b.url);

    let (http_a, ws_a) = login(&a.url).await;
    let (http_b, ws_b) = login(&b.url).await;
    let response = http_a
        .post(format!("{}/api/workflows?workspace_id={ws_a}", a.url))
        .json(&serde_json::json!({"title": "only in A"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 201);

    let list = |http: reqwest::Client, url: String, ws: String| async move {
        let page: Value = http.get(format!("{url}/api/workflows?workspace_id={ws}")).send().await.unwrap().json().await.unwrap();
        page["items"].as_array().unwrap().iter().map(|w| w["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>()
    };
    assert_eq!(list(http_a, a.url.clone(), ws_a).await, vec!["only in A".to_owned()]);
    assert!(list(http_b, b.url.clone(), ws_b).await.is_empty(), "stack B has its own database");
}
