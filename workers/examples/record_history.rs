//! Records a run's history in the JSON form `WorkflowHistory::from_json` reads, for the replay
//! tests in `workers/tests/histories/`:
//! `cargo run -p ferrocat-workers --example record_history -- <temporal address> <execution id> > file.json`

use temporalio_client::WorkflowFetchHistoryOptions;
use temporalio_common::UntypedWorkflow;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(address), Some(exec_id)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: record_history <temporal address> <execution id>");
    };
    let env = ferrocat_shared::config::Env::from_pairs([("FERROCAT_TEMPORAL_ADDRESS", address)]);
    let client = ferrocat_shared::temporal::TemporalConfig::from_env(&env)?.connect().await?;
    let handle = client.get_workflow_handle::<UntypedWorkflow>(exec_id);
    let json = handle.fetch_history(WorkflowFetchHistoryOptions::default()).to_json().await?;
    println!("{}", String::from_utf8(json)?);
    Ok(())
}
