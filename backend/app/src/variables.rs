//! Variable use cases (`VARS.name.key` in expressions), per workspace and environment: list,
//! read by name, create, change, delete. Values travel in every run's input, so they are
//! bounded here.

use serde_json::{Value, json};
use uuid::Uuid;

use crate::checks::{ResultExt as _, check_environment, check_identifier, check_tags, invalid, parse_id};
use crate::db::variables::{self, NewVariable, VariableChanges, VariableRow};
use crate::{App, AppError};

/// Most keys one variable holds.
pub const MAX_KEYS: usize = 100;
/// The serialized values of one variable, at most (they travel in every run's input).
pub const MAX_VALUES_BYTES: usize = 64 * 1024;
const NAME_TAKEN: &str = "a variable with this name already exists in this environment";

/// A variable to create.
#[derive(Debug)]
pub struct VariableInput {
    pub name: String,
    pub description: String,
    pub values: Value,
    pub tags: Option<Value>,
    pub environment: String,
}

/// Changes to a variable.
#[derive(Debug)]
pub struct VariableUpdate {
    pub name: Option<String>,
    pub description: Option<String>,
    pub values: Option<Value>,
    pub tags: Option<Value>,
    pub environment: Option<String>,
}

/// `values` is an object of identifier keys (`VARS.name.key`) and any JSON values.
fn check_values(values: &Value) -> Result<(), AppError> {
    let Some(map) = values.as_object() else {
        return Err(invalid("values", "values must be an object of {key: value}"));
    };
    if map.is_empty() || map.len() > MAX_KEYS {
        return Err(invalid("values", format!("a variable has between 1 and {MAX_KEYS} keys")));
    }
    for key in map.keys() {
        check_identifier("values.key", key, 255)?;
    }
    if values.to_string().len() > MAX_VALUES_BYTES {
        return Err(invalid("values", format!("values must be at most {MAX_VALUES_BYTES} bytes as JSON")));
    }
    Ok(())
}

/// The workspace's variables, optionally of one environment.
pub async fn list(app: &App, workspace_id: Uuid, environment: Option<&str>) -> Result<Vec<VariableRow>, AppError> {
    Ok(variables::list(&app.db, workspace_id, environment).await?)
}

/// The workspace's variable `name` in `environment`.
pub async fn get(app: &App, workspace_id: Uuid, name: &str, environment: &str) -> Result<VariableRow, AppError> {
    variables::get_by_name(&app.db, workspace_id, name, environment)
        .await?
        .ok_or_else(|| AppError::NotFound(format!("variable {name:?} not found in environment {environment:?}")))
}

/// Checks and stores a new variable.
#[tracing::instrument(skip(app, input), fields(variable = %input.name, environment = %input.environment))]
pub async fn create(app: &App, workspace_id: Uuid, input: VariableInput) -> Result<VariableRow, AppError> {
    check_identifier("name", &input.name, 100)?;
    check_environment(&input.environment)?;
    check_values(&input.values)?;
    let tags = input.tags.unwrap_or_else(|| json!({}));
    check_tags(&tags)?;
    let row = variables::insert(
        &app.db,
        &NewVariable {
            workspace_id,
            name: &input.name,
            description: &input.description,
            environment: &input.environment,
            values: &input.values,
            tags: &tags,
        },
    )
    .await
    .on_constraint("variables_name_key", NAME_TAKEN)?;
    tracing::info!("variable created");
    Ok(row)
}

/// Applies `changes` to the workspace's variable `id` (its id as text, as the route has it).
#[tracing::instrument(skip(app, changes))]
pub async fn update(app: &App, workspace_id: Uuid, id: &str, changes: VariableUpdate) -> Result<VariableRow, AppError> {
    let parsed = parse_id("variable", id)?;
    if let Some(name) = &changes.name {
        check_identifier("name", name, 100)?;
    }
    if let Some(environment) = &changes.environment {
        check_environment(environment)?;
    }
    if let Some(values) = &changes.values {
        check_values(values)?;
    }
    if let Some(tags) = &changes.tags {
        check_tags(tags)?;
    }
    let row_changes = VariableChanges {
        name: changes.name.as_deref(),
        description: changes.description.as_deref(),
        environment: changes.environment.as_deref(),
        values: changes.values.as_ref(),
        tags: changes.tags.as_ref(),
    };
    let row = variables::update(&app.db, workspace_id, parsed, &row_changes)
        .await
        .on_constraint("variables_name_key", NAME_TAKEN)?
        .ok_or_else(|| AppError::NotFound(format!("variable {id:?} not found")))?;
    tracing::info!(variable = %row.name, environment = %row.environment, "variable updated");
    Ok(row)
}

/// Deletes the workspace's variable `id` (as text).
#[tracing::instrument(skip(app))]
pub async fn delete(app: &App, workspace_id: Uuid, id: &str) -> Result<(), AppError> {
    let parsed = parse_id("variable", id)?;
    if !variables::delete(&app.db, workspace_id, parsed).await? {
        return Err(AppError::NotFound(format!("variable {id:?} not found")));
    }
    tracing::info!("variable deleted");
    Ok(())
}
