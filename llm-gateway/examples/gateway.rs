//! The gateway alone, configured from `FERROCAT_LLM_GATEWAY_*` exactly as `ferrocat llm-gateway`
//! is, without building every other service: what the benchmark runs in release mode.

use ferrocat_llm_gateway::GatewayConfig;
use ferrocat_shared::config::Env;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let config = GatewayConfig::from_env(&Env::from_process())?;
    ferrocat_llm_gateway::run(config, async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
