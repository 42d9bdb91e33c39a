//! `${{ … }}` templates inside strings and JSON documents: finding them, and evaluating a whole
//! document with Tracecat's standalone-vs-interpolated rule.

use std::sync::LazyLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::value::{key_string, python_str};
use super::{ExprContext, ExprError, eval_expression};

/// Tracecat's template regex: lazy, spans newlines, whitespace inside the braces trimmed.
static TEMPLATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?s)\$\{\{\s*(?P<expr>.+?)\s*\}\}")
        .unwrap_or_else(|e| unreachable!("template regex: {e}"))
});

/// The inner expressions of every `${{ … }}` in `s`, in order.
pub fn find_templates(s: &str) -> Vec<&str> {
    TEMPLATE
        .captures_iter(s)
        .filter_map(|c| c.name("expr").map(|m| m.as_str()))
        .collect()
}

/// If `s` is exactly one template (its first template match spans the whole string, so no
/// surrounding text and no second or nested `${{`), the expression inside it.
pub fn standalone_expression(s: &str) -> Option<&str> {
    let caps = TEMPLATE.captures(s)?;
    let whole = caps.get(0)?;
    if whole.start() != 0 || whole.end() != s.len() {
        return None;
    }
    caps.name("expr").map(|m| m.as_str())
}

/// Evaluates one string: a standalone template gives the typed value, anything else has each
/// template replaced by Python `str()` of its value. Strings without templates come back as is.
pub fn eval_template_str(s: &str, ctx: &ExprContext) -> Result<Value, ExprError> {
    if let Some(expr) = standalone_expression(s) {
        return eval_expression(expr, ctx);
    }
    let mut out = String::with_capacity(s.len());
    let mut last = 0;
    for caps in TEMPLATE.captures_iter(s) {
        let (Some(whole), Some(expr)) = (caps.get(0), caps.name("expr")) else {
            continue;
        };
        out.push_str(&s[last..whole.start()]);
        out.push_str(&python_str(&eval_expression(expr.as_str(), ctx)?));
        last = whole.end();
    }
    if last == 0 {
        return Ok(Value::String(s.to_owned()));
    }
    out.push_str(&s[last..]);
    Ok(Value::String(out))
}

/// Evaluates every template in a JSON document: strings as in [`eval_template_str`], lists and
/// dicts recursively (dict keys too), other scalars unchanged. Two keys of one dict that resolve
/// to the same string are an error.
pub fn eval_templated(value: &Value, ctx: &ExprContext) -> Result<Value, ExprError> {
    match value {
        Value::String(s) => eval_template_str(s, ctx),
        Value::Array(items) => items
            .iter()
            .map(|v| eval_templated(v, ctx))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Object(map) => {
            let mut out = Map::with_capacity(map.len());
            for (k, v) in map {
                let key = if k.contains("${{") {
                    key_string(&eval_template_str(k, ctx)?)
                } else {
                    k.clone()
                };
                if out.contains_key(&key) {
                    return Err(ExprError::DuplicateKey { key });
                }
                out.insert(key, eval_templated(v, ctx)?);
            }
            Ok(Value::Object(out))
        }
        other => Ok(other.clone()),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ctx() -> ExprContext {
        ExprContext {
            trigger: json!({"data": {"arg1": 1, "arg2": 2}, "name": "k"}),
            ..ExprContext::default()
        }
    }

    #[test]
    fn finds_inner_expressions_trimmed_and_across_lines() {
        assert_eq!(
            find_templates("a ${{ x }} b ${{y}} ${{\n  z\n}}"),
            vec!["x", "y", "z"]
        );
        assert!(find_templates("no templates ${ x }").is_empty());
        // Lazy: the match stops at the first `}}`.
        assert_eq!(
            find_templates(r#"${{ {"a": {"b": 1}} }}"#),
            vec![r#"{"a": {"b": 1"#]
        );
    }

    #[test]
    fn standalone_detection_matches_tracecat() {
        // Cases from Tracecat's test_standalone_template.
        for (text, standalone) in [
            ("${{ path.to.example -> asdf }}", true),
            ("${{ { hello: world } }}", true),
            ("${{ ${example} }}", true),
            ("${{ example ${var} }}", true),
            ("${{ path.to.example -> asdf }} ", false),
            ("${{ example }} more text", false),
            ("${{ example }}${{ another }}", false),
            ("${{ example }} ${{ another }}", false),
            ("${{ ${{ hello }} }}", false),
        ] {
            assert_eq!(standalone_expression(text).is_some(), standalone, "{text}");
        }
    }

    #[test]
    fn standalone_keeps_types() {
        assert_eq!(
            eval_template_str("${{ TRIGGER.data.arg2 -> str }}", &ctx()).unwrap(),
            json!("2")
        );
        assert_eq!(
            eval_template_str("${{ TRIGGER.data }}", &ctx()).unwrap(),
            json!({"arg1": 1, "arg2": 2})
        );
        assert_eq!(
            eval_template_str("${{ None }}", &ctx()).unwrap(),
            json!(null)
        );
        assert_eq!(
            eval_template_str("${{ [1,2] + [3] }}", &ctx()).unwrap(),
            json!([1, 2, 3])
        );
    }

    #[test]
    fn interpolation_uses_python_str() {
        assert_eq!(
            eval_template_str("INLINE: ${{ TRIGGER.data.arg1 }}", &ctx()).unwrap(),
            json!("INLINE: 1")
        );
        assert_eq!(
            eval_template_str(
                " ${{ TRIGGER.data.arg1 }} ${{ TRIGGER.data.arg2 }}  ",
                &ctx()
            )
            .unwrap(),
            json!(" 1 2  ")
        );
        assert_eq!(
            eval_template_str(" ${{ 42 }}", &ctx()).unwrap(),
            json!(" 42")
        );
        assert_eq!(
            eval_template_str("${{ TRIGGER.data }} and ${{ None }} ${{ True }}", &ctx()).unwrap(),
            json!("{'arg1': 1, 'arg2': 2} and None True")
        );
        assert_eq!(
            eval_template_str("${{ 1 }}${{ 2 }}", &ctx()).unwrap(),
            json!("12")
        );
        assert_eq!(eval_template_str("plain", &ctx()).unwrap(), json!("plain"));
    }

    #[test]
    fn walks_documents_and_templates_keys() {
        let doc = json!({
            "${{ TRIGGER.name }}": ["${{ 1 + 1 }}", 3, null, {"n": "${{ TRIGGER.data.arg1 }}"}],
            "flag": true
        });
        assert_eq!(
            eval_templated(&doc, &ctx()).unwrap(),
            json!({"k": [2, 3, null, {"n": 1}], "flag": true})
        );
    }

    #[test]
    fn duplicate_keys_after_templating_fail() {
        let doc = json!({"k": 1, "${{ TRIGGER.name }}": 2});
        let err = eval_templated(&doc, &ctx()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Expression resolution produced a duplicate dictionary key 'k'"
        );
    }

    #[test]
    fn errors_carry_the_expression() {
        let err = eval_template_str("x ${{ 1/0 }}", &ctx()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Error evaluating expression `1/0`\n\nReason: Cannot divide by zero"
        );
    }
}
