//! The jsonpath after a context name (`ACTIONS.a.result[0]['k'][*]..x`), with jsonpath-ng's
//! filters (`[?(@.age >= 18 & @.active)]`) and backtick transforms. Segments are contiguous, as
//! in Tracecat.

use serde_json::Value;

use super::{Fail, PResult, Parser, is_ident_start};
use crate::expr::ast::{
    ContextRoot, Filter, FilterCondition, FilterOp, FilterOperand, JsonPath, PathSegment, Transform,
};
use crate::expr::value;

impl<'a> Parser<'a> {
    /// The jsonpath after a context name. Segments are contiguous (no whitespace), as in Tracecat.
    pub(super) fn path(&mut self, root: ContextRoot) -> PResult<JsonPath> {
        let mut path = JsonPath::default();
        while let Some(segment) = self.segment(&mut path.always_list)? {
            path.segments.push(segment);
        }
        if path.segments.is_empty() && root != ContextRoot::Trigger {
            return self.fail(&format!(
                "a path after '{}', e.g. '{}.name'",
                root.name(),
                root.name()
            ));
        }
        match root {
            ContextRoot::Secrets => {
                let dotted = path.segments.len() == 2
                    && path
                        .segments
                        .iter()
                        .all(|s| matches!(s, PathSegment::Key(_)));
                if !dotted {
                    return Err(Fail::Syntax(
                        "SECRETS must be written as SECRETS.<name>.<KEY>".to_owned(),
                    ));
                }
            }
            ContextRoot::Vars => {
                let keys = path
                    .segments
                    .iter()
                    .all(|s| matches!(s, PathSegment::Key(_)));
                if !keys || path.segments.len() > 2 {
                    return Err(Fail::Syntax(
                        "VARS must be written as VARS.<name> or VARS.<name>.<key>".to_owned(),
                    ));
                }
            }
            _ => {}
        }
        Ok(path)
    }

    /// One path segment at the cursor, or `None` (cursor unchanged) when the path ends.
    pub(super) fn segment(&mut self, always_list: &mut bool) -> PResult<Option<PathSegment>> {
        let rest = self.rest();
        if let Some(after) = rest.strip_prefix("..") {
            self.pos += 2;
            if after.starts_with('*') {
                self.pos += 1;
                return Ok(Some(PathSegment::Descendant("*".to_owned())));
            }
            if after.starts_with(['\'', '"']) {
                let key = self.string_literal()?;
                return Ok(Some(PathSegment::Descendant(key)));
            }
            return match self.peek_ident() {
                Some(name) => {
                    self.pos += name.len();
                    Ok(Some(PathSegment::Descendant(name.to_owned())))
                }
                None => self.fail("a name after '..'"),
            };
        }
        if let Some(after) = rest.strip_prefix('.') {
            if let Some(body) = after.strip_prefix('`') {
                let Some(end) = body.find('`') else {
                    return Err(Fail::Syntax(format!(
                        "unterminated '`' at position {}",
                        self.pos + 1
                    )));
                };
                let transform = parse_transform(&body[..end])?;
                self.pos += 2 + end + 1;
                return Ok(Some(PathSegment::Transform(transform)));
            }
            if after.starts_with('*') {
                self.pos += 2;
                return Ok(Some(PathSegment::Wildcard));
            }
            if after.starts_with(['\'', '"']) {
                self.pos += 1;
                let key = self.string_literal()?;
                return Ok(Some(PathSegment::Key(key)));
            }
            if after.starts_with('[') {
                let save = self.pos;
                self.pos += 1;
                return match self.bracket(always_list)? {
                    Some(seg) => Ok(Some(seg)),
                    None => {
                        self.pos = save;
                        self.fail("a key, index or '*' inside '.[ ]'")
                    }
                };
            }
            self.pos += 1;
            return match self.peek_ident() {
                Some(name) => {
                    self.pos += name.len();
                    Ok(Some(PathSegment::Key(name.to_owned())))
                }
                None => self.fail("a name after '.'"),
            };
        }
        if rest.starts_with('[') {
            return self.bracket(always_list);
        }
        Ok(None)
    }

