//! Lookup tables against real Postgres: every column type round-trips, a wrong value is
//! refused naming its column, names that try SQL injection are refused or harmless, upsert
//! needs the unique index, columns change under their rows, pages, search and sort, CSV import
//! with its preview, downloads, roles and isolation, and the `core.table.*` actions' host.

use reqwest::{Client, StatusCode, multipart};
use serde_json::{Value, json};

use crate::common::{TestApp, spawn_app};

async fn send(request: reqwest::RequestBuilder, expect: StatusCode) -> Value {
    let response = request.send().await.unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert_eq!(status, expect, "{text}");
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

async fn create_table(app: &TestApp, client: &Client, body: Value) -> Value {
    send(client.post(app.at("/tables")).json(&body), StatusCode::CREATED).await
}

fn id(value: &Value) -> &str {
    value["id"].as_str().unwrap()
}

/// How many rows the table holds, read straight from Postgres.
async fn count(app: &TestApp, table: &Value) -> i64 {
    let physical = format!("table_rows.\"t_{}\"", id(table).replace('-', ""));
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {physical}"))).fetch_one(&app.db).await.unwrap()
}

const ALL_TYPES: &str = r#"{"name": "every_type", "columns": [
    {"name": "t", "type": "TEXT"}, {"name": "i", "type": "INTEGER"}, {"name": "n", "type": "NUMERIC"},
    {"name": "d", "type": "DATE"}, {"name": "b", "type": "BOOLEAN"}, {"name": "ts", "type": "TIMESTAMPTZ"},
    {"name": "j", "type": "JSONB"}, {"name": "s", "type": "SELECT", "options": ["low", "high"]},
    {"name": "m", "type": "MULTI_SELECT", "options": ["a", "b", "c"]}]}"#;

