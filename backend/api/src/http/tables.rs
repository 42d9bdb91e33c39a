//! Lookup tables, with Tracecat's paths and shapes: tables (`/tables`), their columns, their
//! rows (pages with search and sort, one, batches), CSV import (with a preview) and download.
//! The use cases are `ferrocat_app::tables`; this module reads requests and renders answers.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use ferrocat_app::tables::rows::{self, Format, RowQuery};
use ferrocat_app::tables::{self, ColumnChanges, NewColumn, NewTable, Table, TableRef, import};

use super::validate::invalid;
use super::{JsonBody, Path, Query};
use crate::auth::{Role, WorkspaceAccess};
use crate::error::ApiError;
use crate::state::AppState;

/// The routes; imports may carry up to `max_import_bytes` (and the form around them).
pub(super) fn router(max_import_bytes: u64) -> Router<AppState> {
    let import_limit = axum::extract::DefaultBodyLimit::max(usize::try_from(max_import_bytes).unwrap_or(usize::MAX).saturating_add(64 * 1024));
    Router::new()
        .route("/tables", get(list_tables).post(create_table))
        .route("/tables/import", post(import_table).layer(import_limit))
        .route("/tables/import/preview", post(preview_import).layer(import_limit))
        .route("/tables/{table_id}", get(get_table).patch(update_table).delete(delete_table))
        .route("/tables/{table_id}/columns", post(create_column))
        .route("/tables/{table_id}/columns/{column_id}", patch(update_column).delete(delete_column))
        .route("/tables/{table_id}/rows", get(list_rows).post(insert_row))
        .route("/tables/{table_id}/rows/batch", post(batch_insert_rows))
        .route("/tables/{table_id}/rows/batch-delete", post(batch_delete_rows))
        .route("/tables/{table_id}/rows/batch-update", post(batch_update_rows))
        .route("/tables/{table_id}/rows/{row_id}", get(get_row).patch(update_row).delete(delete_row))
        .route("/tables/{table_id}/import", post(import_rows).layer(import_limit))
        .route("/tables/{table_id}/download", get(download_table))
}

async fn table(state: &AppState, access: &WorkspaceAccess, table_id: &str) -> Result<Table, ApiError> {
    let id = Uuid::try_parse(table_id).map_err(|_| ApiError::NotFound(format!("table {table_id:?} not found")))?;
    Ok(tables::load(&state.db, access.workspace_id, TableRef::Id(id)).await?)
}

fn row_id(text: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(text).map_err(|_| ApiError::NotFound(format!("row {text:?} not found")))
}

/// A column as a request gives it (Tracecat's `TableColumnCreate`).
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TableColumnCreate {
    /// Letters, digits and underscores, at most 100; not id, created_at, updated_at or `__tc_…`.
    name: String,
    /// TEXT, INTEGER, NUMERIC, DATE, BOOLEAN, TIMESTAMPTZ, JSONB, SELECT or MULTI_SELECT.
    #[serde(rename = "type")]
    kind: String,
    #[serde(default = "yes")]
    nullable: bool,
    default: Option<Value>,
    /// The choices of a SELECT or MULTI_SELECT column.
    options: Option<Vec<String>>,
    /// Make it the table's one unique key (upserts match on it).
    #[serde(default)]
    is_index: bool,
}

fn yes() -> bool {
    true
}

impl From<TableColumnCreate> for NewColumn {
    fn from(c: TableColumnCreate) -> Self {
        NewColumn { name: c.name, kind: c.kind, nullable: c.nullable, default: c.default, options: c.options, is_index: c.is_index }
    }
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TableCreate {
    name: String,
    #[serde(default)]
    columns: Vec<TableColumnCreate>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TableUpdate {
    name: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TableColumnUpdate {
    name: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    nullable: Option<bool>,
    /// A new default; null clears it.
    #[serde(default, deserialize_with = "super::validate::present")]
    #[schema(value_type = Option<Object>)]
    default: Option<Option<Value>>,
    options: Option<Vec<String>>,
    /// True makes it the table's unique key (one per table); false drops the index.
    is_index: Option<bool>,
}


#[utoipa::path(
    get,
    path = "/tables",
    tag = "tables",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "[{id, name, created_at, updated_at}]", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_tables(State(state): State<AppState>, access: WorkspaceAccess) -> Result<Json<Value>, ApiError> {
    let found = tables::list(&state.db, access.workspace_id).await?;
    Ok(Json(Value::Array(found.iter().map(tables::TableMeta::read_model).collect())))
}

#[utoipa::path(
    post,
    path = "/tables",
    tag = "tables",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TableCreate,
    responses((status = 201, description = "the table with its columns", body = serde_json::Value), (status = "4XX", description = "the one error shape; 409 when the name is taken", body = crate::error::ErrorBody))
)]
async fn create_table(State(state): State<AppState>, access: WorkspaceAccess, JsonBody(body): JsonBody<TableCreate>) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let input = NewTable { name: body.name, columns: body.columns.into_iter().map(NewColumn::from).collect() };
    let created = tables::create(&state.db, access.workspace_id, input).await?;
    Ok((StatusCode::CREATED, Json(created.read_model())))
}

