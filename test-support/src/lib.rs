//! What the test suites share: a real Temporal dev server, the embedded object store, workflows
//! run through an in-process worker and executor (feature `workers`), and the MCP inspector
//! CLI. Real parts, started on free ports the first time a test binary asks for them.

pub mod inspector;
pub mod objects;
pub mod temporal;
#[cfg(feature = "workers")]
pub mod workers;

pub use temporal::temporal;
