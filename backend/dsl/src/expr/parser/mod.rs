//! A recursive-descent parser for Tracecat's expression grammar, working directly on the
//! characters (the jsonpath after a context name is whitespace-sensitive, so a separate token
//! stream would need modes anyway).
//!
//! Precedence, loosest to tightest: ternary `a if c else b`; `||`; `&&`; `not`; comparisons
//! `== != > >= < <=` (left-associative, pairwise); `in` / `not in`; `is` / `is not`; `+ -`;
//! `* / %`; unary `- +`; primaries with `[expr]` indexers. The root may also be `expr -> TYPE`
//! or the iterator `for var.path in expr`.
//!
//! This file holds the grammar, the limits and the cursor; literals (`literals`) and the
//! jsonpath after a context name with its filters and transforms (`jsonpath`) are parsed in
//! their own modules on the same `Parser`.

use serde_json::Value;

use super::ast::{BinaryOp, CastType, ContextRoot, Expr};
use super::{ExprError, functions};

mod jsonpath;
mod literals;

/// Words that cannot start an operand.
const KEYWORDS: &[&str] = &["if", "else", "in", "not", "is", "for", "and", "or"];

/// Longest expression accepted (the text inside one `${{ … }}`), in bytes.
pub const MAX_EXPRESSION_BYTES: usize = 64 * 1024;
/// Deepest nesting of parentheses, brackets, braces, calls, filters and conditionals. Each
/// level costs the recursive-descent parser some 13 frames (about 20 KiB of stack in a debug
/// build): 24 levels stay well inside a 2 MiB thread, as tokio's workers have.
pub const MAX_NESTING: usize = 24;
/// Most operators (binary, unary, `not`, indexing) in one expression: a chain of them is a
/// tree as deep as it is long, which evaluation walks recursively, so this bounds its stack.
pub const MAX_OPERATORS: usize = 128;

/// Parses the text inside `${{ … }}` into an [`Expr`]. Input over the limits above is refused
/// before it is parsed further, so no expression can exhaust the stack of whoever parses or
/// evaluates it.
pub fn parse(text: &str) -> Result<Expr, ExprError> {
    let shown = |text: &str| -> String {
        match text.char_indices().nth(120) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.to_owned(),
        }
    };
    if text.len() > MAX_EXPRESSION_BYTES {
        return Err(ExprError::Parse {
            expr: shown(text),
            detail: format!("the expression is {} bytes long; the limit is {MAX_EXPRESSION_BYTES}", text.len()),
        });
    }
    let mut p = Parser { src: text, pos: 0, depth: 0, operators: 0 };
    let result = p.root();
    result.map_err(|fail| match fail {
        Fail::Syntax(detail) => ExprError::Parse {
            expr: shown(text),
            detail,
        },
        Fail::Expr(e) => e,
    })
}

enum Fail {
    Syntax(String),
    Expr(ExprError),
}

type PResult<T> = Result<T, Fail>;

struct Parser<'a> {
    src: &'a str,
    pos: usize,
    /// Current nesting (see [`MAX_NESTING`]).
    depth: usize,
    /// Operators so far (see [`MAX_OPERATORS`]).
    operators: usize,
}

