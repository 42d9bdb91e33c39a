//! String and regex functions: Python `str` methods, `str.format`, URL quoting, `re.search`/`re.match`.

use regex::Regex;
use serde_json::Value;

use super::{arity, boolean, int_at, list_at, opt_str_at, str_at, string, value_error};
use crate::expr::ExprError;
use crate::expr::path::slice_bounds;
use crate::expr::value::{Num, python_str, repr_str, typename};

pub(super) fn capitalize(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let s = str_at(args, 0)?;
    let mut chars = s.chars();
    let out = match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.as_str().to_lowercase().chars())
            .collect(),
        None => String::new(),
    };
    string(out)
}

pub(super) fn titleize(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    // Python's str.title(): a letter after a letter is lowercased, any other letter uppercased.
    let mut prev_cased = false;
    let mut out = String::new();
    for c in str_at(args, 0)?.chars() {
        if c.is_alphabetic() {
            if prev_cased {
                out.extend(c.to_lowercase());
            } else {
                out.extend(c.to_uppercase());
            }
            prev_cased = true;
        } else {
            out.push(c);
            prev_cased = false;
        }
    }
    string(out)
}

pub(super) fn uppercase(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    string(str_at(args, 0)?.to_uppercase())
}

pub(super) fn lowercase(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    string(str_at(args, 0)?.to_lowercase())
}

fn str_items(items: &[Value]) -> Result<Vec<&str>, ExprError> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| match v {
            Value::String(s) => Ok(s.as_str()),
            other => Err(ExprError::Type {
                msg: format!(
                    "sequence item {i}: expected str instance, {} found",
                    typename(other)
                ),
            }),
        })
        .collect()
}

pub(super) fn concat(args: &[Value]) -> Result<Value, ExprError> {
    string(str_items(args)?.concat())
}

/// Python `str.format` with positional fields: `{}`, `{0}`, `{{`, `}}`; a format spec is
/// supported for the common `:.Nf` and `:d` forms.
pub(super) fn format(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, usize::MAX)?;
    let template = str_at(args, 0)?;
    let values = &args[1..];
    let mut out = String::new();
    let mut auto = 0usize;
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err(value_error("Single '}' encountered in format string")),
            '{' => {
                let mut field = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some(ch) => field.push(ch),
                        None => return Err(value_error("Single '{' encountered in format string")),
                    }
                }
                let (name, spec) = field.split_once(':').unwrap_or((&field, ""));
                let index = if name.is_empty() {
                    auto += 1;
                    auto - 1
                } else {
                    name.parse::<usize>().map_err(|_| {
                        value_error(format!(
                            "format field '{{{field}}}' is not supported; use {{}} or {{0}}"
                        ))
                    })?
                };
                let v = values.get(index).ok_or_else(|| {
                    value_error(format!(
                        "Replacement index {index} out of range for positional args tuple"
                    ))
                })?;
                out.push_str(&format_spec(v, spec)?);
            }
            c => out.push(c),
        }
    }
    string(out)
}

fn format_spec(v: &Value, spec: &str) -> Result<String, ExprError> {
    if spec.is_empty() {
        return Ok(python_str(v));
    }
    let unsupported = || value_error(format!("format spec ':{spec}' is not supported"));
    if let Some(p) = spec.strip_prefix('.').and_then(|s| s.strip_suffix('f')) {
        let precision: usize = p.parse().map_err(|_| unsupported())?;
        let f = Num::of(v).ok_or_else(unsupported)?.as_f64();
        return Ok(format!("{f:.precision$}"));
    }
    if spec == "d" {
        return match Num::of(v) {
            Some(Num::Int(i)) if !matches!(v, Value::Bool(_)) => Ok(i.to_string()),
            _ => Err(unsupported()),
        };
    }
    Err(unsupported())
}

fn unescape_separator(sep: &str) -> String {
    let mut out = String::new();
    let mut chars = sep.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('\\') => out.push('\\'),
                _ => {
                    out.push(c);
                    continue;
                }
            }
            chars.next();
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn join(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let items = str_items(list_at(args, 0)?)?;
    let sep = unescape_separator(opt_str_at(args, 1)?.unwrap_or(""));
    string(items.join(&sep))
}

