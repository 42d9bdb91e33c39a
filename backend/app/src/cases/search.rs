//! Case search: filters on every field (text, short id, status, priority, severity, tags,
//! assignee, created and updated ranges, custom fields), a sort, and cursor pages (`limit`,
//! `cursor`, `reverse`) that stay stable while cases are added; and counts per status.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

use super::{CasePriority, CaseRow, CaseSeverity, CaseStatus, fields, parse_short_id};
use crate::AppError;
use crate::checks::invalid;

/// Largest page through the api (Tracecat's).
pub const MAX_LIMIT: i64 = 200;
/// Largest page of one search (actions may read up to this many at once).
const MAX_SEARCH_LIMIT: i64 = 1000;
/// Most filters of one kind (tags, custom fields, assignees).
const MAX_TERMS: usize = 50;

/// What cases to find.
#[derive(Debug, Default, Clone)]
pub struct CaseFilter {
    /// Matches the summary, the description or the short id.
    pub search_term: Option<String>,
    pub short_id: Option<String>,
    pub status: Vec<CaseStatus>,
    pub priority: Vec<CasePriority>,
    pub severity: Vec<CaseSeverity>,
    /// Tag ids or refs; a case must carry all of them.
    pub tags: Vec<String>,
    /// User ids, or `unassigned`.
    pub assignee: Vec<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
    pub updated_before: Option<DateTime<Utc>>,
    /// `name:value` of custom fields; all must hold (a multi-select holds when it has the value).
    pub fields: Vec<String>,
}

/// What to sort by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OrderBy {
    #[default]
    CreatedAt,
    UpdatedAt,
    Priority,
    Severity,
    Status,
    Tasks,
}

impl OrderBy {
    pub fn parse(text: &str) -> Result<Self, AppError> {
        Ok(match text {
            "created_at" => OrderBy::CreatedAt,
            "updated_at" => OrderBy::UpdatedAt,
            "priority" => OrderBy::Priority,
            "severity" => OrderBy::Severity,
            "status" => OrderBy::Status,
            "tasks" => OrderBy::Tasks,
            _ => return Err(invalid("order_by", "order_by is one of created_at, updated_at, priority, severity, status, tasks")),
        })
    }

    /// The SQL the page is sorted by: fixed texts, the only ones that reach `ORDER BY`.
    fn expression(self) -> &'static str {
        match self {
            OrderBy::CreatedAt => "c.created_at",
            OrderBy::UpdatedAt => "c.updated_at",
            OrderBy::Priority => "c.priority_rank",
            OrderBy::Severity => "c.severity_rank",
            OrderBy::Status => "c.status_rank",
            OrderBy::Tasks => "(SELECT count(*) FROM case_tasks t WHERE t.case_id = c.id)",
        }
    }

    fn is_time(self) -> bool {
        matches!(self, OrderBy::CreatedAt | OrderBy::UpdatedAt)
    }

    /// The sort key of `row` as the cursor keeps it.
    fn key_of(self, row: &CaseRow, tasks: i64) -> Value {
        match self {
            OrderBy::CreatedAt => json!(row.created_at),
            OrderBy::UpdatedAt => json!(row.updated_at),
            OrderBy::Priority => json!(rank(CasePriority::ALL.iter().map(|p| p.as_str()), &row.priority)),
            OrderBy::Severity => json!(rank(CaseSeverity::ALL.iter().map(|p| p.as_str()), &row.severity)),
            OrderBy::Status => json!(rank(CaseStatus::ALL.iter().map(|p| p.as_str()), &row.status)),
            OrderBy::Tasks => json!(tasks),
        }
    }
}

/// The position of `value` in `all` (the generated rank columns use the same order).
fn rank<'a>(all: impl Iterator<Item = &'a str>, value: &str) -> i64 {
    let all: Vec<&str> = all.collect();
    all.iter().position(|v| *v == value).unwrap_or(all.len()) as i64
}

/// One page to read.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub limit: i64,
    pub cursor: Option<String>,
    /// Read the page before `cursor` instead of the one after it.
    pub reverse: bool,
    pub order_by: OrderBy,
    /// Ascending; newest first (descending) by default.
    pub ascending: bool,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self { limit: 20, cursor: None, reverse: false, order_by: OrderBy::CreatedAt, ascending: false }
    }
}

