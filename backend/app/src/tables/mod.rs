//! Lookup tables (Tracecat's "Tables"): typed tables per workspace that workflows read and
//! write (`core.table.*`), analysts edit in the console, and IDEs search over MCP.
//!
//! Each table is a real Postgres table, `table_rows."t_<id>"`, with a primary key `id`,
//! `created_at`, `updated_at`, a column `"c_<id>"` per typed column, and at most one unique
//! index (which upserts need). The names users give live only in the metadata
//! (`lookup_tables`, `lookup_table_columns`): they are checked (identifiers of at most 100
//! characters, `__tc_` reserved) but never written into SQL, so a name cannot inject anything
//! and a rename is a metadata change. Values are bound as text and cast to the column's type
//! in SQL after [`SqlType::coerce`] has checked them, so a refusal names the column.
//!
//! This module keeps the tables and their columns; [`rows`] reads and writes rows, [`import`]
//! reads CSV, and [`host`] runs the `core.table.*` actions.

pub mod host;
pub mod import;
pub mod rows;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::AppError;
use crate::checks::{ResultExt as _, check_identifier, invalid};
pub use crate::column_types::SqlType;

/// Column names every table has.
pub const SYSTEM_COLUMNS: &[&str] = &["id", "created_at", "updated_at"];
/// The prefix Tracecat keeps for its own columns.
const RESERVED_PREFIX: &str = "__tc_";
/// Most columns of a table.
pub const MAX_COLUMNS: usize = 100;
/// Most tables of a workspace.
pub const MAX_TABLES: i64 = 1000;

/// A table's metadata row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TableMeta {
    pub id: Uuid,
    pub workspace_id: Uuid,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl TableMeta {
    /// What lists show.
    pub fn read_model(&self) -> Value {
        json!({"id": self.id, "name": self.name, "created_at": self.created_at, "updated_at": self.updated_at})
    }
}

/// A column's metadata row.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Column {
    pub id: Uuid,
    pub name: String,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub nullable: bool,
    pub default: Option<Value>,
    pub options: Option<Vec<String>>,
    pub is_index: bool,
}

impl Column {
    pub fn sql_type(&self) -> SqlType {
        SqlType::parse(&self.kind).unwrap_or(SqlType::Text)
    }

    pub fn options(&self) -> &[String] {
        self.options.as_deref().unwrap_or_default()
    }

    /// The column in SQL: its generated name (hex digits of its id), never the user's.
    pub fn physical(&self) -> String {
        physical_column(self.id)
    }

    /// `value` as the text Postgres reads for this column; refused naming the column.
    pub fn coerce(&self, value: &Value) -> Result<Option<String>, AppError> {
        let text = self.sql_type().coerce(value, self.options()).map_err(|takes| invalid(&self.name, format!("column {:?} ({}) takes {takes}", self.name, self.kind)))?;
        if text.is_none() && !self.nullable {
            return Err(invalid(&self.name, format!("column {:?} is not nullable", self.name)));
        }
        Ok(text)
    }

    /// What routes show (Tracecat's `TableColumnRead`).
    pub fn read_model(&self) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "type": self.kind,
            "nullable": self.nullable,
            "default": self.default,
            "is_index": self.is_index,
            "options": self.options,
        })
    }
}

/// Safe to write into SQL: quoted, and made only of the column id's hex digits, never of a
/// name a user gave.
fn physical_column(id: Uuid) -> String {
    format!("\"c_{}\"", id.simple())
}

/// Safe to write into SQL, as [`physical_column`] is.
fn index_name(column: Uuid) -> String {
    format!("\"u_{}\"", column.simple())
}

/// A table with its columns, in order.
#[derive(Debug, Clone)]
pub struct Table {
    pub meta: TableMeta,
    pub columns: Vec<Column>,
}

impl Table {
    /// The table in SQL: `table_rows."t_<hex id>"`.
    pub fn physical(&self) -> String {
        physical_table(self.meta.id)
    }

    /// The column named `name`, or a refusal naming the table's columns.
    pub fn column(&self, name: &str) -> Result<&Column, AppError> {
        self.columns.iter().find(|c| c.name == name).ok_or_else(|| {
            let known: Vec<&str> = self.columns.iter().map(|c| c.name.as_str()).collect();
            invalid(name, format!("column {name:?} does not exist in table {:?} (columns: {})", self.meta.name, known.join(", ")))
        })
    }

