//! The `core.table.*` actions' side of the use cases: [`Host`] runs each parsed call against
//! the database in the run's workspace.

use serde_json::{Value, json};
use sqlx::PgPool;

use ferrocat_registry::actions::tables::{ColumnSpec, DownloadFormat, HostFuture, TableCall, TableHost};
use ferrocat_shared::temporal::RunContext;

use super::rows::{self, Format, RowQuery};
use super::{ColumnChanges, NewColumn, NewTable, TableRef};
use crate::AppError;
use crate::checks::invalid;

/// The most rows `download` returns (Tracecat's cap).
pub const MAX_DOWNLOAD: i64 = 1000;

/// The table actions bound to a database.
pub struct Host {
    db: PgPool,
}

impl Host {
    pub fn new(db: PgPool) -> Self {
        Self { db }
    }
}

impl TableHost for Host {
    fn run<'a>(&'a self, call: TableCall, run: &'a RunContext) -> HostFuture<'a> {
        Box::pin(async move { execute(&self.db, run.workspace_id, call).await.map_err(|e| e.into_action_error("table")) })
    }
}

fn new_column(spec: ColumnSpec) -> NewColumn {
    NewColumn { name: spec.name, kind: spec.kind, nullable: spec.nullable, default: spec.default, options: spec.options, is_index: spec.is_index }
}

fn time(loc: &str, text: Option<String>) -> Result<Option<chrono::DateTime<chrono::Utc>>, AppError> {
    text.map(|t| crate::column_types::timestamp(t.trim()).ok_or_else(|| invalid(loc, format!("{loc} is not a time (RFC 3339)")))).transpose()
}

fn row_id(text: &str) -> Result<uuid::Uuid, AppError> {
    crate::checks::parse_id("row", text)
}

fn limit(loc: &str, limit: i64, max: i64) -> Result<i64, AppError> {
    if !(1..=max).contains(&limit) {
        return Err(invalid(loc, format!("{loc} is 1 to {max}")));
    }
    Ok(limit)
}

async fn execute(db: &PgPool, ws: uuid::Uuid, call: TableCall) -> Result<Value, AppError> {
    let load = |name: String| async move { super::load(db, ws, TableRef::Name(&name)).await };
    Ok(match call {
        TableCall::Lookup(a) => {
            let table = load(a.table).await?;
            rows::lookup(db, &table, &a.column, &a.value, 1).await?.into_iter().next().unwrap_or(Value::Null)
        }
        TableCall::LookupMany(a) => {
            let table = load(a.table).await?;
            Value::Array(rows::lookup(db, &table, &a.column, &a.value, limit("limit", a.limit, rows::MAX_PAGE)?).await?)
        }
        TableCall::IsIn(a) => {
            let table = load(a.table).await?;
            match a.values {
                Some(values) => json!(rows::exists_each(db, &table, &a.column, &values).await?),
                None => json!(rows::exists(db, &table, &a.column, &a.value).await?),
            }
        }
        TableCall::SearchRows(a) => {
            let table = load(a.table).await?;
            let query = RowQuery {
                search_term: a.search_term,
                start_time: time("start_time", a.start_time)?,
                end_time: time("end_time", a.end_time)?,
                updated_after: time("updated_after", a.updated_after)?,
                updated_before: time("updated_before", a.updated_before)?,
                limit: limit("limit", a.limit, rows::MAX_PAGE)?,
                cursor: a.cursor,
                reverse: a.reverse,
                ..RowQuery::default()
            };
            let page = rows::page(db, &table, &query).await?;
            if a.paginate { page.read_model() } else { Value::Array(page.items) }
        }
        TableCall::InsertRow(a) => {
            let table = load(a.table).await?;
            rows::insert(db, &table, a.row_data, a.upsert).await?
        }
        TableCall::InsertRows(a) => {
            let table = load(a.table).await?;
            json!(rows::insert_many(db, &table, a.rows_data, a.upsert).await?)
        }
        TableCall::UpdateRow(a) => {
            let table = load(a.table).await?;
            rows::update(db, &table, row_id(&a.row_id)?, &a.row_data).await?
        }
        TableCall::DeleteRow(a) => {
            let table = load(a.table).await?;
            rows::delete(db, &table, row_id(&a.row_id)?).await?;
            Value::Null
        }
        TableCall::CreateTable(a) => {
            if !a.raise_on_duplicate
                && let Ok(existing) = super::load(db, ws, TableRef::Name(&a.name)).await
            {
                return Ok(existing.read_model());
            }
            let columns = a.columns.unwrap_or_default().into_iter().map(new_column).collect();
            super::create(db, ws, NewTable { name: a.name, columns }).await?.read_model()
        }
        TableCall::ListTables(_) => Value::Array(super::list(db, ws).await?.iter().map(super::TableMeta::read_model).collect()),
        TableCall::GetTableMetadata(a) => load(a.name).await?.read_model(),
        TableCall::UpdateTable(a) => {
            let table = load(a.name).await?;
            match a.new_name {
                Some(name) => {
                    super::rename(db, &table.meta, &name).await?;
                    super::load(db, ws, TableRef::Id(table.meta.id)).await?.read_model()
                }
                None => table.read_model(),
            }
        }
        TableCall::CreateColumn(a) => {
            let table = load(a.table).await?;
            super::add_column(db, &table.meta, new_column(a.column)).await?.read_model()
        }
        TableCall::UpdateColumn(a) => {
            let table = load(a.table).await?;
            let column = table.column(&a.column)?.id;
            let u = a.update;
            let changes = ColumnChanges { name: u.name, kind: u.kind, nullable: u.nullable, default: u.default, options: u.options, is_index: u.is_index };
            super::update_column(db, &table.meta, column, changes).await?.read_model()
        }
        TableCall::DeleteColumn(a) => {
            let table = load(a.table).await?;
            let column = table.column(&a.column)?.id;
            super::delete_column(db, &table.meta, column).await?;
            Value::Null
        }
        TableCall::Download(a) => {
            let table = load(a.name).await?;
            let found = rows::first_rows(db, &table, limit("limit", a.limit, MAX_DOWNLOAD)?).await?;
            let format = match a.format {
                None => return Ok(Value::Array(found)),
                Some(DownloadFormat::Json) => Format::Json,
                Some(DownloadFormat::Ndjson) => Format::Ndjson,
                Some(DownloadFormat::Csv) => Format::Csv,
                Some(DownloadFormat::Markdown) => Format::Markdown,
            };
            Value::String(rows::render(&table, &found, format))
        }
    })
}
