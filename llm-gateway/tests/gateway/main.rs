//! Integration tests: the real gateway on port 0 in front of the mock provider (a real HTTP
//! server with recorded fixtures), driven over HTTP like a caller would.

mod harness;
mod resilience;
mod security;
mod streaming;
mod translation;
