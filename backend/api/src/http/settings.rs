//! The organisation's settings, with Tracecat's `/settings/…` paths: the sign-in rules
//! (`/settings/auth`), for superusers. The use case is `ferrocat_app::auth_settings`.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use ferrocat_app::auth_settings::{self, Changes};

use super::JsonBody;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/settings/auth", get(get_auth_settings).patch(update_auth_settings))
}

#[utoipa::path(
    get,
    path = "/settings/auth",
    tag = "settings",
    responses((status = 200, description = "the sign-in rules", body = serde_json::Value), (status = "4XX", description = "the one error shape; 403 unless a superuser", body = crate::error::ErrorBody))
)]
async fn get_auth_settings(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>, ApiError> {
    user.require_superuser("reading the sign-in rules")?;
    Ok(Json(auth_settings::read(&state.db).await?.read_model()))
}

/// Changes to the sign-in rules; absent fields keep.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AuthSettingsUpdate {
    /// Password sign-in.
    auth_basic_enabled: Option<bool>,
    auth_oidc_enabled: Option<bool>,
    auth_saml_enabled: Option<bool>,
    /// Refuse password sign-in to everyone but the break-glass account.
    auth_sso_enforced: Option<bool>,
    /// The superuser who may still sign in with a password; null clears it.
    #[serde(default, deserialize_with = "super::validate::present")]
    #[schema(value_type = Option<String>)]
    auth_break_glass_email: Option<Option<String>>,
    /// The email domains single sign-on accepts (none: any).
    auth_allowed_email_domains: Option<Vec<String>>,
    /// off, invited or allowed_domains: when single sign-on creates an account.
    auth_jit_provisioning: Option<String>,
    /// admin, editor or viewer.
    auth_default_role: Option<String>,
}


#[utoipa::path(
    patch,
    path = "/settings/auth",
    tag = "settings",
    request_body = AuthSettingsUpdate,
    responses((status = 200, description = "the sign-in rules", body = serde_json::Value), (status = "4XX", description = "the one error shape; 422 for rules that would lock everyone out", body = crate::error::ErrorBody))
)]
async fn update_auth_settings(State(state): State<AppState>, user: AuthUser, JsonBody(body): JsonBody<AuthSettingsUpdate>) -> Result<Json<Value>, ApiError> {
    user.require_superuser("changing the sign-in rules")?;
    let changes = Changes {
        basic_enabled: body.auth_basic_enabled,
        oidc_enabled: body.auth_oidc_enabled,
        saml_enabled: body.auth_saml_enabled,
        sso_enforced: body.auth_sso_enforced,
        break_glass_email: body.auth_break_glass_email,
        allowed_domains: body.auth_allowed_email_domains,
        jit_provisioning: body.auth_jit_provisioning,
        default_role: body.auth_default_role,
    };
    Ok(Json(auth_settings::update(&state.db, user.0.id, changes).await?.read_model()))
}
