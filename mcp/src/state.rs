//! The state every handler and tool shares.

use std::sync::Arc;

use sqlx::PgPool;

use crate::config::McpConfig;

/// Cheap to clone: pools and clients are shared.
#[derive(Clone)]
pub struct McpState {
    /// The api's state: its pool, Temporal client and configuration, for its repositories and
    /// run starter.
    pub api: ferrocat_api::AppState,
    pub config: Arc<McpConfig>,
    /// Fetches client ID metadata documents.
    pub http: reqwest::Client,
}

impl McpState {
    /// The Postgres pool.
    pub fn db(&self) -> &PgPool {
        &self.api.db
    }
}
