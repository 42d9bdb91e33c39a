//! Custom case fields: typed definitions per workspace (`/case-fields`), values kept with each
//! case and checked against their definition on every write; fields marked "required on
//! closure" must hold a value before a case is resolved or closed.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::AppError;
use crate::checks::{ResultExt as _, check_identifier, invalid};
use crate::column_types::SqlType;

/// Column names a custom field cannot take (Tracecat's reserved ones).
const RESERVED: &[&str] = &["id", "created_at", "updated_at", "case_id", "workspace_id"];
/// Most custom fields a workspace defines.
pub const MAX_FIELDS: i64 = 100;
/// Longest text value.
const MAX_TEXT: usize = 10_000;

/// A custom field's definition.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FieldDef {
    pub id: Uuid,
    pub name: String,
    #[sqlx(rename = "type")]
    pub kind_type: String,
    pub display_name: Option<String>,
    pub description: String,
    pub nullable: bool,
    pub default: Option<Value>,
    pub options: Option<Vec<String>>,
    pub kind: Option<String>,
    pub required_on_closure: bool,
    pub created_at: DateTime<Utc>,
}

impl FieldDef {
    /// What routes show (Tracecat's field read: the id is the column name).
    pub fn read_model(&self) -> Value {
        json!({
            "id": self.name,
            "uuid": self.id,
            "display_name": self.display_name.clone().unwrap_or_else(|| self.name.clone()),
            "type": self.kind_type,
            "description": self.description,
            "nullable": self.nullable,
            "default": self.default,
            "reserved": false,
            "options": self.options,
            "kind": self.kind,
            "required_on_closure": self.required_on_closure,
        })
    }
}

/// A field to define.
#[derive(Debug)]
pub struct NewField {
    pub name: String,
    pub kind_type: String,
    pub display_name: Option<String>,
    pub description: String,
    pub nullable: bool,
    pub default: Option<Value>,
    pub options: Option<Vec<String>>,
    pub kind: Option<String>,
    pub required_on_closure: bool,
}

/// Changes to a definition (its name and type stay).
#[derive(Debug, Default)]
pub struct FieldChanges {
    pub display_name: Option<String>,
    pub description: Option<String>,
    pub nullable: Option<bool>,
    pub default: Option<Value>,
    pub options: Option<Vec<String>>,
    pub required_on_closure: Option<bool>,
}

/// The workspace's definitions, in creation order.
pub async fn definitions(db: &PgPool, workspace_id: Uuid) -> Result<Vec<FieldDef>, AppError> {
    Ok(sqlx::query_as::<_, FieldDef>(
        "SELECT id, name, type, display_name, description, nullable, \"default\", options, kind, required_on_closure, created_at
         FROM case_fields WHERE workspace_id = $1 ORDER BY created_at, name",
    )
    .bind(workspace_id)
    .fetch_all(db)
    .await?)
}

/// Checks `value` against `def`; the error names the field.
pub fn check_value(def: &FieldDef, value: &Value) -> Result<(), AppError> {
    let loc = format!("fields.{}", def.name);
    let fail = |what: &str| Err(invalid(&loc, format!("field {:?} takes {what}", def.name)));
    if value.is_null() {
        return if def.nullable || def.required_on_closure { Ok(()) } else { fail("a value (it is not nullable)") };
    }
    let options = def.options.as_deref().unwrap_or_default();
    match def.kind_type.as_str() {
        "TEXT" => match value.as_str() {
            Some(text) if text.chars().count() <= MAX_TEXT => Ok(()),
            _ => fail(&format!("text of at most {MAX_TEXT} characters")),
        },
        "INTEGER" if value.is_i64() => Ok(()),
        "INTEGER" => fail("an integer"),
        "NUMERIC" if value.is_number() => Ok(()),
        "NUMERIC" => fail("a number"),
        "BOOLEAN" if value.is_boolean() => Ok(()),
        "BOOLEAN" => fail("true or false"),
        "DATE" if value.as_str().is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()) => Ok(()),
        "DATE" => fail("a date (YYYY-MM-DD)"),
        "TIMESTAMPTZ" if value.as_str().is_some_and(|s| DateTime::parse_from_rfc3339(s).is_ok()) => Ok(()),
        "TIMESTAMPTZ" => fail("a timestamp (RFC 3339, with a zone)"),
        "SELECT" if value.as_str().is_some_and(|s| options.iter().any(|o| o == s)) => Ok(()),
        "SELECT" => fail(&format!("one of {options:?}")),
        "MULTI_SELECT" => match value.as_array() {
            Some(items) if items.iter().all(|i| i.as_str().is_some_and(|s| options.iter().any(|o| o == s))) => Ok(()),
            _ => fail(&format!("a list of some of {options:?}")),
        },
        _ => Ok(()), // JSONB: anything (bounded by the payload limit of the case)
    }
}

