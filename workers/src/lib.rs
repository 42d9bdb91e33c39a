//! The workers of ferrocat: the DSL worker that interprets committed workflow definitions as
//! Temporal workflows (`workflow/`), and the executor that runs each action as an activity
//! (`executor.rs`; the actions themselves are `ferrocat-registry`'s).

pub mod catalog;
pub mod config;
pub mod executor;
pub mod secret_store;
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
    let options = WorkerOptions::new(config.temporal.task_queue.clone())
        .register_workflow::<workflow::DslWorkflow>()?
        .register_activities(catalog::Catalog::new(db))
        // Pure actions run here as local activities (see `ferrocat_registry::is_pure`); no
        // secrets store.
        .register_activities(executor::Executor::new(&config.executor)?)
        .build();
    let mut worker = Worker::new(&runtime, client, options)?;
    tracing::info!(queue = %config.temporal.task_queue, "worker polling");
    drive(&mut worker, shutdown).await
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
