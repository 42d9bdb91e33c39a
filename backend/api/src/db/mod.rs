//! Repositories: one module per aggregate, each function taking an executor or transaction.

pub mod secrets;
pub mod service_accounts;
pub mod users;
pub mod webhooks;
pub mod workflows;
pub mod workspaces;
