//! Rows of a lookup table: insert (one, many, upsert on the unique index), update, delete,
//! get, pages with search and sort, equality lookups, membership, and downloads.
//!
//! Every value is bound as text after [`Column::coerce`] and cast in SQL to its column's type;
//! rows come back as JSON with the generated column names turned back into the users'. The
//! identifiers in the SQL built here with `format!` are only [`Table::physical`] and
//! [`Column::physical`] (made from ids: hex digits) and [`super::SqlType::pg`]'s literals; no
//! name a user gives is ever part of it, and every value is a bound parameter.

use std::collections::HashMap;

use base64::Engine as _;
use serde_json::{Map, Value, json};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{Column, SYSTEM_COLUMNS, Table, sql_state};
use crate::AppError;
use crate::checks::invalid;

/// A row as given: `{column: value}`.
type Row = Map<String, Value>;

/// Most rows of one batch (Tracecat's 1..1000).
pub const MAX_BATCH: usize = 1000;
/// Most rows of a page.
pub const MAX_PAGE: i64 = 200;
/// Rows written per statement when importing.
const CHUNK: usize = 5000;

/// A row as JSON: `id`, `created_at`, `updated_at` and each column by its name.
pub fn read_row(table: &Table, stored: Value) -> Value {
    let Value::Object(stored) = stored else { return Value::Null };
    let mut out = Map::with_capacity(table.columns.len() + 3);
    for system in SYSTEM_COLUMNS {
        out.insert((*system).to_owned(), stored.get(*system).cloned().unwrap_or(Value::Null));
    }
    for column in &table.columns {
        let key = format!("c_{}", column.id.simple());
        out.insert(column.name.clone(), stored.get(&key).cloned().unwrap_or(Value::Null));
    }
    Value::Object(out)
}

fn read_all(table: &Table, stored: Vec<Value>) -> Vec<Value> {
    stored.into_iter().map(|r| read_row(table, r)).collect()
}

/// Maps a database refusal of a write to what the caller did.
fn write_error(table: &Table, error: sqlx::Error) -> AppError {
    match sql_state(&error) {
        Some("23505") => {
            let column = table.index().map(|c| c.name.as_str()).unwrap_or("the key");
            AppError::Conflict(format!("a row of table {:?} already has this {column}", table.meta.name))
        }
        Some("23502") => invalid("data", format!("a column of table {:?} that is not nullable was left empty", table.meta.name)),
        Some("54000") => invalid("data", "a value of the unique column is too large to index (keep it under 2,000 bytes)"),
        // The table changed under the write (a column dropped, a type changed).
        Some("42703") | Some("42P01") | Some("42804") => AppError::Conflict(format!("table {:?} changed while writing; try again", table.meta.name)),
        Some(code) if code.starts_with("22") => invalid("data", format!("a value does not fit its column: {}", db_message(&error))),
        _ => error.into(),
    }
}

fn db_message(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Database(db) => db.message().to_owned(),
        other => other.to_string(),
    }
}

/// Rows ready to write: the columns they set and, per column, each row's text.
struct Batch<'t> {
    columns: Vec<&'t Column>,
    values: Vec<Vec<Option<String>>>,
    /// The columns the rows gave (an upsert overwrites only these).
    given: Vec<bool>,
    rows: usize,
}

