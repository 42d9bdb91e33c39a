//! Literals of the expression grammar: quoted strings (kept as written) and numbers (ints and
//! floats, as Python reads them).

use super::{Fail, PResult, Parser, is_ident_char};
use crate::expr::ast::Expr;
use crate::expr::value;

impl Parser<'_> {
    /// A quoted string; the text between the quotes is kept as is (a backslash only stops the
    /// next character from closing the string).
    pub(super) fn string_literal(&mut self) -> PResult<String> {
        let rest = self.rest();
        let Some(quote) = rest.chars().next() else {
            return self.fail("a string literal");
        };
        let mut escaped = false;
        for (i, c) in rest.char_indices().skip(1) {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == quote {
                let text = rest[1..i].to_owned();
                self.pos += i + 1;
                return Ok(text);
            }
        }
        Err(Fail::Syntax(format!(
            "unterminated string literal at position {}",
            self.pos
        )))
    }

    pub(super) fn number(&mut self) -> PResult<Expr> {
        let rest = self.rest();
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let mut len = int_len;
        let after = &rest[int_len..];
        if after.starts_with('.') && after[1..].starts_with(|c: char| c.is_ascii_digit()) {
            let frac = &after[1..];
            len += 1 + frac
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(frac.len());
        }
        let text = &rest[..len];
        let start = self.pos;
        self.pos += len;
        if self.peek().is_some_and(is_ident_char) {
            return self.fail("an operator after a number");
        }
        let value = if len > int_len {
            text.parse::<f64>()
                .ok()
                .and_then(|f| value::float_value(f).ok())
        } else {
            text.parse::<i128>()
                .ok()
                .and_then(|i| value::int_value(i).ok())
        };
        match value {
            Some(v) => Ok(Expr::Literal(v)),
            None => Err(Fail::Syntax(format!(
                "number literal '{text}' at position {start} is out of range"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::parse;
    use crate::expr::ast::Expr;

    fn lit(v: serde_json::Value) -> Expr {
        Expr::Literal(v)
    }

    #[test]
    fn literals_keep_string_text_as_is() {
        assert_eq!(parse("'a\\nb'").unwrap(), lit(json!("a\\nb")));
        assert_eq!(parse(r#""it\"s""#).unwrap(), lit(json!("it\\\"s")));
        assert_eq!(parse("42").unwrap(), lit(json!(42)));
        assert_eq!(parse("4.25").unwrap(), lit(json!(4.25)));
        assert_eq!(parse("None").unwrap(), lit(json!(null)));
        assert_eq!(parse("[]").unwrap(), Expr::List(vec![]));
        assert_eq!(parse("{}").unwrap(), Expr::Dict(vec![]));
    }
}
