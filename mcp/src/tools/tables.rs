//! Table tools: list a workspace's lookup tables, look up rows by a column's value, and search
//! rows by text, as the signed-in user (any member reads), through the same use cases as the
//! api's routes and the `core.table.*` actions.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, schemars, tool, tool_router};
use serde::Deserialize;
use serde_json::{Value, json};

use ferrocat_app::tables::rows::{self, RowQuery};
use ferrocat_app::tables::{self, TableRef};

use super::{FerrocatMcp, ToolError, caller, respond};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct ListTablesArgs {
    pub workspace_id: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct LookupRowsArgs {
    pub workspace_id: Option<String>,
    /// The table's name (or id).
    pub table: String,
    /// The column to match.
    pub column: String,
    /// The value it must equal (typed as the column: "42" matches an INTEGER 42).
    pub value: Value,
    /// 1-200 (default 20).
    pub limit: Option<i64>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchRowsArgs {
    pub workspace_id: Option<String>,
    /// The table's name (or id).
    pub table: String,
    /// Text looked for in every text and JSON column (none: every row).
    pub search_term: Option<String>,
    /// 1-200 (default 20).
    pub limit: Option<i64>,
    /// The next_cursor of the previous page.
    pub cursor: Option<String>,
}

fn limit(given: Option<i64>) -> Result<i64, ToolError> {
    let limit = given.unwrap_or(20);
    if !(1..=rows::MAX_PAGE).contains(&limit) {
        return Err(ToolError::BadRequest(format!("limit must be between 1 and {}", rows::MAX_PAGE)));
    }
    Ok(limit)
}

impl FerrocatMcp {
    async fn do_list_tables(&self, context: &RequestContext<RoleServer>, args: ListTablesArgs) -> Result<Value, ToolError> {
        let access = self.access(&caller(context)?, args.workspace_id.as_deref()).await?;
        let db = self.state.db();
        let mut out = Vec::new();
        for meta in tables::list(db, access.workspace_id).await? {
            out.push(tables::load(db, access.workspace_id, TableRef::Id(meta.id)).await?.read_model());
        }
        Ok(json!({"tables": out}))
    }

    async fn do_lookup_table_rows(&self, context: &RequestContext<RoleServer>, args: LookupRowsArgs) -> Result<Value, ToolError> {
        let access = self.access(&caller(context)?, args.workspace_id.as_deref()).await?;
        let db = self.state.db();
        let table = tables::load(db, access.workspace_id, TableRef::parse(&args.table)).await?;
        Ok(json!({"rows": rows::lookup(db, &table, &args.column, &args.value, limit(args.limit)?).await?}))
    }

    async fn do_search_table_rows(&self, context: &RequestContext<RoleServer>, args: SearchRowsArgs) -> Result<Value, ToolError> {
        let access = self.access(&caller(context)?, args.workspace_id.as_deref()).await?;
        let db = self.state.db();
        let table = tables::load(db, access.workspace_id, TableRef::parse(&args.table)).await?;
        let query = RowQuery { search_term: args.search_term, limit: limit(args.limit)?, cursor: args.cursor, ..RowQuery::default() };
        Ok(rows::page(db, &table, &query).await?.read_model())
    }
}

#[tool_router(router = table_tools, vis = "pub(crate)")]
impl FerrocatMcp {
    #[tool(description = "The workspace's lookup tables with their typed columns and which column is the unique key. Returns {tables}.")]
    async fn list_tables(&self, Parameters(args): Parameters<ListTablesArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_list_tables(&context, args).await)
    }

    #[tool(description = "Rows of a lookup table whose column equals a value (known-bad IPs, VIP users, asset owners), oldest first. Returns {rows}.")]
    async fn lookup_table_rows(&self, Parameters(args): Parameters<LookupRowsArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_lookup_table_rows(&context, args).await)
    }

    #[tool(description = "Search a lookup table's rows by text in its text and JSON columns. Returns {items, next_cursor, has_more}.")]
    async fn search_table_rows(&self, Parameters(args): Parameters<SearchRowsArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_search_table_rows(&context, args).await)
    }
}
