//! The edge as `ferrocat edge` runs it (shared telemetry, so the access log is on by default),
//! without building the whole `ferrocat` binary. Used by `bench/compare.sh`.

fn main() -> anyhow::Result<()> {
    let _log = ferrocat_shared::telemetry::init("edge");
    let env = ferrocat_shared::config::Env::from_process();
    let config = ferrocat_edge::EdgeConfig::from_env(&env)?;
    ferrocat_edge::run(config)
}