    /// The unique-index column, if one is set.
    pub fn index(&self) -> Option<&Column> {
        self.columns.iter().find(|c| c.is_index)
    }

    /// Tracecat's `TableRead`.
    pub fn read_model(&self) -> Value {
        let mut out = self.meta.read_model();
        out["columns"] = Value::Array(self.columns.iter().map(Column::read_model).collect());
        out
    }
}

/// Safe to write into SQL: a fixed schema and a quoted name made only of the table id's hex
/// digits, never of a name a user gave.
fn physical_table(id: Uuid) -> String {
    format!("table_rows.\"t_{}\"", id.simple())
}

/// Checks a name users give a table or a column.
pub fn check_name(loc: &str, name: &str) -> Result<(), AppError> {
    check_identifier(loc, name, 100)?;
    if name.starts_with(RESERVED_PREFIX) {
        return Err(invalid(loc, format!("names starting with {RESERVED_PREFIX} are reserved")));
    }
    Ok(())
}

fn check_column_name(loc: &str, name: &str) -> Result<(), AppError> {
    check_name(loc, name)?;
    if SYSTEM_COLUMNS.contains(&name) {
        return Err(invalid(loc, format!("{name:?} is a column every table has")));
    }
    Ok(())
}

/// How a route or an action names a table.
#[derive(Debug, Clone, Copy)]
pub enum TableRef<'a> {
    Id(Uuid),
    Name(&'a str),
}

impl<'a> TableRef<'a> {
    /// An id when `text` is one in its hyphenated form, else a name (a name may be 32 hex
    /// digits, which is also a UUID's simple form).
    pub fn parse(text: &'a str) -> Self {
        match Uuid::try_parse(text) {
            Ok(id) if text.len() == 36 => TableRef::Id(id),
            _ => TableRef::Name(text),
        }
    }
}

/// The workspace's tables, by name.
pub async fn list(db: &PgPool, workspace_id: Uuid) -> Result<Vec<TableMeta>, AppError> {
    Ok(sqlx::query_as::<_, TableMeta>("SELECT id, workspace_id, name, created_at, updated_at FROM lookup_tables WHERE workspace_id = $1 ORDER BY name")
        .bind(workspace_id)
        .fetch_all(db)
        .await?)
}

const COLUMNS: &str = "SELECT id, name, type, nullable, \"default\", options, is_index FROM lookup_table_columns WHERE table_id = $1 ORDER BY position, created_at";

/// The table `which` names in the workspace, with its columns.
pub async fn load(db: &PgPool, workspace_id: Uuid, which: TableRef<'_>) -> Result<Table, AppError> {
    let (id, name) = match which {
        TableRef::Id(id) => (Some(id), None),
        TableRef::Name(name) => (None, Some(name)),
    };
    let meta = sqlx::query_as::<_, TableMeta>(
        "SELECT id, workspace_id, name, created_at, updated_at FROM lookup_tables WHERE workspace_id = $1 AND (id = $2 OR name = $3)",
    )
    .bind(workspace_id)
    .bind(id)
    .bind(name)
    .fetch_optional(db)
    .await?
    .ok_or_else(|| match which {
        TableRef::Id(id) => AppError::NotFound(format!("table {id} not found")),
        TableRef::Name(name) => AppError::NotFound(format!("table {name:?} not found")),
    })?;
    let columns = sqlx::query_as::<_, Column>(COLUMNS).bind(meta.id).fetch_all(db).await?;
    Ok(Table { meta, columns })
}

/// Reloads `table` inside `tx`, holding its metadata row until the transaction ends, so
/// changes to one table's columns happen one at a time.
async fn lock(tx: &mut PgConnection, table: &TableMeta) -> Result<Table, AppError> {
    let meta = sqlx::query_as::<_, TableMeta>("SELECT id, workspace_id, name, created_at, updated_at FROM lookup_tables WHERE id = $1 FOR UPDATE")
        .bind(table.id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("table {:?} not found", table.name)))?;
    let columns = sqlx::query_as::<_, Column>(COLUMNS).bind(meta.id).fetch_all(&mut *tx).await?;
    Ok(Table { meta, columns })
}

