//! The organisation's settings, with Tracecat's `/settings/…` paths, for superusers: the
//! sign-in rules (`/settings/auth`; the use case is `ferrocat_app::auth_settings`) and the SAML
//! identity provider (`/settings/saml`; `ferrocat_app::sso::saml`).

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;

use ferrocat_app::auth_settings::{self, Changes};
use ferrocat_app::sso::saml::{self, IdpChanges, SpUrls};

use super::JsonBody;
use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/settings/auth", get(get_auth_settings).patch(update_auth_settings))
        .route("/settings/saml", get(get_saml_settings).patch(update_saml_settings))
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

#[utoipa::path(
    get,
    path = "/settings/saml",
    tag = "settings",
    responses((status = 200, description = "the SAML identity provider, its rules, and this service provider's URLs for the IdP's administrator", body = serde_json::Value), (status = "4XX", description = "the one error shape; 403 unless a superuser", body = crate::error::ErrorBody))
)]
async fn get_saml_settings(State(state): State<AppState>, user: AuthUser) -> Result<Json<Value>, ApiError> {
    user.require_superuser("reading the SAML settings")?;
    Ok(Json(saml::read_model(&state.db, &SpUrls::new(&state.config.public_url)).await?))
}

/// Changes to SAML single sign-on; absent fields keep.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SamlSettingsUpdate {
    /// SAML sign-in on (needs an identity provider).
    saml_enabled: Option<bool>,
    /// Enforced single sign-on (the sign-in rules' `auth_sso_enforced`).
    saml_enforced: Option<bool>,
    /// Fetch the identity provider's metadata from this URL.
    saml_idp_metadata_url: Option<String>,
    /// The identity provider's metadata XML, instead of a URL.
    saml_idp_metadata: Option<String>,
    /// The sign-in button's label ("Sign in with …").
    saml_idp_name: Option<String>,
}

#[utoipa::path(
    patch,
    path = "/settings/saml",
    tag = "settings",
    request_body = SamlSettingsUpdate,
    responses((status = 200, description = "the SAML settings", body = serde_json::Value), (status = "4XX", description = "the one error shape; 422 for metadata without a signing certificate or an HTTP-Redirect endpoint, or rules that would lock everyone out", body = crate::error::ErrorBody))
)]
async fn update_saml_settings(State(state): State<AppState>, user: AuthUser, JsonBody(body): JsonBody<SamlSettingsUpdate>) -> Result<Json<Value>, ApiError> {
    user.require_superuser("changing the SAML settings")?;
    let urls = SpUrls::new(&state.config.public_url);
    if body.saml_idp_metadata_url.is_some() || body.saml_idp_metadata.is_some() || body.saml_idp_name.is_some() {
        let changes = IdpChanges { metadata_url: body.saml_idp_metadata_url, metadata_xml: body.saml_idp_metadata, name: body.saml_idp_name };
        saml::configure(&state.db, &urls, user.0.id, changes).await?;
    }
    if body.saml_enabled.is_some() || body.saml_enforced.is_some() {
        let changes = Changes { saml_enabled: body.saml_enabled, sso_enforced: body.saml_enforced, ..Changes::default() };
        auth_settings::update(&state.db, user.0.id, changes).await?;
    }
    Ok(Json(saml::read_model(&state.db, &urls).await?))
}
