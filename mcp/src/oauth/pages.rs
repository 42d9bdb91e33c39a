//! The HTML pages of the authorization flow: sign-in, consent and errors. Plain forms, no
//! scripts; never framed (clickjacking on consent), never cached.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

/// Escapes text for HTML content and attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn layout(title: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · ferrocat</title>
<style>
body{{font-family:system-ui,sans-serif;background:#f4f5f7;margin:0;display:flex;justify-content:center}}
main{{background:#fff;margin-top:8vh;padding:2rem 2.5rem;border-radius:10px;box-shadow:0 2px 12px #0002;max-width:26rem;width:100%}}
h1{{font-size:1.3rem;margin-top:0}} label{{display:block;margin:.8rem 0 .2rem}}
input[type=email],input[type=password]{{width:100%;padding:.5rem;box-sizing:border-box}}
button{{margin-top:1.2rem;padding:.55rem 1.2rem;margin-right:.5rem;cursor:pointer}}
.error{{color:#b00020}} code{{word-break:break-all}} ul{{padding-left:1.2rem}}
</style></head>
<body><main>{body}</main></body></html>"#,
        title = escape(title)
    )
}

/// A page response with the headers every page of the flow carries.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let mut response = (status, Html(layout(title, body))).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"),
    );
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    response
}

/// An error the user sees (nothing is sent back to the client application).
pub fn error_page(status: StatusCode, detail: &str) -> Response {
    let body = format!("<h1>Cannot sign in the application</h1><p class=\"error\">{}</p>", escape(detail));
    page(status, "Authorization error", &body)
}

/// The page for a failure of ours: logged with `what` failed, and no detail shown.
pub fn internal_error(what: &str, e: &dyn std::fmt::Display) -> Response {
    tracing::error!(error = %e, "{what} failed");
    error_page(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}

/// Who is asking, for the pages.
pub struct ClientView<'a> {
    pub name: &'a str,
    pub client_id: &'a str,
    pub redirect_uri: &'a str,
}

fn describe(client: &ClientView<'_>) -> String {
    let name = if client.name.is_empty() { "An unnamed application" } else { client.name };
    format!(
        "<p><strong>{}</strong> wants to use ferrocat through MCP.</p><p>It will return to <code>{}</code>.</p>",
        escape(name),
        escape(client.redirect_uri)
    )
}

/// The sign-in form; it posts back to `/authorize/sign-in` with the pending request's id. With
/// a single sign-on provider (`sso`, its name), a button above it posts to `/authorize/sso`.
/// The single sign-on methods the sign-in page offers: each one's button label.
#[derive(Debug, Default, Clone)]
pub struct Offered {
    pub oidc: Option<String>,
    pub saml: Option<String>,
}

pub fn sign_in(status: StatusCode, client: &ClientView<'_>, request_id: &str, email: &str, error: Option<&str>, sso: &Offered) -> Response {
    let error = error.map(|e| format!("<p class=\"error\">{}</p>", escape(e))).unwrap_or_default();
    let button = |action: &str, name: &str| {
        format!(
            r#"<form method="post" action="{action}">
<input type="hidden" name="request_id" value="{request_id}">
<button type="submit">Sign in with {name}</button>
</form>"#,
            request_id = escape(request_id),
            name = escape(name),
        )
    };
    let mut sso_forms: String = [("/authorize/sso", &sso.oidc), ("/authorize/saml", &sso.saml)]
        .into_iter()
        .filter_map(|(action, name)| name.as_deref().map(|name| button(action, name)))
        .collect();
    if !sso_forms.is_empty() {
        sso_forms.push_str("<p>or with your ferrocat password:</p>");
    }
    let sso = sso_forms;
    let body = format!(
        r#"<h1>Sign in to ferrocat</h1>{describe}{error}{sso}
<form method="post" action="/authorize/sign-in">
<input type="hidden" name="request_id" value="{request_id}">
<label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="{email}">
<label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>"#,
        describe = describe(client),
        request_id = escape(request_id),
        email = escape(email),
    );
    page(status, "Sign in", &body)
}

/// The consent form; it posts to `/consent` with `decision=allow` or `decision=deny`.
pub fn consent(client: &ClientView<'_>, email: &str, request_id: &str) -> Response {
    let body = format!(
        r#"<h1>Allow access?</h1>{describe}
<p>Signed in as <strong>{email}</strong>. If you allow it, the application can, as you and only in
workspaces you belong to:</p>
<ul><li>read workflows, their definitions and runs, and the names of secrets (never their values)</li>
<li>create, change, commit and run workflows where your role allows it</li></ul>
<p>Client id: <code>{client_id}</code></p>
<form method="post" action="/consent">
<input type="hidden" name="request_id" value="{request_id}">
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button>
</form>"#,
        describe = describe(client),
        email = escape(email),
        client_id = escape(client.client_id),
        request_id = escape(request_id),
    );
    page(StatusCode::OK, "Allow access", &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn html(response: Response) -> String {
        String::from_utf8(axum::body::to_bytes(response.into_body(), 1 << 20).await.unwrap().to_vec()).unwrap()
    }

    #[tokio::test]
    async fn the_sso_button_shows_only_with_a_provider() {
        let view = ClientView { name: "IDE", client_id: "c", redirect_uri: "http://127.0.0.1/cb" };
        let oidc = Offered { oidc: Some("Acme <SSO>".into()), saml: None };
        let with = html(sign_in(StatusCode::OK, &view, "req", "", None, &oidc)).await;
        assert!(with.contains("Sign in with Acme &lt;SSO&gt;") && with.contains(r#"action="/authorize/sso""#), "{with}");
        assert!(with.contains(r#"action="/authorize/sign-in""#), "the password form stays");
        assert!(!with.contains("/authorize/saml"), "SAML only when offered");
        let both = html(sign_in(StatusCode::OK, &view, "req", "", None, &Offered { saml: Some("Okta".into()), ..oidc })).await;
        assert!(both.contains("Sign in with Okta") && both.contains(r#"action="/authorize/saml""#), "{both}");
        let none = html(sign_in(StatusCode::OK, &view, "req", "", None, &Offered::default())).await;
        assert!(!none.contains("/authorize/sso") && !none.contains("or with your ferrocat password"));
    }

    #[test]
    fn markup_in_client_names_is_inert() {
        assert_eq!(escape(r#"<script>alert("x")</script>&'"#), "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;");
    }
}