/// Checks `rows` against `table`: unknown names refused, values coerced, defaults filled in
/// for columns a row leaves out, and a value required in every column that is not nullable.
fn batch<'t>(table: &'t Table, rows: &[Map<String, Value>], first_row: usize) -> Result<Batch<'t>, AppError> {
    for (i, row) in rows.iter().enumerate() {
        for key in row.keys() {
            if SYSTEM_COLUMNS.contains(&key.as_str()) {
                return Err(invalid(&format!("rows.{}.{key}", i + first_row), format!("{key} is set by the table")));
            }
            table.column(key).map_err(|e| at_row(e, i + first_row))?;
        }
    }
    let mut columns = Vec::new();
    let mut values = Vec::new();
    let mut given = Vec::new();
    for column in &table.columns {
        let any_given = rows.iter().any(|r| r.contains_key(&column.name));
        if !any_given && column.default.is_none() && column.nullable {
            continue;
        }
        let default = column.default.as_ref().map(|d| column.coerce(d)).transpose()?.flatten();
        let mut texts = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            let text = match row.get(&column.name) {
                Some(value) => column.coerce(value).map_err(|e| at_row(e, i + first_row))?,
                None => default.clone(),
            };
            if text.is_none() && !column.nullable {
                return Err(at_row(invalid(&column.name, format!("column {:?} is not nullable and has no default", column.name)), i + first_row));
            }
            texts.push(text);
        }
        columns.push(column);
        values.push(texts);
        given.push(any_given);
    }
    Ok(Batch { columns, values, given, rows: rows.len() })
}

/// Says which row a refusal is about when there are several.
fn at_row(error: AppError, row: usize) -> AppError {
    match error {
        AppError::Unprocessable { detail, errors } => AppError::Unprocessable {
            detail: format!("row {row}: {detail}"),
            errors: errors
                .into_iter()
                .map(|mut e| {
                    if let Some(loc) = e.get("loc").and_then(Value::as_str) {
                        e["loc"] = json!(format!("rows.{row}.{loc}"));
                    }
                    e
                })
                .collect(),
        },
        other => other,
    }
}

/// `INSERT … SELECT … FROM unnest(…)` for `batch` (and `ON CONFLICT` on the index when
/// upserting), returning the rows when `returning`.
fn insert_sql(table: &Table, batch: &Batch<'_>, upsert: Option<&Column>, returning: bool) -> String {
    // Ids are made here, in order (UUIDv7), so rows written together keep their order under
    // the same `created_at`.
    let mut names = vec!["id".to_owned()];
    names.extend(batch.columns.iter().map(|c| c.physical()));
    let mut casts = vec!["u.id".to_owned()];
    casts.extend(batch.columns.iter().enumerate().map(|(i, c)| format!("u.v{i}::{}", c.sql_type().pg())));
    let mut params = vec!["$1::uuid[]".to_owned()];
    params.extend((0..batch.columns.len()).map(|i| format!("${}::text[]", i + 2)));
    let mut aliases = vec!["id".to_owned()];
    aliases.extend((0..batch.columns.len()).map(|i| format!("v{i}")));
    let mut sql = format!(
        "INSERT INTO {} AS r ({}) SELECT {} FROM unnest({}) AS u({})",
        table.physical(),
        names.join(", "),
        casts.join(", "),
        params.join(", "),
        aliases.join(", ")
    );
    if let Some(index) = upsert {
        let mut sets: Vec<String> =
            batch.columns.iter().zip(&batch.given).filter(|(c, given)| **given && c.id != index.id).map(|(c, _)| format!("{0} = EXCLUDED.{0}", c.physical())).collect();
        sets.push("updated_at = now()".into());
        sql.push_str(&format!(" ON CONFLICT ({}) DO UPDATE SET {}", index.physical(), sets.join(", ")));
    }
    if returning {
        sql.push_str(" RETURNING to_jsonb(r)");
    }
    sql
}

/// The unique-index column an upsert needs, checked against the rows.
fn upsert_key<'t>(table: &'t Table, rows: &[Map<String, Value>]) -> Result<&'t Column, AppError> {
    let index = table
        .index()
        .ok_or_else(|| invalid("upsert", format!("upsert needs a unique index on table {:?}: set is_index on the column that identifies a row", table.meta.name)))?;
    if let Some(i) = rows.iter().position(|r| r.get(&index.name).is_none_or(Value::is_null)) {
        return Err(invalid(&format!("rows.{i}.{}", index.name), format!("an upsert row needs a value of the unique column {:?}", index.name)));
    }
    Ok(index)
}

