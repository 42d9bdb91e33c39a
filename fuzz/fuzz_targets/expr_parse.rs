//! Fuzzes the expression language with arbitrary UTF-8: parsing an expression, evaluating what
//! parses, and evaluating the text as a template (standalone and interpolated), all with an
//! empty context. Errors are fine; a panic, a hang or unbounded memory is a bug, since
//! workflow authors control this text and it is evaluated inside the workers.
#![no_main]

use ferrocat_dsl::expr::{self, ExprContext};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let ctx = ExprContext::default();
    if let Ok(parsed) = expr::parse_expression(text) {
        let _ = expr::eval_parsed(&parsed, &ctx);
    }
    let _ = expr::eval_templated(&Value::String(text.to_owned()), &ctx);
    let _ = expr::eval_templated(&Value::String(format!("${{{{ {text} }}}}")), &ctx);
});
