//! The api's integration tests: one binary (one Temporal dev server), one module per route group.

mod accounts;
mod auth;
mod cases;
mod common;
mod executions;
mod integrations;
mod invitations;
mod limits;
mod llm;
mod matrix;
mod openapi;
mod registries;
mod saml;
mod secrets;
mod schedules;
mod service_accounts;
mod settings;
mod sso;
mod tables;
mod variables;
mod webhooks;
mod workflows;
mod workspaces;