/// Keeps the last of rows that share a key (an upsert cannot touch a row twice in one statement).
fn last_per_key(index: &Column, rows: Vec<Map<String, Value>>) -> Result<Vec<Map<String, Value>>, AppError> {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out: Vec<Option<Map<String, Value>>> = Vec::with_capacity(rows.len());
    for row in rows {
        let key = index.coerce(row.get(&index.name).unwrap_or(&Value::Null))?.unwrap_or_default();
        match seen.get(&key) {
            Some(&at) => out[at] = Some(row),
            None => {
                seen.insert(key, out.len());
                out.push(Some(row));
            }
        }
    }
    Ok(out.into_iter().flatten().collect())
}

async fn execute_batch(tx: &mut PgConnection, table: &Table, batch: &Batch<'_>, upsert: Option<&Column>, returning: bool) -> Result<Vec<Value>, AppError> {
    // Generated names and SqlType's literals only: every value is a bound parameter.
    let sql = insert_sql(table, batch, upsert, returning);
    let ids: Vec<Uuid> = (0..batch.rows).map(|_| Uuid::now_v7()).collect();
    if returning {
        let mut query = sqlx::query_scalar::<_, Value>(sqlx::AssertSqlSafe(sql)).bind(&ids);
        for values in &batch.values {
            query = query.bind(values);
        }
        return query.fetch_all(&mut *tx).await.map_err(|e| write_error(table, e));
    }
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&ids);
    for values in &batch.values {
        query = query.bind(values);
    }
    let done = query.execute(&mut *tx).await.map_err(|e| write_error(table, e))?;
    Ok(vec![json!(done.rows_affected())])
}

/// Inserts one row (or upserts it on the unique index) and returns it.
pub async fn insert(db: &PgPool, table: &Table, data: Map<String, Value>, upsert: bool) -> Result<Value, AppError> {
    let rows = vec![data];
    let key = if upsert { Some(upsert_key(table, &rows)?) } else { None };
    let batch = batch(table, &rows, 0).map_err(strip_row)?;
    let mut conn = db.acquire().await?;
    let stored = execute_batch(&mut conn, table, &batch, key, true).await?;
    Ok(stored.into_iter().next().map(|r| read_row(table, r)).unwrap_or(Value::Null))
}

/// A one-row insert's refusal without the row number.
fn strip_row(error: AppError) -> AppError {
    match error {
        AppError::Unprocessable { detail, errors } => AppError::Unprocessable {
            detail: detail.strip_prefix("row 0: ").map(str::to_owned).unwrap_or(detail),
            errors: errors
                .into_iter()
                .map(|mut e| {
                    if let Some(loc) = e.get("loc").and_then(Value::as_str).and_then(|l| l.strip_prefix("rows.0.")) {
                        e["loc"] = json!(format!("data.{loc}"));
                    }
                    e
                })
                .collect(),
        },
        other => other,
    }
}

/// Inserts (or upserts) up to [`MAX_BATCH`] rows, all or none; returns how many were written.
pub async fn insert_many(db: &PgPool, table: &Table, rows: Vec<Map<String, Value>>, upsert: bool) -> Result<u64, AppError> {
    if rows.is_empty() || rows.len() > MAX_BATCH {
        return Err(invalid("rows", format!("give 1-{MAX_BATCH} rows")));
    }
    let mut tx = db.begin().await?;
    let written = write_rows(&mut tx, table, rows, upsert, 0).await?;
    tx.commit().await?;
    Ok(written)
}