    /// A bracket segment at `[`; `None` (cursor unchanged) if the brackets hold a general
    /// expression, which the caller then parses as a Python indexer instead.
    pub(super) fn bracket(&mut self, always_list: &mut bool) -> PResult<Option<PathSegment>> {
        let save = self.pos;
        let list_before = *always_list;
        self.pos += 1;
        self.skip_ws();
        let seg = match self.peek() {
            Some('\'' | '"') => PathSegment::Key(self.string_literal()?),
            Some('*') => {
                self.pos += 1;
                *always_list = true;
                PathSegment::Wildcard
            }
            Some('?') => {
                self.pos += 1;
                if self.rest().starts_with(['(', '@']) {
                    *always_list = true;
                }
                let body = self.filter_body()?;
                let filter = self.nested(|p| parse_filter(body, p.depth))?;
                // filter_body stops at the closing bracket.
                return Ok(Some(PathSegment::Filter(filter)));
            }
            Some(c) if c.is_ascii_digit() || c == '-' || c == ':' => {
                let start = self.int_opt();
                self.skip_ws();
                if self.rest().starts_with(':') {
                    self.pos += 1;
                    self.skip_ws();
                    let end = self.int_opt();
                    PathSegment::Slice(start, end)
                } else if let Some(i) = start {
                    PathSegment::Index(i)
                } else {
                    self.pos = save;
                    return Ok(None);
                }
            }
            _ => {
                self.pos = save;
                return Ok(None);
            }
        };
        self.skip_ws();
        if self.rest().starts_with(']') {
            self.pos += 1;
            Ok(Some(seg))
        } else {
            // Something like `[0 + 1]`: not a path segment.
            self.pos = save;
            *always_list = list_before;
            Ok(None)
        }
    }

    pub(super) fn int_opt(&mut self) -> Option<i64> {
        let rest = self.rest();
        let neg = rest.starts_with('-');
        let digits = &rest[usize::from(neg)..];
        let len = digits
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(digits.len());
        if len == 0 {
            return None;
        }
        let value = digits[..len].parse::<i64>().ok()?;
        self.pos += usize::from(neg) + len;
        Some(if neg { -value } else { value })
    }

    /// The text of a filter up to its closing `]`, which is consumed.
    pub(super) fn filter_body(&mut self) -> PResult<&'a str> {
        let rest = self.rest();
        let mut depth = 0usize;
        let mut quote: Option<char> = None;
        for (i, c) in rest.char_indices() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    '\'' | '"' => quote = Some(c),
                    '[' | '(' => depth += 1,
                    ')' => depth = depth.saturating_sub(1),
                    ']' if depth == 0 => {
                        self.pos += i + 1;
                        return Ok(&rest[..i]);
                    }
                    ']' => depth -= 1,
                    _ => {}
                },
            }
        }
        Err(Fail::Syntax(format!(
            "unterminated filter '[?' at position {}",
            self.pos
        )))
    }
}

