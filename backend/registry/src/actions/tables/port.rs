//! The port of the lookup-table actions: the arguments of `core.table.*` (Tracecat's names)
//! and the [`TableHost`] that runs a parsed call. The use-case layer implements the host.

use serde::Deserialize;
use serde_json::{Map, Value};

use ferrocat_shared::temporal::RunContext;

pub use super::super::cases::port::HostFuture;

fn hundred() -> i64 {
    100
}

fn thousand() -> i64 {
    1000
}

fn yes() -> bool {
    true
}

/// A column as `create_table` and `create_column` take it.
#[derive(Debug, Clone, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    pub name: String,
    /// TEXT, INTEGER, NUMERIC, DATE, BOOLEAN, TIMESTAMPTZ, JSONB, SELECT or MULTI_SELECT.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default = "yes")]
    pub nullable: bool,
    pub default: Option<Value>,
    /// The choices of a SELECT or MULTI_SELECT column.
    pub options: Option<Vec<String>>,
    /// Make it the table's unique key (upserts match on it).
    #[serde(default)]
    pub is_index: bool,
}

/// Changes to a column (`update_column`'s `update`).
#[derive(Debug, Clone, Default, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnUpdate {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub nullable: Option<bool>,
    /// A new default; null clears it.
    #[serde(default, deserialize_with = "present")]
    pub default: Option<Option<Value>>,
    pub is_index: Option<bool>,
    pub options: Option<Vec<String>>,
}

/// A field that is there, even as null, is `Some`.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<Value>>, D::Error> {
    Ok(Some(Option::<Value>::deserialize(d)?))
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupArgs {
    pub table: String,
    pub column: String,
    /// The value to match (equality); null matches empty cells.
    #[serde(default)]
    pub value: Value,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LookupManyArgs {
    pub table: String,
    pub column: String,
    #[serde(default)]
    pub value: Value,
    /// At most 200.
    #[serde(default = "hundred")]
    pub limit: i64,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IsInArgs {
    pub table: String,
    pub column: String,
    /// The value to look for; the answer is true or false.
    #[serde(default)]
    pub value: Value,
    /// Instead of `value`: many values at once (up to 10,000); the answer is a list of
    /// true or false, one for each, in order.
    pub values: Option<Vec<Value>>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchRowsArgs {
    pub table: String,
    /// Text looked for in every text and JSON column.
    pub search_term: Option<String>,
    /// Rows created at or after this time (RFC 3339).
    pub start_time: Option<String>,
    /// Rows created at or before this time.
    pub end_time: Option<String>,
    pub updated_before: Option<String>,
    pub updated_after: Option<String>,
    pub cursor: Option<String>,
    #[serde(default)]
    pub reverse: bool,
    /// At most 200.
    #[serde(default = "hundred")]
    pub limit: i64,
    /// Return `{items, next_cursor, prev_cursor, has_more, has_previous}` instead of a list.
    #[serde(default)]
    pub paginate: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InsertRowArgs {
    pub table: String,
    pub row_data: Map<String, Value>,
    /// Update the row whose unique column holds the same value instead of failing.
    #[serde(default)]
    pub upsert: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InsertRowsArgs {
    pub table: String,
    /// 1 to 1000 rows, written all or none.
    pub rows_data: Vec<Map<String, Value>>,
    #[serde(default)]
    pub upsert: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRowArgs {
    pub table: String,
    pub row_id: String,
    pub row_data: Map<String, Value>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteRowArgs {
    pub table: String,
    pub row_id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTableArgs {
    pub name: String,
    pub columns: Option<Vec<ColumnSpec>>,
    /// Fail when a table of that name exists (else return that table).
    #[serde(default = "yes")]
    pub raise_on_duplicate: bool,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TableNameArgs {
    pub name: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateTableArgs {
    pub name: String,
    pub new_name: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateColumnArgs {
    pub table: String,
    pub column: ColumnSpec,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateColumnArgs {
    pub table: String,
    /// The column's current name.
    pub column: String,
    pub update: ColumnUpdate,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteColumnArgs {
    pub table: String,
    pub column: String,
}

#[derive(Debug, Clone, Copy, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DownloadFormat {
    Json,
    Ndjson,
    Csv,
    Markdown,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DownloadArgs {
    pub name: String,
    /// None: a list of rows; else the rows as text in this format.
    pub format: Option<DownloadFormat>,
    /// At most 1000.
    #[serde(default = "thousand")]
    pub limit: i64,
}

/// One table action with its parsed arguments.
#[derive(Debug)]
pub enum TableCall {
    Lookup(LookupArgs),
    LookupMany(LookupManyArgs),
    IsIn(IsInArgs),
    SearchRows(SearchRowsArgs),
    InsertRow(InsertRowArgs),
    InsertRows(InsertRowsArgs),
    UpdateRow(UpdateRowArgs),
    DeleteRow(DeleteRowArgs),
    CreateTable(CreateTableArgs),
    ListTables(NoArgs),
    GetTableMetadata(TableNameArgs),
    UpdateTable(UpdateTableArgs),
    CreateColumn(CreateColumnArgs),
    UpdateColumn(UpdateColumnArgs),
    DeleteColumn(DeleteColumnArgs),
    Download(DownloadArgs),
}

/// What runs the table actions: the use-case layer, bound to the database.
pub trait TableHost: Send + Sync {
    /// Runs `call` in `run`'s workspace.
    fn run<'a>(&'a self, call: TableCall, run: &'a RunContext) -> HostFuture<'a>;
}
