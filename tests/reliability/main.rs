//! The reliability suite: the real stack under `ferrocat up`, a steady open-loop webhook
//! stream, and one fault at a time, each checked against the books (posted = accepted +
//! refused with a clear status + unanswered; accepted = runs started = runs completed; no post
//! with two runs). See each module for its faults.

#[path = "../common/mod.rs"]
mod common;

/// One fault at a time: each test runs a whole stack, and two at once on a small machine would
/// measure each other (and the CPU) instead of the fault.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

mod books;
mod dependencies;
mod floods;
mod kills;
mod receiver;
mod upgrade;
