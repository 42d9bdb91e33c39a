//! Code that more than one ferrocat service needs: configuration sources, ids, the workflow DSL
//! and its expression language, database access, secrets, object storage for large results, the Temporal contract between the api
//! and the workers, and telemetry set-up.

pub mod config;
pub mod dsl;
pub mod expr;
pub mod db;
pub mod egress;
pub mod ids;
pub mod limits;
pub mod net;
pub mod object_server;
pub mod objects;
pub mod registry;
pub mod secret_store;
pub mod secrets;
pub mod telemetry;
pub mod temporal;