/// A column to add.
#[derive(Debug, Clone)]
pub struct NewColumn {
    pub name: String,
    pub kind: String,
    pub nullable: bool,
    pub default: Option<Value>,
    pub options: Option<Vec<String>>,
    pub is_index: bool,
}

impl NewColumn {
    /// A nullable column of `kind` with no default.
    pub fn plain(name: &str, kind: SqlType) -> Self {
        Self { name: name.to_owned(), kind: kind.as_str().to_owned(), nullable: true, default: None, options: None, is_index: false }
    }

    /// Checks it, returning its type; `loc` prefixes where a refusal points.
    fn check(&self, loc: &str) -> Result<SqlType, AppError> {
        check_column_name(&format!("{loc}name"), &self.name)?;
        let kind = SqlType::parse_at(&format!("{loc}type"), &self.kind)?;
        kind.check_options(self.options.as_deref())?;
        check_default(kind, &self.name, self.options.as_deref().unwrap_or_default(), self.default.as_ref())?;
        Ok(kind)
    }
}

fn check_default(kind: SqlType, name: &str, options: &[String], default: Option<&Value>) -> Result<(), AppError> {
    if let Some(value) = default {
        kind.coerce(value, options).map_err(|takes| invalid("default", format!("the default of column {name:?} must be {takes}")))?;
    }
    Ok(())
}

/// A table to create.
#[derive(Debug, Clone)]
pub struct NewTable {
    pub name: String,
    pub columns: Vec<NewColumn>,
}

fn check_columns(columns: &[NewColumn]) -> Result<(), AppError> {
    if columns.len() > MAX_COLUMNS {
        return Err(invalid("columns", format!("a table has at most {MAX_COLUMNS} columns")));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, column) in columns.iter().enumerate() {
        column.check(&format!("columns.{i}."))?;
        if !seen.insert(column.name.as_str()) {
            return Err(invalid(&format!("columns.{i}.name"), format!("column {:?} is given twice", column.name)));
        }
    }
    if columns.iter().filter(|c| c.is_index).count() > 1 {
        return Err(invalid("columns", "Only one unique index is allowed per table"));
    }
    Ok(())
}

/// Creates a table with its columns: the metadata and the Postgres table in one transaction.
#[tracing::instrument(skip_all, fields(workspace_id = %workspace_id, table = %input.name))]
pub async fn create(db: &PgPool, workspace_id: Uuid, input: NewTable) -> Result<Table, AppError> {
    let mut tx = db.begin().await?;
    let table = create_in(&mut tx, workspace_id, input).await?;
    tx.commit().await?;
    Ok(table)
}

/// [`create`] inside a transaction the caller commits (the importer adds rows first).
pub async fn create_in(tx: &mut PgConnection, workspace_id: Uuid, input: NewTable) -> Result<Table, AppError> {
    check_name("name", &input.name)?;
    check_columns(&input.columns)?;
    // One creator at a time per workspace, so the count below holds.
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended('lookup_tables:' || $1::text, 0))").bind(workspace_id).execute(&mut *tx).await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM lookup_tables WHERE workspace_id = $1").bind(workspace_id).fetch_one(&mut *tx).await?;
    if count >= MAX_TABLES {
        return Err(invalid("name", format!("a workspace has at most {MAX_TABLES} tables")));
    }
    let meta = sqlx::query_as::<_, TableMeta>(
        "INSERT INTO lookup_tables (id, workspace_id, name) VALUES ($1, $2, $3) RETURNING id, workspace_id, name, created_at, updated_at",
    )
    .bind(Uuid::now_v7())
    .bind(workspace_id)
    .bind(&input.name)
    .fetch_one(&mut *tx)
    .await
    .on_constraint("lookup_tables_name_key", &format!("a table named {:?} already exists", input.name))?;
    let table = Table { meta, columns: Vec::new() };
    // Every name below is generated from an id (hex digits only), and each type is one of
    // SqlType's literals: nothing of the input is part of this text.
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "CREATE TABLE {} (id UUID PRIMARY KEY DEFAULT gen_random_uuid(), created_at TIMESTAMPTZ NOT NULL DEFAULT now(), updated_at TIMESTAMPTZ NOT NULL DEFAULT now())",
        table.physical()
    )))
    .execute(&mut *tx)
    .await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE INDEX {} ON {} (created_at, id)", index_name(table.meta.id), table.physical()))).execute(&mut *tx).await?;
    for (position, column) in input.columns.into_iter().enumerate() {
        add_column_in(tx, &table, column, position as i32).await?;
    }
    lock(tx, &table.meta).await
}

