//! Integration tests of the MCP server: the OAuth flow over HTTP, and the MCP tools in both
//! protocol eras, against real Postgres and Temporal.

mod common;
mod inspector;
mod oauth;
mod python;
mod saml;
mod sso;
mod tools;
mod transport;