/// Every field's default, for a new case.
pub fn defaults(defs: &[FieldDef]) -> Map<String, Value> {
    defs.iter().filter_map(|d| d.default.clone().filter(|v| !v.is_null()).map(|v| (d.name.clone(), v))).collect()
}

/// Sets `given` into `values` after checking each against its definition; an unknown name is
/// refused with the names that exist.
pub fn merge(defs: &[FieldDef], values: &mut Map<String, Value>, given: &Map<String, Value>) -> Result<(), AppError> {
    for (name, value) in given {
        let Some(def) = defs.iter().find(|d| &d.name == name) else {
            let known: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
            return Err(invalid(&format!("fields.{name}"), format!("no custom field {name:?} is defined in this workspace (defined: {known:?})")));
        };
        check_value(def, value)?;
        if value.is_null() {
            values.remove(name);
        } else {
            values.insert(name.clone(), value.clone());
        }
    }
    Ok(())
}

fn is_empty(value: Option<&Value>) -> bool {
    match value {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        Some(Value::Array(items)) => items.is_empty(),
        Some(_) => false,
    }
}

/// Refuses closing while a field required on closure is empty, naming every such field.
pub fn check_closure(defs: &[FieldDef], values: &Map<String, Value>) -> Result<(), AppError> {
    let missing: Vec<&FieldDef> = defs.iter().filter(|d| d.required_on_closure && is_empty(values.get(&d.name))).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|d| d.name.as_str()).collect();
    Err(AppError::Unprocessable {
        detail: format!("the case cannot be resolved or closed while these fields are empty: {}", names.join(", ")),
        errors: missing.iter().map(|d| json!({"loc": format!("fields.{}", d.name), "msg": "required on closure"})).collect(),
    })
}

fn check_options(kind_type: &str, options: &Option<Vec<String>>) -> Result<(), AppError> {
    SqlType::parse_at("type", kind_type)?.check_options(options.as_deref())
}

/// Defines a field.
#[tracing::instrument(skip_all, fields(workspace_id = %workspace_id, field = %input.name))]
pub async fn create(db: &PgPool, workspace_id: Uuid, input: NewField) -> Result<FieldDef, AppError> {
    check_identifier("name", &input.name, 100)?;
    if RESERVED.contains(&input.name.as_str()) || input.name.starts_with("__") {
        return Err(invalid("name", format!("{:?} is reserved", input.name)));
    }
    let kind_type = SqlType::parse_at("type", &input.kind_type)?.as_str().to_owned();
    check_options(&kind_type, &input.options)?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM case_fields WHERE workspace_id = $1").bind(workspace_id).fetch_one(db).await?;
    if count >= MAX_FIELDS {
        return Err(invalid("name", format!("a workspace defines at most {MAX_FIELDS} custom fields")));
    }
    let mut def = FieldDef {
        id: Uuid::now_v7(),
        name: input.name,
        kind_type,
        display_name: input.display_name,
        description: input.description,
        nullable: input.nullable,
        default: input.default.filter(|v| !v.is_null()),
        options: input.options.filter(|o| !o.is_empty()),
        kind: input.kind,
        required_on_closure: input.required_on_closure,
        created_at: Utc::now(),
    };
    if let Some(default) = &def.default {
        check_value(&def, default)?;
    }
    def = sqlx::query_as::<_, FieldDef>(
        "INSERT INTO case_fields (id, workspace_id, name, type, display_name, description, nullable, \"default\", options, kind, required_on_closure)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING id, name, type, display_name, description, nullable, \"default\", options, kind, required_on_closure, created_at",
    )
    .bind(def.id)
    .bind(workspace_id)
    .bind(&def.name)
    .bind(&def.kind_type)
    .bind(&def.display_name)
    .bind(&def.description)
    .bind(def.nullable)
    .bind(&def.default)
    .bind(&def.options)
    .bind(&def.kind)
    .bind(def.required_on_closure)
    .fetch_one(db)
    .await
    .on_constraint("case_fields_name_key", "a custom field with this name already exists")?;
    Ok(def)
}

/// The definition named `name`.
pub async fn get(db: &PgPool, workspace_id: Uuid, name: &str) -> Result<FieldDef, AppError> {
    definitions(db, workspace_id)
        .await?
        .into_iter()
        .find(|d| d.name == name)
        .ok_or_else(|| AppError::NotFound(format!("custom field {name:?} not found")))
}