impl PageRequest {
    /// A page as callers name it: `order_by` one of [`OrderBy::parse`]'s words (created_at when
    /// none), `sort` `asc` or `desc` (desc when none).
    pub fn parse(limit: i64, cursor: Option<String>, reverse: bool, order_by: Option<&str>, sort: Option<&str>) -> Result<Self, AppError> {
        let ascending = match sort {
            None | Some("desc") => false,
            Some("asc") => true,
            Some(_) => return Err(invalid("sort", "sort is asc or desc")),
        };
        Ok(Self { limit, cursor, reverse, order_by: order_by.map(OrderBy::parse).transpose()?.unwrap_or_default(), ascending })
    }
}

/// A page of cases with the cursors around it.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<CaseRow>,
    pub next_cursor: Option<String>,
    pub prev_cursor: Option<String>,
    pub has_more: bool,
    pub has_previous: bool,
}

fn encode_cursor(key: Value, id: Uuid) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json!({"k": key, "id": id}).to_string())
}

fn decode_cursor(text: &str, order: OrderBy) -> Result<(Value, Uuid), AppError> {
    let bad = || invalid("cursor", "the cursor is not one this search returned");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let doc: Value = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let id = doc.get("id").and_then(Value::as_str).and_then(|s| Uuid::try_parse(s).ok()).ok_or_else(bad)?;
    let key = doc.get("k").cloned().ok_or_else(bad)?;
    let ok = if order.is_time() { key.as_str().is_some_and(|s| DateTime::parse_from_rfc3339(s).is_ok()) } else { key.is_i64() };
    if !ok {
        return Err(bad());
    }
    Ok((key, id))
}

/// Adds `AND …` for each filter to `query` (which already has `WHERE c.workspace_id = …`).
async fn push_filters(db: &PgPool, query: &mut QueryBuilder<Postgres>, workspace_id: Uuid, filter: &CaseFilter, order: Option<OrderBy>) -> Result<(), AppError> {
    if filter.tags.len() > MAX_TERMS || filter.fields.len() > MAX_TERMS || filter.assignee.len() > MAX_TERMS {
        return Err(invalid("filter", format!("at most {MAX_TERMS} tags, assignees or field filters")));
    }
    if let Some(term) = filter.search_term.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        let escaped = term.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
        let like = format!("%{escaped}%");
        query.push(" AND (c.summary ILIKE ").push_bind(like.clone()).push(" OR c.description ILIKE ").push_bind(like);
        if let Some(number) = parse_short_id(term) {
            query.push(" OR c.case_number = ").push_bind(number);
        }
        query.push(")");
    }
    if let Some(short) = &filter.short_id {
        let number = parse_short_id(short).ok_or_else(|| invalid("short_id", "short_id is a case number or CASE-0042"))?;
        query.push(" AND c.case_number = ").push_bind(number);
    }
    // The words of the column the page is sorted by also bound its rank, so the index on
    // (workspace, rank) starts where they are. (Bounding the others too misleads the planner:
    // it counts the words and the bounds as independent, and leaves the better index.)
    let sorted = |column: OrderBy| order == Some(column);
    push_words(query, "status", filter.status.iter().map(|s| s.as_str()), CaseStatus::ALL.iter().map(|s| s.as_str()), sorted(OrderBy::Status));
    push_words(query, "priority", filter.priority.iter().map(|s| s.as_str()), CasePriority::ALL.iter().map(|s| s.as_str()), sorted(OrderBy::Priority));
    push_words(query, "severity", filter.severity.iter().map(|s| s.as_str()), CaseSeverity::ALL.iter().map(|s| s.as_str()), sorted(OrderBy::Severity));
    // Tags are looked up once; the links are then probed by (case, tag), their primary key.
    for tag in &filter.tags {
        let id: Option<Uuid> = sqlx::query_scalar("SELECT id FROM case_tags WHERE workspace_id = $1 AND (id = $2 OR ref = $3)")
            .bind(workspace_id)
            .bind(Uuid::try_parse(tag).ok())
            .bind(super::tags::slug(tag))
            .fetch_optional(db)
            .await?;
        match id {
            Some(id) => {
                query.push(" AND EXISTS (SELECT 1 FROM case_tag_links l WHERE l.case_id = c.id AND l.tag_id = ").push_bind(id).push(")");
            }
            // No such tag: no case carries it.
            None => {
                query.push(" AND FALSE");
            }
        }
    }
    if !filter.assignee.is_empty() {
        let unassigned = filter.assignee.iter().any(|a| a == "unassigned");
        let mut ids = Vec::new();
        for text in filter.assignee.iter().filter(|a| *a != "unassigned") {
            ids.push(Uuid::try_parse(text).map_err(|_| invalid("assignee_id", "assignee_id is a user id or 'unassigned'"))?);
        }
        query.push(" AND (c.assignee_id = ANY(").push_bind(ids).push(")");
        if unassigned {
            query.push(" OR c.assignee_id IS NULL");
        }
        query.push(")");
    }
    for (column, op, value) in [
        ("c.created_at", " >= ", filter.start_time),
        ("c.created_at", " <= ", filter.end_time),
        ("c.updated_at", " >= ", filter.updated_after),
        ("c.updated_at", " <= ", filter.updated_before),
    ] {
        if let Some(value) = value {
            query.push(" AND ").push(column).push(op).push_bind(value);
        }
    }
    if !filter.fields.is_empty() {
        let defs = fields::definitions(db, workspace_id).await?;
        for term in &filter.fields {
            let (name, text) = term.split_once(':').ok_or_else(|| invalid("fields", "a field filter is name:value"))?;
            let def = defs.iter().find(|d| d.name == name).ok_or_else(|| invalid("fields", format!("no custom field {name:?}")))?;
            let value = typed(&def.kind_type, text).ok_or_else(|| invalid("fields", format!("{text:?} is not a value of field {name:?} ({})", def.kind_type)))?;
            query.push(" AND c.fields @> ").push_bind(json!({ name: value }));
        }
    }
    Ok(())
}