/// Writes any number of rows in chunks inside the caller's transaction (`first_row` numbers
/// them in refusals).
pub async fn write_rows(tx: &mut PgConnection, table: &Table, rows: Vec<Map<String, Value>>, upsert: bool, first_row: usize) -> Result<u64, AppError> {
    let key = if upsert { Some(upsert_key(table, &rows)?) } else { None };
    let groups = match key {
        // An upsert overwrites only the columns a row gives: rows giving the same columns go
        // together (as Tracecat groups them), so none overwrites another's with a default.
        Some(index) => {
            let mut groups: Vec<(Vec<String>, Vec<Row>)> = Vec::new();
            for row in last_per_key(index, rows)? {
                let mut names: Vec<String> = row.keys().cloned().collect();
                names.sort();
                match groups.iter_mut().find(|(n, _)| *n == names) {
                    Some((_, group)) => group.push(row),
                    None => groups.push((names, vec![row])),
                }
            }
            groups.into_iter().map(|(_, group)| group).collect()
        }
        None => vec![rows],
    };
    let mut written = 0;
    let mut numbered = first_row;
    for rows in groups {
        for chunk in rows.chunks(CHUNK) {
            let batch = batch(table, chunk, numbered)?;
            let done = execute_batch(tx, table, &batch, key, false).await?;
            written += done.first().and_then(Value::as_u64).unwrap_or_default();
            numbered += chunk.len();
        }
    }
    Ok(written)
}

/// `SET c = $n::type, …, updated_at = now()` for `data`, binding from `$first`.
fn set_clause(table: &Table, data: &Map<String, Value>, first: usize) -> Result<(String, Vec<Option<String>>), AppError> {
    let mut sets = Vec::new();
    let mut binds = Vec::new();
    for (name, value) in data {
        if SYSTEM_COLUMNS.contains(&name.as_str()) {
            return Err(invalid(&format!("data.{name}"), format!("{name} is set by the table")));
        }
        let column = table.column(name)?;
        binds.push(column.coerce(value)?);
        sets.push(format!("{} = ${}::{}", column.physical(), first + binds.len() - 1, column.sql_type().pg()));
    }
    sets.push("updated_at = now()".into());
    Ok((sets.join(", "), binds))
}

/// Changes a row's values and returns it.
pub async fn update(db: &PgPool, table: &Table, row_id: Uuid, data: &Map<String, Value>) -> Result<Value, AppError> {
    let (sets, binds) = set_clause(table, data, 2)?;
    let sql = format!("UPDATE {} AS r SET {sets} WHERE id = $1 RETURNING to_jsonb(r)", table.physical());
    let mut query = sqlx::query_scalar::<_, Value>(sqlx::AssertSqlSafe(sql)).bind(row_id);
    for bind in binds {
        query = query.bind(bind);
    }
    let stored = query.fetch_optional(db).await.map_err(|e| write_error(table, e))?.ok_or_else(|| not_found(table, row_id))?;
    Ok(read_row(table, stored))
}

/// Sets the same values on up to [`MAX_BATCH`] rows; returns how many there were.
pub async fn update_many(db: &PgPool, table: &Table, row_ids: &[Uuid], data: &Map<String, Value>) -> Result<u64, AppError> {
    check_ids(row_ids)?;
    let (sets, binds) = set_clause(table, data, 2)?;
    let sql = format!("UPDATE {} SET {sets} WHERE id = ANY($1)", table.physical());
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(row_ids);
    for bind in binds {
        query = query.bind(bind);
    }
    Ok(query.execute(db).await.map_err(|e| write_error(table, e))?.rows_affected())
}

fn check_ids(row_ids: &[Uuid]) -> Result<(), AppError> {
    if row_ids.is_empty() || row_ids.len() > MAX_BATCH {
        return Err(invalid("row_ids", format!("give 1-{MAX_BATCH} row ids")));
    }
    Ok(())
}

fn not_found(table: &Table, row_id: Uuid) -> AppError {
    AppError::NotFound(format!("row {row_id} not found in table {:?}", table.meta.name))
}

/// Deletes a row.
pub async fn delete(db: &PgPool, table: &Table, row_id: Uuid) -> Result<(), AppError> {
    let done = sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {} WHERE id = $1", table.physical()))).bind(row_id).execute(db).await?;
    if done.rows_affected() == 0 {
        return Err(not_found(table, row_id));
    }
    Ok(())
}

/// Deletes up to [`MAX_BATCH`] rows; returns how many there were.
pub async fn delete_many(db: &PgPool, table: &Table, row_ids: &[Uuid]) -> Result<u64, AppError> {
    check_ids(row_ids)?;
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {} WHERE id = ANY($1)", table.physical()))).bind(row_ids).execute(db).await?.rows_affected())
}