/// Changes a definition; values already stored stay (a narrowed select keeps old values
/// readable until the case is next changed).
pub async fn update(db: &PgPool, workspace_id: Uuid, name: &str, changes: FieldChanges) -> Result<FieldDef, AppError> {
    let mut def = get(db, workspace_id, name).await?;
    if let Some(v) = changes.display_name {
        def.display_name = Some(v);
    }
    if let Some(v) = changes.description {
        def.description = v;
    }
    if let Some(v) = changes.nullable {
        def.nullable = v;
    }
    if let Some(v) = changes.options {
        check_options(&def.kind_type, &Some(v.clone()))?;
        def.options = Some(v);
    }
    if let Some(v) = changes.default {
        def.default = (!v.is_null()).then_some(v);
    }
    if let Some(v) = changes.required_on_closure {
        def.required_on_closure = v;
    }
    if let Some(default) = &def.default {
        check_value(&def, default)?;
    }
    sqlx::query(
        "UPDATE case_fields SET display_name = $3, description = $4, nullable = $5, \"default\" = $6, options = $7, required_on_closure = $8
         WHERE workspace_id = $1 AND id = $2",
    )
    .bind(workspace_id)
    .bind(def.id)
    .bind(&def.display_name)
    .bind(&def.description)
    .bind(def.nullable)
    .bind(&def.default)
    .bind(&def.options)
    .bind(def.required_on_closure)
    .execute(db)
    .await?;
    Ok(def)
}

/// Deletes a definition and its value from every case of the workspace.
pub async fn delete(db: &PgPool, workspace_id: Uuid, name: &str) -> Result<(), AppError> {
    let mut tx = db.begin().await?;
    let deleted = sqlx::query("DELETE FROM case_fields WHERE workspace_id = $1 AND name = $2").bind(workspace_id).bind(name).execute(&mut *tx).await?;
    if deleted.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("custom field {name:?} not found")));
    }
    sqlx::query("UPDATE cases SET fields = fields - $2 WHERE workspace_id = $1 AND fields ? $2").bind(workspace_id).bind(name).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn def(kind_type: &str, options: Option<&[&str]>, required: bool) -> FieldDef {
        FieldDef {
            id: Uuid::nil(),
            name: "f".into(),
            kind_type: kind_type.into(),
            display_name: None,
            description: String::new(),
            nullable: true,
            default: None,
            options: options.map(|o| o.iter().map(|s| (*s).to_owned()).collect()),
            kind: None,
            required_on_closure: required,
            created_at: Utc::now(),
        }
    }

    #[test]
    fn values_are_checked_against_their_type() {
        assert!(check_value(&def("INTEGER", None, false), &json!(3)).is_ok());
        assert!(check_value(&def("INTEGER", None, false), &json!(3.5)).is_err());
        assert!(check_value(&def("DATE", None, false), &json!("2026-12-06")).is_ok());
        assert!(check_value(&def("DATE", None, false), &json!("06/12/2026")).is_err());
        assert!(check_value(&def("TIMESTAMPTZ", None, false), &json!("2026-12-06T10:00:00Z")).is_ok());
        assert!(check_value(&def("TIMESTAMPTZ", None, false), &json!("2026-12-06T10:00:00")).is_err());
        let select = def("SELECT", Some(&["a", "b"]), false);
        assert!(check_value(&select, &json!("a")).is_ok());
        assert!(check_value(&select, &json!("c")).is_err());
        let multi = def("MULTI_SELECT", Some(&["a", "b"]), false);
        assert!(check_value(&multi, &json!(["a", "b"])).is_ok());
        assert!(check_value(&multi, &json!(["a", "z"])).is_err());
        assert!(check_value(&def("BOOLEAN", None, false), &json!("yes")).is_err());
    }

    #[test]
    fn closure_names_every_empty_required_field() {
        let defs = vec![FieldDef { name: "root_cause".into(), ..def("TEXT", None, true) }, FieldDef { name: "tags".into(), ..def("MULTI_SELECT", Some(&["x"]), true) }];
        let mut values = Map::new();
        values.insert("root_cause".into(), json!("  "));
        values.insert("tags".into(), json!([]));
        let AppError::Unprocessable { detail, errors } = check_closure(&defs, &values).unwrap_err() else { panic!() };
        assert!(detail.contains("root_cause, tags"), "{detail}");
        assert_eq!(errors.len(), 2);
        values.insert("root_cause".into(), json!("phishing"));
        values.insert("tags".into(), json!(["x"]));
        assert!(check_closure(&defs, &values).is_ok());
    }

    #[test]
    fn options_belong_to_select_fields_only() {
        assert!(check_options("TEXT", &None).is_ok());
        assert!(check_options("SELECT", &Some(vec!["a".into(), "b".into()])).is_ok());
        assert!(check_options("UUID", &None).is_err());
    }
}
