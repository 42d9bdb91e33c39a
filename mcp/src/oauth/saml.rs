//! SAML single sign-on on the authorization pages, through the organisation's identity
//! provider (`ferrocat_app::sso::saml`, shared with the console). `POST /authorize/saml` sends
//! the browser of a pending authorization request to the IdP (the request's id in a cookie
//! scoped to the ACS binds the answer to this browser); the IdP posts its answer to
//! `POST /authorize/saml/acs`, which spends the sign-in once, verifies the answer, finds the
//! platform user by the same rules as every single sign-on, and continues exactly as password
//! sign-in does: an api session and the consent page.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use serde::Deserialize;

use ferrocat_app::AppError;
use ferrocat_app::sso::saml::{self, Face, Origin, SpUrls};

use super::pages::{self, ClientView};
use super::{signin, store};
use crate::state::McpState;

const SAML_COOKIE: &str = "ferrocat_saml";
const ACS_PATH: &str = "/authorize/saml/acs";

fn internal(e: &dyn std::fmt::Display) -> Response {
    pages::internal_error("SAML sign-in", e)
}

/// The IdP answers with a cross-site POST, which carries only `SameSite=None` cookies (and
/// those must be Secure); over plain http the browser's default applies.
fn saml_cookie(state: &McpState, value: String, max_age: time::Duration) -> Cookie<'static> {
    let mut cookie = Cookie::build((SAML_COOKIE, value)).path(ACS_PATH).http_only(true).max_age(max_age).build();
    if state.config.secure_cookies() {
        cookie.set_secure(true);
        cookie.set_same_site(SameSite::None);
    }
    cookie
}

/// The page for a refusal the use case gave.
fn refusal(e: AppError) -> Response {
    match e {
        AppError::BadRequest(m) => pages::error_page(StatusCode::BAD_REQUEST, &m),
        AppError::Forbidden(m) => pages::error_page(StatusCode::FORBIDDEN, &m),
        AppError::NotFound(m) => pages::error_page(StatusCode::NOT_FOUND, &m),
        e => internal(&e),
    }
}

/// The sign-in button's form.
#[derive(Deserialize)]
pub struct StartForm {
    request_id: String,
}

/// `POST /authorize/saml`: from the sign-in page to the identity provider.
pub async fn post_start(State(state): State<McpState>, jar: CookieJar, form: Result<Form<StartForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return pages::error_page(StatusCode::BAD_REQUEST, "the single sign-on form expects request_id");
    };
    match store::request(state.db(), &super::hash(&form.request_id)).await {
        Ok(Some(_)) => {}
        Ok(None) => return pages::error_page(StatusCode::BAD_REQUEST, "this sign-in request expired: start again from the application"),
        Err(e) => return internal(&e),
    }
    let urls = SpUrls::new(&state.config.public_url);
    let started = match saml::start(state.db(), &urls, Origin::Mcp { request_id: &form.request_id }).await {
        Ok(started) => started,
        Err(e) => return refusal(e),
    };
    let Ok(location) = HeaderValue::from_str(&started.url) else {
        return internal(&"the identity provider's sign-in URL is not a header value");
    };
    let mut response = (jar.add(saml_cookie(&state, started.browser_token, time::Duration::minutes(10))), StatusCode::SEE_OTHER).into_response();
    response.headers_mut().insert(header::LOCATION, location);
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// What the identity provider posts back (HTTP-POST binding).
#[derive(Deserialize)]
pub struct Answer {
    #[serde(rename = "SAMLResponse")]
    saml_response: Option<String>,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// `POST /authorize/saml/acs`: the identity provider's answer.
pub async fn post_acs(State(state): State<McpState>, jar: CookieJar, form: Result<Form<Answer>, FormRejection>) -> Response {
    let restart = "start again from the application";
    let request_id = jar.get(SAML_COOKIE).map(|c| c.value().to_owned());
    let jar = jar.remove(saml_cookie(&state, String::new(), time::Duration::ZERO));
    let refuse = |jar: CookieJar, page: Response| (jar, page).into_response();
    let Ok(Form(answer)) = form else {
        return refuse(jar, pages::error_page(StatusCode::BAD_REQUEST, "the SAML answer expects form fields SAMLResponse and RelayState"));
    };
    let (Some(response), Some(relay_state)) = (answer.saml_response.filter(|r| !r.is_empty()), answer.relay_state.filter(|r| !r.is_empty())) else {
        let detail = format!("the SAML answer has no SAMLResponse or RelayState (sign-ins start from the application, not at the identity provider): {restart}");
        return refuse(jar, pages::error_page(StatusCode::BAD_REQUEST, &detail));
    };
    let urls = SpUrls::new(&state.config.public_url);
    let finished = match saml::finish(state.db(), &urls, Face::Mcp, &relay_state, request_id.as_deref(), &response).await {
        Ok(finished) => finished,
        Err(e) => return refuse(jar, refusal(e)),
    };
    // The cookie's id matched the sign-in's browser hash, which is the request's hash.
    let (Some(request_id), Some(request_hash)) = (request_id, finished.mcp_request_hash) else {
        return refuse(jar, internal(&"a SAML sign-in of the MCP page without its request"));
    };
    let pending = match store::request(state.db(), &request_hash).await {
        Ok(Some(pending)) => pending,
        Ok(None) => return refuse(jar, pages::error_page(StatusCode::BAD_REQUEST, &format!("this sign-in request expired: {restart}"))),
        Err(e) => return internal(&e),
    };
    let client = match store::client(state.db(), &pending.client_id).await {
        Ok(Some(client)) => client,
        Ok(None) => return refuse(jar, pages::error_page(StatusCode::BAD_REQUEST, "the client is no longer registered")),
        Err(e) => return internal(&e),
    };
    let cookie = match signin::start_session(&state, &finished.user).await {
        Ok(cookie) => cookie,
        Err(e) => return internal(&e),
    };
    if let Err(e) = store::set_request_user(state.db(), &request_hash, finished.user.id).await {
        return internal(&e);
    }
    tracing::info!(user_id = %finished.user.id, client_id = %client.client_id, "signed in through SAML for an oauth client");
    let view = ClientView { name: &client.client_name, client_id: &client.client_id, redirect_uri: &pending.redirect_uri };
    (jar.add(cookie), pages::consent(&view, &finished.user.email, &request_id)).into_response()
}