/// One row.
pub async fn get(db: &PgPool, table: &Table, row_id: Uuid) -> Result<Value, AppError> {
    let stored: Value = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT to_jsonb(r) FROM {} r WHERE id = $1", table.physical())))
        .bind(row_id)
        .fetch_optional(db)
        .await?
        .ok_or_else(|| not_found(table, row_id))?;
    Ok(read_row(table, stored))
}

/// `column = value` (or `IS NULL`) with the value bound as `$n`.
fn equals(column: &Column, value: &Value, n: usize) -> Result<(String, Option<String>), AppError> {
    let sql_type = column.sql_type();
    let text = sql_type.coerce(value, column.options()).map_err(|takes| invalid(&column.name, format!("column {:?} ({}) takes {takes}", column.name, column.kind)))?;
    Ok(match text {
        None => (format!("{} IS NULL", column.physical()), None),
        Some(text) => (format!("{} = ${n}::{}", column.physical(), sql_type.pg()), Some(text)),
    })
}

/// Rows whose `column` equals `value` (Tracecat's lookup), at most `limit`, oldest first.
pub async fn lookup(db: &PgPool, table: &Table, column: &str, value: &Value, limit: i64) -> Result<Vec<Value>, AppError> {
    let column = table.column(column)?;
    let (condition, bind) = equals(column, value, 2)?;
    let sql = format!("SELECT to_jsonb(r) FROM {} r WHERE {condition} ORDER BY created_at, id LIMIT $1", table.physical());
    let stored: Vec<Value> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(limit.clamp(1, MAX_PAGE)).bind(bind).fetch_all(db).await?;
    Ok(read_all(table, stored))
}

/// Whether any row's `column` equals `value` (an `EXISTS` that stops at the first).
pub async fn exists(db: &PgPool, table: &Table, column: &str, value: &Value) -> Result<bool, AppError> {
    let column = table.column(column)?;
    let (condition, bind) = equals(column, value, 1)?;
    let sql = format!("SELECT EXISTS (SELECT 1 FROM {} r WHERE {condition})", table.physical());
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(bind).fetch_one(db).await?)
}

/// Most values [`exists_each`] checks in one call.
pub const MAX_VALUES: usize = 10_000;

/// For each of `values`, whether some row's `column` equals it, in one statement.
pub async fn exists_each(db: &PgPool, table: &Table, column: &str, values: &[Value]) -> Result<Vec<bool>, AppError> {
    if values.len() > MAX_VALUES {
        return Err(invalid("values", format!("give at most {MAX_VALUES} values")));
    }
    let column = table.column(column)?;
    let texts = values
        .iter()
        .enumerate()
        .map(|(i, v)| column.sql_type().coerce(v, column.options()).map_err(|takes| invalid(&format!("values.{i}"), format!("column {:?} ({}) takes {takes}", column.name, column.kind))))
        .collect::<Result<Vec<_>, _>>()?;
    let sql = format!(
        "SELECT v.ord FROM unnest($1::text[]) WITH ORDINALITY AS v(val, ord) WHERE EXISTS (SELECT 1 FROM {} r WHERE r.{} = v.val::{})",
        table.physical(),
        column.physical(),
        column.sql_type().pg()
    );
    let found: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(&texts).fetch_all(db).await?;
    let mut out = vec![false; values.len()];
    for ord in found {
        if let Some(slot) = usize::try_from(ord - 1).ok().and_then(|i| out.get_mut(i)) {
            *slot = true;
        }
    }
    Ok(out)
}

/// What a page of rows is filtered by and how it is sorted.
#[derive(Debug, Clone, Default)]
pub struct RowQuery {
    /// Text looked for in every text and JSON column.
    pub search_term: Option<String>,
    pub start_time: Option<chrono::DateTime<chrono::Utc>>,
    pub end_time: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_after: Option<chrono::DateTime<chrono::Utc>>,
    pub updated_before: Option<chrono::DateTime<chrono::Utc>>,
    /// A column's name; rows in creation order when none.
    pub order_by: Option<String>,
    pub descending: bool,
    pub limit: i64,
    pub cursor: Option<String>,
    /// Read the page before `cursor`.
    pub reverse: bool,
}

