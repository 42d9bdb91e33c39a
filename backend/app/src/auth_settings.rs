//! The organisation's sign-in rules (`/settings/auth`, superusers): which methods are on
//! (password, OpenID Connect, SAML), enforced single sign-on (password sign-in refused but for
//! one break-glass account), the email domains single sign-on accepts, just-in-time account
//! creation, and the role a new account gets. Every password sign-in (the api's and the MCP
//! sign-in page's) asks [`password_allowed`]; a change that would lock everyone out is refused.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

use crate::AppError;
use crate::checks::invalid;

/// When single sign-on creates accounts.
pub const JIT_MODES: &[&str] = &["off", "invited", "allowed_domains"];
const ROLES: &[&str] = &["admin", "editor", "viewer"];
/// Most allowed domains.
const MAX_DOMAINS: usize = 100;

/// The rules as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthSettings {
    pub basic_enabled: bool,
    pub oidc_enabled: bool,
    pub saml_enabled: bool,
    pub sso_enforced: bool,
    pub break_glass_email: Option<String>,
    pub allowed_domains: Vec<String>,
    pub jit_provisioning: String,
    pub default_role: String,
    pub updated_at: Option<DateTime<Utc>>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        Self {
            basic_enabled: true,
            oidc_enabled: true,
            saml_enabled: false,
            sso_enforced: false,
            break_glass_email: None,
            allowed_domains: Vec::new(),
            jit_provisioning: "off".into(),
            default_role: "viewer".into(),
            updated_at: None,
        }
    }
}

impl AuthSettings {
    /// What the settings route shows (Tracecat's `auth_*` names).
    pub fn read_model(&self) -> Value {
        json!({
            "auth_basic_enabled": self.basic_enabled,
            "auth_oidc_enabled": self.oidc_enabled,
            "auth_saml_enabled": self.saml_enabled,
            "auth_sso_enforced": self.sso_enforced,
            "auth_break_glass_email": self.break_glass_email,
            "auth_allowed_email_domains": self.allowed_domains,
            "auth_jit_provisioning": self.jit_provisioning,
            "auth_default_role": self.default_role,
            "updated_at": self.updated_at,
        })
    }

    /// Whether `email` may sign in with a password: the break-glass account always may; anyone
    /// else while password sign-in is on and single sign-on is not enforced.
    pub fn allows_password(&self, email: &str) -> bool {
        let break_glass = self.break_glass_email.as_deref().is_some_and(|b| b.eq_ignore_ascii_case(email.trim()));
        break_glass || (self.basic_enabled && !self.sso_enforced)
    }

    /// Whether single sign-on accepts `email` (any address when no domain is listed).
    pub fn allows_domain(&self, email: &str) -> bool {
        let domain = email.rsplit_once('@').map(|(_, d)| d.trim().to_ascii_lowercase()).unwrap_or_default();
        self.allowed_domains.is_empty() || self.allowed_domains.contains(&domain)
    }
}

/// The rules in force (the defaults until a superuser changes them).
pub async fn read(db: &PgPool) -> Result<AuthSettings, AppError> {
    let stored = sqlx::query_as::<_, AuthSettings>(
        "SELECT basic_enabled, oidc_enabled, saml_enabled, sso_enforced, break_glass_email, allowed_domains, jit_provisioning, default_role, updated_at
         FROM auth_settings WHERE singleton",
    )
    .fetch_optional(db)
    .await?;
    Ok(stored.unwrap_or_default())
}

/// Refuses a password sign-in the rules forbid; call it only after the password was verified,
/// so the refusal tells nothing to someone who does not know it.
pub async fn password_allowed(db: &PgPool, email: &str) -> Result<(), AppError> {
    if read(db).await?.allows_password(email) {
        Ok(())
    } else {
        Err(AppError::Forbidden("password sign-in is turned off for this organisation: sign in with single sign-on".into()))
    }
}

/// Changes to the rules; absent fields keep.
#[derive(Debug, Default, Clone)]
pub struct Changes {
    pub basic_enabled: Option<bool>,
    pub oidc_enabled: Option<bool>,
    pub saml_enabled: Option<bool>,
    pub sso_enforced: Option<bool>,
    /// `Some(None)` clears it.
    pub break_glass_email: Option<Option<String>>,
    pub allowed_domains: Option<Vec<String>>,
    pub jit_provisioning: Option<String>,
    pub default_role: Option<String>,
}

fn check_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    domain.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty() && l.len() <= 63 && !l.starts_with('-') && !l.ends_with('-') && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
}

