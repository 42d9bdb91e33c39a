//! Infrastructure that more than one ferrocat service needs: configuration sources, ids,
//! database access, secrets, the egress policy, object storage for large results, the Temporal
//! contract between the api and the workers, and telemetry set-up. The workflow language itself
//! is `ferrocat-dsl`.

pub mod config;
pub mod db;
pub mod egress;
pub mod gateway_token;
pub mod ids;
pub mod keepalive;
pub mod metrics;
pub mod net;
pub mod oauth;
pub mod objects;
pub mod redis;
pub mod secret_store;
pub mod secrets;
pub mod telemetry;
pub mod temporal;