/// `AND c.<column> = ANY(words)` for the given words (nothing when none are), and when
/// `bound`, `AND c.<column>_rank BETWEEN lowest AND highest`, ranks being positions in `all`.
fn push_words<'a>(query: &mut QueryBuilder<Postgres>, column: &'static str, given: impl Iterator<Item = &'a str>, all: impl Iterator<Item = &'a str> + Clone, bound: bool) {
    let given: Vec<&str> = given.collect();
    if given.is_empty() {
        return;
    }
    let ranks: Vec<i16> = given.iter().map(|g| rank(all.clone(), g) as i16).collect();
    let (low, high) = (ranks.iter().min().copied().unwrap_or_default(), ranks.iter().max().copied().unwrap_or_default());
    // `column` is one of this module's literals (status, priority, severity), never input; every
    // value is bound.
    query.push(format!(" AND c.{column} = ANY(")).push_bind(given.iter().map(|g| (*g).to_owned()).collect::<Vec<_>>()).push(")");
    if bound {
        query.push(format!(" AND c.{column}_rank BETWEEN ")).push_bind(low).push(" AND ").push_bind(high);
    }
}

/// A field filter's text as the JSON the field stores (a multi-select matches one of its values).
fn typed(kind_type: &str, text: &str) -> Option<Value> {
    Some(match kind_type {
        "INTEGER" => json!(text.parse::<i64>().ok()?),
        "NUMERIC" => json!(text.parse::<f64>().ok()?),
        "BOOLEAN" => json!(text.parse::<bool>().ok()?),
        "MULTI_SELECT" => json!([text]),
        "JSONB" => serde_json::from_str(text).unwrap_or_else(|_| json!(text)),
        _ => json!(text),
    })
}

