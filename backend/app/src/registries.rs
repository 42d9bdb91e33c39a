//! Registries synced from git: the organisation's repositories of template actions (Tracecat's
//! custom registries). A sync clones the repository at a commit with the `git` program (only
//! the https, ssh and git protocols; the host checked against the egress policy first; an ssh
//! deploy key from an organisation secret), checks every template as one set against the
//! action table, and either stores a new version pinned by the commit's sha and makes it
//! current, or fails naming each file and line and leaves the current version as it was.

use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value, json};
use uuid::Uuid;

use ferrocat_registry::template::check::Source;
use ferrocat_registry::template::load;

use crate::checks::invalid;
use crate::{App, AppError};

/// The longest a clone may take.
pub const SYNC_TIMEOUT: Duration = Duration::from_secs(120);

/// A repository, as stored.
#[derive(Debug, Clone)]
pub struct Repository {
    pub id: Uuid,
    pub origin: String,
    pub git_ref: Option<String>,
    pub ssh_key_secret: Option<String>,
    pub current_version_id: Option<Uuid>,
    pub last_synced_at: Option<chrono::DateTime<chrono::Utc>>,
    pub last_error: Option<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// One sync of a repository.
#[derive(Debug, Clone)]
pub struct Version {
    pub id: Uuid,
    pub repository_id: Uuid,
    pub version: i32,
    pub commit_sha: String,
    pub actions: Vec<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// The host and port an origin connects to, or why it is refused. Accepted: `https://`,
/// `ssh://`, `git://` URLs and scp-like `user@host:path`; never local paths, `file://` or
/// git's command-running transports.
pub fn origin_host(origin: &str) -> Result<(String, u16), String> {
    let refuse = || format!("origin {origin:?} must be an https://, ssh:// or git:// URL, or user@host:path");
    if origin.starts_with('-') || origin.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(refuse());
    }
    if let Ok(url) = url::Url::parse(origin)
        && let Some(host) = url.host_str()
    {
        let port = match url.scheme() {
            "https" => 443,
            "ssh" => 22,
            "git" => 9418,
            _ => return Err(refuse()),
        };
        if url.path().len() <= 1 {
            return Err(refuse());
        }
        return Ok((host.trim_start_matches('[').trim_end_matches(']').to_owned(), url.port().unwrap_or(port)));
    }
    // scp-like: user@host:path (no scheme, no "::" transport).
    let (user_host, path) = origin.split_once(':').ok_or_else(refuse)?;
    let (user, host) = user_host.split_once('@').ok_or_else(refuse)?;
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    if !word(user) || !word(host) || path.is_empty() || path.starts_with(':') {
        return Err(refuse());
    }
    Ok((host.to_owned(), 22))
}

/// A branch or tag name git would accept, without anything an option could start with.
fn check_ref(git_ref: &str) -> Result<(), AppError> {
    let ok = !git_ref.is_empty()
        && git_ref.len() <= 200
        && !git_ref.starts_with('-')
        && !git_ref.contains("..")
        && git_ref.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    if ok { Ok(()) } else { Err(invalid("git_ref", "git_ref must be a branch or tag name")) }
}

/// A new repository (not synced yet).
pub async fn create(app: &App, origin: &str, git_ref: Option<&str>, ssh_key_secret: Option<&str>) -> Result<Repository, AppError> {
    origin_host(origin).map_err(|msg| invalid("origin", msg))?;
    if let Some(git_ref) = git_ref {
        check_ref(git_ref)?;
    }
    if let Some(secret) = ssh_key_secret {
        crate::checks::check_identifier("ssh_key_secret", secret, 100)?;
    }
    let id = Uuid::now_v7();
    sqlx::query!(
        "INSERT INTO registry_repositories (id, origin, git_ref, ssh_key_secret) VALUES ($1, $2, $3, $4)",
        id,
        origin,
        git_ref,
        ssh_key_secret
    )
    .execute(&app.db)
    .await
    .map_err(|e| match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => AppError::Conflict(format!("a registry with origin {origin} exists")),
        _ => e.into(),
    })?;
    tracing::info!(%origin, "registry repository added");
    get(app, id).await
}

pub async fn list(app: &App) -> Result<Vec<Repository>, AppError> {
    Ok(sqlx::query_as!(
        Repository,
        "SELECT id, origin, git_ref, ssh_key_secret, current_version_id, last_synced_at, last_error, created_at FROM registry_repositories ORDER BY origin"
    )
    .fetch_all(&app.db)
    .await?)
}

pub async fn get(app: &App, id: Uuid) -> Result<Repository, AppError> {
    sqlx::query_as!(
        Repository,
        "SELECT id, origin, git_ref, ssh_key_secret, current_version_id, last_synced_at, last_error, created_at FROM registry_repositories WHERE id = $1",
        id
    )
    .fetch_optional(&app.db)
    .await?
    .ok_or_else(|| AppError::NotFound(format!("registry repository {id} not found")))
}