#[tokio::test]
async fn each_column_type_round_trips_and_a_wrong_value_is_refused_naming_its_column() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let table = create_table(&app, &admin, serde_json::from_str(ALL_TYPES).unwrap()).await;
    let types: Vec<&str> = table["columns"].as_array().unwrap().iter().map(|c| c["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["TEXT", "INTEGER", "NUMERIC", "DATE", "BOOLEAN", "TIMESTAMPTZ", "JSONB", "SELECT", "MULTI_SELECT"]);
    let rows = format!("/tables/{}/rows", id(&table));
    let data = json!({
        "t": "ünïcode 'quoted' text", "i": 9007199254740993i64, "n": "12345.678901", "d": "2026-12-06", "b": true,
        "ts": "2026-12-06T10:11:12.345678+02:00", "j": {"nested": [1, "two", null]}, "s": "high", "m": ["a", "c"]
    });
    let row = send(admin.post(app.at(&rows)).json(&json!({"data": data})), StatusCode::CREATED).await;
    let read = send(admin.get(app.at(&format!("{rows}/{}", id(&row)))), StatusCode::OK).await;
    for (name, want) in [
        ("t", json!("ünïcode 'quoted' text")),
        ("i", json!(9007199254740993i64)),
        ("n", json!(12345.678901)),
        ("d", json!("2026-12-06")),
        ("b", json!(true)),
        ("ts", json!("2026-12-06T08:11:12.345678+00:00")),
        ("j", json!({"nested": [1, "two", null]})),
        ("s", json!("high")),
        ("m", json!(["a", "c"])),
    ] {
        assert_eq!(read[name], want, "column {name}");
    }
    assert!(read["created_at"].is_string() && read["updated_at"].is_string());

    for (column, bad, says) in [
        ("i", json!("four"), "an integer"),
        ("i", json!(1.5), "an integer"),
        ("n", json!("NaN"), "a number"),
        ("d", json!("12/06/2026"), "a date"),
        ("b", json!("maybe"), "true or false"),
        ("ts", json!("yesterday"), "a timestamp"),
        ("s", json!("medium"), "one of"),
        ("m", json!(["a", "z"]), "\"z\" is not one"),
        ("t", json!(42), "text"),
    ] {
        let refused = send(admin.post(app.at(&rows)).json(&json!({"data": {column: bad}})), StatusCode::UNPROCESSABLE_ENTITY).await;
        let detail = refused["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("column \"{column}\"")) && detail.contains(says), "{column}: {detail}");
        assert_eq!(refused["errors"][0]["loc"], format!("data.{column}"), "{refused}");
    }
    let unknown = send(admin.post(app.at(&rows)).json(&json!({"data": {"nope": 1}})), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(unknown["detail"].as_str().unwrap().contains("column \"nope\" does not exist"), "{unknown}");
    // A batch with one bad row writes nothing and names the row.
    let batch = json!({"rows": [{"i": 1}, {"i": 2}, {"i": "three"}]});
    let refused = send(admin.post(app.at(&format!("{rows}/batch"))).json(&batch), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(refused["detail"].as_str().unwrap().starts_with("row 2: column \"i\""), "{refused}");
    assert_eq!(count(&app, &table).await, 1, "nothing but the first row was written");
    // Coercions as Tracecat makes them: numbers from text, times without a zone in UTC.
    let coerced = send(admin.post(app.at(&rows)).json(&json!({"data": {"i": " 7 ", "b": "false", "ts": "2026-01-02 03:04:05", "m": "b"}})), StatusCode::CREATED).await;
    assert_eq!((coerced["i"].clone(), coerced["b"].clone(), coerced["ts"].clone(), coerced["m"].clone()), (json!(7), json!(false), json!("2026-01-02T03:04:05+00:00"), json!(["b"])));
}

#[tokio::test]
async fn names_that_try_sql_injection_are_refused_and_values_that_do_are_only_values() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for name in ["x\"; DROP TABLE users; --", "users; --", "a b", "__tc_workspace_id", "1st", ""] {
        let refused = send(admin.post(app.at("/tables")).json(&json!({"name": name})), StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(refused["detail"].as_str().unwrap().contains("letters, digits and underscores") || refused["detail"].as_str().unwrap().contains("reserved"), "{name}: {refused}");
        let column = json!({"name": "ok_name", "columns": [{"name": name, "type": "TEXT"}]});
        send(admin.post(app.at("/tables")).json(&column), StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let refused = send(admin.post(app.at("/tables")).json(&json!({"name": "t", "columns": [{"name": "c", "type": "TEXT); DROP TABLE users; --"}]})), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(refused["detail"].as_str().unwrap().contains("is not one of TEXT"), "{refused}");
    let id_column = send(admin.post(app.at("/tables")).json(&json!({"name": "t", "columns": [{"name": "id", "type": "TEXT"}]})), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(id_column["detail"].as_str().unwrap().contains("every table has"), "{id_column}");

    let table = create_table(&app, &admin, json!({"name": "iocs", "columns": [{"name": "value", "type": "TEXT", "is_index": true}, {"name": "meta", "type": "JSONB"}]})).await;
    let rows = format!("/tables/{}/rows", id(&table));
    let evil = "'); DROP TABLE users; --";
    send(admin.post(app.at(&rows)).json(&json!({"data": {"value": evil, "meta": {"k": "\" OR 1=1 --"}}})), StatusCode::CREATED).await;
    send(admin.post(app.at(&rows)).json(&json!({"data": {"value": "plain"}})), StatusCode::CREATED).await;
    let found = send(admin.get(app.at(&rows)).query(&[("search_term", "%' OR 1=1 --")]), StatusCode::OK).await;
    assert_eq!(found["items"].as_array().unwrap().len(), 0, "a search term is text: {found}");
    let found = send(admin.get(app.at(&rows)).query(&[("search_term", "DROP TABLE")]), StatusCode::OK).await;
    assert_eq!(found["items"][0]["value"], evil);
    let by_json = send(admin.get(app.at(&rows)).query(&[("search_term", "OR 1=1")]), StatusCode::OK).await;
    assert_eq!(by_json["items"].as_array().unwrap().len(), 1, "JSON columns are searched as text");
    let sorted = send(admin.get(app.at(&rows)).query(&[("order_by", "value; DROP TABLE users")]), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(sorted["detail"].as_str().unwrap().contains("does not exist"), "{sorted}");
    let users: i64 = sqlx::query_scalar("SELECT count(*) FROM users").fetch_one(&app.db).await.unwrap();
    assert!(users >= 1, "the users table is still there");
    // Renaming changes only the name: the rows stay, under a table of the new name.
    let renamed = send(admin.patch(app.at(&format!("/tables/{}", id(&table)))).json(&json!({"name": "known_iocs"})), StatusCode::OK).await;
    assert_eq!(renamed["name"], "known_iocs");
    assert_eq!(count(&app, &table).await, 2);
}

#[tokio::test]
async fn upsert_needs_the_unique_index_and_overwrites_only_the_columns_given() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let table = create_table(&app, &admin, json!({"name": "assets", "columns": [
        {"name": "host", "type": "TEXT"}, {"name": "owner", "type": "TEXT"}, {"name": "tier", "type": "INTEGER", "default": 3}]})).await;
    let rows = format!("/tables/{}/rows", id(&table));
    let refused = send(admin.post(app.at(&rows)).json(&json!({"data": {"host": "db1"}, "upsert": true})), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(refused["detail"].as_str().unwrap().contains("upsert needs a unique index"), "{refused}");
    let first = send(admin.post(app.at(&rows)).json(&json!({"data": {"host": "db1", "owner": "ana"}})), StatusCode::CREATED).await;
    assert_eq!(first["tier"], 3, "the default fills a column left out");
    send(admin.post(app.at(&rows)).json(&json!({"data": {"host": "db1", "owner": "bo"}})), StatusCode::CREATED).await;

    let host_column = table["columns"][0]["id"].as_str().unwrap();
    let owner_column = table["columns"][1]["id"].as_str().unwrap();
    let column = |c: &str| app.at(&format!("/tables/{}/columns/{c}", id(&table)));
    let duplicates = send(admin.patch(column(host_column)).json(&json!({"is_index": true})), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(duplicates["detail"].as_str().unwrap().contains("duplicate values"), "{duplicates}");
    let second_id = send(admin.get(app.at(&rows)), StatusCode::OK).await["items"][1]["id"].as_str().unwrap().to_owned();
    send(admin.delete(app.at(&format!("{rows}/{second_id}"))), StatusCode::NO_CONTENT).await;
    let indexed = send(admin.patch(column(host_column)).json(&json!({"is_index": true})), StatusCode::OK).await;
    assert_eq!(indexed["is_index"], true);
    let two = send(admin.patch(column(owner_column)).json(&json!({"is_index": true})), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(two["detail"], "Only one unique index is allowed per table");

    let missing_key = send(admin.post(app.at(&rows)).json(&json!({"data": {"owner": "x"}, "upsert": true})), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(missing_key["detail"].as_str().unwrap().contains("unique column \"host\""), "{missing_key}");
    let upserted = send(admin.post(app.at(&rows)).json(&json!({"data": {"host": "db1", "tier": 1}, "upsert": true})), StatusCode::CREATED).await;
    assert_eq!((upserted["id"].clone(), upserted["owner"].clone(), upserted["tier"].clone()), (first["id"].clone(), json!("ana"), json!(1)), "same row, owner kept");
    let conflict = send(admin.post(app.at(&rows)).json(&json!({"data": {"host": "db1"}})), StatusCode::CONFLICT).await;
    assert!(conflict["detail"].as_str().unwrap().contains("already has this host"), "{conflict}");
    // A batch upsert in which a key repeats keeps the last.
    let batch = json!({"rows": [{"host": "db2", "owner": "a"}, {"host": "db1", "owner": "c"}, {"host": "db2", "owner": "d"}], "upsert": true});
    assert_eq!(send(admin.post(app.at(&format!("{rows}/batch"))).json(&batch), StatusCode::CREATED).await["rows_inserted"], 2);
    let all = send(admin.get(app.at(&rows)), StatusCode::OK).await;
    let owners: Vec<(&str, &str)> = all["items"].as_array().unwrap().iter().map(|r| (r["host"].as_str().unwrap(), r["owner"].as_str().unwrap())).collect();
    assert_eq!(owners, [("db1", "c"), ("db2", "d")]);
    // Rows that give different columns overwrite only their own.
    let mixed = json!({"rows": [{"host": "db1", "tier": 2}, {"host": "db2", "owner": "e"}], "upsert": true});
    send(admin.post(app.at(&format!("{rows}/batch"))).json(&mixed), StatusCode::CREATED).await;
    let all = send(admin.get(app.at(&rows)), StatusCode::OK).await;
    let kept: Vec<(&str, &str, i64)> =
        all["items"].as_array().unwrap().iter().map(|r| (r["host"].as_str().unwrap(), r["owner"].as_str().unwrap(), r["tier"].as_i64().unwrap())).collect();
    assert_eq!(kept, [("db1", "c", 2), ("db2", "e", 3)]);
    // A key too large for the index is refused as such, not as a fault of the server.
    let huge: String = (0..700).map(|_| uuid::Uuid::new_v4().simple().to_string()).collect();
    let too_large = send(admin.post(app.at(&rows)).json(&json!({"data": {"host": huge}})), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(too_large["detail"].as_str().unwrap().contains("too large to index"), "{too_large}");
    // Dropping the index makes upserts refused again.
    send(admin.patch(column(host_column)).json(&json!({"is_index": false})), StatusCode::OK).await;
    send(admin.post(app.at(&rows)).json(&json!({"data": {"host": "db1"}, "upsert": true})), StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn columns_are_renamed_retyped_added_and_deleted_under_their_rows() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let table = create_table(&app, &admin, json!({"name": "scores", "columns": [{"name": "ip", "type": "TEXT"}, {"name": "score", "type": "TEXT"}]})).await;
    let base = format!("/tables/{}", id(&table));
    let rows = format!("{base}/rows");
    send(admin.post(app.at(&format!("{rows}/batch"))).json(&json!({"rows": [{"ip": "10.0.0.1", "score": "5"}, {"ip": "10.0.0.2", "score": "x"}]})), StatusCode::CREATED).await;
    let score = table["columns"][1]["id"].as_str().unwrap();
    let refused = send(admin.patch(app.at(&format!("{base}/columns/{score}"))).json(&json!({"type": "INTEGER"})), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(refused["detail"].as_str().unwrap().contains("cannot become INTEGER"), "{refused}");
    let page = send(admin.get(app.at(&rows)), StatusCode::OK).await;
    assert_eq!(page["items"][1]["score"], "x", "the refused change changed nothing");
    let second = page["items"][1]["id"].as_str().unwrap();
    send(admin.patch(app.at(&format!("{rows}/{second}"))).json(&json!({"data": {"score": "7"}})), StatusCode::OK).await;
    let retyped = send(admin.patch(app.at(&format!("{base}/columns/{score}"))).json(&json!({"type": "INTEGER", "name": "risk"})), StatusCode::OK).await;
    assert_eq!((retyped["type"].clone(), retyped["name"].clone()), (json!("INTEGER"), json!("risk")));
    let page = send(admin.get(app.at(&rows)).query(&[("order_by", "risk"), ("sort", "desc")]), StatusCode::OK).await;
    assert_eq!(page["items"][0]["risk"], 7, "values were cast and sort as numbers");

    let seen = send(admin.post(app.at(&format!("{base}/columns"))).json(&json!({"name": "seen", "type": "BOOLEAN", "nullable": false, "default": false})), StatusCode::CREATED).await;
    let page = send(admin.get(app.at(&rows)), StatusCode::OK).await;
    assert!(page["items"].as_array().unwrap().iter().all(|r| r["seen"] == false), "rows already there took the default: {page}");
    let no_default = send(admin.post(app.at(&format!("{base}/columns"))).json(&json!({"name": "must", "type": "TEXT", "nullable": false})), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(no_default["detail"].as_str().unwrap().contains("rows without a value"), "{no_default}");
    let tags = send(admin.post(app.at(&format!("{base}/columns"))).json(&json!({"name": "level", "type": "TEXT"})), StatusCode::CREATED).await;
    send(admin.patch(app.at(&format!("{rows}/{second}"))).json(&json!({"data": {"level": "extreme"}})), StatusCode::OK).await;
    let stray = send(admin.patch(app.at(&format!("{base}/columns/{}", id(&tags)))).json(&json!({"type": "SELECT", "options": ["low", "high"]})), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(stray["detail"].as_str().unwrap().contains("\"extreme\", which is not one of the options"), "{stray}");
    send(admin.delete(app.at(&format!("{base}/columns/{}", id(&seen)))), StatusCode::NO_CONTENT).await;
    let read = send(admin.get(app.at(&base)), StatusCode::OK).await;
    let names: Vec<&str> = read["columns"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["ip", "risk", "level"]);
    assert!(send(admin.get(app.at(&rows)), StatusCode::OK).await["items"][0].get("seen").is_none());
}

#[tokio::test]
async fn rows_page_by_cursor_both_ways_sort_search_and_filter_by_time() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let table = create_table(&app, &admin, json!({"name": "events", "columns": [{"name": "n", "type": "INTEGER"}, {"name": "label", "type": "TEXT"}]})).await;
    let rows = format!("/tables/{}/rows", id(&table));
    let batch: Vec<Value> = (0..45).map(|n| json!({"n": n, "label": if n % 10 == 0 { "tenth" } else { "other" }})).collect();
    send(admin.post(app.at(&format!("{rows}/batch"))).json(&json!({"rows": batch})), StatusCode::CREATED).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = Vec::new();
    loop {
        let mut query = vec![("limit", "20".to_owned())];
        if let Some(c) = &cursor {
            query.push(("cursor", c.clone()));
        }
        let page = send(admin.get(app.at(&rows)).query(&query), StatusCode::OK).await;
        seen.extend(page["items"].as_array().unwrap().iter().map(|r| r["n"].as_i64().unwrap()));
        pages.push(page.clone());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen.len(), 45);
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 45, "no row twice");
    assert_eq!(pages.len(), 3);
    assert_eq!(pages[0]["has_previous"], false);
    // Back from the last page: the middle one again.
    let prev = pages[2]["prev_cursor"].as_str().unwrap();
    let back = send(admin.get(app.at(&rows)).query(&[("limit", "20"), ("cursor", prev), ("reverse", "true")]), StatusCode::OK).await;
    assert_eq!(back["items"], pages[1]["items"]);

    let by_n = send(admin.get(app.at(&rows)).query(&[("order_by", "n"), ("sort", "desc"), ("limit", "5")]), StatusCode::OK).await;
    let top: Vec<i64> = by_n["items"].as_array().unwrap().iter().map(|r| r["n"].as_i64().unwrap()).collect();
    assert_eq!(top, [44, 43, 42, 41, 40]);
    let next = send(admin.get(app.at(&rows)).query(&[("order_by", "n"), ("sort", "desc"), ("limit", "5"), ("cursor", by_n["next_cursor"].as_str().unwrap())]), StatusCode::OK).await;
    assert_eq!(next["items"][0]["n"], 39);
    let tenth = send(admin.get(app.at(&rows)).query(&[("search_term", "TENTH")]), StatusCode::OK).await;
    assert_eq!(tenth["items"].as_array().unwrap().len(), 5);
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    let none = send(admin.get(app.at(&rows)).query(&[("start_time", future.as_str())]), StatusCode::OK).await;
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    let bad = send(admin.get(app.at(&rows)).query(&[("cursor", "not-a-cursor")]), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert_eq!(bad["errors"][0]["loc"], "cursor");
    send(admin.get(app.at(&rows)).query(&[("limit", "201")]), StatusCode::UNPROCESSABLE_ENTITY).await;

    let ids: Vec<&str> = pages[0]["items"].as_array().unwrap().iter().take(3).map(|r| r["id"].as_str().unwrap()).collect();
    let updated = send(admin.post(app.at(&format!("{rows}/batch-update"))).json(&json!({"row_ids": ids, "data": {"label": "done"}})), StatusCode::OK).await;
    assert_eq!(updated["rows_updated"], 3);
    let deleted = send(admin.post(app.at(&format!("{rows}/batch-delete"))).json(&json!({"row_ids": ids})), StatusCode::OK).await;
    assert_eq!(deleted["rows_deleted"], 3);
    assert_eq!(count(&app, &table).await, 42);
}

fn csv_form(csv: &str, fields: &[(&str, &str)]) -> multipart::Form {
    let mut form = multipart::Form::new().part("file", multipart::Part::bytes(csv.as_bytes().to_vec()).file_name("Known Bad IPs.csv").mime_str("text/csv").unwrap());
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    form
}

#[tokio::test]
async fn csv_imports_with_a_preview_of_inferred_types_append_by_mapping_and_download_in_four_formats() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let csv = "ip,score,first seen,vip,context\n203.0.113.5,90,2026-12-01T10:00:00Z,true,\"{\"\"asn\"\": 64500}\"\n198.51.100.7,15,2026-12-02 11:30:00,false,\n";
    let preview = send(admin.post(app.at("/tables/import/preview")).multipart(csv_form(csv, &[])), StatusCode::OK).await;
    let inferred: Vec<(&str, &str)> = preview["columns"].as_array().unwrap().iter().map(|c| (c["field_name"].as_str().unwrap(), c["field_type"].as_str().unwrap())).collect();
    assert_eq!(inferred, [("ip", "TEXT"), ("score", "INTEGER"), ("first_seen", "TIMESTAMPTZ"), ("vip", "BOOLEAN"), ("context", "JSONB")]);
    assert_eq!(preview["rows"][0]["context"], json!({"asn": 64500}));
    assert_eq!(preview["total_rows"], 2);

    let imported = send(admin.post(app.at("/tables/import")).multipart(csv_form(csv, &[])), StatusCode::CREATED).await;
    assert_eq!(imported["table"]["name"], "Known_Bad_IPs", "named after the file");
    assert_eq!(imported["rows_inserted"], 2);
    assert_eq!(imported["column_mapping"][2]["csv_header"], "first seen");
    let again = send(admin.post(app.at("/tables/import")).multipart(csv_form(csv, &[])), StatusCode::CREATED).await;
    assert_eq!(again["table"]["name"], "Known_Bad_IPs_1", "a free name");
    let table_id = imported["table"]["id"].as_str().unwrap();

    let more = "address,risk,ignored\n192.0.2.1,40,x\n";
    let mapping = json!({"address": "ip", "risk": "score"}).to_string();
    let appended = send(admin.post(app.at(&format!("/tables/{table_id}/import"))).multipart(csv_form(more, &[("column_mapping", &mapping)])), StatusCode::CREATED).await;
    assert_eq!(appended["rows_inserted"], 1);
    let bad = "address,risk\n192.0.2.2,1\n192.0.2.3,lots\n";
    let refused = send(admin.post(app.at(&format!("/tables/{table_id}/import"))).multipart(csv_form(bad, &[("column_mapping", &mapping)])), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(refused["detail"].as_str().unwrap().starts_with("line 3: column \"score\""), "{refused}");
    let not_csv = send(admin.post(app.at("/tables/import/preview")).multipart(csv_form("a,b\n1,2,3\n", &[])), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(not_csv["detail"].as_str().unwrap().contains("line 2"), "{not_csv}");

    let download = |format: &str| admin.get(app.at(&format!("/tables/{table_id}/download"))).query(&[("format", format)]).send();
    let csv_out = download("csv").await.unwrap();
    assert_eq!(csv_out.headers()["content-disposition"], "attachment; filename=\"Known_Bad_IPs.csv\"");
    let csv_text = csv_out.text().await.unwrap();
    assert!(csv_text.starts_with("id,created_at,updated_at,ip,score,first_seen,vip,context\n"), "{csv_text}");
    assert!(csv_text.contains(",203.0.113.5,90,2026-12-01T10:00:00+00:00,true,\"{\"\"asn\"\":64500}\"\n"), "{csv_text}");
    // The export imports back as the same columns (its system columns are left out).
    let round = send(admin.post(app.at("/tables/import")).multipart(csv_form(&csv_text, &[("table_name", "round_trip")])), StatusCode::CREATED).await;
    assert_eq!(round["rows_inserted"], 3);
    let round_types: Vec<&str> = round["table"]["columns"].as_array().unwrap().iter().map(|c| c["type"].as_str().unwrap()).collect();
    assert_eq!(round_types, ["TEXT", "INTEGER", "TIMESTAMPTZ", "BOOLEAN", "JSONB"]);
    let markdown = download("markdown").await.unwrap().text().await.unwrap();
    assert!(markdown.starts_with("| id | created_at | updated_at | ip | score |"), "{markdown}");
    assert_eq!(markdown.lines().count(), 5);
    let ndjson = download("ndjson").await.unwrap().text().await.unwrap();
    assert_eq!(ndjson.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["ip"].clone()).collect::<Vec<_>>(), [json!("203.0.113.5"), json!("198.51.100.7"), json!("192.0.2.1")]);
    let json_out: Value = download("json").await.unwrap().json().await.unwrap();
    assert_eq!(json_out.as_array().unwrap().len(), 3);
    send(admin.get(app.at(&format!("/tables/{table_id}/download"))).query(&[("format", "xml")]), StatusCode::UNPROCESSABLE_ENTITY).await;

    // An export streams every row, in pieces: 3,000 rows of ~100 bytes is several of them.
    let big = create_table(&app, &admin, json!({"name": "big", "columns": [{"name": "n", "type": "INTEGER"}, {"name": "note", "type": "TEXT"}]})).await;
    for chunk in 0..3 {
        let rows: Vec<Value> = (0..1000).map(|i| json!({"n": chunk * 1000 + i, "note": "x".repeat(60)})).collect();
        send(admin.post(app.at(&format!("/tables/{}/rows/batch", id(&big)))).json(&json!({"rows": rows})), StatusCode::CREATED).await;
    }
    let export = |format: &'static str| admin.get(app.at(&format!("/tables/{}/download", id(&big)))).query(&[("format", format)]).send();
    let csv_all = export("csv").await.unwrap().text().await.unwrap();
    assert_eq!(csv_all.lines().count(), 3001);
    assert!(csv_all.lines().last().unwrap().contains(",2999,"), "in creation order to the last");
    let all: Value = export("json").await.unwrap().json().await.unwrap();
    assert_eq!(all.as_array().unwrap().len(), 3000);
    assert_eq!(all[2999]["n"], 2999);
}

#[tokio::test]
async fn viewers_read_editors_write_and_other_workspaces_see_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let table = create_table(&app, &admin, json!({"name": "vips", "columns": [{"name": "email", "type": "TEXT"}]})).await;
    let rows = format!("/tables/{}/rows", id(&table));
    send(admin.post(app.at(&rows)).json(&json!({"data": {"email": "ceo@example.com"}})), StatusCode::CREATED).await;
    let viewer = app.user("viewer@example.com", app.workspace_id, "viewer").await;
    assert_eq!(send(viewer.get(app.at(&rows)), StatusCode::OK).await["items"][0]["email"], "ceo@example.com");
    send(viewer.post(app.at(&rows)).json(&json!({"data": {"email": "x@example.com"}})), StatusCode::FORBIDDEN).await;
    send(viewer.delete(app.at(&format!("/tables/{}", id(&table)))), StatusCode::FORBIDDEN).await;

    let other = app.create_workspace("Other").await;
    let outsider = app.user("outsider@example.com", other, "admin").await;
    send(outsider.get(app.at(&format!("/tables/{}", id(&table)))), StatusCode::NOT_FOUND).await;
    send(outsider.get(app.at(&rows)), StatusCode::NOT_FOUND).await;
    assert_eq!(send(outsider.get(app.at("/tables")), StatusCode::OK).await, json!([]));
    // The same name is free in another workspace.
    create_table(&app, &outsider, json!({"name": "vips"})).await;
    let taken = send(admin.post(app.at("/tables")).json(&json!({"name": "vips"})), StatusCode::CONFLICT).await;
    assert!(taken["detail"].as_str().unwrap().contains("already exists"));

    // Deleting a table, or its workspace, drops its rows' table in Postgres.
    let physical = |table: &Value| format!("t_{}", id(table).replace('-', ""));
    let exists = |name: String| {
        let db = app.db.clone();
        async move { sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = $1)").bind(name).fetch_one(&db).await.unwrap() }
    };
    assert!(exists(physical(&table)).await);
    send(admin.delete(app.at(&format!("/tables/{}", id(&table)))), StatusCode::NO_CONTENT).await;
    assert!(!exists(physical(&table)).await);
    let theirs = send(outsider.get(app.at("/tables")), StatusCode::OK).await;
    sqlx::query("DELETE FROM workspaces WHERE id = $1").bind(other).execute(&app.db).await.unwrap();
    assert!(!exists(physical(&theirs[0])).await, "a workspace's tables go with it");
}

#[tokio::test]
async fn the_table_actions_host_looks_up_checks_membership_upserts_searches_and_downloads() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let host = ferrocat_app::tables::host::Host::new(app.db.clone());
    let run = ferrocat_shared::temporal::RunContext {
        wf_id: "wf_x".into(),
        wf_exec_id: "wf_x/exec_1".into(),
        wf_run_id: "r".into(),
        workspace_id: app.workspace_id,
        environment: "default".into(),
        registry_lock: vec![],
    };
    // Through the action table, as a run calls them.
    let http = ferrocat_registry::actions::http::client(std::sync::Arc::new(ferrocat_shared::egress::EgressPolicy::permissive())).unwrap();
    let deps = ferrocat_registry::ActionDeps { tables: Some(std::sync::Arc::new(host)), ..ferrocat_registry::ActionDeps::with_http(http) };
    let none = serde_json::Map::new();
    let action = |name: &str, args: Value| {
        let name = format!("core.table.{name}");
        let (deps, none, run) = (&deps, &none, &run);
        async move {
            let call = ferrocat_registry::Call::new(&name, args.as_object().cloned().unwrap(), deps, none).in_run(run);
            ferrocat_registry::global().run(&name, call).await.map_err(|e| e.to_string())
        }
    };
    let created = action("create_table", json!({"name": "bad_ips", "columns": [{"name": "ip", "type": "TEXT"}, {"name": "hits", "type": "INTEGER"}]})).await.unwrap();
    assert_eq!(created["name"], "bad_ips");
    let duplicate = action("create_table", json!({"name": "bad_ips"})).await.unwrap_err();
    assert!(duplicate.contains("already exists"), "{duplicate}");
    let same = action("create_table", json!({"name": "bad_ips", "raise_on_duplicate": false})).await.unwrap();
    assert_eq!(same["id"], created["id"]);
    let upsert = action("insert_row", json!({"table": "bad_ips", "row_data": {"ip": "203.0.113.9"}, "upsert": true})).await.unwrap_err();
    assert!(upsert.contains("upsert needs a unique index"), "{upsert}");
    action("update_column", json!({"table": "bad_ips", "column": "ip", "update": {"is_index": true}})).await.unwrap();
    let rows: Vec<Value> = (0..50).map(|n| json!({"ip": format!("203.0.113.{n}"), "hits": n})).collect();
    assert_eq!(action("insert_rows", json!({"table": "bad_ips", "rows_data": rows})).await.unwrap(), 50);
    let row = action("insert_row", json!({"table": "bad_ips", "row_data": {"ip": "203.0.113.7", "hits": 700}, "upsert": true})).await.unwrap();
    assert_eq!(row["hits"], 700);

    assert_eq!(action("lookup", json!({"table": "bad_ips", "column": "ip", "value": "203.0.113.7"})).await.unwrap()["hits"], 700);
    assert_eq!(action("lookup", json!({"table": "bad_ips", "column": "ip", "value": "192.0.2.1"})).await.unwrap(), Value::Null);
    assert_eq!(action("lookup_many", json!({"table": "bad_ips", "column": "hits", "value": "3"})).await.unwrap().as_array().unwrap().len(), 1);
    let too_many = action("lookup_many", json!({"table": "bad_ips", "column": "hits", "value": 3, "limit": 201})).await.unwrap_err();
    assert!(too_many.contains("limit is 1 to 200"), "{too_many}");
    assert_eq!(action("is_in", json!({"table": "bad_ips", "column": "ip", "value": "203.0.113.49"})).await.unwrap(), true);
    let each = action("is_in", json!({"table": "bad_ips", "column": "ip", "values": ["203.0.113.1", "192.0.2.1", "203.0.113.2"]})).await.unwrap();
    assert_eq!(each, json!([true, false, true]));
    let wrong = action("is_in", json!({"table": "bad_ips", "column": "hits", "value": "many"})).await.unwrap_err();
    assert!(wrong.contains("column \"hits\" (INTEGER) takes an integer"), "{wrong}");
    let missing = action("lookup", json!({"table": "nope", "column": "ip", "value": "x"})).await.unwrap_err();
    assert!(missing.contains("table \"nope\" not found"), "{missing}");

    let page = action("search_rows", json!({"table": "bad_ips", "search_term": "203.0.113.4", "limit": 5, "paginate": true})).await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 5);
    assert_eq!(page["has_more"], true, "203.0.113.4 and 40-49: eleven rows");
    let list = action("search_rows", json!({"table": "bad_ips", "updated_after": "2000-01-01T00:00:00Z"})).await.unwrap();
    assert_eq!(list.as_array().unwrap().len(), 50);
    let markdown = action("download", json!({"name": "bad_ips", "format": "markdown", "limit": 2})).await.unwrap();
    assert_eq!(markdown.as_str().unwrap().lines().count(), 4, "{markdown}");
    let listed = action("download", json!({"name": "bad_ips"})).await.unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 50);
    let meta = action("get_table_metadata", json!({"name": "bad_ips"})).await.unwrap();
    assert_eq!(meta["columns"][0]["is_index"], true);
    // The api sees what the actions wrote.
    let rows = send(admin.get(app.at(&format!("/tables/{}/rows", created["id"].as_str().unwrap()))).query(&[("limit", "1")]), StatusCode::OK).await;
    assert_eq!(rows["items"][0]["ip"], "203.0.113.0");
}

#[tokio::test]
async fn rows_link_to_cases_with_their_values_and_activity_and_a_run_links_them_too() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let table = create_table(&app, &admin, json!({"name": "assets", "columns": [{"name": "host", "type": "TEXT", "is_index": true}, {"name": "owner", "type": "TEXT"}]})).await;
    let rows = format!("/tables/{}/rows", id(&table));
    let db1 = send(admin.post(app.at(&rows)).json(&json!({"data": {"host": "db1", "owner": "ana"}})), StatusCode::CREATED).await;
    let case = send(admin.post(app.at("/cases")).json(&json!({"summary": "odd logins on db1"})), StatusCode::CREATED).await;
    let case_rows = format!("/cases/{}/rows", case["short_id"].as_str().unwrap());

    let link = send(admin.post(app.at(&case_rows)).json(&json!({"table_id": id(&table), "row_id": id(&db1)})), StatusCode::CREATED).await;
    assert_eq!((link["table_name"].clone(), link["row_data"]["owner"].clone(), link["is_row_available"].clone()), (json!("assets"), json!("ana"), json!(true)));
    let again = send(admin.post(app.at(&case_rows)).json(&json!({"table_id": "assets", "row_id": id(&db1)})), StatusCode::CREATED).await;
    assert_eq!(again["id"], link["id"], "linking again changes nothing; a table is named by id or name");
    let inserted = send(admin.post(app.at(&format!("{case_rows}/insert"))).json(&json!({"table_id": id(&table), "row": {"data": {"host": "web7"}}})), StatusCode::CREATED).await;
    assert_eq!(inserted["row_data"]["host"], "web7");
    let wrong = send(admin.post(app.at(&format!("{case_rows}/insert"))).json(&json!({"table_id": id(&table), "row": {"data": {"host": 7}}})), StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(wrong["detail"].as_str().unwrap().contains("column \"host\""), "{wrong}");
    let missing = send(admin.post(app.at(&case_rows)).json(&json!({"table_id": id(&table), "row_id": uuid::Uuid::now_v7()})), StatusCode::NOT_FOUND).await;
    assert!(missing["detail"].as_str().unwrap().contains("not found"), "{missing}");

    // The row changes and is deleted in its table; the case reads what it is now.
    send(admin.patch(app.at(&format!("{rows}/{}", id(&db1)))).json(&json!({"data": {"owner": "bo"}})), StatusCode::OK).await;
    send(admin.delete(app.at(&format!("{rows}/{}", inserted["row_id"].as_str().unwrap()))), StatusCode::NO_CONTENT).await;
    let linked = send(admin.get(app.at(&case_rows)), StatusCode::OK).await;
    let seen: Vec<(Value, Value)> = linked.as_array().unwrap().iter().map(|l| (l["row_data"]["owner"].clone(), l["is_row_available"].clone())).collect();
    assert_eq!(seen, [(json!("bo"), json!(true)), (Value::Null, json!(false))]);

    send(admin.delete(app.at(&format!("{case_rows}/{}/{}", id(&table), id(&db1)))), StatusCode::NO_CONTENT).await;
    send(admin.delete(app.at(&format!("{case_rows}/{}/{}", id(&table), id(&db1)))), StatusCode::NOT_FOUND).await;
    let events = send(admin.get(app.at(&format!("/cases/{}/events", case["id"].as_str().unwrap()))), StatusCode::OK).await;
    let kinds: Vec<&str> = events["events"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap()).filter(|t| t.starts_with("table_row")).collect();
    assert_eq!(kinds, ["table_row_linked", "table_row_linked", "table_row_unlinked"]);

    // A run links rows through core.cases.link_row and insert_row, as itself.
    let host = ferrocat_app::cases::host::Host::new(app.db.clone(), None, app.state.config.attachments.clone());
    let http = ferrocat_registry::actions::http::client(std::sync::Arc::new(ferrocat_shared::egress::EgressPolicy::permissive())).unwrap();
    let deps = ferrocat_registry::ActionDeps { cases: Some(std::sync::Arc::new(host)), ..ferrocat_registry::ActionDeps::with_http(http) };
    let run = ferrocat_shared::temporal::RunContext {
        wf_id: "wf_x".into(),
        wf_exec_id: "wf_x/exec_9".into(),
        wf_run_id: "r".into(),
        workspace_id: app.workspace_id,
        environment: "default".into(),
        registry_lock: vec![],
    };
    let none = serde_json::Map::new();
    let args = json!({"case_id": case["short_id"], "table_id": "assets", "row": {"host": "mail2", "owner": "cy"}});
    let call = ferrocat_registry::Call::new("core.cases.insert_row", args.as_object().cloned().unwrap(), &deps, &none).in_run(&run);
    let linked = ferrocat_registry::global().run("core.cases.insert_row", call).await.unwrap();
    assert_eq!(linked["row_data"]["owner"], "cy");
    let args = json!({"case_id": case["id"], "table_id": id(&table), "row_id": id(&db1)});
    let call = ferrocat_registry::Call::new("core.cases.link_row", args.as_object().cloned().unwrap(), &deps, &none).in_run(&run);
    ferrocat_registry::global().run("core.cases.link_row", call).await.unwrap();
    let events = send(admin.get(app.at(&format!("/cases/{}/events", case["id"].as_str().unwrap()))), StatusCode::OK).await;
    let by_run = events["events"].as_array().unwrap().iter().filter(|e| e["wf_exec_id"] == "wf_x/exec_9").count();
    assert_eq!(by_run, 2, "{events}");
    assert_eq!(send(admin.get(app.at(&case_rows)), StatusCode::OK).await.as_array().unwrap().len(), 3);
}