/// Parses the text between backticks of a jsonpath-ng extension.
fn parse_transform(body: &str) -> PResult<Transform> {
    let text = body.trim();
    let bad = || {
        Fail::Syntax(format!(
            "unsupported jsonpath extension `{text}`; use sub, len, str or split"
        ))
    };
    if text == "len" {
        return Ok(Transform::Len);
    }
    if text == "str()" || text == "str" {
        return Ok(Transform::Str);
    }
    if let Some(args) = text.strip_prefix("sub(/").and_then(|t| t.strip_suffix(')')) {
        let (pattern, replacement) = args.rsplit_once("/,").ok_or_else(bad)?;
        regex::Regex::new(pattern)
            .map_err(|e| Fail::Syntax(format!("invalid regex in `{text}`: {e}")))?;
        // Python's `\1` group references become the regex crate's `${1}`.
        let mut repl = String::new();
        let mut chars = replacement.trim().chars().peekable();
        while let Some(c) = chars.next() {
            match (c, chars.peek()) {
                ('\\', Some(d)) if d.is_ascii_digit() => {
                    repl.push_str(&format!("${{{d}}}"));
                    chars.next();
                }
                ('$', _) => repl.push_str("$$"),
                (c, _) => repl.push(c),
            }
        }
        return Ok(Transform::Sub {
            pattern: pattern.to_owned(),
            replacement: repl,
        });
    }
    if let Some(args) = text
        .strip_prefix("split(")
        .and_then(|t| t.strip_suffix(')'))
    {
        let parts: Vec<&str> = args.rsplitn(3, ',').collect();
        if let [maxsplit, index, sep] = parts.as_slice() {
            let index = index.trim().parse().map_err(|_| bad())?;
            let maxsplit = maxsplit.trim().parse().map_err(|_| bad())?;
            return Ok(Transform::Split {
                sep: (*sep).to_owned(),
                index,
                maxsplit,
            });
        }
    }
    Err(bad())
}

/// Parses a jsonpath filter body such as `(@.x == 1 & @.y)` or `x >= 1 & y <= 2`.
/// Filters nest (`[?(@.a[?(@.b)])]`): `depth` is the nesting of the path it belongs to.
fn parse_filter(body: &str, depth: usize) -> PResult<Filter> {
    let mut text = body.trim();
    if text.len() >= 2 && text.starts_with('(') && text.ends_with(')') {
        text = text[1..text.len() - 1].trim();
    }
    let mut p = Parser { src: text, pos: 0, depth, operators: 0 };
    let mut conditions = Vec::new();
    loop {
        let left = filter_operand(&mut p)?;
        p.skip_ws();
        let rest = p.rest();
        let ops: [(&str, FilterOp); 8] = [
            ("==", FilterOp::Eq),
            ("=~", FilterOp::Regex),
            ("!=", FilterOp::Ne),
            ("<=", FilterOp::Le),
            (">=", FilterOp::Ge),
            ("<", FilterOp::Lt),
            (">", FilterOp::Gt),
            ("=", FilterOp::Eq),
        ];
        let compare = match ops.iter().find(|(s, _)| rest.starts_with(s)) {
            Some((s, op)) => {
                p.pos += s.len();
                Some((*op, filter_operand(&mut p)?))
            }
            None => None,
        };
        conditions.push(FilterCondition { left, compare });
        if p.eat("&&") || p.eat("&") || p.eat_keyword("and") {
            continue;
        }
        p.skip_ws();
        if p.pos < p.src.len() {
            return Err(Fail::Syntax(format!(
                "unexpected '{}' in filter '[?{body}]'",
                p.rest()
            )));
        }
        return Ok(Filter { conditions });
    }
}