#[utoipa::path(
    get,
    path = "/tables/{table_id}",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "{id, name, columns: [{id, name, type, nullable, default, is_index, options}], row_estimate}", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_table(State(state): State<AppState>, access: WorkspaceAccess, Path(table_id): Path<String>) -> Result<Json<Value>, ApiError> {
    let found = table(&state, &access, &table_id).await?;
    let mut out = found.read_model();
    out["row_estimate"] = json!(rows::estimate(&state.db, &found).await?);
    Ok(Json(out))
}

#[utoipa::path(
    patch,
    path = "/tables/{table_id}",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TableUpdate,
    responses((status = 200, description = "the table", body = serde_json::Value), (status = "4XX", description = "the one error shape; 409 when the name is taken", body = crate::error::ErrorBody))
)]
async fn update_table(State(state): State<AppState>, access: WorkspaceAccess, Path(table_id): Path<String>, JsonBody(body): JsonBody<TableUpdate>) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let found = table(&state, &access, &table_id).await?;
    if let Some(name) = body.name {
        tables::rename(&state.db, &found.meta, &name).await?;
    }
    Ok(Json(tables::load(&state.db, access.workspace_id, TableRef::Id(found.meta.id)).await?.read_model()))
}

#[utoipa::path(
    delete,
    path = "/tables/{table_id}",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted with its rows"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_table(State(state): State<AppState>, access: WorkspaceAccess, Path(table_id): Path<String>) -> Result<StatusCode, ApiError> {
    access.require(Role::Editor)?;
    let found = table(&state, &access, &table_id).await?;
    tables::delete(&state.db, &found.meta).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    post,
    path = "/tables/{table_id}/columns",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TableColumnCreate,
    responses((status = 201, description = "the column", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn create_column(State(state): State<AppState>, access: WorkspaceAccess, Path(table_id): Path<String>, JsonBody(body): JsonBody<TableColumnCreate>) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let found = table(&state, &access, &table_id).await?;
    let column = tables::add_column(&state.db, &found.meta, body.into()).await?;
    Ok((StatusCode::CREATED, Json(column.read_model())))
}

#[utoipa::path(
    patch,
    path = "/tables/{table_id}/columns/{column_id}",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("column_id" = String, Path, description = "column id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TableColumnUpdate,
    responses((status = 200, description = "the column", body = serde_json::Value), (status = "4XX", description = "the one error shape; 422 says why a change cannot be made to the values there are", body = crate::error::ErrorBody))
)]
async fn update_column(
    State(state): State<AppState>,
    access: WorkspaceAccess,
    Path((table_id, column_id)): Path<(String, String)>,
    JsonBody(body): JsonBody<TableColumnUpdate>,
) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let found = table(&state, &access, &table_id).await?;
    let column = tables::column_of(&found, &column_id)?.id;
    let changes = ColumnChanges { name: body.name, kind: body.kind, nullable: body.nullable, default: body.default, options: body.options, is_index: body.is_index };
    Ok(Json(tables::update_column(&state.db, &found.meta, column, changes).await?.read_model()))
}