/// Removes the repository and its versions; workflows pinned to them keep their pins but can
/// no longer run those templates until re-committed.
pub async fn delete(app: &App, id: Uuid) -> Result<(), AppError> {
    let repo = get(app, id).await?;
    sqlx::query!("DELETE FROM registry_repositories WHERE id = $1", id).execute(&app.db).await?;
    tracing::info!(origin = %repo.origin, "registry repository removed");
    Ok(())
}

/// Every version of the repository, newest first.
pub async fn versions(app: &App, id: Uuid) -> Result<Vec<Version>, AppError> {
    get(app, id).await?;
    Ok(sqlx::query_as!(
        Version,
        "SELECT id, repository_id, version, commit_sha, actions, created_at FROM registry_versions WHERE repository_id = $1 ORDER BY version DESC",
        id
    )
    .fetch_all(&app.db)
    .await?)
}

/// Makes `version_id` the repository's current version (an older one: a roll back).
pub async fn promote(app: &App, id: Uuid, version_id: Uuid) -> Result<Repository, AppError> {
    let done = sqlx::query!(
        "UPDATE registry_repositories SET current_version_id = $2
         WHERE id = $1 AND EXISTS (SELECT 1 FROM registry_versions WHERE id = $2 AND repository_id = $1)",
        id,
        version_id
    )
    .execute(&app.db)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound(format!("version {version_id} of registry repository {id} not found")));
    }
    tracing::info!(repository = %id, version = %version_id, "registry version promoted");
    get(app, id).await
}