fn is_ident_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.src[self.pos..]
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
    }

    fn fail<T>(&self, what: &str) -> PResult<T> {
        let found = match self.peek() {
            None => "end of expression".to_owned(),
            Some(_) => {
                let snippet: String = self.rest().chars().take(12).collect();
                format!("'{snippet}'")
            }
        };
        Err(Fail::Syntax(format!(
            "expected {what} at position {}, found {found}",
            self.pos
        )))
    }

    /// Consumes `s` after optional whitespace.
    fn eat(&mut self, s: &str) -> bool {
        self.skip_ws();
        if self.rest().starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn expect(&mut self, s: &str) -> PResult<()> {
        if self.eat(s) {
            Ok(())
        } else {
            self.fail(&format!("'{s}'"))
        }
    }

    /// The identifier at the cursor (no whitespace skipping), without consuming it.
    fn peek_ident(&self) -> Option<&'a str> {
        let rest = self.rest();
        let mut chars = rest.char_indices();
        match chars.next() {
            Some((_, c)) if is_ident_start(c) => {}
            _ => return None,
        }
        let end = chars
            .find(|&(_, c)| !is_ident_char(c))
            .map_or(rest.len(), |(i, _)| i);
        Some(&rest[..end])
    }

    /// Consumes keyword `kw` if it is the next whole word.
    fn eat_keyword(&mut self, kw: &str) -> bool {
        self.skip_ws();
        if self.peek_ident() == Some(kw) {
            self.pos += kw.len();
            true
        } else {
            false
        }
    }

    /// Whether keyword `kw` is next, without consuming it.
    fn at_keyword(&mut self, kw: &str) -> bool {
        self.skip_ws();
        self.peek_ident() == Some(kw)
    }

    fn root(&mut self) -> PResult<Expr> {
        let expr = if self.eat_keyword("for") {
            self.iterator()?
        } else {
            let expr = self.expression()?;
            if self.eat("->") {
                self.skip_ws();
                let ty = self.peek_ident().and_then(CastType::from_name);
                match ty {
                    Some(ty) => {
                        self.pos += self.peek_ident().map_or(0, str::len);
                        Expr::TrailingCast {
                            expr: Box::new(expr),
                            ty,
                        }
                    }
                    None => return self.fail("a type (int, float, str or bool) after '->'"),
                }
            } else {
                expr
            }
        };
        self.skip_ws();
        if self.pos < self.src.len() {
            return self.fail("end of expression");
        }
        Ok(expr)
    }

    fn iterator(&mut self) -> PResult<Expr> {
        if !self.eat_keyword("var") {
            return self.fail("'var' after 'for'");
        }
        let mut var_path = Vec::new();
        while self.rest().starts_with('.') {
            self.pos += 1;
            match self.peek_ident() {
                Some(name) => {
                    self.pos += name.len();
                    var_path.push(name.to_owned());
                }
                None => return self.fail("a name after '.' in the loop variable"),
            }
        }
        if var_path.is_empty() {
            return self.fail("a loop variable such as 'var.x'");
        }
        if !self.eat_keyword("in") {
            return self.fail("'in' after the loop variable");
        }
        let collection = self.expression()?;
        Ok(Expr::Iterator {
            var_path,
            collection: Box::new(collection),
        })
    }

    /// One more level of nesting, refused past [`MAX_NESTING`].
    fn nested<T>(&mut self, parse: impl FnOnce(&mut Self) -> PResult<T>) -> PResult<T> {
        if self.depth >= MAX_NESTING {
            return Err(Fail::Syntax(format!("the expression nests deeper than {MAX_NESTING} levels at position {}", self.pos)));
        }
        self.depth += 1;
        let result = parse(self);
        self.depth -= 1;
        result
    }

    /// One more operator, refused past [`MAX_OPERATORS`].
    fn operator(&mut self) -> PResult<()> {
        self.operators += 1;
        if self.operators > MAX_OPERATORS {
            return Err(Fail::Syntax(format!("the expression has more than {MAX_OPERATORS} operators")));
        }
        Ok(())
    }

    fn expression(&mut self) -> PResult<Expr> {
        self.nested(Self::conditional)
    }

    fn conditional(&mut self) -> PResult<Expr> {
        let then = self.or_expr()?;
        if self.eat_keyword("if") {
            let cond = self.or_expr()?;
            if !self.eat_keyword("else") {
                return self.fail("'else' in conditional expression");
            }
            let otherwise = self.expression()?;
            return Ok(Expr::Ternary {
                then: Box::new(then),
                cond: Box::new(cond),
                otherwise: Box::new(otherwise),
            });
        }
        Ok(then)
    }

    /// `left op right`, counted against [`MAX_OPERATORS`].
    fn combine(&mut self, op: BinaryOp, left: Expr, right: Expr) -> PResult<Expr> {
        self.operator()?;
        Ok(Self::binary(op, left, right))
    }

    fn binary(op: BinaryOp, left: Expr, right: Expr) -> Expr {
        Expr::Binary {
            op,
            left: Box::new(left),
            right: Box::new(right),
        }
    }

    fn or_expr(&mut self) -> PResult<Expr> {
        let mut left = self.and_expr()?;
        while self.eat("||") {
            let right = self.and_expr()?;
            left = self.combine(BinaryOp::Or, left, right)?;
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> PResult<Expr> {
        let mut left = self.not_expr()?;
        while self.eat("&&") {
            let right = self.not_expr()?;
            left = self.combine(BinaryOp::And, left, right)?;
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> PResult<Expr> {
        if self.eat_keyword("not") {
            self.operator()?;
            let inner = self.not_expr()?;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> PResult<Expr> {
        let mut left = self.in_expr()?;
        loop {
            self.skip_ws();
            let rest = self.rest();
            // Two-character operators first so `<=` is not read as `<`.
            let (op, len) = if rest.starts_with("==") {
                (BinaryOp::Eq, 2)
            } else if rest.starts_with("!=") {
                (BinaryOp::Ne, 2)
            } else if rest.starts_with(">=") {
                (BinaryOp::Ge, 2)
            } else if rest.starts_with("<=") {
                (BinaryOp::Le, 2)
            } else if rest.starts_with('>') {
                (BinaryOp::Gt, 1)
            } else if rest.starts_with('<') {
                (BinaryOp::Lt, 1)
            } else {
                return Ok(left);
            };
            self.pos += len;
            let right = self.in_expr()?;
            left = self.combine(op, left, right)?;
        }
    }

    fn in_expr(&mut self) -> PResult<Expr> {
        let mut left = self.is_expr()?;
        loop {
            let op = if self.eat_keyword("in") {
                BinaryOp::In
            } else if self.at_keyword("not") {
                let save = self.pos;
                self.eat_keyword("not");
                if self.eat_keyword("in") {
                    BinaryOp::NotIn
                } else {
                    self.pos = save;
                    return Ok(left);
                }
            } else {
                return Ok(left);
            };
            let right = self.is_expr()?;
            left = self.combine(op, left, right)?;
        }
    }

    fn is_expr(&mut self) -> PResult<Expr> {
        let mut left = self.additive()?;
        while self.eat_keyword("is") {
            let op = if self.eat_keyword("not") {
                BinaryOp::IsNot
            } else {
                BinaryOp::Is
            };
            let right = self.additive()?;
            left = self.combine(op, left, right)?;
        }
        Ok(left)
    }

    fn additive(&mut self) -> PResult<Expr> {
        let mut left = self.multiplicative()?;
        loop {
            self.skip_ws();
            let rest = self.rest();
            let op = if rest.starts_with('+') {
                BinaryOp::Add
            } else if rest.starts_with('-') && !rest.starts_with("->") {
                BinaryOp::Sub
            } else {
                return Ok(left);
            };
            self.pos += 1;
            let right = self.multiplicative()?;
            left = self.combine(op, left, right)?;
        }
    }

    fn multiplicative(&mut self) -> PResult<Expr> {
        let mut left = self.unary()?;
        loop {
            self.skip_ws();
            let op = match self.peek() {
                Some('*') => BinaryOp::Mul,
                Some('/') => BinaryOp::Div,
                Some('%') => BinaryOp::Mod,
                _ => return Ok(left),
            };
            self.pos += 1;
            let right = self.unary()?;
            left = self.combine(op, left, right)?;
        }
    }

    fn unary(&mut self) -> PResult<Expr> {
        self.skip_ws();
        let negate = match self.peek() {
            Some('-') if !self.rest().starts_with("->") => true,
            Some('+') => false,
            _ => return self.postfix(),
        };
        self.pos += 1;
        self.operator()?;
        let expr = self.unary()?;
        Ok(Expr::Unary {
            negate,
            expr: Box::new(expr),
        })
    }

    fn postfix(&mut self) -> PResult<Expr> {
        let mut expr = self.primary()?;
        while self.eat("[") {
            self.operator()?;
            let index = self.expression()?;
            self.expect("]")?;
            expr = Expr::Index {
                target: Box::new(expr),
                index: Box::new(index),
            };
        }
        Ok(expr)
    }

    fn primary(&mut self) -> PResult<Expr> {
        self.skip_ws();
        match self.peek() {
            None => self.fail("an expression"),
            Some('(') => {
                self.pos += 1;
                let inner = self.expression()?;
                self.expect(")")?;
                Ok(inner)
            }
            Some('[') => {
                self.pos += 1;
                let items = self.arg_list("]")?;
                Ok(Expr::List(items))
            }
            Some('{') => {
                self.pos += 1;
                self.dict()
            }
            Some('\'' | '"') => Ok(Expr::Literal(Value::String(self.string_literal()?))),
            Some(c) if c.is_ascii_digit() => self.number(),
            Some(c) if is_ident_start(c) => self.name(),
            Some(_) => self.fail("an expression"),
        }
    }

    /// Comma-separated expressions up to `close` (the opener is already consumed).
    fn arg_list(&mut self, close: &str) -> PResult<Vec<Expr>> {
        let mut items = Vec::new();
        if self.eat(close) {
            return Ok(items);
        }
        loop {
            items.push(self.expression()?);
            if self.eat(close) {
                return Ok(items);
            }
            if !self.eat(",") {
                return self.fail(&format!("',' or '{close}'"));
            }
        }
    }

    fn dict(&mut self) -> PResult<Expr> {
        let mut entries = Vec::new();
        if self.eat("}") {
            return Ok(Expr::Dict(entries));
        }
        loop {
            self.skip_ws();
            if !matches!(self.peek(), Some('\'' | '"')) {
                return self.fail("a string literal as dict key");
            }
            let key = self.string_literal()?;
            self.expect(":")?;
            let value = self.expression()?;
            entries.push((key, value));
            if self.eat("}") {
                return Ok(Expr::Dict(entries));
            }
            if !self.eat(",") {
                return self.fail("',' or '}'");
            }
        }
    }

    fn name(&mut self) -> PResult<Expr> {
        let start = self.pos;
        let Some(name) = self.peek_ident() else {
            return self.fail("a name");
        };
        self.pos += name.len();
        match name {
            "True" => return Ok(Expr::Literal(Value::Bool(true))),
            "False" => return Ok(Expr::Literal(Value::Bool(false))),
            "None" => return Ok(Expr::Literal(Value::Null)),
            "FN" => return self.function(),
            _ => {}
        }
        if let Some(ty) = CastType::from_name(name)
            && self.eat("(")
        {
            let inner = self.expression()?;
            self.expect(")")?;
            return Ok(Expr::Cast {
                ty,
                expr: Box::new(inner),
            });
        }
        if let Some(root) = ContextRoot::from_name(name) {
            let path = self.path(root)?;
            return Ok(Expr::Context { root, path });
        }
        let what = if KEYWORDS.contains(&name) {
            "keyword"
        } else {
            "name"
        };
        Err(Fail::Syntax(format!(
            "unexpected {what} '{name}' at position {start}"
        )))
    }

    fn function(&mut self) -> PResult<Expr> {
        if !self.rest().starts_with('.') {
            return self.fail("'.' after 'FN'");
        }
        self.pos += 1;
        let Some(name) = self.peek_ident() else {
            return self.fail("a function name after 'FN.'");
        };
        self.pos += name.len();
        let mut map = false;
        if self.rest().starts_with('.') {
            self.pos += 1;
            match self.peek_ident() {
                Some("map") => {
                    self.pos += 3;
                    map = true;
                }
                Some(other) => {
                    return Err(Fail::Syntax(format!(
                        "unknown function transform '{other}' on FN.{name}; only 'map' exists"
                    )));
                }
                None => return self.fail("'map' after the function name"),
            }
        }
        if !functions::exists(name) {
            return Err(Fail::Expr(ExprError::UnknownFunction {
                name: name.to_owned(),
            }));
        }
        self.expect("(")?;
        let args = self.arg_list(")")?;
        Ok(Expr::Call {
            name: name.to_owned(),
            map,
            args,
        })
    }

}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::expr::ast::{JsonPath, PathSegment};

    fn lit(v: Value) -> Expr {
        Expr::Literal(v)
    }

    fn bin(op: BinaryOp, l: Expr, r: Expr) -> Expr {
        Expr::Binary {
            op,
            left: Box::new(l),
            right: Box::new(r),
        }
    }

    fn detail(text: &str) -> String {
        match parse(text).unwrap_err() {
            ExprError::Parse { detail, .. } => detail,
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn precedence_matches_the_reference_table() {
        // `in` binds tighter than `==`.
        assert_eq!(
            parse("1 in [1] == True").unwrap(),
            bin(
                BinaryOp::Eq,
                bin(BinaryOp::In, lit(json!(1)), Expr::List(vec![lit(json!(1))])),
                lit(json!(true))
            )
        );
        // `*` binds tighter than `+`, and `-` is left-associative.
        assert_eq!(
            parse("1 - 2 - 3 * 4").unwrap(),
            bin(
                BinaryOp::Sub,
                bin(BinaryOp::Sub, lit(json!(1)), lit(json!(2))),
                bin(BinaryOp::Mul, lit(json!(3)), lit(json!(4)))
            )
        );
        // `&&` binds tighter than `||`; `not` wraps the comparison.
        assert_eq!(
            parse("not 1 == 2 || True && False").unwrap(),
            bin(
                BinaryOp::Or,
                Expr::Not(Box::new(bin(BinaryOp::Eq, lit(json!(1)), lit(json!(2))))),
                bin(BinaryOp::And, lit(json!(true)), lit(json!(false)))
            )
        );
        assert_eq!(
            parse("None is not None").unwrap(),
            bin(BinaryOp::IsNot, lit(json!(null)), lit(json!(null)))
        );
        assert_eq!(
            parse("'a' not in 'abc'").unwrap(),
            bin(BinaryOp::NotIn, lit(json!("a")), lit(json!("abc")))
        );
    }

    #[test]
    fn ternary_and_trailing_cast() {
        assert_eq!(
            parse("1 if True else 2 -> str").unwrap(),
            Expr::TrailingCast {
                expr: Box::new(Expr::Ternary {
                    then: Box::new(lit(json!(1))),
                    cond: Box::new(lit(json!(true))),
                    otherwise: Box::new(lit(json!(2))),
                }),
                ty: CastType::Str,
            }
        );
        assert!(detail("1 -> list").contains("a type (int, float, str or bool) after '->'"));
        assert!(detail("(1 -> str) -> int").contains("expected ')'"));
    }

    #[test]
    fn expression_indexers_after_paths_and_calls() {
        assert!(matches!(
            parse("ACTIONS.a.result[ACTIONS.b.result]").unwrap(),
            Expr::Index { .. }
        ));
        assert!(matches!(
            parse("FN.split('a,b', ',')[0]").unwrap(),
            Expr::Index { .. }
        ));
        assert!(matches!(parse("[1, 2][-1]").unwrap(), Expr::Index { .. }));
    }

    #[test]
    fn functions_and_iterators() {
        assert_eq!(
            parse("FN.format.map('Got {}!', var.list)").unwrap(),
            Expr::Call {
                name: "format".into(),
                map: true,
                args: vec![
                    lit(json!("Got {}!")),
                    Expr::Context {
                        root: ContextRoot::Var,
                        path: JsonPath {
                            segments: vec![PathSegment::Key("list".into())],
                            always_list: false
                        }
                    }
                ]
            }
        );
        assert_eq!(
            parse("FN.nope(1)").unwrap_err().to_string(),
            "Unknown function 'nope'"
        );
        assert_eq!(
            parse("for var.x.y in [1]").unwrap(),
            Expr::Iterator {
                var_path: vec!["x".into(), "y".into()],
                collection: Box::new(Expr::List(vec![lit(json!(1))]))
            }
        );
        assert!(detail("for x in [1]").contains("'var' after 'for'"));
    }

    #[test]
    fn errors_name_the_expression_and_position() {
        let err = parse("1 +").unwrap_err();
        assert_eq!(
            err.to_string(),
            "Error parsing expression `1 +`\n\nFailed to parse expression: expected an expression at position 3, found end of expression"
        );
        assert_eq!(detail("foo"), "unexpected name 'foo' at position 0");
        assert_eq!(detail("INPUTS.x"), "unexpected name 'INPUTS' at position 0");
        assert_eq!(
            detail("1 2"),
            "expected end of expression at position 2, found '2'"
        );
        assert_eq!(detail("'abc"), "unterminated string literal at position 0");
        assert!(detail("{1: 2}").contains("a string literal as dict key"));
        assert!(detail("1 and 2").contains("expected end of expression"));
    }

    #[test]
    fn nesting_length_and_operators_are_limited_before_the_stack_is() {
        let deep = format!("{}1{}", "(".repeat(30_000), ")".repeat(30_000));
        assert!(detail(&deep).contains("nests deeper than 24 levels"), "{}", detail(&deep));
        let lists = format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(detail(&lists).contains("nests deeper than 24 levels"));
        let calls = format!("{}1{}", "FN.to_base64(".repeat(3_000), ")".repeat(3_000));
        assert!(detail(&calls).contains("nests deeper than 24 levels"));
        let ternaries = "1 if True else ".repeat(3_000) + "1";
        assert!(detail(&ternaries).contains("nests deeper than 24 levels"));
        let filters = format!("TRIGGER.a{}", "[?(@.b".repeat(4_000)) + &")]".repeat(4_000);
        assert!(parse(&filters).is_err());
        for chain in ["-".repeat(60_000) + "1", "not ".repeat(2_000) + "1", "1".to_owned() + &" + 1".repeat(2_000), "[1]".to_owned() + &"[0]".repeat(2_000)] {
            let error = detail(&chain);
            assert!(error.contains("more than 128 operators"), "{error}");
        }
        // Evaluation budgets: copies of a large value are refused before they are made.
        let ctx = crate::expr::ExprContext::default();
        let error = crate::expr::eval_expression("['x' * 10000000] * 1000000", &ctx).unwrap_err().to_string();
        assert!(error.contains("repetition result would exceed 64 MiB"), "{error}");
        let error = crate::expr::eval_expression("FN.range(100000000)", &ctx).unwrap_err().to_string();
        assert!(error.contains("would exceed"), "{error}");
        let long = format!("'{}'", "a".repeat(MAX_EXPRESSION_BYTES));
        let error = parse(&long).unwrap_err().to_string();
        assert!(error.contains("bytes long; the limit is 65536") && error.len() < 600, "{error}");

        // Just inside the limits, alone and together, parses and evaluates on a thread with
        // the stack of a tokio worker (2 MiB), in a debug build.
        let inside = format!("{}1{}", "(".repeat(MAX_NESTING - 1), ")".repeat(MAX_NESTING - 1));
        let sum = "1".to_owned() + &" + 1".repeat(MAX_OPERATORS);
        let nested_lists = format!("{}1{}", "[".repeat(MAX_NESTING - 1), "]".repeat(MAX_NESTING - 1));
        let both = format!("{}{}{}", "(".repeat(MAX_NESTING - 2), "1".to_owned() + &" + 1".repeat(MAX_OPERATORS), ")".repeat(MAX_NESTING - 2));
        std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || {
                let ctx = crate::expr::ExprContext::default();
                assert_eq!(crate::expr::eval_parsed(&parse(&inside).unwrap(), &ctx).unwrap(), serde_json::json!(1));
                assert_eq!(crate::expr::eval_parsed(&parse(&sum).unwrap(), &ctx).unwrap(), serde_json::json!(129));
                assert_eq!(crate::expr::eval_parsed(&parse(&both).unwrap(), &ctx).unwrap(), serde_json::json!(129));
                let value = crate::expr::eval_parsed(&parse(&nested_lists).unwrap(), &ctx).unwrap();
                assert!(value.is_array());
            })
            .unwrap()
            .join()
            .unwrap();
    }
}
