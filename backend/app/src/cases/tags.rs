//! Case tags: definitions per workspace (`/case-tags`: name, ref = slug of the name, colour),
//! addressed by id or ref, and their links to cases (`/cases/{id}/tags`), each link and unlink
//! in the activity log.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, Transaction};
use uuid::Uuid;

use super::events::{self, EventType};
use super::{Actor, CaseRow};
use crate::AppError;
use crate::checks::{ResultExt as _, invalid};

const MAX_NAME: usize = 50;
/// Most tags one case carries.
const MAX_PER_CASE: usize = 50;
const REF_TAKEN: &str = "a tag with this name (or ref) already exists";

/// A tag definition.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TagRow {
    pub id: Uuid,
    pub name: String,
    #[sqlx(rename = "ref")]
    pub tag_ref: String,
    pub color: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl TagRow {
    pub fn read_model(&self) -> Value {
        json!({"id": self.id, "name": self.name, "ref": self.tag_ref, "color": self.color})
    }
}

/// The ref of a tag name: lower-case words joined by `-` (`Needs Review` → `needs-review`).
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for word in name.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push('-');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    out
}

fn check_name(name: &str) -> Result<String, AppError> {
    let tag_ref = slug(name);
    if name.trim().is_empty() || name.chars().count() > MAX_NAME || tag_ref.is_empty() {
        return Err(invalid("name", format!("a tag name is 1-{MAX_NAME} characters with at least one letter or digit")));
    }
    Ok(tag_ref)
}

fn check_color(color: &Option<String>) -> Result<(), AppError> {
    if let Some(color) = color {
        let hex = color.strip_prefix('#').unwrap_or("");
        if !(hex.len() == 6 || hex.len() == 3) || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(invalid("color", "color must be a hex colour such as #ff6600"));
        }
    }
    Ok(())
}

/// The columns a row is read from.
macro_rules! columns {
    () => {
        "id, name, ref, color, created_at"
    };
}

pub async fn list(db: &PgPool, workspace_id: Uuid) -> Result<Vec<TagRow>, AppError> {
    Ok(sqlx::query_as::<_, TagRow>(concat!("SELECT ", columns!(), " FROM case_tags WHERE workspace_id = $1 ORDER BY name"))
        .bind(workspace_id)
        .fetch_all(db)
        .await?)
}

/// The tag with this id or ref.
pub async fn get(db: impl sqlx::PgExecutor<'_>, workspace_id: Uuid, identifier: &str) -> Result<TagRow, AppError> {
    find(db, workspace_id, identifier).await?.ok_or_else(|| AppError::NotFound(format!("tag {identifier:?} not found")))
}

async fn find(db: impl sqlx::PgExecutor<'_>, workspace_id: Uuid, identifier: &str) -> Result<Option<TagRow>, AppError> {
    let id = Uuid::try_parse(identifier).ok();
    Ok(sqlx::query_as::<_, TagRow>(concat!("SELECT ", columns!(), " FROM case_tags WHERE workspace_id = $1 AND (id = $2 OR ref = $3)"))
        .bind(workspace_id)
        .bind(id)
        .bind(slug(identifier))
        .fetch_optional(db)
        .await?)
}

pub async fn create(db: impl sqlx::PgExecutor<'_>, workspace_id: Uuid, name: &str, color: Option<String>) -> Result<TagRow, AppError> {
    let tag_ref = check_name(name)?;
    check_color(&color)?;
    sqlx::query_as::<_, TagRow>(concat!("INSERT INTO case_tags (id, workspace_id, name, ref, color) VALUES ($1, $2, $3, $4, $5) RETURNING ", columns!()))
    .bind(Uuid::now_v7())
    .bind(workspace_id)
    .bind(name.trim())
    .bind(tag_ref)
    .bind(color)
    .fetch_one(db)
    .await
    .on_constraint("case_tags_ref_key", REF_TAKEN)
}

pub async fn update(db: &PgPool, workspace_id: Uuid, identifier: &str, name: Option<String>, color: Option<String>) -> Result<TagRow, AppError> {
    let tag = get(db, workspace_id, identifier).await?;
    let name = name.unwrap_or(tag.name);
    let tag_ref = check_name(&name)?;
    let color = color.or(tag.color);
    check_color(&color)?;
    sqlx::query_as::<_, TagRow>(concat!("UPDATE case_tags SET name = $3, ref = $4, color = $5 WHERE workspace_id = $1 AND id = $2 RETURNING ", columns!()))
        .bind(workspace_id)
        .bind(tag.id)
        .bind(name.trim())
        .bind(tag_ref)
        .bind(color)
        .fetch_one(db)
        .await
        .on_constraint("case_tags_ref_key", REF_TAKEN)
}

pub async fn delete(db: &PgPool, workspace_id: Uuid, identifier: &str) -> Result<(), AppError> {
    let tag = get(db, workspace_id, identifier).await?;
    sqlx::query("DELETE FROM case_tags WHERE workspace_id = $1 AND id = $2").bind(workspace_id).bind(tag.id).execute(db).await?;
    Ok(())
}