/// One page of the workspace's cases that pass `filter`.
#[tracing::instrument(skip_all, fields(workspace_id = %workspace_id))]
pub async fn search(db: &PgPool, workspace_id: Uuid, filter: &CaseFilter, page: &PageRequest) -> Result<Page, AppError> {
    if !(1..=MAX_SEARCH_LIMIT).contains(&page.limit) {
        return Err(invalid("limit", format!("limit must be 1-{MAX_SEARCH_LIMIT}")));
    }
    let order = page.order_by;
    let cursor = page.cursor.as_deref().map(|c| decode_cursor(c, order)).transpose()?;
    // `key` is one of `OrderBy::expression`'s fixed SQL texts (the caller's words only choose
    // which), and the columns are a literal; every value below is bound.
    let key = order.expression();
    let mut query = QueryBuilder::<Postgres>::new(format!("SELECT {}, {key} AS sort_key FROM cases c WHERE c.workspace_id = ", case_columns!()));
    query.push_bind(workspace_id);
    push_filters(db, &mut query, workspace_id, filter, Some(order)).await?;
    // Reading backwards flips the direction of both the comparison and the order.
    let forward_desc = !page.ascending;
    let desc = forward_desc != page.reverse;
    if let Some((value, id)) = &cursor {
        query.push(format!(" AND ({key}, c.id) {} (", if desc { "<" } else { ">" }));
        if order.is_time() {
            let at: DateTime<Utc> = value.as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|d| d.with_timezone(&Utc)).unwrap_or_default();
            query.push_bind(at);
        } else if order == OrderBy::Tasks {
            query.push_bind(value.as_i64().unwrap_or_default());
        } else {
            query.push_bind(value.as_i64().unwrap_or_default() as i16);
        }
        query.push(", ").push_bind(*id).push(")");
    }
    let dir = if desc { "DESC" } else { "ASC" };
    query.push(format!(" ORDER BY {key} {dir}, c.id {dir} LIMIT ")).push_bind(page.limit + 1);
    let rows = query.build().fetch_all(db).await?;
    let mut items = Vec::with_capacity(rows.len());
    let mut keys = Vec::with_capacity(rows.len());
    for row in &rows {
        use sqlx::{FromRow as _, Row as _};
        let case = CaseRow::from_row(row)?;
        let tasks: i64 = if order == OrderBy::Tasks { row.try_get("sort_key")? } else { 0 };
        keys.push(order.key_of(&case, tasks));
        items.push(case);
    }
    let extra = items.len() as i64 > page.limit;
    items.truncate(page.limit as usize);
    keys.truncate(page.limit as usize);
    if page.reverse {
        items.reverse();
        keys.reverse();
    }
    let (has_more, has_previous) = if page.reverse { (cursor.is_some(), extra) } else { (extra, cursor.is_some()) };
    let cursor_at = |i: usize| encode_cursor(keys[i].clone(), items[i].id);
    Ok(Page {
        next_cursor: (has_more && !items.is_empty()).then(|| cursor_at(items.len() - 1)),
        prev_cursor: (has_previous && !items.is_empty()).then(|| cursor_at(0)),
        has_more,
        has_previous,
        items,
    })
}

impl Page {
    /// `{items, next_cursor, prev_cursor, has_more, has_previous}`, the items as lists show them.
    pub async fn read(&self, db: &PgPool, include_payload: bool) -> Result<Value, AppError> {
        Ok(json!({
            "items": super::read_minimal(db, &self.items, include_payload).await?,
            "next_cursor": self.next_cursor,
            "prev_cursor": self.prev_cursor,
            "has_more": self.has_more,
            "has_previous": self.has_previous,
        }))
    }
}

/// `{total, status_groups: {status: count}}` of the cases that pass `filter`.
pub async fn aggregate(db: &PgPool, workspace_id: Uuid, filter: &CaseFilter) -> Result<Value, AppError> {
    let mut query = QueryBuilder::<Postgres>::new("SELECT c.status, count(*) FROM cases c WHERE c.workspace_id = ");
    query.push_bind(workspace_id);
    push_filters(db, &mut query, workspace_id, filter, None).await?;
    query.push(" GROUP BY c.status");
    let rows: Vec<(String, i64)> = query.build_query_as().fetch_all(db).await?;
    let mut groups = serde_json::Map::new();
    for status in CaseStatus::ALL {
        groups.insert(status.as_str().to_owned(), json!(0));
    }
    let mut total = 0;
    for (status, count) in rows {
        total += count;
        groups.insert(status, json!(count));
    }
    Ok(json!({"total": total, "status_groups": groups}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_forgeries() {
        let id = Uuid::now_v7();
        let text = encode_cursor(json!(3), id);
        assert_eq!(decode_cursor(&text, OrderBy::Priority).unwrap(), (json!(3), id));
        assert!(decode_cursor(&text, OrderBy::CreatedAt).is_err(), "a rank is not a time");
        assert!(decode_cursor("not base64 at all!", OrderBy::Priority).is_err());
        let at = encode_cursor(json!("2026-12-06T10:00:00.123456Z"), id);
        assert!(decode_cursor(&at, OrderBy::UpdatedAt).is_ok());
    }

    #[test]
    fn field_filters_take_the_field_type() {
        assert_eq!(typed("INTEGER", "42"), Some(json!(42)));
        assert_eq!(typed("INTEGER", "x"), None);
        assert_eq!(typed("BOOLEAN", "true"), Some(json!(true)));
        assert_eq!(typed("MULTI_SELECT", "a"), Some(json!(["a"])));
        assert_eq!(typed("TEXT", "a:b"), Some(json!("a:b")));
    }
}