/// Clones the repository (at `target_commit_sha`, else its ref's head), checks its templates
/// and stores them as the new current version; or fails with every problem (file and line)
/// and keeps the current version.
pub async fn sync(app: &App, id: Uuid, target_commit_sha: Option<&str>) -> Result<Version, AppError> {
    let repo = get(app, id).await?;
    if let Some(sha) = target_commit_sha
        && !(sha.len() == 40 && sha.chars().all(|c| c.is_ascii_hexdigit()))
    {
        return Err(invalid("target_commit_sha", "target_commit_sha must be 40 hexadecimal digits"));
    }
    let outcome = fetch_sources(app, &repo, target_commit_sha).await;
    let (sha, sources) = match outcome {
        Ok(found) => found,
        Err(message) => {
            record_error(app, id, &message).await?;
            return Err(AppError::BadRequest(message));
        }
    };
    let set = match load::prepare(&sources, ferrocat_registry::global(), &format!("git:{}", repo.origin)) {
        Ok(set) => set,
        Err(problems) => {
            let message = format!("{} problem(s) in the templates of {sha}; the current version is kept", problems.len());
            record_error(app, id, &format!("{message}: {}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))).await?;
            return Err(AppError::Unprocessable {
                detail: message,
                errors: problems.iter().map(|p| json!({"loc": p.line.map_or_else(|| p.path.clone(), |line| format!("{}:{line}", p.path)), "msg": p.message})).collect(),
            });
        }
    };
    let actions: Vec<String> = set.actions.iter().map(|a| a.name().to_owned()).collect();
    let files: Map<String, Value> = sources.into_iter().map(|s| (s.path, Value::String(s.text))).collect();
    let version_id = Uuid::now_v7();
    let mut tx = app.db.begin().await?;
    let version = sqlx::query_scalar!(
        r#"INSERT INTO registry_versions (id, repository_id, version, commit_sha, files, actions)
           VALUES ($1, $2, COALESCE((SELECT max(version) FROM registry_versions WHERE repository_id = $2), 0) + 1, $3, $4, $5)
           RETURNING version"#,
        version_id,
        id,
        sha,
        Value::Object(files),
        &actions
    )
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query!(
        "UPDATE registry_repositories SET current_version_id = $2, last_synced_at = now(), last_error = NULL WHERE id = $1",
        id,
        version_id
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    tracing::info!(origin = %repo.origin, version, commit_sha = %sha, actions = actions.len(), "registry synced");
    Ok(Version { id: version_id, repository_id: id, version, commit_sha: sha, actions, created_at: chrono::Utc::now() })
}

async fn record_error(app: &App, id: Uuid, message: &str) -> Result<(), AppError> {
    let short: String = message.chars().take(4000).collect();
    sqlx::query!("UPDATE registry_repositories SET last_error = $2 WHERE id = $1", id, short).execute(&app.db).await?;
    tracing::warn!(repository = %id, error = %short, "registry sync failed");
    Ok(())
}

/// The commit's sha and its template files (paths relative to the repository's root).
async fn fetch_sources(app: &App, repo: &Repository, target: Option<&str>) -> Result<(String, Vec<Source>), String> {
    let (host, port) = origin_host(&repo.origin)?;
    // The clone connects by itself: check where it would go against the egress policy first.
    let addresses = tokio::net::lookup_host((host.as_str(), port)).await.map_err(|e| format!("resolving {host}: {e}"))?;
    for address in addresses {
        app.config.egress.check(address.ip(), Some(port)).map_err(|refused| format!("syncing {}: {refused}", repo.origin))?;
    }
    let dir = std::env::temp_dir().join(format!("ferrocat-registry-{}", Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("making a work folder: {e}"))?;
    let result = clone_and_read(app, repo, target, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn clone_and_read(app: &App, repo: &Repository, target: Option<&str>, dir: &Path) -> Result<(String, Vec<Source>), String> {
    let checkout = dir.join("checkout");
    let mut ssh = None;
    if let Some(secret) = &repo.ssh_key_secret {
        let store = ferrocat_shared::secret_store::SecretStore::new(app.db.clone(), (*app.config.keyring).clone());
        let keys = store.load_shared(Uuid::nil(), secret).await?.ok_or_else(|| format!("the organisation secret {secret} does not exist"))?;
        let key = keys.get("PRIVATE_KEY").and_then(Value::as_str).ok_or_else(|| format!("the organisation secret {secret} has no PRIVATE_KEY"))?;
        let path = dir.join("deploy_key");
        write_private(&path, &format!("{}\n", key.trim_end()))?;
        ssh = Some(format!(
            "ssh -i {} -o IdentitiesOnly=yes -o BatchMode=yes -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile={}",
            path.display(),
            dir.join("known_hosts").display()
        ));
    }
    let mut args: Vec<String> = vec!["clone".into(), "--quiet".into(), "--no-checkout".into()];
    if let Some(git_ref) = &repo.git_ref {
        args.extend(["--branch".into(), git_ref.clone()]);
    }
    args.extend(["--".into(), repo.origin.clone(), checkout.display().to_string()]);
    git(dir, &args, ssh.as_deref()).await?;
    let at = target.unwrap_or("HEAD");
    git(&checkout, &["checkout".into(), "--quiet".into(), "--detach".into(), at.into(), "--".into()], None).await?;
    let sha = git(&checkout, &["rev-parse".into(), "HEAD".into()], None).await?.trim().to_owned();
    let mut sources = load::read_dir(&checkout).map_err(|p| p.to_string())?;
    let root = format!("{}/", checkout.display());
    for source in &mut sources {
        source.path = source.path.strip_prefix(&root).unwrap_or(&source.path).to_owned();
    }
    Ok((sha, sources))
}

/// Writes `text` readable by this user only (ssh refuses a key others can read).
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path).map_err(|e| format!("writing the deploy key: {e}"))?;
    file.write_all(text.as_bytes()).map_err(|e| format!("writing the deploy key: {e}"))
}

/// Runs `git args` in `dir` with only the network protocols allowed, no redirects, no prompts
/// and no user or system configuration; its output, or its error output as the error.
async fn git(dir: &Path, args: &[String], ssh: Option<&str>) -> Result<String, String> {
    let mut command = tokio::process::Command::new("git");
    command
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ALLOW_PROTOCOL", "https:ssh:git")
        // The host was checked against the egress policy: a redirect must not take the clone
        // anywhere else.
        .env("GIT_CONFIG_COUNT", "1")
        .env("GIT_CONFIG_KEY_0", "http.followRedirects")
        .env("GIT_CONFIG_VALUE_0", "false")
        .kill_on_drop(true);
    if let Some(ssh) = ssh {
        command.env("GIT_SSH_COMMAND", ssh);
    }
    let output = tokio::time::timeout(SYNC_TIMEOUT, command.output())
        .await
        .map_err(|_| format!("git {} took longer than {} s", args[0], SYNC_TIMEOUT.as_secs()))?
        .map_err(|e| format!("running git: {e}"))?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        let stderr: String = String::from_utf8_lossy(&output.stderr).chars().take(1000).collect();
        Err(format!("git {} failed: {}", args[0], stderr.trim()))
    }
}

/// The current version of every repository (ids, in the order of their origins): what a
/// workflow committed now is pinned to.
pub async fn current_lock(app: &App) -> Result<Vec<String>, AppError> {
    let ids = sqlx::query_scalar!(
        r#"SELECT current_version_id AS "id!" FROM registry_repositories WHERE current_version_id IS NOT NULL ORDER BY origin"#
    )
    .fetch_all(&app.db)
    .await?;
    Ok(ids.iter().map(Uuid::to_string).collect())
}

/// The action table with the current versions' templates, and the lock naming them.
pub async fn current_table(app: &App) -> Result<(Vec<String>, Option<std::sync::Arc<ferrocat_registry::Registry>>), AppError> {
    let lock = current_lock(app).await?;
    let table = load::pinned_from(&app.db, &lock).await?;
    Ok((lock, table))
}

/// Every action a workflow committed now can use (the built-ins, the library, folders and the
/// git registries' current versions), as the registry and the MCP catalogue describe them.
pub async fn current_actions(app: &App) -> Result<Vec<Value>, AppError> {
    let (_, table) = current_table(app).await?;
    let table = table.as_deref().unwrap_or_else(|| ferrocat_registry::global());
    Ok(table.list().iter().map(|action| action.describe()).collect())
}