pub(super) fn split(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let s = str_at(args, 0)?;
    let parts: Vec<Value> = match opt_str_at(args, 1)? {
        None => s
            .split_whitespace()
            .map(|p| Value::String(p.to_owned()))
            .collect(),
        Some("") => return Err(value_error("empty separator")),
        Some(sep) => s.split(sep).map(|p| Value::String(p.to_owned())).collect(),
    };
    Ok(Value::Array(parts))
}

pub(super) fn strip(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let s = str_at(args, 0)?;
    match opt_str_at(args, 1)? {
        None => string(s.trim()),
        Some(chars) => string(s.trim_matches(|c| chars.contains(c))),
    }
}

pub(super) fn replace(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 3, 3)?;
    string(str_at(args, 0)?.replace(str_at(args, 1)?, str_at(args, 2)?))
}

pub(super) fn slice(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 3, 3)?;
    let chars: Vec<char> = str_at(args, 0)?.chars().collect();
    let start = int_at(args, 1)?;
    let len = int_at(args, 2)?;
    let (s, e) = slice_bounds(Some(start), Some(start.saturating_add(len)), chars.len());
    string(chars[s..e].iter().collect::<String>())
}

fn affix(args: &[Value], before: bool) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let affix = str_at(args, 1)?;
    let apply = |v: &Value| {
        let s = python_str(v);
        Value::String(if before {
            format!("{affix}{s}")
        } else {
            format!("{s}{affix}")
        })
    };
    Ok(match &args[0] {
        Value::Array(items) => Value::Array(items.iter().map(apply).collect()),
        other => apply(other),
    })
}

pub(super) fn prefix(args: &[Value]) -> Result<Value, ExprError> {
    affix(args, true)
}

pub(super) fn suffix(args: &[Value]) -> Result<Value, ExprError> {
    affix(args, false)
}

pub(super) fn startswith(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    boolean(str_at(args, 0)?.starts_with(str_at(args, 1)?))
}

pub(super) fn endswith(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    boolean(str_at(args, 0)?.ends_with(str_at(args, 1)?))
}

pub(super) fn slugify(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let sep = opt_str_at(args, 1)?.unwrap_or("-");
    string(crate::slugify(str_at(args, 0)?, sep))
}

/// Python `urllib.parse.quote(x, safe)`: everything but `A-Za-z0-9_.-~` and `safe` is escaped.
pub(super) fn url_encode(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let s = str_at(args, 0)?;
    let safe = opt_str_at(args, 1)?.unwrap_or("");
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || "_.-~".contains(c) || (c.is_ascii() && safe.contains(c)) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    string(out)
}

/// Python `urllib.parse.unquote`: `%XX` escapes decoded, invalid UTF-8 replaced.
pub(super) fn url_decode(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let bytes = str_at(args, 0)?.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    string(String::from_utf8_lossy(&out).into_owned())
}

fn compile(pattern: &str) -> Result<Regex, ExprError> {
    Regex::new(pattern).map_err(|e| {
        value_error(format!(
            "invalid regular expression {}: {e}",
            repr_str(pattern)
        ))
    })
}

pub(super) fn regex_extract(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let re = compile(str_at(args, 0)?)?;
    let Some(caps) = re.captures(str_at(args, 1)?) else {
        return Ok(Value::Null);
    };
    let first_group = caps.iter().skip(1).flatten().next();
    let m = first_group.or_else(|| caps.get(0));
    Ok(m.map_or(Value::Null, |m| Value::String(m.as_str().to_owned())))
}

fn anchored_match(args: &[Value]) -> Result<bool, ExprError> {
    arity(args, 2, 2)?;
    // Python's re.match anchors at the start only. The leftmost match starts at 0 whenever any
    // match starting at 0 exists.
    let re = compile(str_at(args, 0)?)?;
    Ok(re.find(str_at(args, 1)?).is_some_and(|m| m.start() == 0))
}

pub(super) fn regex_match(args: &[Value]) -> Result<Value, ExprError> {
    boolean(anchored_match(args)?)
}

pub(super) fn regex_not_match(args: &[Value]) -> Result<Value, ExprError> {
    boolean(!anchored_match(args)?)
}
