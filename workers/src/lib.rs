//! The workers of ferrocat: the DSL worker that interprets committed workflow definitions as
//! Temporal workflows (`workflow/`), and the executor that runs each action as an activity
//! (`executor.rs`; the actions themselves are `ferrocat-registry`'s).

pub mod catalog;
pub mod config;
pub mod executor;
pub mod secret_store;
pub mod versioning;
pub mod workflow;

use temporalio_sdk::{Runtime, Worker, WorkerOptions};

pub use config::{ExecutorConfig, WorkerConfig};

/// Runs the DSL worker until `shutdown` resolves, then drains.
pub async fn run_worker(config: WorkerConfig, shutdown: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
    let runtime = Runtime::from_current_tokio(Default::default())?;
    let client = config.temporal.connect_patiently(std::time::Duration::from_secs(30)).await?;
    let db = match &config.database_url {
        Some(url) => Some(ferrocat_shared::db::connect(secrecy::ExposeSecret::expose_secret(url), 4).await?),
        None => None,
    };
    let mut settings = config.versioning.clone();
    // A server without worker deployments gets unversioned polling and nothing to take part in.
    let deployments = versioning::supported(&client, &settings.deployment, std::time::Duration::from_secs(30)).await?;
    if !deployments && settings.mode != versioning::Mode::Off {
        tracing::warn!(
            "this Temporal server has no worker deployments (server 1.28 or later has them): polling unversioned, so during a rolling upgrade any build may take any task"
        );
        settings.mode = versioning::Mode::Off;
    }
    let options = WorkerOptions::new(config.temporal.task_queue.clone())
        .register_workflow::<workflow::DslWorkflow>()?
        .register_activities(catalog::Catalog::new(db))
        // Pure actions run here as local activities (see `ferrocat_registry::is_pure`); no
        // secrets store.
        .register_activities(executor::Executor::new(&config.executor)?)
        .maybe_deployment_options(settings.deployment_options())
        .build();
    let mut worker = Worker::new(&runtime, client.clone(), options)?;
    tracing::info!(queue = %config.temporal.task_queue, "worker polling");
    // Once Temporal knows this build from its polls, it takes its place in the deployment.
    let place = deployments.then(|| tokio::spawn(async move {
        let build_id = settings.build_id();
        match versioning::take_part(&client, &settings).await {
            versioning::Role::Current => tracing::info!(deployment = %settings.deployment, %build_id, "this build is current: new runs start on it"),
            versioning::Role::Replaced { current } => tracing::warn!(
                deployment = %settings.deployment, %build_id, %current,
                "this build was replaced by a newer one: this worker takes only the runs still pinned to it"
            ),
            versioning::Role::Unversioned => tracing::info!("worker versioning is off: new runs go to unversioned workers"),
        }
    }));
    let driven = drive(&mut worker, shutdown).await;
    if let Some(place) = place {
        place.abort();
    }
    driven
}

/// Runs the action executor until `shutdown` resolves, then drains.
pub async fn run_executor(config: WorkerConfig, shutdown: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
    let runtime = Runtime::from_current_tokio(Default::default())?;
    let client = config.temporal.connect_patiently(std::time::Duration::from_secs(30)).await?;
    let options = WorkerOptions::new(config.temporal.executor_queue.clone())
        .register_activities(executor::Executor::with_store(&config.executor).await?)
        .build();
    let mut worker = Worker::new(&runtime, client, options)?;
    tracing::info!(queue = %config.temporal.executor_queue, "executor polling");
    drive(&mut worker, shutdown).await
}

async fn drive(worker: &mut Worker, shutdown: impl std::future::Future<Output = ()>) -> anyhow::Result<()> {
    let stop = worker.shutdown_handle();
    let run = worker.run();
    tokio::pin!(run);
    tokio::select! {
        result = &mut run => return result.map_err(Into::into),
        () = shutdown => {
            tracing::info!("draining");
            stop();
        }
    }
    run.await.map_err(Into::into)
}
