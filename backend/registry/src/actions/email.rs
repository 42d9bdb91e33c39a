//! `core.send_email_smtp`: mail through the SMTP server of the workspace's `smtp` secret
//! (`SMTP_HOST`, `SMTP_PORT`, `SMTP_USER`, `SMTP_PASS`), with Tracecat's arguments: plain text or
//! sanitised HTML, cc/bcc/reply-to, extra headers, and plain, STARTTLS or implicit TLS.

use std::collections::BTreeMap;

use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use ferrocat_shared::egress::{self, EgressPolicy};

use super::{ActionError, parse_args};

/// The secret the action reads its server from.
pub const SECRET: &str = "smtp";

#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmailArgs {
    sender: String,
    recipients: Vec<String>,
    subject: String,
    body: String,
    #[serde(default = "plain")]
    content_type: String,
    #[serde(default)]
    bcc: Option<Addresses>,
    #[serde(default)]
    cc: Option<Addresses>,
    #[serde(default)]
    reply_to: Option<Addresses>,
    #[serde(default)]
    headers: Option<BTreeMap<String, String>>,
    #[serde(default)]
    sender_prefix: Option<String>,
    #[serde(default)]
    timeout: Option<f64>,
    #[serde(default)]
    enable_starttls: bool,
    #[serde(default)]
    enable_ssl: bool,
    #[serde(default)]
    enable_auth: bool,
    #[serde(default)]
    ignore_cert_errors: bool,
    #[serde(default)]
    allowed_attributes: Option<BTreeMap<String, Vec<String>>>,
}

fn plain() -> String {
    "text/plain".into()
}

/// One address or a list of them.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub(crate) enum Addresses {
    One(String),
    Many(Vec<String>),
}

impl Addresses {
    fn list(&self) -> Vec<&str> {
        match self {
            Addresses::One(one) => vec![one.as_str()],
            Addresses::Many(many) => many.iter().map(String::as_str).collect(),
        }
    }
}

/// Tracecat's check on addresses: a conservative shape, so header injection cannot ride in.
fn safe_address(text: &str) -> bool {
    let Some((local, domain)) = text.split_once('@') else { return false };
    let local_ok = !local.is_empty() && local.chars().all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c));
    let (host, rest) = domain.split_once('.').unwrap_or((domain, ""));
    let host_ok = !host.is_empty() && host.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let rest_ok = !rest.is_empty() && rest.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    local_ok && host_ok && rest_ok
}

fn mailbox(text: &str, name: Option<&str>) -> Result<Mailbox, ActionError> {
    let address = text.parse().map_err(|e| ActionError::Value(format!("Invalid email address {text:?}: {e}")))?;
    Ok(Mailbox::new(name.map(str::to_owned), address))
}

/// Builds the message: validates addresses, sanitises HTML bodies (scripts, handlers and unknown
/// attributes removed), adds the extra headers.
fn build_message(args: &EmailArgs) -> Result<Message, ActionError> {
    if !safe_address(&args.sender) {
        return Err(ActionError::Value(format!("Invalid sender email address: {}", args.sender)));
    }
    if args.recipients.is_empty() || !args.recipients.iter().all(|r| safe_address(r)) {
        return Err(ActionError::Value(format!("Invalid recipient email address: {:?}", args.recipients)));
    }
    let mut builder = Message::builder().from(mailbox(&args.sender, args.sender_prefix.as_deref())?).subject(&args.subject);
    for recipient in &args.recipients {
        builder = builder.to(mailbox(recipient, None)?);
    }
    for address in args.cc.as_ref().map(Addresses::list).unwrap_or_default() {
        builder = builder.cc(mailbox(address, None)?);
    }
    for address in args.bcc.as_ref().map(Addresses::list).unwrap_or_default() {
        builder = builder.bcc(mailbox(address, None)?);
    }
    for address in args.reply_to.as_ref().map(Addresses::list).unwrap_or_default() {
        builder = builder.reply_to(mailbox(address, None)?);
    }
    for (name, value) in args.headers.iter().flatten() {
        if value.contains(['\r', '\n']) {
            return Err(ActionError::Value(format!("header {name} must be one line")));
        }
        let header = HeaderName::new_from_ascii(name.clone()).map_err(|_| ActionError::Value(format!("invalid header name {name:?}")))?;
        builder = builder.raw_header(HeaderValue::new(header, value.clone()));
    }
    let built = match args.content_type.as_str() {
        "text/plain" => builder.header(ContentType::TEXT_PLAIN).body(args.body.clone()),
        "text/html" => builder.multipart(MultiPart::alternative_plain_html(
            "This email requires an HTML viewer to display properly.".to_owned(),
            sanitize(&args.body, args.allowed_attributes.as_ref()),
        )),
        other => {
            return Err(ActionError::Value(format!(
                "Unsupported content type: {other}. Expected 'text/plain' or 'text/html'."
            )));
        }
    };
    built.map_err(|e| ActionError::Value(format!("could not build the email: {e}")))
}

