//! `core.http_request` uploads: `files` (base64, with a file name and type) and `form_data`
//! arrive as one multipart body at a real HTTP server on loopback.

use axum::extract::Multipart;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

use ferrocat_registry::actions;

/// Echoes each multipart part as `{name, filename, content_type, text}`.
async fn echo_parts(mut form: Multipart) -> Json<Value> {
    let mut parts = Vec::new();
    while let Some(field) = form.next_field().await.unwrap() {
        let (name, filename, content_type) =
            (field.name().map(str::to_owned), field.file_name().map(str::to_owned), field.content_type().map(str::to_owned));
        let text = field.text().await.unwrap();
        parts.push(json!({"name": name, "filename": filename, "content_type": content_type, "text": text}));
    }
    Json(Value::Array(parts))
}

async fn server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/upload", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, Router::new().route("/upload", post(echo_parts))).await.unwrap() });
    url
}

async fn request(args: Value) -> Result<Value, String> {
    let client = actions::http::client(std::sync::Arc::new(ferrocat_shared::egress::EgressPolicy::permissive())).unwrap();
    ferrocat_registry::dispatch("core.http_request", args.as_object().cloned().unwrap(), &client).await.map_err(|e| e.to_string())
}

#[tokio::test]
async fn files_and_form_fields_go_as_one_multipart_body() {
    let url = server().await;
    // "alert,host\nA-1,web-1\n" and "IOC" in base64.
    let result = request(json!({
        "url": url, "method": "POST",
        "form_data": {"case": 42},
        "files": {
            "report": {"filename": "alerts.csv", "content_base64": "YWxlcnQsaG9zdApBLTEsd2ViLTEK", "content_type": "text/csv"},
            "raw": "SU9D",
        },
    }))
    .await
    .unwrap();
    assert_eq!(result["status_code"], json!(200));
    assert_eq!(
        result["data"],
        json!([
            {"name": "case", "filename": null, "content_type": null, "text": "42"},
            {"name": "raw", "filename": "raw", "content_type": null, "text": "IOC"},
            {"name": "report", "filename": "alerts.csv", "content_type": "text/csv", "text": "alert,host\nA-1,web-1\n"},
        ])
    );
}

#[tokio::test]
async fn bad_uploads_are_refused_before_sending() {
    let url = server().await;
    let error = request(json!({"url": url, "method": "POST", "payload": {"a": 1}, "files": {"f": "SU9D"}})).await.unwrap_err();
    assert!(error.contains("mutually exclusive"), "{error}");
    let error = request(json!({"url": url, "method": "POST", "files": {"f": "not base64!"}})).await.unwrap_err();
    assert!(error.contains("files.f is not valid base64"), "{error}");
    let error = request(json!({"url": url, "method": "POST", "files": {"f": {"filename": "x"}}})).await.unwrap_err();
    assert!(error.contains("files.f needs content_base64"), "{error}");
}