/// A page of rows with the cursors around it.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Value>,
    pub next_cursor: Option<String>,
    pub prev_cursor: Option<String>,
}

impl Page {
    /// Tracecat's cursor page.
    pub fn read_model(self) -> Value {
        json!({
            "items": self.items,
            "has_more": self.next_cursor.is_some(),
            "has_previous": self.prev_cursor.is_some(),
            "next_cursor": self.next_cursor,
            "prev_cursor": self.prev_cursor,
        })
    }
}

/// Where a page starts: after a row in creation order, or at an offset in a column's order.
enum Cursor {
    Key(String, Uuid),
    Offset(i64),
}

fn encode(cursor: &Cursor) -> String {
    let doc = match cursor {
        Cursor::Key(at, id) => json!({"k": at, "id": id}),
        Cursor::Offset(n) => json!({"o": n}),
    };
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(doc.to_string())
}

fn decode(text: &str) -> Result<Cursor, AppError> {
    let bad = || invalid("cursor", "the cursor is not one this table returned");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if let Some(n) = doc.get("o").and_then(Value::as_i64) {
        return if n >= 0 { Ok(Cursor::Offset(n)) } else { Err(bad()) };
    }
    let at = doc.get("k").and_then(Value::as_str).filter(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok()).ok_or_else(bad)?;
    let id = doc.get("id").and_then(Value::as_str).and_then(|s| Uuid::try_parse(s).ok()).ok_or_else(bad)?;
    Ok(Cursor::Key(at.to_owned(), id))
}

fn push_filters(query: &mut QueryBuilder<Postgres>, table: &Table, filter: &RowQuery) {
    if let Some(term) = filter.search_term.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let escaped = term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let like = format!("%{escaped}%");
        let searchable: Vec<&Column> = table.columns.iter().filter(|c| c.sql_type().is_searchable()).collect();
        if searchable.is_empty() {
            query.push(" AND FALSE");
        } else {
            query.push(" AND (");
            for (i, column) in searchable.iter().enumerate() {
                if i > 0 {
                    query.push(" OR ");
                }
                let text = if column.sql_type().pg() == "jsonb" { format!("r.{}::text", column.physical()) } else { format!("r.{}", column.physical()) };
                query.push(text).push(" ILIKE ").push_bind(like.clone());
            }
            query.push(")");
        }
    }
    for (column, op, value) in [
        ("r.created_at", " >= ", filter.start_time),
        ("r.created_at", " <= ", filter.end_time),
        ("r.updated_at", " >= ", filter.updated_after),
        ("r.updated_at", " <= ", filter.updated_before),
    ] {
        if let Some(value) = value {
            query.push(" AND ").push(column).push(op).push_bind(value);
        }
    }
}

