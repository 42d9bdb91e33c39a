//! The template file as serde types (Tracecat's `TemplateAction`), and what the registry shows
//! of one: data only, so the action table can hold a definition without the runner.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A template file: `type: action` and its definition.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateFile {
    /// Always `action`.
    #[serde(rename = "type")]
    pub kind: String,
    pub definition: Definition,
}

/// What a template action is and does.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Definition {
    /// Snake-case name; the action's key is `<namespace>.<name>`.
    pub name: String,
    /// `tools.<integration>` in the libraries.
    pub namespace: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Why it is deprecated, when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deprecated: Option<String>,
    #[serde(default)]
    pub secrets: Vec<SecretSpec>,
    /// The arguments: name → `{type, description, default, enum, optional}`.
    #[serde(default)]
    pub expects: Map<String, Value>,
    pub steps: Vec<Step>,
    /// An expression (or a list or mapping of them) over `inputs` and `steps`.
    pub returns: Value,
}

impl Definition {
    /// The action's registry key.
    pub fn key(&self) -> String {
        format!("{}.{}", self.namespace, self.name)
    }
}

/// One step of a template.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    #[serde(rename = "ref")]
    pub ref_: String,
    /// The action it runs (a registry key, or an expression over `inputs` naming one).
    pub action: String,
    #[serde(default)]
    pub args: Map<String, Value>,
}

/// A secret a template reads, in Tracecat's two forms.
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(untagged)]
pub enum SecretSpec {
    /// `{name, keys, optional_keys, optional, secret_type}`.
    Custom(CustomSecret),
    /// `{type: oauth, provider_id, grant_type, optional}`: the secret `<provider_id>_oauth`.
    OAuth(OAuthSecret),
}

/// A secret of named keys.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CustomSecret {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keys: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub optional_keys: Option<Vec<String>>,
    #[serde(default)]
    pub optional: bool,
    /// `custom` (the default), `ssh_key`, `mtls` or `ca_cert`: the structured ones fix the keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret_type: Option<String>,
}

/// An OAuth integration's token.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OAuthSecret {
    /// Always `oauth`.
    #[serde(rename = "type")]
    pub kind: String,
    pub provider_id: String,
    /// `authorization_code` (a user's token) or `client_credentials` (the service's).
    pub grant_type: String,
    #[serde(default)]
    pub optional: bool,
}

impl<'de> Deserialize<'de> for SecretSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error as _;
        let value = Value::deserialize(deserializer)?;
        if value.get("type").is_some() {
            serde_json::from_value(value).map(SecretSpec::OAuth).map_err(D::Error::custom)
        } else {
            serde_json::from_value(value).map(SecretSpec::Custom).map_err(D::Error::custom)
        }
    }
}

impl SecretSpec {
    /// The secret's name as `SECRETS.<name>` reads it.
    pub fn name(&self) -> String {
        match self {
            SecretSpec::Custom(secret) => secret.name.clone(),
            SecretSpec::OAuth(secret) => format!("{}_oauth", secret.provider_id),
        }
    }

    /// Whether a run may go on without it.
    pub fn optional(&self) -> bool {
        match self {
            SecretSpec::Custom(secret) => secret.optional,
            SecretSpec::OAuth(secret) => secret.optional,
        }
    }

    /// The keys it must have (a structured type's fixed keys, or `keys`).
    pub fn required_keys(&self) -> Vec<String> {
        match self {
            SecretSpec::Custom(secret) => match secret.secret_type.as_deref() {
                Some("ssh_key") => vec!["PRIVATE_KEY".into()],
                Some("mtls") => vec!["TLS_CERTIFICATE".into(), "TLS_PRIVATE_KEY".into()],
                Some("ca_cert") => vec!["CA_CERTIFICATE".into()],
                _ => secret.keys.clone().unwrap_or_default(),
            },
            SecretSpec::OAuth(secret) => vec![oauth_token_key(&secret.provider_id, &secret.grant_type)],
        }
    }
}

/// The key an OAuth secret's token is read by: `<PROVIDER>_USER_TOKEN` for the authorization-
/// code grant, `<PROVIDER>_SERVICE_TOKEN` for client credentials.
pub fn oauth_token_key(provider_id: &str, grant_type: &str) -> String {
    let kind = if grant_type == "client_credentials" { "SERVICE" } else { "USER" };
    format!("{}_{kind}_TOKEN", provider_id.to_ascii_uppercase())
}

/// What the registry shows of a template beyond the common fields.
pub fn describe(definition: &Definition) -> Value {
    json!({
        "type": "template",
        "display_group": definition.display_group,
        "doc_url": definition.doc_url,
        "author": definition.author,
        "deprecated": definition.deprecated,
        "secret_specs": definition.secrets,
        "expects": definition.expects,
        "implementation": {"type": "template", "template_action": {"type": "action", "definition": definition}},
    })
}