/// Renames a table (its rows stay where they are).
pub async fn rename(db: &PgPool, table: &TableMeta, name: &str) -> Result<TableMeta, AppError> {
    check_name("name", name)?;
    sqlx::query_as::<_, TableMeta>(
        "UPDATE lookup_tables SET name = $2, updated_at = now() WHERE id = $1 RETURNING id, workspace_id, name, created_at, updated_at",
    )
    .bind(table.id)
    .bind(name)
    .fetch_optional(db)
    .await
    .on_constraint("lookup_tables_name_key", &format!("a table named {name:?} already exists"))?
    .ok_or_else(|| AppError::NotFound(format!("table {:?} not found", table.name)))
}

/// Deletes a table with its rows (the trigger drops the Postgres table in this transaction).
pub async fn delete(db: &PgPool, table: &TableMeta) -> Result<(), AppError> {
    sqlx::query("DELETE FROM lookup_tables WHERE id = $1").bind(table.id).execute(db).await?;
    Ok(())
}

/// Adds a column to a table.
pub async fn add_column(db: &PgPool, table: &TableMeta, column: NewColumn) -> Result<Column, AppError> {
    let mut tx = db.begin().await?;
    let current = lock(&mut tx, table).await?;
    if current.columns.len() >= MAX_COLUMNS {
        return Err(invalid("name", format!("a table has at most {MAX_COLUMNS} columns")));
    }
    if column.is_index && current.index().is_some() {
        return Err(invalid("is_index", "Only one unique index is allowed per table"));
    }
    let added = add_column_in(&mut tx, &current, column, current.columns.len() as i32).await?;
    tx.commit().await?;
    Ok(added)
}

async fn add_column_in(tx: &mut PgConnection, table: &Table, input: NewColumn, position: i32) -> Result<Column, AppError> {
    let kind = input.check("")?;
    let column = sqlx::query_as::<_, Column>(
        "INSERT INTO lookup_table_columns (id, table_id, name, type, nullable, \"default\", options, is_index, position)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id, name, type, nullable, \"default\", options, is_index",
    )
    .bind(Uuid::now_v7())
    .bind(table.meta.id)
    .bind(&input.name)
    .bind(kind.as_str())
    .bind(input.nullable)
    .bind(&input.default)
    .bind(&input.options)
    .bind(input.is_index)
    .bind(position)
    .fetch_one(&mut *tx)
    .await
    .on_constraint("lookup_table_columns_name_key", &format!("table {:?} already has a column {:?}", table.meta.name, input.name))?;
    // Generated names and SqlType's literals only (see create).
    sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE {} ADD COLUMN {} {}", table.physical(), column.physical(), kind.pg()))).execute(&mut *tx).await?;
    if let Some(default) = column.default.as_ref().filter(|_| !input.nullable) {
        // Rows already there take the default before NOT NULL is set.
        let text = column.coerce(default)?;
        sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE {} SET {} = $1::{}", table.physical(), column.physical(), kind.pg()))).bind(text).execute(&mut *tx).await?;
    }
    if !input.nullable {
        set_not_null(tx, table, &column, true).await?;
    }
    if input.is_index {
        create_index(tx, table, &column).await?;
    }
    Ok(column)
}

async fn set_not_null(tx: &mut PgConnection, table: &Table, column: &Column, not_null: bool) -> Result<(), AppError> {
    let change = if not_null { "SET" } else { "DROP" };
    sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE {} ALTER COLUMN {} {change} NOT NULL", table.physical(), column.physical())))
        .execute(&mut *tx)
        .await
        .map_err(|e| match sql_state(&e) {
            Some("23502") => invalid("nullable", format!("column {:?} has rows without a value: give it a default or fill them first", column.name)),
            _ => e.into(),
        })?;
    Ok(())
}