/// A page of rows: in creation order by keyset (`(created_at, id)`, any depth at the same
/// cost), or by a column's order by offset.
pub async fn page(db: &PgPool, table: &Table, filter: &RowQuery) -> Result<Page, AppError> {
    let limit = filter.limit.clamp(1, MAX_PAGE);
    let cursor = filter.cursor.as_deref().map(decode).transpose()?;
    let sorted_by = filter.order_by.as_deref().filter(|c| !c.is_empty() && *c != "created_at").map(|c| table.column(c)).transpose()?;
    let mut query = QueryBuilder::<Postgres>::new(format!("SELECT to_jsonb(r) FROM {} r WHERE TRUE", table.physical()));
    push_filters(&mut query, table, filter);
    match sorted_by {
        None => {
            // Scan forwards (or backwards for the page before the cursor) from the cursor.
            let ascending = filter.descending == filter.reverse;
            if let Some(cursor) = &cursor {
                let Cursor::Key(at, id) = cursor else { return Err(invalid("cursor", "the cursor belongs to another order")) };
                let op = if ascending { " > " } else { " < " };
                query.push(" AND (r.created_at, r.id)").push(op).push("(").push_bind(at.clone()).push("::timestamptz, ").push_bind(*id).push(")");
            }
            let dir = if ascending { "ASC" } else { "DESC" };
            query.push(format!(" ORDER BY r.created_at {dir}, r.id {dir} LIMIT ")).push_bind(limit + 1);
            let mut items: Vec<Value> = query.build_query_scalar().fetch_all(db).await?;
            let extra = items.len() as i64 > limit;
            items.truncate(limit as usize);
            if filter.reverse {
                items.reverse();
            }
            let key = |row: &Value| Cursor::Key(row["created_at"].as_str().unwrap_or_default().to_owned(), row["id"].as_str().and_then(|s| Uuid::try_parse(s).ok()).unwrap_or_default());
            let (first, last) = (items.first().map(key), items.last().map(key));
            let (next, prev) = if filter.reverse { (cursor.is_some().then_some(last).flatten(), extra.then_some(first).flatten()) } else { (extra.then_some(last).flatten(), cursor.is_some().then_some(first).flatten()) };
            Ok(Page { items: read_all(table, items), next_cursor: next.as_ref().map(encode), prev_cursor: prev.as_ref().map(encode) })
        }
        Some(column) => {
            let start = match cursor {
                None if filter.reverse => return Err(invalid("reverse", "a page before the first needs a cursor")),
                None => 0,
                Some(Cursor::Offset(n)) => n,
                Some(Cursor::Key(..)) => return Err(invalid("cursor", "the cursor belongs to another order")),
            };
            // The page before an offset ends there.
            let (offset, take) = if filter.reverse { ((start - limit).max(0), limit.min(start)) } else { (start, limit) };
            let dir = if filter.descending { "DESC" } else { "ASC" };
            query.push(format!(" ORDER BY r.{} {dir} NULLS LAST, r.id {dir} LIMIT ", column.physical())).push_bind(take + 1).push(" OFFSET ").push_bind(offset);
            let mut items: Vec<Value> = query.build_query_scalar().fetch_all(db).await?;
            let extra = items.len() as i64 > take;
            items.truncate(take as usize);
            let next = extra.then_some(Cursor::Offset(offset + take));
            let prev = (offset > 0).then_some(Cursor::Offset(offset));
            Ok(Page { items: read_all(table, items), next_cursor: next.as_ref().map(encode), prev_cursor: prev.as_ref().map(encode) })
        }
    }
}

/// The formats a table downloads as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Ndjson,
    Csv,
    Markdown,
}

impl Format {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        Ok(match text {
            "json" => Format::Json,
            "ndjson" => Format::Ndjson,
            "csv" => Format::Csv,
            "markdown" => Format::Markdown,
            _ => return Err(invalid("format", "format is json, ndjson, csv or markdown")),
        })
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::Ndjson => "application/x-ndjson",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Markdown => "text/markdown; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Ndjson => "ndjson",
            Format::Csv => "csv",
            Format::Markdown => "md",
        }
    }
}

/// Up to `limit` rows in creation order.
pub async fn first_rows(db: &PgPool, table: &Table, limit: i64) -> Result<Vec<Value>, AppError> {
    let sql = format!("SELECT to_jsonb(r) FROM {} r ORDER BY created_at, id LIMIT $1", table.physical());
    let stored: Vec<Value> = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(limit.max(0)).fetch_all(db).await?;
    Ok(read_all(table, stored))
}

/// A cell as text: strings as they are, null empty, anything else as JSON.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Writes rows of one table as text in one format, a row at a time: what a download holds
/// in memory and what an export streams.
pub struct Renderer {
    format: Format,
    headers: Vec<String>,
    rows: usize,
}

