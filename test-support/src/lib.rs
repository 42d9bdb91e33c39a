//! What the test suites share: fresh test databases (`db`), a real Temporal dev server, the embedded object store, workflows
//! run through an in-process worker and executor (feature `workers`), the MCP inspector CLI,
//! a mock LLM provider (a real HTTP server speaking the vendors' formats), a real OAuth 2 server
//! (`oauth_server`), a real OpenID Connect provider (`oidc`), a real SAML identity provider (`saml`) and a headless
//! Chromium (`browser`). Real parts, started on free ports the first time a test binary asks
//! for them.

pub mod browser;
pub mod db;
pub mod git_server;
pub mod inspector;
pub mod llm_mock;
pub mod oauth_server;
pub mod objects;
pub mod oidc;
pub mod saml;
pub mod scripts;
pub mod temporal;
mod wait;
#[cfg(feature = "workers")]
pub mod workers;

pub use temporal::temporal;

/// A loopback port nothing listens on now, for a server a test starts.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}
pub use wait::eventually;
