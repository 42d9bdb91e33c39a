//! Rows of lookup tables linked to a case (Tracecat's case rows: `/cases/{id}/rows`): link a
//! row, insert one and link it, unlink, and list them with each row's current values; each link
//! and unlink goes to the activity log.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use super::events::{self, EventType};
use super::{Actor, CaseRow};
use crate::AppError;
use crate::checks::invalid;
use crate::tables::{self, Table, TableRef, rows};

/// Most rows linked to one case (Tracecat's `TRACECAT__MAX_RECORDS_PER_CASE`, enforced here).
pub const MAX_PER_CASE: i64 = 50;

#[derive(Debug, sqlx::FromRow)]
struct LinkRow {
    id: Uuid,
    table_id: Uuid,
    table_name: String,
    row_id: Uuid,
    created_at: DateTime<Utc>,
}

/// What a link reads as: `{id, case_id, table_id, table_name, row_id, row_data, is_row_available}`.
fn read(case: &CaseRow, link: &LinkRow, row: Option<Value>) -> Value {
    json!({
        "id": link.id,
        "case_id": case.id,
        "table_id": link.table_id,
        "table_name": link.table_name,
        "row_id": link.row_id,
        "is_row_available": row.is_some(),
        "row_data": row,
        "created_at": link.created_at,
    })
}

/// The rows linked to a case, oldest link first, with their values now (`row_data` null and
/// `is_row_available` false for a row deleted since).
pub async fn list(db: &PgPool, case: &CaseRow) -> Result<Vec<Value>, AppError> {
    let links = sqlx::query_as::<_, LinkRow>(
        "SELECT l.id, l.table_id, t.name AS table_name, l.row_id, l.created_at FROM case_table_rows l
         JOIN lookup_tables t ON t.id = l.table_id WHERE l.case_id = $1 ORDER BY l.created_at, l.id",
    )
    .bind(case.id)
    .fetch_all(db)
    .await?;
    let mut tables: HashMap<Uuid, Table> = HashMap::new();
    let mut out = Vec::with_capacity(links.len());
    for link in &links {
        let table = match tables.entry(link.table_id) {
            std::collections::hash_map::Entry::Occupied(known) => known.into_mut(),
            std::collections::hash_map::Entry::Vacant(slot) => slot.insert(tables::load(db, case.workspace_id, TableRef::Id(link.table_id)).await?),
        };
        let row = match rows::get(db, table, link.row_id).await {
            Ok(row) => Some(row),
            Err(AppError::NotFound(_)) => None,
            Err(other) => return Err(other),
        };
        out.push(read(case, link, row));
    }
    Ok(out)
}

/// Links a row of a table of the case's workspace (by id or name) to the case; linking it again
/// changes nothing.
pub async fn link(db: &PgPool, case: &CaseRow, actor: &Actor, table: &str, row_id: Uuid) -> Result<Value, AppError> {
    let table = tables::load(db, case.workspace_id, TableRef::parse(table)).await?;
    let row = rows::get(db, &table, row_id).await?;
    link_row(db, case, actor, &table, row).await
}

async fn link_row(db: &PgPool, case: &CaseRow, actor: &Actor, table: &Table, row: Value) -> Result<Value, AppError> {
    let row_id = row["id"].as_str().and_then(|s| Uuid::try_parse(s).ok()).ok_or_else(|| AppError::Internal(anyhow::anyhow!("a row without an id")))?;
    let mut tx = db.begin().await?;
    // One linker per case at a time, so the count holds.
    sqlx::query("SELECT id FROM cases WHERE id = $1 FOR UPDATE").bind(case.id).execute(&mut *tx).await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM case_table_rows WHERE case_id = $1").bind(case.id).fetch_one(&mut *tx).await?;
    let inserted = sqlx::query_as::<_, (Uuid, DateTime<Utc>)>(
        "INSERT INTO case_table_rows (id, case_id, table_id, row_id) VALUES ($1, $2, $3, $4) ON CONFLICT (case_id, table_id, row_id) DO NOTHING RETURNING id, created_at",
    )
    .bind(Uuid::now_v7())
    .bind(case.id)
    .bind(table.meta.id)
    .bind(row_id)
    .fetch_optional(&mut *tx)
    .await?;
    let (id, created_at) = match inserted {
        Some(new) => {
            if count >= MAX_PER_CASE {
                return Err(invalid("row_id", format!("a case links at most {MAX_PER_CASE} rows")));
            }
            events::record(&mut tx, case, actor, EventType::TableRowLinked, json!({"table_id": table.meta.id, "table_name": table.meta.name, "row_id": row_id})).await?;
            new
        }
        None => sqlx::query_as("SELECT id, created_at FROM case_table_rows WHERE case_id = $1 AND table_id = $2 AND row_id = $3")
            .bind(case.id)
            .bind(table.meta.id)
            .bind(row_id)
            .fetch_one(&mut *tx)
            .await?,
    };
    tx.commit().await?;
    let link = LinkRow { id, table_id: table.meta.id, table_name: table.meta.name.clone(), row_id, created_at };
    Ok(read(case, &link, Some(row)))
}

/// Inserts a row into a table (or upserts it on the table's unique column) and links it.
pub async fn insert_and_link(db: &PgPool, case: &CaseRow, actor: &Actor, table: &str, data: Map<String, Value>, upsert: bool) -> Result<Value, AppError> {
    let table = tables::load(db, case.workspace_id, TableRef::parse(table)).await?;
    let row = rows::insert(db, &table, data, upsert).await?;
    link_row(db, case, actor, &table, row).await
}

/// Unlinks a row from the case (the row itself stays in its table).
pub async fn unlink(db: &PgPool, case: &CaseRow, actor: &Actor, table: &str, row_id: Uuid) -> Result<(), AppError> {
    let table = tables::load(db, case.workspace_id, TableRef::parse(table)).await?;
    let mut tx = db.begin().await?;
    let removed = sqlx::query("DELETE FROM case_table_rows WHERE case_id = $1 AND table_id = $2 AND row_id = $3")
        .bind(case.id)
        .bind(table.meta.id)
        .bind(row_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed == 0 {
        return Err(AppError::NotFound(format!("row {row_id} of table {:?} is not linked to this case", table.meta.name)));
    }
    events::record(&mut tx, case, actor, EventType::TableRowUnlinked, json!({"table_id": table.meta.id, "table_name": table.meta.name, "row_id": row_id})).await?;
    tx.commit().await?;
    Ok(())
}