impl Renderer {
    pub fn new(table: &Table, format: Format) -> Self {
        let mut headers: Vec<String> = SYSTEM_COLUMNS.iter().map(|h| (*h).to_owned()).collect();
        headers.extend(table.columns.iter().map(|c| c.name.clone()));
        Self { format, headers, rows: 0 }
    }

    /// What comes before the rows.
    pub fn start(&self) -> String {
        match self.format {
            Format::Json => "[".into(),
            Format::Ndjson => String::new(),
            Format::Csv => csv_line(self.headers.iter().map(String::as_str)),
            Format::Markdown => format!("| {} |\n|{}\n", self.headers.join(" | "), " --- |".repeat(self.headers.len())),
        }
    }

    /// One row.
    pub fn row(&mut self, row: &Value) -> String {
        self.rows += 1;
        match self.format {
            Format::Json => format!("{}{row}", if self.rows > 1 { "," } else { "" }),
            Format::Ndjson => format!("{row}\n"),
            Format::Csv => {
                let cells: Vec<String> = self.headers.iter().map(|h| cell(&row[h.as_str()])).collect();
                csv_line(cells.iter().map(String::as_str))
            }
            Format::Markdown => {
                let escape = |s: String| s.replace('\\', "\\\\").replace('|', "\\|").replace(['\n', '\r'], " ");
                let cells: Vec<String> = self.headers.iter().map(|h| escape(cell(&row[h.as_str()]))).collect();
                format!("| {} |\n", cells.join(" | "))
            }
        }
    }

    /// What comes after the rows.
    pub fn end(&self) -> String {
        if self.format == Format::Json { "]".into() } else { String::new() }
    }
}

/// One CSV record, quoted where it must be.
fn csv_line<'a>(cells: impl Iterator<Item = &'a str>) -> String {
    let mut out = csv::Writer::from_writer(Vec::new());
    let _ = out.write_record(cells);
    String::from_utf8(out.into_inner().unwrap_or_default()).unwrap_or_default()
}

/// `rows` (of `table`) as text in `format`.
pub fn render(table: &Table, rows: &[Value], format: Format) -> String {
    let mut out = Renderer::new(table, format);
    let mut text = out.start();
    for row in rows {
        text.push_str(&out.row(row));
    }
    text.push_str(&out.end());
    text
}

/// Every row of `table` in creation order as text in `format`, sent in pieces of about 64 KiB
/// while the rows are read (one connection held until the last); an error ends the stream.
pub fn export(db: PgPool, table: Table, format: Format) -> tokio::sync::mpsc::Receiver<Result<String, AppError>> {
    use futures_util::StreamExt as _;
    let (tx, rx) = tokio::sync::mpsc::channel(4);
    tokio::spawn(async move {
        let mut out = Renderer::new(&table, format);
        let mut buffer = out.start();
        let sql = format!("SELECT to_jsonb(r) FROM {} r ORDER BY created_at, id", table.physical());
        let mut rows = sqlx::query_scalar::<_, Value>(sqlx::AssertSqlSafe(sql)).fetch(&db);
        while let Some(row) = rows.next().await {
            match row {
                Ok(stored) => buffer.push_str(&out.row(&read_row(&table, stored))),
                Err(e) => {
                    let _ = tx.send(Err(e.into())).await;
                    return;
                }
            }
            if buffer.len() >= 64 * 1024 && tx.send(Ok(std::mem::take(&mut buffer))).await.is_err() {
                return; // The client went away.
            }
        }
        buffer.push_str(&out.end());
        let _ = tx.send(Ok(buffer)).await;
    });
    rx
}

/// How many rows a table holds, as the planner estimates it (cheap on any size).
pub async fn estimate(db: &PgPool, table: &Table) -> Result<i64, AppError> {
    let name = format!("t_{}", table.meta.id.simple());
    let estimate: Option<f32> = sqlx::query_scalar("SELECT reltuples FROM pg_class WHERE relname = $1 AND relnamespace = 'table_rows'::regnamespace").bind(name).fetch_optional(db).await?;
    Ok(estimate.map(|e| e.max(0.0) as i64).unwrap_or_default())
}
