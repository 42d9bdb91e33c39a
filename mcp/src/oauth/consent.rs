//! `POST /consent`: the user's decision on a pending authorization request. Only the user who
//! signed in for the request (by the api session cookie) can decide it, once. Allowing it sends
//! a single-use code to the client's redirect URI; denying it sends `access_denied`.

use axum::Form;
use axum::extract::State;
use axum::extract::rejection::FormRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::Utc;
use serde::Deserialize;

use super::authorize::redirect_to;
use super::{hash, new_secret, pages, signin, store};
use crate::state::McpState;

/// How long a code may wait to be redeemed.
const CODE_TTL_SECONDS: i64 = 120;

/// The consent form's fields.
#[derive(Deserialize)]
pub struct ConsentForm {
    request_id: String,
    decision: String,
}

/// `POST /consent`.
pub async fn post_consent(State(state): State<McpState>, headers: HeaderMap, form: Result<Form<ConsentForm>, FormRejection>) -> Response {
    let Ok(Form(form)) = form else {
        return pages::error_page(StatusCode::BAD_REQUEST, "the consent form expects request_id and decision");
    };
    let internal = |e: &dyn std::fmt::Display| {
        tracing::error!(error = %e, "oauth consent failed");
        pages::error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    };
    let user = match signin::session_user(&state, &headers).await {
        Ok(Some(user)) => user,
        Ok(None) => return pages::error_page(StatusCode::UNAUTHORIZED, "you are not signed in: start again from the application"),
        Err(e) => return internal(&e),
    };
    let pending = match store::take_request(state.db(), &hash(&form.request_id), user.id).await {
        Ok(Some(pending)) => pending,
        Ok(None) => {
            return pages::error_page(
                StatusCode::BAD_REQUEST,
                "this authorization request expired, was already decided, or belongs to another sign-in: start again from the application",
            );
        }
        Err(e) => return internal(&e),
    };
    if form.decision != "allow" {
        tracing::info!(user_id = %user.id, client_id = %pending.client_id, "oauth consent denied");
        let params = [("error", Some("access_denied")), ("error_description", Some("the user denied access")), ("state", pending.state.as_deref())];
        return redirect_to(&state, &pending.redirect_uri, &params);
    }
    let code = new_secret("mcp_code_");
    let saved = store::insert_code(state.db(), &store::NewCode {
        code_hash: &hash(&code),
        request: &pending,
        user_id: user.id,
        expires_at: Utc::now() + chrono::Duration::seconds(CODE_TTL_SECONDS),
    })
    .await;
    if let Err(e) = saved {
        return internal(&e);
    }
    tracing::info!(user_id = %user.id, client_id = %pending.client_id, "oauth consent given");
    redirect_to(&state, &pending.redirect_uri, &[("code", Some(&code)), ("state", pending.state.as_deref())])
}
