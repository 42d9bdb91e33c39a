//! `ferrocat`: one binary, one subcommand per service, plus `up` (the whole stack on one host)
//! and `run` (one workflow file, locally).

mod probe;
mod registry_cmd;
mod run_file;
mod signals;
mod ui;
mod up;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use ferrocat_shared::config::{ConfigError, Env};

#[derive(Parser)]
#[command(name = "ferrocat", version, about = "Self-hosted security automation: workflows as YAML, run durably, behind one edge.",
    long_about = "ferrocat runs security workflows (Tracecat's YAML DSL) triggered by webhooks, schedules, the API or an IDE.\n\
    Each service is a subcommand; `ferrocat up` runs them all on one host. Services read FERROCAT_* environment variables.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Flags every service takes.
#[derive(Args, Clone, Copy)]
struct ServiceArgs {
    /// Validate the configuration, print a summary and exit (0 when valid, 64 when not).
    #[arg(long)]
    check_config: bool,
}

/// Flags of `ferrocat edge`.
#[derive(Args, Clone)]
struct EdgeArgs {
    #[command(flatten)]
    service: ServiceArgs,
    /// A TOML route table replacing the built-in one (see edge/routes.toml); overrides
    /// FERROCAT_EDGE_ROUTES.
    #[arg(long, value_name = "FILE")]
    routes: Option<std::path::PathBuf>,
}

/// `ferrocat llm-gateway [--models FILE] [token ...]`.
#[derive(Args)]
struct LlmGatewayArgs {
    #[command(flatten)]
    service: ServiceArgs,
    /// The model catalog (TOML); overrides FERROCAT_LLM_GATEWAY_MODELS.
    #[arg(long, value_name = "FILE")]
    models: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: Option<LlmGatewayCommand>,
}

#[derive(Subcommand)]
enum LlmGatewayCommand {
    /// Mint a caller token from the configured signing secret and print it.
    Token(ferrocat_llm_gateway::cli::TokenArgs),
}

#[derive(Subcommand)]
enum Command {
    /// The public edge (Pingora): path routing to every service on one port.
    Edge(EdgeArgs),
    /// The REST api and public webhook receiver (behind the edge at /api).
    Api(ServiceArgs),
    /// The Temporal worker that interprets workflow definitions.
    Worker(ServiceArgs),
    /// The Temporal worker that runs actions.
    Executor(ServiceArgs),
    /// The model gateway (OpenAI/Anthropic compatible).
    LlmGateway(LlmGatewayArgs),
    /// The MCP server for IDEs and its OAuth server.
    Mcp(ServiceArgs),
    /// The web console.
    Ui(ServiceArgs),
    /// The embedded S3-compatible object store over a local folder.
    ObjectStore(ServiceArgs),
    /// Apply database migrations (safe to run twice and concurrently).
    Migrate(ServiceArgs),
    /// Run the whole stack on this host and print its one URL.
    Up(up::UpArgs),
    /// Run one workflow file locally, without any server, and print its result as JSON.
    ///
    /// Exits 0 with the result on stdout, 1 when the run fails, 2 when the file or an input is
    /// invalid.
    Run(run_file::RunArgs),
    /// Check template actions (Tracecat's format) in folders before a registry loads them.
    Registry(registry_cmd::RegistryArgs),
    /// GET a URL and exit 0 when it answers 2xx: a health check for images without curl.
    Probe(probe::ProbeArgs),
}

