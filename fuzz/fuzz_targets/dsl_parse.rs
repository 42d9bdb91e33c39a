//! Fuzzes the workflow loader: arbitrary UTF-8 as a YAML or JSON workflow document, then
//! validation of whatever loads. Errors are fine; a panic, a hang or unbounded memory is a bug,
//! since anyone who may import a workflow controls this text.
#![no_main]

use ferrocat_dsl::Workflow;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(workflow) = Workflow::parse(text) {
        let _ = workflow.validate();
    }
});
