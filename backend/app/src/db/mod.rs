//! Repositories: one module per aggregate, each function taking an executor or transaction.

pub mod integrations;
pub mod invitations;
pub mod llm;
pub mod schedules;
pub mod secrets;
pub mod service_accounts;
pub mod users;
pub mod variables;
pub mod webhooks;
pub mod workflows;
pub mod workspaces;