/// The tags `identifiers` name, created when asked (else not found), in order, once each.
pub(crate) async fn resolve_many(
    tx: &mut Transaction<'_, Postgres>,
    workspace_id: Uuid,
    identifiers: &[String],
    create_missing: bool,
) -> Result<Vec<TagRow>, AppError> {
    if identifiers.len() > MAX_PER_CASE {
        return Err(invalid("tags", format!("a case carries at most {MAX_PER_CASE} tags")));
    }
    let mut out: Vec<TagRow> = Vec::new();
    for identifier in identifiers {
        let tag = match find(&mut **tx, workspace_id, identifier).await? {
            Some(tag) => tag,
            None if create_missing => create(&mut **tx, workspace_id, identifier, None).await?,
            None => return Err(invalid("tags", format!("tag {identifier:?} not found (create_missing_tags creates it)"))),
        };
        if !out.iter().any(|t| t.id == tag.id) {
            out.push(tag);
        }
    }
    Ok(out)
}

/// Links `tag` to the case (nothing when it already is).
pub(crate) async fn link(tx: &mut Transaction<'_, Postgres>, case: &CaseRow, actor: &Actor, tag: &TagRow) -> Result<bool, AppError> {
    let added = sqlx::query("INSERT INTO case_tag_links (case_id, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(case.id)
        .bind(tag.id)
        .execute(&mut **tx)
        .await?
        .rows_affected()
        > 0;
    if added {
        events::record(tx, case, actor, EventType::TagAdded, json!({"tag_id": tag.id, "tag_ref": tag.tag_ref, "tag_name": tag.name})).await?;
    }
    Ok(added)
}

async fn unlink(tx: &mut Transaction<'_, Postgres>, case: &CaseRow, actor: &Actor, tag: &TagRow) -> Result<bool, AppError> {
    let removed =
        sqlx::query("DELETE FROM case_tag_links WHERE case_id = $1 AND tag_id = $2").bind(case.id).bind(tag.id).execute(&mut **tx).await?.rows_affected() > 0;
    if removed {
        events::record(tx, case, actor, EventType::TagRemoved, json!({"tag_id": tag.id, "tag_ref": tag.tag_ref, "tag_name": tag.name})).await?;
    }
    Ok(removed)
}

/// The tags of a case.
pub async fn of_case(db: impl sqlx::PgExecutor<'_>, case_id: Uuid) -> Result<Vec<TagRow>, AppError> {
    Ok(sqlx::query_as::<_, TagRow>(
        "SELECT t.id, t.name, t.ref, t.color, t.created_at FROM case_tags t JOIN case_tag_links l ON l.tag_id = t.id WHERE l.case_id = $1 ORDER BY t.name",
    )
    .bind(case_id)
    .fetch_all(db)
    .await?)
}

/// Makes the case's tags exactly `wanted`.
pub(crate) async fn replace(tx: &mut Transaction<'_, Postgres>, case: &CaseRow, actor: &Actor, wanted: &[String], create_missing: bool) -> Result<(), AppError> {
    let wanted = resolve_many(tx, case.workspace_id, wanted, create_missing).await?;
    for tag in of_case(&mut **tx, case.id).await? {
        if !wanted.iter().any(|w| w.id == tag.id) {
            unlink(tx, case, actor, &tag).await?;
        }
    }
    for tag in &wanted {
        link(tx, case, actor, tag).await?;
    }
    Ok(())
}

/// Adds a tag (id or ref) to a case, creating it when asked.
pub async fn add(db: &PgPool, case: &CaseRow, actor: &Actor, identifier: &str, create_missing: bool) -> Result<TagRow, AppError> {
    let mut tx = db.begin().await?;
    let tag = resolve_many(&mut tx, case.workspace_id, &[identifier.to_owned()], create_missing).await?.remove(0);
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM case_tag_links WHERE case_id = $1").bind(case.id).fetch_one(&mut *tx).await?;
    if count >= MAX_PER_CASE as i64 {
        return Err(invalid("tag_id", format!("a case carries at most {MAX_PER_CASE} tags")));
    }
    link(&mut tx, case, actor, &tag).await?;
    tx.commit().await?;
    Ok(tag)
}

/// Removes a tag (id or ref) from a case; not found when the case does not carry it.
pub async fn remove(db: &PgPool, case: &CaseRow, actor: &Actor, identifier: &str) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let tag = get(&mut *tx, case.workspace_id, identifier).await?;
    if !unlink(&mut tx, case, actor, &tag).await? {
        return Err(AppError::NotFound(format!("the case does not carry tag {identifier:?}")));
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_slugs_of_names() {
        assert_eq!(slug("Needs Review"), "needs-review");
        assert_eq!(slug("  phishing!! "), "phishing");
        assert_eq!(slug("APT-29 / cozy"), "apt-29-cozy");
        assert_eq!(slug("!!!"), "");
    }
}
