//! Case tools: search cases, read one with its comments and activity, comment on it, and change
//! it, as the signed-in user (viewers read, editors write), through the same use cases as the
//! api's routes.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::CallToolResult;
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, schemars, tool, tool_router};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use ferrocat_app::accounts::Role;
use ferrocat_app::cases::search::{CaseFilter, PageRequest};
use ferrocat_app::cases::{self, Actor, CaseChanges, CasePriority, CaseSeverity, CaseStatus, comments};

use super::{FerrocatMcp, ToolError, caller, respond};

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct SearchCasesArgs {
    pub workspace_id: Option<String>,
    /// Text in the summary or description, or a short id.
    pub search_term: Option<String>,
    #[serde(default)]
    pub status: Vec<CaseStatus>,
    #[serde(default)]
    pub priority: Vec<CasePriority>,
    #[serde(default)]
    pub severity: Vec<CaseSeverity>,
    /// Tag refs; a case must carry all of them.
    #[serde(default)]
    pub tags: Vec<String>,
    /// created_at (default), updated_at, priority, severity, status or tasks.
    pub order_by: Option<String>,
    /// asc or desc (default).
    pub sort: Option<String>,
    /// 1-100 (default 20).
    pub limit: Option<i64>,
    /// The next_cursor of the previous page.
    pub cursor: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct GetCaseArgs {
    pub workspace_id: Option<String>,
    /// The case's id or short id (CASE-0042).
    pub case_id: String,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct CommentArgs {
    pub workspace_id: Option<String>,
    pub case_id: String,
    /// Markdown.
    pub content: String,
    /// Reply to this top-level comment.
    pub parent_id: Option<String>,
}

#[derive(Debug, Deserialize, schemars::JsonSchema)]
pub struct UpdateCaseArgs {
    pub workspace_id: Option<String>,
    pub case_id: String,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub status: Option<CaseStatus>,
    pub priority: Option<CasePriority>,
    pub severity: Option<CaseSeverity>,
    /// Custom field values; null clears one.
    pub fields: Option<Map<String, Value>>,
    /// Tag ids or refs; replaces every tag.
    pub tags: Option<Vec<String>>,
}

impl FerrocatMcp {
    async fn do_search_cases(&self, context: &RequestContext<RoleServer>, args: SearchCasesArgs) -> Result<Value, ToolError> {
        let access = self.access(&caller(context)?, args.workspace_id.as_deref()).await?;
        let limit = args.limit.unwrap_or(20);
        if !(1..=100).contains(&limit) {
            return Err(ToolError::BadRequest("limit must be between 1 and 100".into()));
        }
        let filter = CaseFilter { search_term: args.search_term, status: args.status, priority: args.priority, severity: args.severity, tags: args.tags, ..Default::default() };
        let page = PageRequest::parse(limit, args.cursor, false, args.order_by.as_deref(), args.sort.as_deref())?;
        let db = self.state.db();
        Ok(cases::search::search(db, access.workspace_id, &filter, &page).await?.read(db, false).await?)
    }

    async fn do_get_case(&self, context: &RequestContext<RoleServer>, args: GetCaseArgs) -> Result<Value, ToolError> {
        let access = self.access(&caller(context)?, args.workspace_id.as_deref()).await?;
        let db = self.state.db();
        let row = cases::resolve(db, access.workspace_id, &args.case_id).await?;
        let mut case = cases::read(db, &row).await?;
        case["comment_threads"] = json!(comments::threads(&comments::list(db, &row).await?));
        case["activity"] = cases::activity(db, &row).await?["events"].take();
        case["rows"] = json!(cases::rows::list(db, &row).await?);
        Ok(case)
    }

    async fn do_comment_on_case(&self, context: &RequestContext<RoleServer>, args: CommentArgs) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let access = self.access(&caller, args.workspace_id.as_deref()).await?;
        access.require(Role::Editor)?;
        let db = self.state.db();
        let row = cases::resolve(db, access.workspace_id, &args.case_id).await?;
        let parent = match args.parent_id.as_deref() {
            Some(text) => Some(uuid::Uuid::try_parse(text).map_err(|_| ToolError::NotFound(format!("comment {text} not found")))?),
            None => None,
        };
        Ok(comments::create(db, &row, &Actor::User(caller.user_id), &args.content, parent).await?.read_model())
    }

    async fn do_update_case(&self, context: &RequestContext<RoleServer>, args: UpdateCaseArgs) -> Result<Value, ToolError> {
        let caller = caller(context)?;
        let access = self.access(&caller, args.workspace_id.as_deref()).await?;
        access.require(Role::Editor)?;
        let db = self.state.db();
        let row = cases::resolve(db, access.workspace_id, &args.case_id).await?;
        let changes = CaseChanges {
            summary: args.summary,
            description: args.description,
            status: args.status,
            priority: args.priority,
            severity: args.severity,
            fields: args.fields,
            tags: args.tags,
            ..Default::default()
        };
        let row = cases::update(db, access.workspace_id, row.id, &Actor::User(caller.user_id), changes).await?;
        Ok(cases::read(db, &row).await?)
    }
}

#[tool_router(router = case_tools, vis = "pub(crate)")]
impl FerrocatMcp {
    #[tool(description = "Search the workspace's cases by text, status, priority, severity and tags; newest first unless order_by says otherwise. Returns {items, next_cursor, has_more}.")]
    async fn search_cases(&self, Parameters(args): Parameters<SearchCasesArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_search_cases(&context, args).await)
    }

    #[tool(description = "Read one case (id or CASE-0042): fields, payload, tags, comment threads, linked table rows and its activity log.")]
    async fn get_case(&self, Parameters(args): Parameters<GetCaseArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_get_case(&context, args).await)
    }

    #[tool(description = "Comment on a case, or reply to a top-level comment with parent_id (editor role).")]
    async fn comment_on_case(&self, Parameters(args): Parameters<CommentArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_comment_on_case(&context, args).await)
    }

    #[tool(description = "Change a case: summary, description, status, priority, severity, custom fields, tags (editor role). Resolving or closing needs every field required on closure.")]
    async fn update_case(&self, Parameters(args): Parameters<UpdateCaseArgs>, context: RequestContext<RoleServer>) -> Result<CallToolResult, ErrorData> {
        respond(self.do_update_case(&context, args).await)
    }
}
