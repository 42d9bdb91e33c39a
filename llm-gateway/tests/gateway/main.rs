//! Integration tests: the real gateway on port 0 in front of the mock provider (a real HTTP
//! server with recorded fixtures), driven over HTTP like a caller would.

#[path = "../mock/mod.rs"]
mod mock;

mod harness;
mod resilience;
mod security;
mod streaming;
mod translation;