/// Applies `changes` (as superuser `by`) after checking the result as a whole: at least one
/// method on; enforcing single sign-on needs a method of it on; a break-glass account, when
/// password sign-in is off or single sign-on enforced, must be an active superuser, so nobody
/// is locked out; domains are host names; `allowed_domains` creation needs a domain.
pub async fn update(db: &PgPool, by: Uuid, changes: Changes) -> Result<AuthSettings, AppError> {
    let mut tx = db.begin().await?;
    sqlx::query("LOCK TABLE auth_settings IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
    let mut next = read(db).await?;
    if let Some(v) = changes.basic_enabled {
        next.basic_enabled = v;
    }
    if let Some(v) = changes.oidc_enabled {
        next.oidc_enabled = v;
    }
    if let Some(v) = changes.saml_enabled {
        next.saml_enabled = v;
    }
    if let Some(v) = changes.sso_enforced {
        next.sso_enforced = v;
    }
    if let Some(v) = changes.break_glass_email {
        next.break_glass_email = v.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
    }
    if let Some(domains) = changes.allowed_domains {
        let mut cleaned: Vec<String> = domains.iter().map(|d| d.trim().trim_start_matches('@').to_ascii_lowercase()).filter(|d| !d.is_empty()).collect();
        cleaned.sort();
        cleaned.dedup();
        if cleaned.len() > MAX_DOMAINS {
            return Err(invalid("auth_allowed_email_domains", format!("at most {MAX_DOMAINS} domains")));
        }
        if let Some(bad) = cleaned.iter().find(|d| !check_domain(d)) {
            return Err(invalid("auth_allowed_email_domains", format!("{bad:?} is not a domain name (example.com)")));
        }
        next.allowed_domains = cleaned;
    }
    if let Some(mode) = changes.jit_provisioning {
        if !JIT_MODES.contains(&mode.as_str()) {
            return Err(invalid("auth_jit_provisioning", format!("auth_jit_provisioning is one of {}", JIT_MODES.join(", "))));
        }
        next.jit_provisioning = mode;
    }
    if let Some(role) = changes.default_role {
        if !ROLES.contains(&role.as_str()) {
            return Err(invalid("auth_default_role", "auth_default_role is admin, editor or viewer"));
        }
        next.default_role = role;
    }

    if !(next.basic_enabled || next.oidc_enabled || next.saml_enabled) {
        return Err(invalid("auth_basic_enabled", "at least one sign-in method must stay on"));
    }
    if next.saml_enabled {
        let configured: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM saml_settings)").fetch_one(&mut *tx).await?;
        if !configured {
            return Err(invalid("auth_saml_enabled", "configure the SAML identity provider first (/settings/saml)"));
        }
    }
    if next.sso_enforced && !(next.oidc_enabled || next.saml_enabled) {
        return Err(invalid("auth_sso_enforced", "enforcing single sign-on needs OpenID Connect or SAML on"));
    }
    if next.jit_provisioning == "allowed_domains" && next.allowed_domains.is_empty() {
        return Err(invalid("auth_jit_provisioning", "creating accounts for the allowed domains needs at least one domain"));
    }
    if !next.basic_enabled || next.sso_enforced {
        let Some(email) = next.break_glass_email.as_deref() else {
            return Err(invalid("auth_break_glass_email", "with password sign-in off, name a break-glass superuser who can still sign in with a password"));
        };
        let superuser: Option<bool> = sqlx::query_scalar("SELECT is_superuser AND is_active FROM users WHERE lower(email) = lower($1)").bind(email).fetch_optional(&mut *tx).await?;
        if superuser != Some(true) {
            return Err(invalid("auth_break_glass_email", format!("{email} is not an active superuser")));
        }
    }
    let saved = sqlx::query_as::<_, AuthSettings>(
        "INSERT INTO auth_settings (singleton, basic_enabled, oidc_enabled, saml_enabled, sso_enforced, break_glass_email, allowed_domains, jit_provisioning, default_role, updated_at, updated_by)
         VALUES (TRUE, $1, $2, $3, $4, $5, $6, $7, $8, now(), $9)
         ON CONFLICT (singleton) DO UPDATE SET basic_enabled = EXCLUDED.basic_enabled, oidc_enabled = EXCLUDED.oidc_enabled,
           saml_enabled = EXCLUDED.saml_enabled, sso_enforced = EXCLUDED.sso_enforced, break_glass_email = EXCLUDED.break_glass_email,
           allowed_domains = EXCLUDED.allowed_domains, jit_provisioning = EXCLUDED.jit_provisioning, default_role = EXCLUDED.default_role,
           updated_at = now(), updated_by = EXCLUDED.updated_by
         RETURNING basic_enabled, oidc_enabled, saml_enabled, sso_enforced, break_glass_email, allowed_domains, jit_provisioning, default_role, updated_at",
    )
    .bind(next.basic_enabled)
    .bind(next.oidc_enabled)
    .bind(next.saml_enabled)
    .bind(next.sso_enforced)
    .bind(&next.break_glass_email)
    .bind(&next.allowed_domains)
    .bind(&next.jit_provisioning)
    .bind(&next.default_role)
    .bind(by)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(user_id = %by, basic = saved.basic_enabled, sso_enforced = saved.sso_enforced, "sign-in rules changed");
    Ok(saved)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_break_glass_account_always_signs_in_with_its_password_and_domains_are_matched_whole() {
        let mut rules = AuthSettings { sso_enforced: true, break_glass_email: Some("Root@Example.com".into()), ..AuthSettings::default() };
        assert!(rules.allows_password(" root@example.com"));
        assert!(!rules.allows_password("analyst@example.com"));
        rules.sso_enforced = false;
        assert!(rules.allows_password("analyst@example.com"));
        rules.basic_enabled = false;
        assert!(!rules.allows_password("analyst@example.com") && rules.allows_password("root@example.com"));
        rules.allowed_domains = vec!["example.com".into()];
        assert!(rules.allows_domain("a@EXAMPLE.com"));
        assert!(!rules.allows_domain("a@evil-example.com") && !rules.allows_domain("a@example.com.evil.io") && !rules.allows_domain("no-at-sign"));
        assert!(check_domain("soc.example.co.uk") && !check_domain("example") && !check_domain("-x.com") && !check_domain("a..com"));
    }
}
