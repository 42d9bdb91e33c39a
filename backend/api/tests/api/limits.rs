//! Untrusted text is parsed within limits: a workflow nesting an expression 100,000 levels
//! deep, one with too many actions, and deeply nested JSON bodies get a clear 4xx naming the
//! limit, and the api keeps answering (it used to die of a stack overflow).

use reqwest::StatusCode;
use serde_json::Value;

fn workflow_with(expression: &str) -> String {
    format!(
        "title: Deep\ndescription: nests\nentrypoint:\n  ref: a\nactions:\n  - ref: a\n    action: core.transform.reshape\n    args:\n      value: ${{{{ {expression} }}}}\n"
    )
}

#[tokio::test]
async fn deep_expressions_and_oversized_workflows_are_refused_and_the_api_stays_up() {
    let app = crate::common::spawn_app().await;
    let admin = app.admin().await;
    for (expression, limit) in [
        (format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)), "the limit is 65536"),
        (format!("{}1{}", "(".repeat(5_000), ")".repeat(5_000)), "nests deeper than 24 levels"),
        (format!("{}1{}", "[".repeat(5_000), "]".repeat(5_000)), "nests deeper than 24 levels"),
        ("1".to_owned() + &" + 1".repeat(5_000), "more than 128 operators"),
    ] {
        let yaml = workflow_with(&expression);
        let checked: Value =
            admin.post(app.at("/workflows/validate")).header("content-type", "application/yaml").body(yaml.clone()).send().await.unwrap().json().await.unwrap();
        assert_eq!(checked["valid"], false, "{limit}");
        assert!(checked.to_string().contains(limit), "{limit}: {checked}");
        // Imported as a draft or refused, but never committed, and never a crash.
        let imported = admin.post(app.at("/workflows")).header("content-type", "application/yaml").body(yaml).send().await.unwrap();
        if imported.status() == StatusCode::CREATED {
            let id = imported.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned();
            let commit = admin.post(app.at(&format!("/workflows/{id}/commit"))).send().await.unwrap();
            assert!(commit.status().is_client_error(), "{limit}: {}", commit.status());
            let body = commit.text().await.unwrap();
            assert!(body.contains(limit) && body.len() < 20_000, "{limit}: {}", &body[..body.len().min(500)]);
        } else {
            assert!(imported.status().is_client_error(), "{limit}: {}", imported.status());
        }
    }

    let many: String = (0..1_001).map(|i| format!("  - ref: a{i}\n    action: core.transform.reshape\n    args: {{value: 1}}\n")).collect();
    let yaml = format!("title: Wide\ndescription: many\nentrypoint:\n  ref: a0\nactions:\n{many}");
    let checked: Value = admin.post(app.at("/workflows/validate")).body(yaml).send().await.unwrap().json().await.unwrap();
    assert!(checked.to_string().contains("at most 1000 actions"), "{checked}");

    // JSON nested past serde_json's recursion limit is a 4xx too.
    let deep_json = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let response = admin
        .post(app.at("/workflow-executions"))
        .header("content-type", "application/json")
        .body(deep_json)
        .send()
        .await
        .unwrap();
    assert!(response.status().is_client_error(), "{}", response.status());

    let health = admin.get(app.at("/health")).send().await.unwrap();
    assert_eq!(health.status(), StatusCode::OK);
}
