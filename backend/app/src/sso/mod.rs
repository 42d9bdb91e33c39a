//! One identity layer for single sign-on, whichever page starts it (the MCP sign-in page, or
//! the console's through the api: [`console`]) and whichever method vouches (the upstream
//! OpenID Connect provider, [`oidc`]; the organisation's SAML identity provider, [`saml`]): the
//! links of upstream identities to platform users and the sign-ins on their way
//! ([`identities`]), and who a verified identity is on this platform ([`platform_user`]): an
//! identity linked before, else the account with the provider's email when the provider
//! verified it (an account whose own address was never verified is taken over, never adopted),
//! else a new account when the deployment or the organisation's rules
//! ([`crate::auth_settings`]) say so, with the rules' default role in the default workspace;
//! the rules may also turn either method off and limit them to some email domains.

pub mod console;
pub mod identities;
pub mod oidc;
pub mod saml;

use sqlx::PgPool;

use crate::accounts;
use crate::db::users::{self, User};
pub use oidc::{Identity, OidcConfig, OidcError, Provider};

/// A password nobody knows, for accounts that sign in through the provider.
fn unusable_password() -> String {
    format!("sso_{}", accounts::new_session_token().0)
}

/// The single sign-on methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Oidc,
    Saml,
}

/// Who vouched for an identity: the method, the name the pages show, and whether the
/// deployment makes accounts for everyone it vouches for (`FERROCAT_OIDC_CREATE_USERS`).
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    pub method: Method,
    pub name: &'a str,
    pub create_users: bool,
}

impl Provider {
    /// This provider as the source of the identities it vouches for.
    pub fn source(&self) -> Source<'_> {
        Source { method: Method::Oidc, name: self.name(), create_users: self.create_users() }
    }
}

/// An account made by just-in-time creation outside an invitation gets the organisation's
/// default role in the default workspace, so it can see something when it first signs in.
async fn grant_default_role(db: &PgPool, user_id: uuid::Uuid, role: &str) -> anyhow::Result<()> {
    let workspace = crate::db::workspaces::ensure_default(db).await?;
    crate::db::workspaces::upsert_membership(db, user_id, workspace, role).await?;
    Ok(())
}

/// The platform user of a verified identity, or why there is none (a sentence for the page).
pub async fn platform_user(db: &PgPool, source: &Source<'_>, identity: &Identity) -> anyhow::Result<Result<User, String>> {
    let rules = crate::auth_settings::read(db).await?;
    match source.method {
        Method::Oidc if !rules.oidc_enabled => {
            return Ok(Err("Single sign-on through OpenID Connect is turned off for this organisation.".to_owned()));
        }
        Method::Saml if !rules.saml_enabled => return Ok(Err("Single sign-on through SAML is turned off for this organisation.".to_owned())),
        _ => {}
    }
    let email = identity.email.as_deref().map(str::trim).filter(|e| !e.is_empty());
    let user = match identities::linked_user(db, &identity.issuer, &identity.subject).await? {
        Some(user) => user,
        None => {
            let Some(email) = email else {
                return Ok(Err(format!("{} did not tell ferrocat your email, so it cannot find your account.", source.name)));
            };
            // An unverified email is only a claim: linking by it would hand the account over.
            if !identity.email_verified {
                return Ok(Err(format!(
                    "{} has not verified that {email} is yours, so it cannot sign you in to that ferrocat account.",
                    source.name
                )));
            }
            // The organisation's domains first: an address outside them changes no account.
            if !rules.allows_domain(email) {
                return Ok(Err(format!("This organisation accepts single sign-on only for addresses at {}.", rules.allowed_domains.join(", "))));
            }
            // With invitations making accounts, the open invitations of this address.
            let invited = if rules.jit_provisioning == "invited" && rules.allows_domain(email) {
                crate::db::invitations::open_for_email(db, email).await?
            } else {
                Vec::new()
            };
            match users::find_credentials(db, email).await? {
                Some((user, _)) if user.email_verified => user,
                // Made by accepting an invitation: whoever chose its password never proved the
                // address (the token went to the inviter); the provider just did. The account is
                // taken over, never adopted with that password: the password, every session and
                // every grant of whoever made it end, and the address is now verified.
                Some((user, _)) => {
                    let unusable = accounts::hash_password_blocking(unusable_password()).await?;
                    users::set_password(db, user.id, &unusable).await?;
                    users::revoke_sessions(db, user.id, None).await?;
                    users::mark_verified(db, user.id).await?;
                    tracing::warn!(user_id = %user.id, issuer = %identity.issuer, "single sign-on took over an unverified account");
                    match identities::user_by_id(db, user.id).await? {
                        Some(user) => user,
                        None => anyhow::bail!("the account just taken over is gone"),
                    }
                }
                // Created when the deployment says so, or when the organisation's rules create
                // accounts for the addresses of its allowed domains.
                None if source.create_users || (rules.jit_provisioning == "allowed_domains" && rules.allows_domain(email)) => {
                    // No password anyone knows: this account signs in through the provider.
                    let unusable = accounts::hash_password_blocking(unusable_password()).await?;
                    let id = users::insert(db, email, &unusable, false).await?;
                    grant_default_role(db, id, &rules.default_role).await?;
                    tracing::info!(user_id = %id, issuer = %identity.issuer, role = %rules.default_role, "created an account through sso");
                    match identities::user_by_id(db, id).await? {
                        Some(user) => user,
                        None => anyhow::bail!("the account just created is gone"),
                    }
                }
                // Invited, and the provider vouches for the address: the account is made and
                // every open invitation of it accepted, each with its role.
                None if !invited.is_empty() => {
                    let unusable = accounts::hash_password_blocking(unusable_password()).await?;
                    let mut tx = db.begin().await?;
                    let id = users::insert(&mut *tx, email, &unusable, false).await?;
                    for (invitation, workspace, role) in &invited {
                        crate::db::workspaces::upsert_membership(&mut *tx, id, *workspace, role).await?;
                        crate::db::invitations::mark_accepted(&mut *tx, *invitation, id).await?;
                    }
                    tx.commit().await?;
                    tracing::info!(user_id = %id, issuer = %identity.issuer, invitations = invited.len(), "created an invited account through sso");
                    match identities::user_by_id(db, id).await? {
                        Some(user) => user,
                        None => anyhow::bail!("the account just created is gone"),
                    }
                }
                None => {
                    return Ok(Err(format!(
                        "There is no ferrocat account for {email}: ask an administrator to invite you, then sign in again."
                    )));
                }
            }
        }
    };
    if !user.is_active {
        return Ok(Err("This ferrocat account is disabled.".to_owned()));
    }
    if !rules.allows_domain(&user.email) {
        return Ok(Err(format!("This organisation accepts single sign-on only for addresses at {}.", rules.allowed_domains.join(", "))));
    }
    identities::link(db, &identity.issuer, &identity.subject, user.id, email).await?;
    Ok(Ok(user))
}