fn filter_operand(p: &mut Parser<'_>) -> PResult<FilterOperand> {
    p.skip_ws();
    let mut unused = false;
    match p.peek() {
        Some('@') => {
            p.pos += 1;
            let mut segments = Vec::new();
            while let Some(seg) = p.segment(&mut unused)? {
                segments.push(seg);
            }
            Ok(FilterOperand::Path(segments))
        }
        Some('\'' | '"') => Ok(FilterOperand::Literal(Value::String(p.string_literal()?))),
        Some(c) if c.is_ascii_digit() || c == '-' => {
            let rest = p.rest();
            let len = rest
                .char_indices()
                .skip(1)
                .find(|&(_, c)| !(c.is_ascii_digit() || c == '.'))
                .map_or(rest.len(), |(i, _)| i);
            let text = &rest[..len];
            p.pos += len;
            let v = if text.contains('.') {
                text.parse::<f64>()
                    .ok()
                    .and_then(|f| value::float_value(f).ok())
            } else {
                text.parse::<i64>().ok().map(Value::from)
            };
            v.map(FilterOperand::Literal)
                .ok_or_else(|| Fail::Syntax(format!("invalid number '{text}' in filter")))
        }
        Some(c) if is_ident_start(c) => {
            let name = p.peek_ident().unwrap_or_default();
            let literal = match name {
                "true" | "True" => Some(Value::Bool(true)),
                "false" | "False" => Some(Value::Bool(false)),
                "null" | "None" => Some(Value::Null),
                _ => None,
            };
            if let Some(v) = literal {
                p.pos += name.len();
                return Ok(FilterOperand::Literal(v));
            }
            // A bare name path is relative to the current item, like `@.name`.
            p.pos += name.len();
            let mut segments = vec![PathSegment::Key(name.to_owned())];
            while let Some(seg) = p.segment(&mut unused)? {
                segments.push(seg);
            }
            Ok(FilterOperand::Path(segments))
        }
        _ => p.fail("a filter operand ('@.field', a name or a literal)"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::parse;
    use crate::expr::ExprError;
    use crate::expr::ast::{
        ContextRoot, Expr, Filter, FilterCondition, FilterOp, FilterOperand, JsonPath, PathSegment,
    };

    fn detail(text: &str) -> String {
        match parse(text).unwrap_err() {
            ExprError::Parse { detail, .. } => detail,
            other => panic!("expected a parse error, got {other:?}"),
        }
    }

    #[test]
    fn context_paths() {
        let Expr::Context { root, path } =
            parse(r#"ACTIONS.a.result.'x.y'."z"['k'][0][-1][*]"#).unwrap()
        else {
            panic!("not a context");
        };
        assert_eq!(root, ContextRoot::Actions);
        assert!(path.always_list);
        assert_eq!(
            path.segments,
            vec![
                PathSegment::Key("a".into()),
                PathSegment::Key("result".into()),
                PathSegment::Key("x.y".into()),
                PathSegment::Key("z".into()),
                PathSegment::Key("k".into()),
                PathSegment::Index(0),
                PathSegment::Index(-1),
                PathSegment::Wildcard,
            ]
        );
        assert_eq!(
            parse("TRIGGER").unwrap(),
            Expr::Context {
                root: ContextRoot::Trigger,
                path: JsonPath::default()
            }
        );
        assert!(detail("ACTIONS").contains("a path after 'ACTIONS'"));
        assert_eq!(
            detail("VARS.a.b.c"),
            "VARS must be written as VARS.<name> or VARS.<name>.<key>"
        );
        assert_eq!(
            detail("SECRETS.a"),
            "SECRETS must be written as SECRETS.<name>.<KEY>"
        );
    }

    #[test]
    fn filters_and_descendants() {
        let Expr::Context { path, .. } = parse("TRIGGER.users[?(@.age >= 18 & @.active)]").unwrap()
        else {
            panic!("not a context");
        };
        assert!(path.always_list);
        assert_eq!(
            path.segments[1],
            PathSegment::Filter(Filter {
                conditions: vec![
                    FilterCondition {
                        left: FilterOperand::Path(vec![PathSegment::Key("age".into())]),
                        compare: Some((FilterOp::Ge, FilterOperand::Literal(json!(18)))),
                    },
                    FilterCondition {
                        left: FilterOperand::Path(vec![PathSegment::Key("active".into())]),
                        compare: None,
                    },
                ]
            })
        );
        let Expr::Context { path, .. } = parse("TRIGGER.users[?gender == 'f'].name").unwrap()
        else {
            panic!("not a context");
        };
        assert!(
            !path.always_list,
            "bare filters follow Tracecat's scalar quirk"
        );
        let Expr::Context { path, .. } = parse("TRIGGER..id").unwrap() else {
            panic!("not a context");
        };
        assert_eq!(path.segments, vec![PathSegment::Descendant("id".into())]);
    }
}