#[utoipa::path(
    delete,
    path = "/tables/{table_id}/columns/{column_id}",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("column_id" = String, Path, description = "column id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted with its values"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_column(State(state): State<AppState>, access: WorkspaceAccess, Path((table_id, column_id)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    access.require(Role::Editor)?;
    let found = table(&state, &access, &table_id).await?;
    let column = tables::column_of(&found, &column_id)?.id;
    tables::delete_column(&state.db, &found.meta, column).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct RowsQuery {
    /// Rows per page, 1 to 200 (default 20).
    limit: Option<i64>,
    cursor: Option<String>,
    /// Read the page before `cursor`.
    #[serde(default)]
    reverse: bool,
    /// A column's name to sort by (creation order when none).
    order_by: Option<String>,
    /// asc (default) or desc.
    sort: Option<String>,
    /// Text looked for in every text and JSON column.
    search_term: Option<String>,
    /// Rows created at or after (RFC 3339).
    start_time: Option<chrono::DateTime<chrono::Utc>>,
    end_time: Option<chrono::DateTime<chrono::Utc>>,
    updated_after: Option<chrono::DateTime<chrono::Utc>>,
    updated_before: Option<chrono::DateTime<chrono::Utc>>,
    /// Accepted (the extractor reads it).
    #[serde(rename = "workspace_id")]
    _workspace_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/tables/{table_id}/rows",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), RowsQuery),
    responses((status = 200, description = "{items, next_cursor, prev_cursor, has_more, has_previous}", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn list_rows(State(state): State<AppState>, access: WorkspaceAccess, Path(table_id): Path<String>, Query(q): Query<RowsQuery>) -> Result<Json<Value>, ApiError> {
    let found = table(&state, &access, &table_id).await?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=rows::MAX_PAGE).contains(&limit) {
        return Err(invalid("limit", format!("limit is 1 to {}", rows::MAX_PAGE)));
    }
    let descending = match q.sort.as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => return Err(invalid("sort", "sort is asc or desc")),
    };
    let query = RowQuery {
        search_term: q.search_term,
        start_time: q.start_time,
        end_time: q.end_time,
        updated_after: q.updated_after,
        updated_before: q.updated_before,
        order_by: q.order_by,
        descending,
        limit,
        cursor: q.cursor,
        reverse: q.reverse,
    };
    Ok(Json(rows::page(&state.db, &found, &query).await?.read_model()))
}

#[utoipa::path(
    get,
    path = "/tables/{table_id}/rows/{row_id}",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("row_id" = String, Path, description = "row id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 200, description = "the row", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn get_row(State(state): State<AppState>, access: WorkspaceAccess, Path((table_id, row)): Path<(String, String)>) -> Result<Json<Value>, ApiError> {
    let found = table(&state, &access, &table_id).await?;
    Ok(Json(rows::get(&state.db, &found, row_id(&row)?).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TableRowInsert {
    /// `{column: value}`; columns left out take their default.
    data: Map<String, Value>,
    /// Update the row whose unique column holds the same value instead of failing.
    #[serde(default)]
    upsert: bool,
}

#[utoipa::path(
    post,
    path = "/tables/{table_id}/rows",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TableRowInsert,
    responses((status = 201, description = "the row", body = serde_json::Value), (status = "4XX", description = "the one error shape; 422 names the column at fault, 409 when the unique column repeats", body = crate::error::ErrorBody))
)]
async fn insert_row(State(state): State<AppState>, access: WorkspaceAccess, Path(table_id): Path<String>, JsonBody(body): JsonBody<TableRowInsert>) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let found = table(&state, &access, &table_id).await?;
    Ok((StatusCode::CREATED, Json(rows::insert(&state.db, &found, body.data, body.upsert).await?)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TableRowUpdate {
    data: Map<String, Value>,
}

#[utoipa::path(
    patch,
    path = "/tables/{table_id}/rows/{row_id}",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("row_id" = String, Path, description = "row id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TableRowUpdate,
    responses((status = 200, description = "the row", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn update_row(State(state): State<AppState>, access: WorkspaceAccess, Path((table_id, row)): Path<(String, String)>, JsonBody(body): JsonBody<TableRowUpdate>) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let found = table(&state, &access, &table_id).await?;
    Ok(Json(rows::update(&state.db, &found, row_id(&row)?, &body.data).await?))
}

#[utoipa::path(
    delete,
    path = "/tables/{table_id}/rows/{row_id}",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("row_id" = String, Path, description = "row id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    responses((status = 204, description = "deleted"), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn delete_row(State(state): State<AppState>, access: WorkspaceAccess, Path((table_id, row)): Path<(String, String)>) -> Result<StatusCode, ApiError> {
    access.require(Role::Editor)?;
    let found = table(&state, &access, &table_id).await?;
    rows::delete(&state.db, &found, row_id(&row)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TableRowsInsert {
    /// 1 to 1000 rows, written all or none.
    rows: Vec<Map<String, Value>>,
    #[serde(default)]
    upsert: bool,
}

#[utoipa::path(
    post,
    path = "/tables/{table_id}/rows/batch",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TableRowsInsert,
    responses((status = 201, description = "{rows_inserted}", body = serde_json::Value), (status = "4XX", description = "the one error shape; 422 names the row and the column at fault", body = crate::error::ErrorBody))
)]
async fn batch_insert_rows(State(state): State<AppState>, access: WorkspaceAccess, Path(table_id): Path<String>, JsonBody(body): JsonBody<TableRowsInsert>) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let found = table(&state, &access, &table_id).await?;
    let written = rows::insert_many(&state.db, &found, body.rows, body.upsert).await?;
    Ok((StatusCode::CREATED, Json(json!({"rows_inserted": written}))))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TableRowsDelete {
    /// 1 to 1000 row ids.
    row_ids: Vec<Uuid>,
}

#[utoipa::path(
    post,
    path = "/tables/{table_id}/rows/batch-delete",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TableRowsDelete,
    responses((status = 200, description = "{rows_deleted}", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn batch_delete_rows(State(state): State<AppState>, access: WorkspaceAccess, Path(table_id): Path<String>, JsonBody(body): JsonBody<TableRowsDelete>) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let found = table(&state, &access, &table_id).await?;
    Ok(Json(json!({"rows_deleted": rows::delete_many(&state.db, &found, &body.row_ids).await?})))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct TableRowsUpdate {
    row_ids: Vec<Uuid>,
    /// The values every row takes.
    data: Map<String, Value>,
}

#[utoipa::path(
    post,
    path = "/tables/{table_id}/rows/batch-update",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body = TableRowsUpdate,
    responses((status = 200, description = "{rows_updated}", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn batch_update_rows(State(state): State<AppState>, access: WorkspaceAccess, Path(table_id): Path<String>, JsonBody(body): JsonBody<TableRowsUpdate>) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let found = table(&state, &access, &table_id).await?;
    Ok(Json(json!({"rows_updated": rows::update_many(&state.db, &found, &body.row_ids, &body.data).await?})))
}

/// The multipart form of an import: the CSV `file`, and `table_name` (new tables) or
/// `column_mapping` (a JSON object of CSV header → column, for an existing table).
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct TableImportForm {
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    table_name: Option<String>,
    column_mapping: Option<String>,
}

/// What an import form carried.
struct Form {
    file: Vec<u8>,
    file_name: String,
    fields: Map<String, Value>,
}

async fn read_form(state: &AppState, mut form: axum::extract::Multipart) -> Result<Form, ApiError> {
    let max = state.config.table_import_max_bytes;
    let bad_form = |e: axum::extract::multipart::MultipartError| match e.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(format!("a file may be at most {max} bytes")),
        _ => ApiError::BadRequest(format!("the form could not be read: {}", e.body_text())),
    };
    let mut file = None;
    let mut fields = Map::new();
    while let Some(field) = form.next_field().await.map_err(bad_form)? {
        let name = field.name().unwrap_or_default().to_owned();
        if name == "file" {
            let file_name = field.file_name().unwrap_or("import.csv").to_owned();
            let bytes = field.bytes().await.map_err(bad_form)?;
            if bytes.len() as u64 > max {
                return Err(ApiError::PayloadTooLarge(format!("a file may be at most {max} bytes")));
            }
            file = Some((bytes.to_vec(), file_name));
        } else if matches!(name.as_str(), "table_name" | "column_mapping") {
            fields.insert(name, Value::String(field.text().await.map_err(bad_form)?));
        }
    }
    let (file, file_name) = file.ok_or_else(|| invalid("file", "the form has no part named file"))?;
    Ok(Form { file, file_name, fields })
}

#[utoipa::path(
    post,
    path = "/tables/import/preview",
    tag = "tables",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body(content = TableImportForm, content_type = "multipart/form-data"),
    responses((status = 200, description = "{columns: [{csv_header, field_name, field_type}], rows (the first 20, typed), total_rows}", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn preview_import(State(state): State<AppState>, access: WorkspaceAccess, form: axum::extract::Multipart) -> Result<Json<Value>, ApiError> {
    access.require(Role::Editor)?;
    let form = read_form(&state, form).await?;
    Ok(Json(import::preview(&import::parse(&form.file)?)))
}

#[utoipa::path(
    post,
    path = "/tables/import",
    tag = "tables",
    params(("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body(content = TableImportForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "{table, rows_inserted, column_mapping}", body = serde_json::Value),
        (status = 413, description = "the file is larger than FERROCAT_TABLE_IMPORT_MAX_BYTES", body = crate::error::ErrorBody),
        (status = "4XX", description = "the one error shape; 422 names the line and column at fault", body = crate::error::ErrorBody)
    )
)]
async fn import_table(State(state): State<AppState>, access: WorkspaceAccess, form: axum::extract::Multipart) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let form = read_form(&state, form).await?;
    let csv = import::parse(&form.file)?;
    let name = form.fields.get("table_name").and_then(Value::as_str);
    Ok((StatusCode::CREATED, Json(import::new_table(&state.db, access.workspace_id, &csv, name, &form.file_name).await?)))
}

#[utoipa::path(
    post,
    path = "/tables/{table_id}/import",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), ("workspace_id" = Option<String>, Query, description = "the workspace (optional when the caller has one)")),
    request_body(content = TableImportForm, content_type = "multipart/form-data"),
    responses((status = 201, description = "{rows_inserted}", body = serde_json::Value), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn import_rows(State(state): State<AppState>, access: WorkspaceAccess, Path(table_id): Path<String>, form: axum::extract::Multipart) -> Result<(StatusCode, Json<Value>), ApiError> {
    access.require(Role::Editor)?;
    let found = table(&state, &access, &table_id).await?;
    let form = read_form(&state, form).await?;
    let csv = import::parse(&form.file)?;
    let mapping = match form.fields.get("column_mapping").and_then(Value::as_str) {
        Some(text) => match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(mapping)) => mapping,
            _ => return Err(invalid("column_mapping", "column_mapping is a JSON object of CSV header to column name")),
        },
        // Each header to the column of its name.
        None => csv.headers.iter().filter(|h| found.column(h).is_ok()).map(|h| (h.clone(), json!(h))).collect(),
    };
    let written = import::into_table(&state.db, &found, &csv, &mapping).await?;
    Ok((StatusCode::CREATED, Json(json!({"rows_inserted": written}))))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
struct DownloadQuery {
    /// json (default), ndjson, csv or markdown.
    format: Option<String>,
    /// Accepted (the extractor reads it).
    #[serde(rename = "workspace_id")]
    _workspace_id: Option<String>,
}

#[utoipa::path(
    get,
    path = "/tables/{table_id}/download",
    tag = "tables",
    params(("table_id" = String, Path, description = "table id"), DownloadQuery),
    responses((status = 200, description = "every row, in creation order, as a file in the format (streamed)", body = String), (status = "4XX", description = "the one error shape", body = crate::error::ErrorBody))
)]
async fn download_table(State(state): State<AppState>, access: WorkspaceAccess, Path(table_id): Path<String>, Query(q): Query<DownloadQuery>) -> Result<Response, ApiError> {
    let found = table(&state, &access, &table_id).await?;
    let format = Format::parse(q.format.as_deref().unwrap_or("json"))?;
    let disposition = format!("attachment; filename=\"{}.{}\"", found.meta.name, format.extension());
    let pieces = rows::export(state.db.clone(), found, format);
    // A failure after the first piece can only cut the file short: it is logged, and the
    // client sees the connection end early.
    let stream = futures_util::stream::unfold(pieces, |mut pieces| async move {
        let piece = pieces.recv().await?.map_err(|e| {
            tracing::error!(error = %e, "exporting a table failed");
            std::io::Error::other("the export failed")
        });
        Some((piece, pieces))
    });
    let headers = [(header::CONTENT_TYPE, format.content_type().to_owned()), (header::CONTENT_DISPOSITION, disposition)];
    Ok((headers, axum::body::Body::from_stream(stream)).into_response())
}