/// Exit status for bad configuration (EX_CONFIG is 78; sysexits' EX_USAGE is 64, as the style asks).
const EXIT_CONFIG: u8 = 64;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let env = Env::from_process();
    // Every process that parses or runs workflows agrees on their caps (FERROCAT_MAX_*).
    match ferrocat_shared::config::workflow_limits(&env) {
        Ok(limits) => {
            limits.install();
        }
        Err(e) => return config_error(e),
    }
    match cli.command {
        // Pingora owns its runtimes: the edge's entry is synchronous.
        Command::Edge(args) => {
            let _log = ferrocat_shared::telemetry::init("edge");
            let routes = args.routes.as_deref();
            let config = match ferrocat_edge::EdgeConfig::from_env_and_routes(&env, routes) {
                Ok(config) => config,
                Err(e) => return config_error(e),
            };
            if args.service.check_config {
                println!("edge configuration is valid: {config:?}");
                return ExitCode::SUCCESS;
            }
            report(ferrocat_edge::run(config))
        }
        Command::LlmGateway(LlmGatewayArgs { command: Some(LlmGatewayCommand::Token(args)), .. }) => {
            match ferrocat_llm_gateway::cli::mint(&env, &args) {
                Ok(token) => {
                    println!("{token}");
                    ExitCode::SUCCESS
                }
                Err(e) => config_error(e),
            }
        }
        Command::Up(args) => report(runtime().block_on(up::run(args))),
        Command::Run(args) => runtime().block_on(run_file::run(args)),
        Command::Registry(args) => registry_cmd::run(args),
        Command::Probe(args) => runtime().block_on(probe::run(args)),
        command => {
            // Every service reads the same extra registries, so a workflow the api accepts is
            // one the worker and executor can run.
            if let Some(dirs) = std::env::var_os("FERROCAT_REGISTRY_DIRS") {
                let dirs: Vec<std::path::PathBuf> = std::env::split_paths(&dirs).filter(|p| !p.as_os_str().is_empty()).collect();
                if let Err(problems) = ferrocat_registry::install_dirs(&dirs) {
                    for problem in problems {
                        eprintln!("ferrocat: FERROCAT_REGISTRY_DIRS: {problem}");
                    }
                    return ExitCode::from(EXIT_CONFIG);
                }
            }
            runtime().block_on(service(command, &env))
        }
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio runtime")
}

fn config_error(error: ConfigError) -> ExitCode {
    eprintln!("ferrocat: configuration error: {error}");
    ExitCode::from(EXIT_CONFIG)
}

fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrocat: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Loads a service's config (or exits 64), honours `--check-config`, then runs it to shutdown,
/// which may take at most the shutdown grace.
macro_rules! serve {
    ($name:literal, $args:expr, $grace:expr, $metrics:expr, $config:expr, $run:expr) => {{
        let _log = ferrocat_shared::telemetry::init($name);
        let (config, grace, metrics) = match ($config, $grace, $metrics) {
            (Ok(config), Ok(grace), Ok(metrics)) => (config, grace, metrics),
            (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return config_error(e),
        };
        if $args.check_config {
            println!("{} configuration is valid", $name);
            return ExitCode::SUCCESS;
        }
        if let Some(addr) = metrics {
            tokio::spawn(async move {
                if let Err(e) = ferrocat_shared::metrics::serve(addr).await {
                    tracing::error!(%addr, error = %e, "the metrics listener stopped");
                }
            });
        }
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        let run = $run(config, async move {
            signals::shutdown().await;
            let _ = stopping.send(());
        });
        within_grace($name, grace, run, stopped).await
    }};
}

/// Runs a service to its end; once it was asked to stop, it has `grace` to finish what it was
/// doing, after which the process exits anyway (a `/wait` or an activity can take as long as a
/// run takes).
async fn within_grace(
    name: &str,
    grace: std::time::Duration,
    run: impl std::future::Future<Output = anyhow::Result<()>>,
    stopped: tokio::sync::oneshot::Receiver<()>,
) -> ExitCode {
    let deadline = async {
        match stopped.await {
            Ok(()) => tokio::time::sleep(grace).await,
            // The service let go of its shutdown signal without one: no deadline.
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        result = run => report(result),
        () = deadline => {
            tracing::warn!(service = name, grace_seconds = grace.as_secs(), "still busy when the shutdown grace ran out; exiting");
            eprintln!("ferrocat: {name} did not finish within FERROCAT_SHUTDOWN_GRACE ({}s); exiting", grace.as_secs());
            ExitCode::FAILURE
        }
    }
}

async fn service(command: Command, env: &Env) -> ExitCode {
    let grace = ferrocat_shared::config::shutdown_grace(env);
    // Where the service serves its metrics (FERROCAT_<SERVICE>_METRICS_ADDR), if anywhere.
    let metrics = |name: &str| ferrocat_shared::metrics::listen_addr(env, &ferrocat_shared::metrics::addr_var(name));
    match command {
        Command::Api(a) => serve!("api", a, grace, metrics("api"), ferrocat_api::ApiConfig::from_env(env), ferrocat_api::run),
        Command::Worker(a) => {
            serve!("worker", a, grace, metrics("worker"), ferrocat_workers::WorkerConfig::from_env(env), ferrocat_workers::run_worker)
        }
        Command::Executor(a) => {
            serve!("executor", a, grace, metrics("executor"), ferrocat_workers::WorkerConfig::from_env(env), ferrocat_workers::run_executor)
        }
        // The gateway serves its own registry at /metrics on its port.
        Command::LlmGateway(a) => serve!(
            "llm-gateway",
            a.service,
            grace,
            Ok(None),
            ferrocat_llm_gateway::GatewayConfig::load(env, a.models.as_deref()),
            ferrocat_llm_gateway::run
        ),
        Command::Mcp(a) => serve!("mcp", a, grace, metrics("mcp"), ferrocat_mcp::McpConfig::from_env(env), ferrocat_mcp::run),
        Command::Ui(a) => serve!("ui", a, grace, metrics("ui"), ui::UiConfig::from_env(env), ui::run),
        Command::ObjectStore(a) => serve!(
            "object-store",
            a,
            grace,
            metrics("object-store"),
            ferrocat_object_store::ObjectStoreConfig::from_env(env),
            ferrocat_object_store::run
        ),
        Command::Migrate(a) => serve!("migrate", a, grace, Ok(None), env.required("FERROCAT_DATABASE_URL"), migrate),
        Command::Edge(_) | Command::Up(_) | Command::Run(_) | Command::Registry(_) | Command::Probe(_) => unreachable!("handled in main"),
    }
}

async fn migrate(url: String, _shutdown: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
    ferrocat_shared::db::ensure_database(&url).await?;
    let pool = ferrocat_shared::db::connect(&url, 2).await?;
    ferrocat_shared::db::migrate(&pool).await?;
    tracing::info!("migrations applied");
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::within_grace;

    #[tokio::test]
    async fn a_service_still_busy_when_the_grace_runs_out_is_left_behind() {
        let (stopping, stopped) = tokio::sync::oneshot::channel();
        stopping.send(()).unwrap();
        let never = std::future::pending::<anyhow::Result<()>>();
        assert_eq!(within_grace("test", Duration::from_millis(10), never, stopped).await, std::process::ExitCode::FAILURE);
    }

    #[tokio::test]
    async fn a_service_that_stops_in_time_or_was_never_asked_to_keeps_its_own_outcome() {
        let (stopping, stopped) = tokio::sync::oneshot::channel();
        stopping.send(()).unwrap();
        assert_eq!(within_grace("test", Duration::from_secs(60), async { Ok(()) }, stopped).await, std::process::ExitCode::SUCCESS);
        // No stop was asked for (the sender is gone): no deadline, whatever the grace.
        let (stopping, stopped) = tokio::sync::oneshot::channel::<()>();
        drop(stopping);
        let slow = async {
            tokio::task::yield_now().await;
            Err(anyhow::anyhow!("failed on its own"))
        };
        assert_eq!(within_grace("test", Duration::ZERO, slow, stopped).await, std::process::ExitCode::FAILURE);
    }
}
