//! Lookup tables through the whole stack: an analyst imports a CSV of known-bad IPs and keeps a
//! list of VIPs in the api, and a workflow written for Tracecat enriches an alert from them and
//! records each sighting with `core.table.*`, unchanged; a second alert for the same address
//! updates its sighting (upsert on the unique column) instead of adding one.

mod common;

use std::time::Duration;

use serde_json::{Value, json};

use ferrocat_test_support::eventually;

use common::{Stack, commit_workflow, json_of, login};

/// As Tracecat exports it (`definition:` and all).
const ENRICH: &str = r#"
definition:
  title: Enrich sign-in alert from tables
  description: looks the address and the user up, records the sighting, and lists recent ones
  entrypoint:
    ref: ensure_sightings
    expects:
      user: {type: str}
      ip: {type: str}
  actions:
    - ref: ensure_sightings
      action: core.table.create_table
      args:
        name: sightings
        columns:
          - {name: ip, type: TEXT}
          - {name: user, type: TEXT}
          - {name: verdict, type: TEXT}
          - {name: vip, type: BOOLEAN}
          - {name: count, type: INTEGER, default: 1}
        raise_on_duplicate: false
    - ref: key_sightings
      action: core.table.update_column
      depends_on: [ensure_sightings]
      args:
        table: sightings
        column: ip
        update: {is_index: true}
    - ref: lookup_ip
      action: core.table.lookup
      depends_on: [key_sightings]
      args:
        table: known_bad_ips
        column: ip
        value: ${{ TRIGGER.ip }}
    - ref: is_vip
      action: core.table.is_in
      depends_on: [key_sightings]
      args:
        table: vip_users
        column: email
        value: ${{ TRIGGER.user }}
    - ref: record
      action: core.table.insert_row
      depends_on: [lookup_ip, is_vip]
      args:
        table: sightings
        row_data:
          ip: ${{ TRIGGER.ip }}
          user: ${{ TRIGGER.user }}
          verdict: ${{ ACTIONS.lookup_ip.result.verdict }}
          vip: ${{ ACTIONS.is_vip.result }}
        upsert: true
    - ref: recent
      action: core.table.search_rows
      depends_on: [record]
      args:
        table: sightings
        search_term: ${{ TRIGGER.ip }}
        limit: 10
  returns:
    verdict: ${{ ACTIONS.lookup_ip.result.verdict }}
    score: ${{ ACTIONS.lookup_ip.result.score }}
    vip: ${{ ACTIONS.is_vip.result }}
    sightings: ${{ FN.length(ACTIONS.recent.result) }}
"#;

async fn run(http: &reqwest::Client, api: &str, ws: &str, workflow: &str, inputs: Value) -> Value {
    let body = json!({"workflow_id": workflow, "inputs": inputs});
    let (status, started) = json_of(http.post(format!("{api}/workflow-executions?workspace_id={ws}")).json(&body).send().await.unwrap()).await;
    assert_eq!(status, 200, "{started}");
    let exec = started["wf_exec_id"].as_str().unwrap().replace('/', ":");
    eventually(Duration::from_secs(120), "the run finished", || async {
        let (_, detail) = json_of(http.get(format!("{api}/workflow-executions/{exec}?workspace_id={ws}")).send().await.unwrap()).await;
        (detail["status"] != "RUNNING").then_some(detail)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tracecat_workflow_enriches_from_tables_and_records_sightings_unchanged() {
    let stack = tokio::task::spawn_blocking(Stack::up).await.unwrap();
    let api = format!("{}/api", stack.url);
    let (http, ws) = login(&stack.url).await;

    // The analysts' lists: a CSV import (through the edge) and a table typed by hand.
    let csv = "ip,verdict,score\n203.0.113.7,malicious,95\n198.51.100.4,suspicious,40\n";
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("feed.csv").mime_str("text/csv").unwrap())
        .text("table_name", "known_bad_ips");
    let (status, imported) = json_of(http.post(format!("{api}/tables/import?workspace_id={ws}")).multipart(form).send().await.unwrap()).await;
    assert_eq!((status, imported["rows_inserted"].clone()), (201, json!(2)), "{imported}");
    let vips = json!({"name": "vip_users", "columns": [{"name": "email", "type": "TEXT", "is_index": true}]});
    let (status, table) = json_of(http.post(format!("{api}/tables?workspace_id={ws}")).json(&vips).send().await.unwrap()).await;
    assert_eq!(status, 201, "{table}");
    let rows = format!("{api}/tables/{}/rows?workspace_id={ws}", table["id"].as_str().unwrap());
    let (status, row) = json_of(http.post(&rows).json(&json!({"data": {"email": "ceo@example.com"}})).send().await.unwrap()).await;
    assert_eq!(status, 201, "{row}");

    let flow = commit_workflow(&http, &stack.url, &ws, ENRICH.to_owned()).await;
    let first = run(&http, &api, &ws, &flow, json!({"user": "ceo@example.com", "ip": "203.0.113.7"})).await;
    assert_eq!(first["status"], "COMPLETED", "{first}");
    assert_eq!(first["result"], json!({"verdict": "malicious", "score": 95, "vip": true, "sightings": 1}));
    // Again, for the same address: the sighting is updated, not added.
    let second = run(&http, &api, &ws, &flow, json!({"user": "intern@example.com", "ip": "203.0.113.7"})).await;
    assert_eq!(second["status"], "COMPLETED", "{second}");
    assert_eq!(second["result"]["vip"], false);
    assert_eq!(second["result"]["sightings"], 1, "{second}");

    let (_, tables) = json_of(http.get(format!("{api}/tables?workspace_id={ws}")).send().await.unwrap()).await;
    let sightings = tables.as_array().unwrap().iter().find(|t| t["name"] == "sightings").expect("the workflow made it");
    let (_, page) = json_of(http.get(format!("{api}/tables/{}/rows?workspace_id={ws}", sightings["id"].as_str().unwrap())).send().await.unwrap()).await;
    let items = page["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{page}");
    assert_eq!((items[0]["user"].clone(), items[0]["vip"].clone(), items[0]["count"].clone()), (json!("intern@example.com"), json!(false), json!(1)));

    // A value of the wrong type fails the run's action with the column named.
    const WRONG: &str = r#"
title: Wrong type
description: writes text into an integer column
entrypoint: {ref: write}
actions:
  - ref: write
    action: core.table.insert_row
    args:
      table: sightings
      row_data: {ip: 192.0.2.1, count: many}
"#;
    let wrong = commit_workflow(&http, &stack.url, &ws, WRONG.to_owned()).await;
    let failed = run(&http, &api, &ws, &wrong, json!({})).await;
    assert_eq!(failed["status"], "FAILED", "{failed}");
    assert!(failed.to_string().contains("column \\\"count\\\" (INTEGER) takes an integer"), "{failed}");
}