/// HTML with only safe tags and attributes left (ammonia's defaults, plus `allowed`).
fn sanitize(html: &str, allowed: Option<&BTreeMap<String, Vec<String>>>) -> String {
    let mut cleaner = ammonia::Builder::default();
    if let Some(allowed) = allowed {
        for (tag, attributes) in allowed {
            let attributes = attributes.iter().map(String::as_str);
            if tag == "*" {
                cleaner.add_generic_attributes(attributes);
            } else {
                cleaner.add_tag_attributes(tag.as_str(), attributes);
            }
        }
    }
    cleaner.clean(html).to_string()
}

fn setting<'a>(smtp: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    smtp.get(key).and_then(Value::as_str).filter(|v| !v.is_empty())
}

/// Sends the email; returns `{}` when every recipient was accepted (as Tracecat does).
pub async fn send_email_smtp(args: Map<String, Value>, secrets: &Map<String, Value>, egress: &EgressPolicy) -> Result<Value, ActionError> {
    let args: EmailArgs = parse_args(args)?;
    let message = build_message(&args)?;
    let empty = Map::new();
    let smtp = secrets.get(SECRET).and_then(Value::as_object).unwrap_or(&empty);
    let host = setting(smtp, "SMTP_HOST").ok_or_else(|| ActionError::Invalid("the `smtp` secret has no SMTP_HOST".into()))?;
    let port_text = setting(smtp, "SMTP_PORT").ok_or_else(|| ActionError::Invalid("the `smtp` secret has no SMTP_PORT".into()))?;
    let port: u16 = port_text
        .parse()
        .map_err(|_| ActionError::Value(format!("Expected SMTP port to be an integer. Got: {port_text}")))?;
    let tls = if args.enable_ssl || args.enable_starttls {
        let parameters = TlsParameters::builder(host.to_owned())
            .dangerous_accept_invalid_certs(args.ignore_cert_errors)
            .dangerous_accept_invalid_hostnames(args.ignore_cert_errors)
            .build()
            .map_err(|e| ActionError::Invalid(format!("TLS settings: {e}")))?;
        if args.enable_ssl { Tls::Wrapper(parameters) } else { Tls::Required(parameters) }
    } else {
        Tls::None
    };
    let timeout = ferrocat_dsl::seconds(args.timeout.filter(|t| *t > 0.0).unwrap_or(10.0));
    // The server comes from a secret a workspace editor sets: connect to an address the egress
    // policy allowed (TLS still verifies the host name).
    let address = egress::resolve_allowed(egress, host, &[Some(port)])
        .await
        .map_err(|e| ActionError::Http(format!("SMTP server {host}:{port}: {e}")))?
        .into_iter()
        .next()
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| host.to_owned());
    let mut transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(address).port(port).tls(tls).timeout(Some(timeout));
    if args.enable_auth {
        let user = setting(smtp, "SMTP_USER").unwrap_or_default().to_owned();
        let pass = setting(smtp, "SMTP_PASS").unwrap_or_default().to_owned();
        transport = transport.credentials(Credentials::new(user, pass));
    }
    transport
        .build()
        .send(message)
        .await
        .map_err(|e| ActionError::Http(format!("SMTP send to {host}:{port} failed: {e}")))?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_checked_like_tracecat() {
        assert!(safe_address("soc@example.com"));
        assert!(safe_address("first.last+tag@mail.example.co.uk"));
        assert!(!safe_address("no-at-sign"));
        assert!(!safe_address("a@b"));
        assert!(!safe_address("x@example.com\r\nBcc: victim@example.com"));
        assert!(!safe_address("\"quoted\"@example.com"));
    }

    #[test]
    fn html_bodies_lose_scripts_and_handlers() {
        let clean = sanitize(r#"<p onclick="steal()">Hi<script>alert(1)</script></p>"#, None);
        assert_eq!(clean, "<p>Hi</p>");
        let allowed = BTreeMap::from([("*".to_owned(), vec!["style".to_owned()])]);
        assert!(sanitize(r#"<p style="color:red">x</p>"#, Some(&allowed)).contains("style"));
        assert!(!sanitize(r#"<p style="color:red">x</p>"#, None).contains("style"));
    }
}