async fn create_index(tx: &mut PgConnection, table: &Table, column: &Column) -> Result<(), AppError> {
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE UNIQUE INDEX {} ON {} ({})", index_name(column.id), table.physical(), column.physical())))
        .execute(&mut *tx)
        .await
        .map_err(|e| match sql_state(&e) {
            Some("23505") => invalid("is_index", format!("column {:?} has duplicate values; a unique index needs each value once", column.name)),
            Some("54000") => invalid("is_index", format!("column {:?} holds values too large to index", column.name)),
            _ => e.into(),
        })?;
    Ok(())
}

/// The SQLSTATE of a database error.
pub(crate) fn sql_state(error: &sqlx::Error) -> Option<&str> {
    match error {
        sqlx::Error::Database(db) => db.code().map(|c| match c {
            std::borrow::Cow::Borrowed(s) => s,
            std::borrow::Cow::Owned(_) => "",
        }),
        _ => None,
    }
}

/// Changes to a column; absent fields keep.
#[derive(Debug, Default, Clone)]
pub struct ColumnChanges {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub nullable: Option<bool>,
    /// `Some(None)` clears the default.
    pub default: Option<Option<Value>>,
    pub options: Option<Vec<String>>,
    pub is_index: Option<bool>,
}

/// Changes a column: name and default in the metadata; type (a cast of every value), null
/// allowance, options (every value checked) and the unique index in the table too.
pub async fn update_column(db: &PgPool, table: &TableMeta, column_id: Uuid, changes: ColumnChanges) -> Result<Column, AppError> {
    let mut tx = db.begin().await?;
    let current = lock(&mut tx, table).await?;
    let before = current.columns.iter().find(|c| c.id == column_id).cloned().ok_or_else(|| AppError::NotFound(format!("column {column_id} not found")))?;
    let mut after = before.clone();
    if let Some(name) = changes.name {
        check_column_name("name", &name)?;
        after.name = name;
    }
    if let Some(kind) = &changes.kind {
        after.kind = SqlType::parse_at("type", kind)?.as_str().to_owned();
    }
    let kind = after.sql_type();
    if let Some(options) = changes.options {
        after.options = Some(options);
    }
    if !kind.takes_options() {
        after.options = after.options.filter(|o| !o.is_empty() && changes.kind.is_none());
    }
    kind.check_options(after.options.as_deref())?;
    if let Some(nullable) = changes.nullable {
        after.nullable = nullable;
    }
    if let Some(default) = changes.default {
        after.default = default.filter(|v| !v.is_null());
    }
    check_default(kind, &after.name, after.options(), after.default.as_ref())?;
    if let Some(is_index) = changes.is_index {
        if is_index && current.columns.iter().any(|c| c.is_index && c.id != column_id) {
            return Err(invalid("is_index", "Only one unique index is allowed per table"));
        }
        after.is_index = is_index;
    }

    let physical = before.physical();
    if after.kind != before.kind {
        // jsonb → another type goes through its text (a JSON string without its quotes).
        let from = if before.sql_type().pg() == "jsonb" && kind.pg() != "jsonb" { format!("({physical} #>> '{{}}')") } else { physical.clone() };
        let using = match (before.sql_type().pg(), kind) {
            // text → a multi-select: the value becomes its one choice.
            ("text", SqlType::MultiSelect) => format!("CASE WHEN {physical} IS NULL THEN NULL ELSE jsonb_build_array({physical}) END"),
            // text → jsonb: a value that is not JSON is kept as a JSON string.
            ("text", SqlType::Jsonb) => format!("CASE WHEN {physical} IS NULL THEN NULL ELSE to_jsonb({physical}) END"),
            _ => format!("{from}::{}", kind.pg()),
        };
        sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE {} ALTER COLUMN {physical} TYPE {} USING {using}", current.physical(), kind.pg())))
            .execute(&mut *tx)
            .await
            .map_err(|e| match sql_state(&e) {
                // A value that does not cast, a cast that does not exist, or values that the
                // cast makes equal under the unique index.
                Some(code) if code.starts_with("22") || matches!(code, "42846" | "42804" | "42883" | "23505" | "54000") => {
                    let why = match &e {
                        sqlx::Error::Database(db) => db.message().to_owned(),
                        _ => String::new(),
                    };
                    invalid("type", format!("column {:?} cannot become {}: {why}", before.name, after.kind))
                }
                _ => e.into(),
            })?;
    }
    if kind.takes_options() && (after.options != before.options || after.kind != before.kind) {
        let options = after.options.clone().unwrap_or_default();
        let stray = if kind == SqlType::Select {
            format!("SELECT {physical} FROM {} WHERE {physical} IS NOT NULL AND NOT ({physical} = ANY($1)) LIMIT 1", current.physical())
        } else {
            format!(
                "SELECT e FROM {} r, jsonb_array_elements_text(CASE WHEN jsonb_typeof(r.{physical}) = 'array' THEN r.{physical} ELSE jsonb_build_array(r.{physical}) END) e
                 WHERE r.{physical} IS NOT NULL AND NOT (e = ANY($1)) LIMIT 1",
                current.physical()
            )
        };
        let found: Option<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(stray)).bind(&options).fetch_optional(&mut *tx).await?;
        if let Some(value) = found {
            return Err(invalid("options", format!("column {:?} holds {value:?}, which is not one of the options", after.name)));
        }
    }
    if after.nullable != before.nullable {
        set_not_null(&mut tx, &current, &after, !after.nullable).await?;
    }
    if after.is_index != before.is_index {
        if after.is_index {
            create_index(&mut tx, &current, &after).await?;
        } else {
            sqlx::query(sqlx::AssertSqlSafe(format!("DROP INDEX IF EXISTS table_rows.{}", index_name(after.id)))).execute(&mut *tx).await?;
        }
    }
    let saved = sqlx::query_as::<_, Column>(
        "UPDATE lookup_table_columns SET name = $2, type = $3, nullable = $4, \"default\" = $5, options = $6, is_index = $7, updated_at = now()
         WHERE id = $1 RETURNING id, name, type, nullable, \"default\", options, is_index",
    )
    .bind(column_id)
    .bind(&after.name)
    .bind(&after.kind)
    .bind(after.nullable)
    .bind(&after.default)
    .bind(&after.options)
    .bind(after.is_index)
    .fetch_one(&mut *tx)
    .await
    .on_constraint("lookup_table_columns_name_key", &format!("table {:?} already has a column {:?}", table.name, after.name))?;
    sqlx::query("UPDATE lookup_tables SET updated_at = now() WHERE id = $1").bind(table.id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Deletes a column with its values.
pub async fn delete_column(db: &PgPool, table: &TableMeta, column_id: Uuid) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let current = lock(&mut tx, table).await?;
    let column = current.columns.iter().find(|c| c.id == column_id).ok_or_else(|| AppError::NotFound(format!("column {column_id} not found")))?;
    sqlx::query(sqlx::AssertSqlSafe(format!("ALTER TABLE {} DROP COLUMN IF EXISTS {}", current.physical(), column.physical()))).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM lookup_table_columns WHERE id = $1").bind(column_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// The column `text` names (an id, or a name), in `table`.
pub fn column_of<'t>(table: &'t Table, text: &str) -> Result<&'t Column, AppError> {
    let by_id = Uuid::try_parse(text).ok().and_then(|id| table.columns.iter().find(|c| c.id == id));
    by_id.or_else(|| table.columns.iter().find(|c| c.name == text)).ok_or_else(|| AppError::NotFound(format!("column {text:?} not found in table {:?}", table.meta.name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_identifiers_and_never_reach_sql() {
        for bad in ["", "1abc", "a-b", "x\"; DROP TABLE users; --", "__tc_workspace_id", &"a".repeat(101)] {
            assert!(check_name("name", bad).is_err(), "{bad:?} was taken");
        }
        assert!(check_column_name("name", "id").is_err());
        assert!(check_name("name", "known_bad_ips").is_ok());
        let id = Uuid::now_v7();
        let physical = physical_table(id);
        assert!(physical.starts_with("table_rows.\"t_") && physical[12..].chars().all(|c| c.is_ascii_hexdigit() || c == '"' || c == '_' || c == 't'), "{physical}");
        assert_eq!(physical_column(id).len(), 36);
        assert!(matches!(TableRef::parse(&id.to_string()), TableRef::Id(_)));
        assert!(matches!(TableRef::parse("deadbeefdeadbeefdeadbeefdeadbeef"), TableRef::Name(_)));
    }
}
