//! Cases: numbers, reads and changes with their activity, closure rules, search with filters,
//! sorts and cursor pages, comments, tasks, tags, roles and isolation, and case triggers that
//! start each subscribed workflow once per event.

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

use ferrocat_app::cases::triggers::{Delivery, dispatch_pending};
use ferrocat_app::cases::{self, Actor, CaseChanges, CaseStatus};

use crate::common::{ECHO_WORKFLOW, TestApp, eventually, spawn_app, spawn_app_with};

async fn create(app: &TestApp, client: &Client, body: Value) -> Value {
    let response = client.post(app.at("/cases")).json(&body).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::CREATED, "create: {}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn get(app: &TestApp, client: &Client, path: &str) -> Value {
    let response = client.get(app.at(path)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK, "GET {path}: {}", response.text().await.unwrap());
    response.json().await.unwrap()
}

async fn patch(app: &TestApp, client: &Client, path: &str, body: Value) -> reqwest::Response {
    client.patch(app.at(path)).json(&body).send().await.unwrap()
}

fn event_types(events: &Value) -> Vec<String> {
    events["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn cases_are_numbered_per_workspace_read_changed_and_deleted_with_their_activity() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let first = create(&app, &admin, json!({"summary": "Phishing report", "description": "user clicked", "priority": "high", "payload": {"alert": 1}})).await;
    assert_eq!(first["short_id"], "CASE-0001");
    assert_eq!(first["status"], "new", "the api's default status");
    assert_eq!(first["priority"], "high");
    assert_eq!(first["severity"], "unknown");
    assert_eq!(first["payload"], json!({"alert": 1}));
    let second = create(&app, &admin, json!({"summary": "Malware"})).await;
    assert_eq!(second["short_id"], "CASE-0002");
    // Another workspace counts from one.
    let other = app.create_workspace("Other").await;
    let outsider = app.user("outsider@example.com", other, "admin").await;
    let theirs = create(&app, &outsider, json!({"summary": "theirs"})).await;
    assert_eq!(theirs["short_id"], "CASE-0001");

    let id = first["id"].as_str().unwrap();
    let by_short = get(&app, &admin, "/cases/CASE-0001").await;
    assert_eq!(by_short["id"], id);
    assert_eq!(get(&app, &admin, "/cases/1").await["id"], id);
    assert_eq!(by_short["description"], "user clicked");

    assert_eq!(patch(&app, &admin, &format!("/cases/{id}"), json!({"status": "in_progress", "severity": "critical", "summary": "Phishing: finance"})).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(patch(&app, &admin, &format!("/cases/{id}"), json!({"status": "closed"})).await.status(), StatusCode::NO_CONTENT);
    assert_eq!(patch(&app, &admin, &format!("/cases/{id}"), json!({"status": "in_progress", "description": "and replied", "append_description": true})).await.status(), StatusCode::NO_CONTENT);
    let read = get(&app, &admin, &format!("/cases/{id}")).await;
    assert_eq!(read["summary"], "Phishing: finance");
    assert_eq!(read["description"], "user clicked\n\nand replied");
    let events = get(&app, &admin, &format!("/cases/{id}/events")).await;
    let types = event_types(&events);
    for expected in ["case_created", "status_changed", "severity_changed", "case_updated", "case_closed", "case_reopened", "case_viewed"] {
        assert!(types.contains(&expected.to_owned()), "{expected} missing from {types:?}");
    }
    let closed = events["events"].as_array().unwrap().iter().find(|e| e["type"] == "case_closed").unwrap();
    assert_eq!(closed["data"], json!({"old": "in_progress", "new": "closed"}));
    assert!(closed["user_id"].is_string(), "the person who closed it is recorded");
    assert_eq!(events["users"].as_array().unwrap().len(), 1);

    assert_eq!(admin.delete(app.at(&format!("/cases/{id}"))).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(admin.get(app.at(&format!("/cases/{id}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    // Numbers are never reused within a workspace.
    assert_eq!(create(&app, &admin, json!({"summary": "third"})).await["short_id"], "CASE-0003");
}

#[tokio::test]
async fn closing_is_refused_while_a_required_field_is_empty_and_the_case_stays_as_it_was() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let field = admin
        .post(app.at("/case-fields"))
        .json(&json!({"name": "root_cause", "type": "TEXT", "required_on_closure": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(field.status(), StatusCode::CREATED);
    let select = json!({"name": "category", "type": "SELECT", "options": ["phishing", "malware"]});
    assert_eq!(admin.post(app.at("/case-fields")).json(&select).send().await.unwrap().status(), StatusCode::CREATED);
    let case = create(&app, &admin, json!({"summary": "needs a cause", "fields": {"category": "phishing"}})).await;
    let id = case["id"].as_str().unwrap();
    let before = app.snapshot().await;

    let refused = patch(&app, &admin, &format!("/cases/{id}"), json!({"status": "closed"})).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert!(body["detail"].as_str().unwrap().contains("root_cause"), "{body}");
    assert_eq!(body["errors"][0]["loc"], "fields.root_cause");
    let resolved = patch(&app, &admin, &format!("/cases/{id}"), json!({"status": "resolved", "fields": {"root_cause": "  "}})).await;
    assert_eq!(resolved.status(), StatusCode::UNPROCESSABLE_ENTITY, "blank text is empty");
    let wrong = patch(&app, &admin, &format!("/cases/{id}"), json!({"fields": {"category": "ransomware"}})).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let unknown = patch(&app, &admin, &format!("/cases/{id}"), json!({"fields": {"nope": 1}})).await;
    assert_eq!(unknown.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.snapshot().await, before, "refusals change nothing");
    let created_closed = admin.post(app.at("/cases")).json(&json!({"summary": "x", "status": "closed"})).send().await.unwrap();
    assert_eq!(created_closed.status(), StatusCode::UNPROCESSABLE_ENTITY, "a case cannot be created closed without its fields");

    // The value given with the status counts.
    let closing = patch(&app, &admin, &format!("/cases/{id}"), json!({"status": "closed", "fields": {"root_cause": "reused password"}})).await;
    assert_eq!(closing.status(), StatusCode::NO_CONTENT);
    let read = get(&app, &admin, &format!("/cases/{id}")).await;
    assert_eq!(read["status"], "closed");
    let fields = read["fields"].as_array().unwrap();
    let root = fields.iter().find(|f| f["id"] == "root_cause").unwrap();
    assert_eq!((root["value"].clone(), root["required_on_closure"].clone()), (json!("reused password"), json!(true)));
    // Clearing a required field of a closed case is refused too.
    assert_eq!(patch(&app, &admin, &format!("/cases/{id}"), json!({"fields": {"root_cause": null}})).await.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn search_filters_on_every_field_sorts_and_pages_both_ways() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let field = json!({"name": "region", "type": "SELECT", "options": ["eu", "us"]});
    assert_eq!(admin.post(app.at("/case-fields")).json(&field).send().await.unwrap().status(), StatusCode::CREATED);
    let mut ids = Vec::new();
    for (i, (priority, status, region, tags)) in [
        ("high", "new", "eu", vec!["phishing"]),
        ("low", "new", "us", vec!["phishing", "vip"]),
        ("critical", "in_progress", "eu", vec!["vip"]),
        ("high", "new", "eu", vec!["phishing", "vip"]),
        ("medium", "on_hold", "us", vec![]),
        ("high", "new", "eu", vec!["phishing"]),
        ("critical", "new", "eu", vec!["phishing"]),
    ]
    .into_iter()
    .enumerate()
    {
        let body = json!({"summary": format!("alert {i} on host-{i}"), "priority": priority, "status": status, "fields": {"region": region}, "tags": tags, "create_missing_tags": true});
        ids.push(create(&app, &admin, body).await["id"].as_str().unwrap().to_owned());
    }
    let search = |query: &str| {
        let (app, admin, query) = (&app, &admin, query.to_owned());
        async move { get(app, admin, &format!("/cases/search?{query}")).await }
    };
    let items = |page: &Value| page["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();

    // Three filters and a sort: new, high or critical, in the EU, tagged phishing; by priority.
    let found = search("status=new&priority=high&priority=critical&tags=phishing&field=region:eu&order_by=priority&sort=desc").await;
    assert_eq!(items(&found), [ids[6].clone(), ids[5].clone(), ids[3].clone(), ids[0].clone()]);
    assert_eq!(found["has_more"], false);
    assert_eq!(search("tags=phishing&tags=vip").await["items"].as_array().unwrap().len(), 2, "tags are AND-ed");
    assert_eq!(items(&search("search_term=host-4").await), [ids[4].clone()]);
    assert_eq!(items(&search("short_id=CASE-0003").await), [ids[2].clone()]);
    assert_eq!(search("assignee_id=unassigned").await["items"].as_array().unwrap().len(), 7);
    let later = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339().replace('+', "%2B");
    assert_eq!(search(&format!("start_time={later}")).await["items"], json!([]));

    // Pages of two, newest first, forwards then back.
    let mut seen = Vec::new();
    let mut page = search("limit=2").await;
    let mut pages = vec![page.clone()];
    loop {
        seen.extend(items(&page));
        let Some(next) = page["next_cursor"].as_str() else { break };
        page = search(&format!("limit=2&cursor={next}")).await;
        pages.push(page.clone());
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(seen, newest_first);
    assert_eq!(pages.len(), 4);
    assert_eq!(pages[0]["has_previous"], false);
    let back = pages[2]["prev_cursor"].as_str().unwrap();
    let previous = search(&format!("limit=2&cursor={back}&reverse=true")).await;
    assert_eq!(items(&previous), items(&pages[1]));
    assert_eq!(previous["has_more"], true);

    let counts = get(&app, &admin, "/cases/search/aggregate?priority=high").await;
    assert_eq!(counts["total"], 3);
    assert_eq!(counts["status_groups"]["new"], 3);
    assert_eq!(counts["status_groups"]["closed"], 0);

    for bad in ["status=done", "order_by=colour", "limit=0", "limit=201", "cursor=forged", "field=region", "field=nope:1", "start_time=yesterday", "colour=red"] {
        let response = admin.get(app.at(&format!("/cases/search?{bad}"))).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    let filters_on_list = admin.get(app.at("/cases?status=new")).send().await.unwrap();
    assert_eq!(filters_on_list.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Batch update and delete: a case not in the workspace refuses the batch whole; else each
    // case is reported.
    let missing = admin
        .post(app.at("/cases/batch-update"))
        .json(&json!({"case_ids": [ids[0], "CASE-9999"], "update": {"status": "on_hold"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().await.unwrap().contains("CASE-9999"));
    let batch = admin
        .post(app.at("/cases/batch-update"))
        .json(&json!({"case_ids": [ids[0], ids[1]], "update": {"status": "on_hold"}}))
        .send()
        .await
        .unwrap();
    let batch: Value = batch.json().await.unwrap();
    assert_eq!((batch["succeeded"].clone(), batch["failed"].clone()), (json!(2), json!(0)));
    assert_eq!(get(&app, &admin, "/cases/search/aggregate").await["status_groups"]["on_hold"], 3);
    let deleted: Value = admin.post(app.at("/cases/batch-delete")).json(&json!({"case_ids": [ids[0]]})).send().await.unwrap().json().await.unwrap();
    assert_eq!(deleted["succeeded"], 1);
    assert_eq!(get(&app, &admin, "/cases/search/aggregate").await["total"], 6);
}

#[tokio::test]
async fn comments_thread_one_level_deep_and_deleting_a_thread_starter_leaves_a_tombstone() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let editor = app.user("editor@example.com", app.workspace_id, "editor").await;
    let case = create(&app, &admin, json!({"summary": "discuss"})).await;
    let id = case["id"].as_str().unwrap();
    let post = |client: &Client, body: Value| client.post(app.at(&format!("/cases/{id}/comments"))).json(&body).send();
    let root: Value = post(&admin, json!({"content": "what happened?"})).await.unwrap().json().await.unwrap();
    let root_id = root["id"].as_str().unwrap();
    let reply = post(&editor, json!({"content": "a phish", "parent_id": root_id})).await.unwrap();
    assert_eq!(reply.status(), StatusCode::CREATED);
    let reply: Value = reply.json().await.unwrap();
    let nested = post(&admin, json!({"content": "deeper", "parent_id": reply["id"]})).await.unwrap();
    assert_eq!(nested.status(), StatusCode::UNPROCESSABLE_ENTITY, "replies are one level deep");
    assert_eq!(post(&admin, json!({"content": "  "})).await.unwrap().status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The editor may not change the admin's comment; the admin may change the editor's.
    let path = format!("/cases/{id}/comments/{root_id}");
    assert_eq!(patch(&app, &editor, &path, json!({"content": "mine now"})).await.status(), StatusCode::FORBIDDEN);
    let edited = patch(&app, &admin, &path, json!({"content": "what happened exactly?"})).await;
    assert_eq!(edited.status(), StatusCode::OK);
    assert!(edited.json::<Value>().await.unwrap()["last_edited_at"].is_string());

    let threads = get(&app, &admin, &format!("/cases/{id}/comments/threads")).await;
    assert_eq!(threads[0]["reply_count"], 1);
    assert_eq!(threads[0]["replies"][0]["content"], "a phish");

    // The starter has a reply: it stays as a tombstone; the reply goes for good, and so does the
    // tombstone with it.
    assert_eq!(admin.delete(app.at(&path)).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    let threads = get(&app, &admin, &format!("/cases/{id}/comments/threads")).await;
    assert_eq!((threads[0]["comment"]["is_deleted"].clone(), threads[0]["comment"]["content"].clone()), (json!(true), json!("")));
    let reply_path = format!("/cases/{id}/comments/{}", reply["id"].as_str().unwrap());
    assert_eq!(editor.delete(app.at(&reply_path)).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(get(&app, &admin, &format!("/cases/{id}/comments")).await, json!([]));
    let events = get(&app, &admin, &format!("/cases/{id}/events")).await;
    let modes: Vec<Value> = events["events"].as_array().unwrap().iter().filter(|e| e["type"].as_str().unwrap().ends_with("deleted")).map(|e| e["data"]["delete_mode"].clone()).collect();
    assert_eq!(modes, [json!("soft"), json!("hard")]);
}

#[tokio::test]
async fn tasks_and_tags_are_kept_per_case_with_their_activity() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let case = create(&app, &admin, json!({"summary": "contain"})).await;
    let id = case["id"].as_str().unwrap();
    let task = admin.post(app.at(&format!("/cases/{id}/tasks"))).json(&json!({"title": "isolate host", "priority": "high"})).send().await.unwrap();
    assert_eq!(task.status(), StatusCode::CREATED);
    let task: Value = task.json().await.unwrap();
    assert_eq!((task["status"].clone(), task["priority"].clone()), (json!("todo"), json!("high")));
    let task_path = format!("/cases/{id}/tasks/{}", task["id"].as_str().unwrap());
    assert_eq!(patch(&app, &admin, &task_path, json!({"status": "completed"})).await.status(), StatusCode::OK);
    let listed = get(&app, &admin, "/cases").await;
    assert_eq!((listed["items"][0]["num_tasks_completed"].clone(), listed["items"][0]["num_tasks_total"].clone()), (json!(1), json!(1)));
    assert_eq!(patch(&app, &admin, &task_path, json!({"status": "finished"})).await.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let tag: Value = admin.post(app.at("/case-tags")).json(&json!({"name": "Needs Review", "color": "#ff6600"})).send().await.unwrap().json().await.unwrap();
    assert_eq!(tag["ref"], "needs-review");
    let dup = admin.post(app.at("/case-tags")).json(&json!({"name": "needs review"})).send().await.unwrap();
    assert_eq!(dup.status(), StatusCode::CONFLICT);
    let bad_colour = admin.post(app.at("/case-tags")).json(&json!({"name": "x", "color": "orange"})).send().await.unwrap();
    assert_eq!(bad_colour.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let added = admin.post(app.at(&format!("/cases/{id}/tags"))).json(&json!({"tag_id": "needs-review"})).send().await.unwrap();
    assert_eq!(added.status(), StatusCode::CREATED);
    assert_eq!(get(&app, &admin, &format!("/cases/{id}/tags")).await[0]["ref"], "needs-review");
    assert_eq!(get(&app, &admin, "/cases/search?tags=needs-review").await["items"][0]["tags"][0]["color"], "#ff6600");
    assert_eq!(admin.delete(app.at(&format!("/cases/{id}/tags/needs-review"))).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(admin.delete(app.at(&format!("/cases/{id}/tags/needs-review"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    let types = event_types(&get(&app, &admin, &format!("/cases/{id}/events")).await);
    for expected in ["task_created", "task_status_changed", "tag_added", "tag_removed"] {
        assert!(types.contains(&expected.to_owned()), "{expected} missing from {types:?}");
    }
}

#[tokio::test]
async fn viewers_read_outsiders_see_nothing_and_bad_bodies_change_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let case = create(&app, &admin, json!({"summary": "private"})).await;
    let id = case["id"].as_str().unwrap();
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    let editor = app.user("editor@example.com", app.workspace_id, "editor").await;
    let other = app.create_workspace("Other").await;
    let outsider = app.user("outsider@example.com", other, "admin").await;
    let before = app.snapshot().await;

    assert_eq!(viewer.get(app.at(&format!("/cases/{id}/comments"))).send().await.unwrap().status(), StatusCode::OK);
    assert_eq!(viewer.post(app.at("/cases")).json(&json!({"summary": "x"})).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(patch(&app, &viewer, &format!("/cases/{id}"), json!({"status": "closed"})).await.status(), StatusCode::FORBIDDEN);
    let field = json!({"name": "f", "type": "TEXT"});
    assert_eq!(editor.post(app.at("/case-fields")).json(&field).send().await.unwrap().status(), StatusCode::FORBIDDEN, "fields are an admin's");
    assert_eq!(outsider.get(app.at(&format!("/cases/{id}"))).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(outsider.get(app.at("/cases/CASE-0001")).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(patch(&app, &outsider, &format!("/cases/{id}"), json!({"summary": "mine"})).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(get(&app, &outsider, "/cases").await["items"], json!([]));
    let stranger_assignee = patch(&app, &admin, &format!("/cases/{id}"), json!({"assignee_id": uuid::Uuid::now_v7()})).await;
    assert_eq!(stranger_assignee.status(), StatusCode::UNPROCESSABLE_ENTITY, "only members are assigned");
    for body in [
        json!({"summary": ""}),
        json!({"summary": "x".repeat(256)}),
        json!({"summary": "x", "status": "done"}),
        json!({"summary": "x", "payload": [1, 2]}),
        json!({"summary": "x", "payload": {"big": "x".repeat(300 * 1024)}}),
        json!({"summary": "x", "fields": {"undefined": 1}}),
        json!({"summary": "x", "tags": ["missing-tag"]}),
        json!({"summary": "x", "colour": "red"}),
        json!({"summary": "x\u{0}y"}),
    ] {
        let response = admin.post(app.at("/cases")).json(&body).send().await.unwrap();
        assert!(response.status().is_client_error(), "{body}: {}", response.status());
        let text = response.text().await.unwrap();
        assert!(text.contains("detail"), "{text}");
    }
    let batch = admin.post(app.at("/cases/batch-update")).json(&json!({"case_ids": [], "update": {}})).send().await.unwrap();
    assert_eq!(batch.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.snapshot().await, before);
}

async fn subscribe(app: &TestApp, client: &Client, workflow: &str, body: Value) -> reqwest::Response {
    client.post(app.at(&format!("/workflows/{workflow}/case-trigger"))).json(&body).send().await.unwrap()
}

#[tokio::test]
async fn a_case_event_starts_each_subscribed_workflow_once_however_often_it_is_delivered() {
    let app = spawn_app_with(&[("FERROCAT_CASE_TRIGGERS_ENABLED", "false")]).await;
    let admin = app.admin().await;
    let on_create = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let on_status = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let vip_only = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let never_committed: Value = admin.post(app.at("/workflows")).json(&json!({"title": "draft only"})).send().await.unwrap().json().await.unwrap();
    let draft = never_committed["id"].as_str().unwrap();
    assert_eq!(subscribe(&app, &admin, &on_create, json!({"status": "online", "event_types": ["case_created"]})).await.status(), StatusCode::OK);
    assert_eq!(subscribe(&app, &admin, &on_status, json!({"status": "online", "event_types": ["status_changed"]})).await.status(), StatusCode::OK);
    assert_eq!(subscribe(&app, &admin, &vip_only, json!({"status": "online", "event_types": ["case_created"], "tag_filters": ["vip"]})).await.status(), StatusCode::OK);
    assert_eq!(subscribe(&app, &admin, draft, json!({"status": "online", "event_types": ["case_created"]})).await.status(), StatusCode::OK);
    for bad in [json!({"status": "online"}), json!({"status": "online", "event_types": ["case_exploded"]}), json!({"status": "sideways"})] {
        assert_eq!(subscribe(&app, &admin, &on_create, bad.clone()).await.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }

    let case = create(&app, &admin, json!({"summary": "alert"})).await;
    let delivered = dispatch_pending(&app.state).await.unwrap();
    assert_eq!(delivered, Delivery { events: 1, started: 1, already_started: 0, switched_off: 1 }, "on_create starts; vip_only does not hear an untagged case; the draft is switched off");
    let trigger = get(&app, &admin, &format!("/workflows/{draft}/case-trigger")).await;
    assert_eq!(trigger["status"], "offline");
    assert!(trigger["disabled_reason"].as_str().unwrap().contains("no committed definition"), "{trigger}");

    // A dispatcher that died before clearing the event delivers it again: the run is not.
    sqlx::query("UPDATE case_events SET pending = true WHERE type = 'case_created'").execute(&app.db).await.unwrap();
    let again = dispatch_pending(&app.state).await.unwrap();
    assert_eq!((again.started, again.already_started), (0, 1));
    let event_id: uuid::Uuid = sqlx::query_scalar("SELECT id FROM case_events WHERE type = 'case_created'").fetch_one(&app.db).await.unwrap();
    let exec = ferrocat_app::cases::triggers::execution_id(ferrocat_shared::ids::parse_workflow_id(&on_create).unwrap(), event_id);
    let run = get(&app, &admin, &format!("/workflow-executions/{exec}")).await;
    assert_eq!(run["trigger_type"], "case");
    assert_eq!(run["trigger"]["case_id"], case["id"]);
    assert_eq!(run["trigger"]["event"]["type"], "case_created");

    // Closing is a status change; a change a run makes starts nothing.
    let id = case["id"].as_str().unwrap();
    assert_eq!(patch(&app, &admin, &format!("/cases/{id}"), json!({"status": "closed"})).await.status(), StatusCode::NO_CONTENT);
    let row = cases::load(&app.db, app.workspace_id, uuid::Uuid::parse_str(id).unwrap()).await.unwrap();
    let by_run = CaseChanges { status: Some(CaseStatus::InProgress), ..Default::default() };
    cases::update(&app.db, app.workspace_id, row.id, &Actor::Run(format!("{on_status}/exec_x")), by_run).await.unwrap();
    let delivered = dispatch_pending(&app.state).await.unwrap();
    assert_eq!((delivered.events, delivered.started), (1, 1), "the close is heard, the run's reopening is not");
    let reopened: bool = sqlx::query_scalar("SELECT pending FROM case_events WHERE type = 'case_reopened'").fetch_one(&app.db).await.unwrap();
    assert!(!reopened);
}

#[tokio::test]
async fn the_dispatcher_delivers_on_its_own_after_each_commit() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let workflow = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    assert_eq!(subscribe(&app, &admin, &workflow, json!({"status": "online", "event_types": ["comment_created"]})).await.status(), StatusCode::OK);
    let case = create(&app, &admin, json!({"summary": "talk"})).await;
    let comment = admin.post(app.at(&format!("/cases/{}/comments", case["id"].as_str().unwrap()))).json(&json!({"content": "hello"})).send().await.unwrap();
    assert_eq!(comment.status(), StatusCode::CREATED);
    eventually(std::time::Duration::from_secs(20), "the comment's event delivered", || async {
        let pending: i64 = sqlx::query_scalar("SELECT count(*) FROM case_events WHERE pending").fetch_one(&app.db).await.unwrap();
        (pending == 0).then_some(())
    })
    .await;
    let runs = eventually(std::time::Duration::from_secs(20), "the run listed", || async {
        let runs = crate::common::runs_of(&app, &admin, &workflow).await;
        (!runs.is_empty()).then_some(runs)
    })
    .await;
    assert_eq!(runs.len(), 1);
}

async fn attach(app: &TestApp, client: &Client, case: &str, name: &str, content_type: &str, bytes: &[u8]) -> reqwest::Response {
    let mut part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(name.to_owned());
    if !content_type.is_empty() {
        part = part.mime_str(content_type).unwrap();
    }
    client.post(app.at(&format!("/cases/{case}/attachments"))).multipart(reqwest::multipart::Form::new().part("file", part)).send().await.unwrap()
}

#[tokio::test]
async fn attachments_are_checked_kept_by_content_downloaded_by_link_and_deleted_with_their_last_case() {
    let store = ferrocat_test_support::objects::object_store();
    let mut env = store.env(0);
    // Links straight to the store (there is no edge in these tests).
    env.push(("FERROCAT_S3_PRESIGN_URL", format!("http://{}", store.addr)));
    let mut extra: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    extra.extend([("FERROCAT_ATTACHMENTS_PER_CASE", "3"), ("FERROCAT_ATTACHMENT_MAX_BYTES", "4096")]);
    let app = spawn_app_with(&extra).await;
    let admin = app.admin().await;
    let editor = app.user("editor@example.com", app.workspace_id, "editor").await;
    let first = create(&app, &admin, json!({"summary": "evidence"})).await;
    let second = create(&app, &admin, json!({"summary": "more evidence"})).await;
    let (a, b) = (first["id"].as_str().unwrap(), second["id"].as_str().unwrap());
    let pdf = b"%PDF-1.7\n1 0 obj << >> endobj\n%%EOF\n";
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    let before = app.snapshot().await;

    // Refused, each with its reason, and nothing kept.
    let renamed = attach(&app, &admin, a, "invoice.pdf", "application/pdf", b"MZ\x90\x00this is a program").await;
    assert_eq!(renamed.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(renamed.text().await.unwrap().contains("is not a PDF document"));
    let exe = attach(&app, &admin, a, "tool.exe", "application/octet-stream", b"MZ").await;
    assert_eq!(exe.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(exe.text().await.unwrap().contains("files of type .exe are not allowed"));
    let big = attach(&app, &admin, a, "big.txt", "text/plain", &[b'a'; 5000]).await;
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(attach(&app, &viewer, a, "r.pdf", "application/pdf", pdf).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(app.snapshot().await, before);

    // The same content on two cases is one object.
    let kept = attach(&app, &admin, a, "report.pdf", "application/pdf", pdf).await;
    assert_eq!(kept.status(), StatusCode::CREATED);
    let kept: Value = kept.json().await.unwrap();
    let sha = kept["sha256"].as_str().unwrap().to_owned();
    assert_eq!(kept["size"], pdf.len());
    let also: Value = attach(&app, &editor, b, "copy.pdf", "", pdf).await.json().await.unwrap();
    assert_eq!((also["sha256"].as_str(), also["content_type"].as_str()), (Some(sha.as_str()), Some("application/pdf")));
    let blob = store.dir.join("ferrocat-attachments").join("attachments").join(&sha);
    assert!(blob.exists(), "{blob:?}");

    // A link through which the file downloads as it was sent.
    let link = get(&app, &admin, &format!("/cases/{a}/attachments/{}", kept["id"].as_str().unwrap())).await;
    assert_eq!(link["file_name"], "report.pdf");
    let url = link["download_url"].as_str().unwrap();
    let downloaded = reqwest::get(url).await.unwrap();
    assert_eq!(downloaded.status(), StatusCode::OK, "{url}");
    assert!(downloaded.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert_eq!(downloaded.bytes().await.unwrap().as_ref(), pdf);

    // Limits per case.
    for name in ["b.txt", "c.txt"] {
        assert_eq!(attach(&app, &admin, a, name, "text/plain", name.as_bytes()).await.status(), StatusCode::CREATED);
    }
    let fourth = attach(&app, &admin, a, "d.txt", "text/plain", b"d").await;
    assert_eq!(fourth.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(fourth.text().await.unwrap().contains("at most 3 attachments"));

    // Only the creator or an admin deletes; the content stays while another case has it.
    let theirs = format!("/cases/{b}/attachments/{}", also["id"].as_str().unwrap());
    let mine = format!("/cases/{a}/attachments/{}", kept["id"].as_str().unwrap());
    assert_eq!(editor.delete(app.at(&mine)).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(admin.delete(app.at(&mine)).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert!(blob.exists(), "case b still has it");
    let types = event_types(&get(&app, &admin, &format!("/cases/{a}/events")).await);
    assert!(types.contains(&"attachment_created".to_owned()) && types.contains(&"attachment_deleted".to_owned()), "{types:?}");
    assert_eq!(editor.delete(app.at(&format!("/cases/{b}"))).send().await.unwrap().status(), StatusCode::NO_CONTENT);
    assert!(!blob.exists(), "deleted with the last case that had it");
    assert_eq!(admin.get(app.at(&theirs)).send().await.unwrap().status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_comment_runs_the_workflow_it_names_with_itself_as_the_trigger() {
    let app = spawn_app_with(&[("FERROCAT_CASE_TRIGGERS_ENABLED", "false")]).await;
    let admin = app.admin().await;
    let workflow = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let case = create(&app, &admin, json!({"summary": "enrich me", "tags": ["ioc"], "create_missing_tags": true})).await;
    let path = format!("/cases/{}/comments", case["id"].as_str().unwrap());
    let draft: Value = admin.post(app.at("/workflows")).json(&json!({"title": "never committed"})).send().await.unwrap().json().await.unwrap();
    for bad in ["wf_nope", draft["id"].as_str().unwrap()] {
        let refused = admin.post(app.at(&path)).json(&json!({"content": "run it", "workflow_id": bad})).send().await.unwrap();
        assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(get(&app, &admin, &path).await, json!([]), "a refused comment is not kept");

    let ran = admin.post(app.at(&path)).json(&json!({"content": "look up 203.0.113.7", "workflow_id": workflow})).send().await.unwrap();
    assert_eq!(ran.status(), StatusCode::CREATED);
    let ran: Value = ran.json().await.unwrap();
    let exec = ran["workflow_run"]["wf_exec_id"].as_str().unwrap();
    let run = get(&app, &admin, &format!("/workflow-executions/{exec}")).await;
    assert_eq!(run["trigger_type"], "case");
    assert_eq!(run["trigger"]["text"], "look up 203.0.113.7");
    assert_eq!(run["trigger"]["comment_id"], ran["id"]);
    assert_eq!(run["trigger"]["triggered_by"]["type"], "user");
    assert_eq!(run["trigger"]["tags"][0]["ref"], "ioc");
}

#[tokio::test]
async fn every_status_priority_and_severity_finds_its_cases_and_sorts_in_its_order() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let statuses = ["unknown", "new", "in_progress", "on_hold", "resolved", "closed", "other"];
    let priorities = ["unknown", "low", "medium", "high", "critical", "other"];
    let severities = ["unknown", "informational", "low", "medium", "high", "critical", "fatal", "other"];
    for i in 0..8 {
        let body = json!({"summary": format!("case {i}"), "status": statuses[i % 7], "priority": priorities[i % 6], "severity": severities[i]});
        create(&app, &admin, body).await;
    }
    for (key, words) in [("status", &statuses[..]), ("priority", &priorities[..]), ("severity", &severities[..])] {
        for word in words {
            let found = get(&app, &admin, &format!("/cases/search?{key}={word}")).await;
            let items = found["items"].as_array().unwrap();
            assert!(!items.is_empty() && items.iter().all(|c| c[key] == *word), "{key}={word}: {found}");
        }
        let sorted = get(&app, &admin, &format!("/cases/search?order_by={key}&sort=asc&limit=50")).await;
        let order: Vec<usize> = sorted["items"].as_array().unwrap().iter().map(|c| words.iter().position(|w| c[key] == *w).unwrap()).collect();
        assert!(order.windows(2).all(|w| w[0] <= w[1]), "{key} ascending: {order:?}");
        // Two values far apart, and the page sorted by them both ways.
        let (low, high) = (words[1], words[words.len() - 2]);
        let both = get(&app, &admin, &format!("/cases/search?{key}={low}&{key}={high}&order_by={key}&sort=desc")).await;
        let seen: Vec<&str> = both["items"].as_array().unwrap().iter().map(|c| c[key].as_str().unwrap()).collect();
        assert_eq!(seen.first(), Some(&high), "{key}: {seen:?}");
        assert_eq!(seen.last(), Some(&low), "{key}: {seen:?}");
    }
}

#[tokio::test]
async fn a_comment_a_run_writes_can_ask_for_another_workflow_which_runs_once() {
    use ferrocat_registry::actions::cases::{CaseCall, CaseHost, CreateCommentArgs};
    let app = spawn_app_with(&[("FERROCAT_CASE_TRIGGERS_ENABLED", "false")]).await;
    let admin = app.admin().await;
    let enrich = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let caller = app.committed_workflow(&admin, ECHO_WORKFLOW).await;
    let case = create(&app, &admin, json!({"summary": "from a run"})).await;
    dispatch_pending(&app.state).await.unwrap();
    let host = ferrocat_app::cases::host::Host::new(app.db.clone(), None, app.state.config.attachments.clone());
    let run = ferrocat_shared::temporal::RunContext {
        wf_id: caller.clone(),
        wf_exec_id: format!("{caller}/exec_1"),
        wf_run_id: "r".into(),
        workspace_id: app.workspace_id,
        environment: "default".into(),
        registry_lock: vec![],
    };
    let ask = |workflow: &str| {
        CaseCall::CreateComment(CreateCommentArgs {
            case_id: case["short_id"].as_str().unwrap().to_owned(),
            content: "enrich 198.51.100.9".into(),
            parent_id: None,
            workflow_id: Some(workflow.to_owned()),
        })
    };
    let itself = host.run(ask(&caller), &run).await.unwrap_err().to_string();
    assert!(itself.contains("cannot ask, from a comment, to run itself"), "{itself}");
    let comment = host.run(ask(&enrich), &run).await.unwrap();
    assert_eq!(comment["wf_exec_id"], run.wf_exec_id.as_str());

    let delivered = dispatch_pending(&app.state).await.unwrap();
    assert_eq!((delivered.events, delivered.started), (1, 1), "the asked-for run, and no trigger for a run's event");
    sqlx::query("UPDATE case_events SET pending = true").execute(&app.db).await.unwrap();
    assert_eq!(dispatch_pending(&app.state).await.unwrap().started, 0, "asked once, run once");
    let runs = eventually(std::time::Duration::from_secs(20), "the run listed", || async {
        let runs = crate::common::runs_of(&app, &admin, &enrich).await;
        (!runs.is_empty()).then_some(runs)
    })
    .await;
    let detail = get(&app, &admin, &format!("/workflow-executions/{}", runs[0])).await;
    assert_eq!(detail["trigger"]["text"], "enrich 198.51.100.9");
    assert_eq!(detail["trigger"]["triggered_by"]["wf_exec_id"], run.wf_exec_id.as_str());
}
