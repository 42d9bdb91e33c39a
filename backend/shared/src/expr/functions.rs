//! The `FN.*` function library: strings, regex, comparisons, logic, collections, math, objects,
//! JSON/YAML, encoding/hashing and IP helpers, plus `.map` broadcasting.
//!
//! Every function is pure and deterministic (it runs inside replayed workflow code), so the
//! clock-based and random functions of Tracecat (`now`, `uuid4`, …) are not registered here.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use regex::Regex;
use serde_json::{Map, Value};

use super::ExprError;
use super::path::slice_bounds;
use super::value::{
    Num, int_value, key_string, py_add, py_cmp, py_contains, py_div, py_eq, py_index,
    py_len, py_mod, py_mul, py_pow, py_sub, python_str, repr_str, truthy, typename,
};

type Func = fn(&[Value]) -> Result<Value, ExprError>;

/// Every registered function, by the name used after `FN.`.
static FUNCTIONS: &[(&str, Func)] = &[
    // Strings.
    ("capitalize", capitalize),
    ("titleize", titleize),
    ("uppercase", uppercase),
    ("lowercase", lowercase),
    ("concat", concat),
    ("format", format),
    ("join", join),
    ("split", split),
    ("strip", strip),
    ("replace", replace),
    ("slice", slice),
    ("prefix", prefix),
    ("suffix", suffix),
    ("startswith", startswith),
    ("endswith", endswith),
    ("slugify", slugify),
    ("url_encode", url_encode),
    ("url_decode", url_decode),
    // Regex.
    ("regex_extract", regex_extract),
    ("regex_match", regex_match),
    ("regex_not_match", regex_not_match),
    // Comparison and null checks.
    ("is_equal", is_equal),
    ("not_equal", not_equal),
    ("is_not_equal", not_equal),
    ("less_than", less_than),
    ("less_than_or_equal", less_than_or_equal),
    ("greater_than", greater_than),
    ("greater_than_or_equal", greater_than_or_equal),
    ("is_null", is_null),
    ("not_null", not_null),
    ("is_not_null", not_null),
    // Logic.
    ("and", and),
    ("or", or),
    ("not", not),
    // Collections.
    ("length", length),
    ("at", at),
    ("contains", contains),
    ("is_in", contains),
    ("does_not_contain", does_not_contain),
    ("not_in", does_not_contain),
    ("is_not_in", does_not_contain),
    ("contains_any_of", contains_any_of),
    ("contains_none_of", contains_none_of),
    ("is_empty", is_empty),
    ("not_empty", not_empty),
    ("is_not_empty", not_empty),
    ("compact", compact),
    ("drop_nulls", drop_nulls),
    ("flatten", flatten),
    ("unique", unique),
    ("union", union),
    ("intersection", intersection),
    ("difference", difference),
    ("symmetric_difference", symmetric_difference),
    ("zip", zip),
    ("iter_product", iter_product),
    ("range", range),
    ("zip_map", zip_map),
    // Math.
    ("add", add),
    ("sub", sub),
    ("mul", mul),
    ("div", div),
    ("mod", modulo),
    ("pow", pow),
    ("sum", sum),
    ("min", min),
    ("max", max),
    // Objects.
    ("lookup", lookup),
    ("map_keys", map_keys),
    ("merge", merge),
    ("to_keys", to_keys),
    ("to_values", to_values),
    // JSON and YAML.
    ("is_json", is_json),
    ("deserialize_json", deserialize_json),
    ("deserialize_ndjson", deserialize_ndjson),
    ("deserialize_yaml", deserialize_yaml),
    ("serialize_json", serialize_json),
    ("serialize", serialize_json),
    ("prettify_json", prettify_json),
    // Encoding and hashing.
    ("to_base64", to_base64),
    ("from_base64", from_base64),
    ("to_base64url", to_base64url),
    ("from_base64url", from_base64url),
    ("hash_md5", hash_md5),
    ("hash_sha1", hash_sha1),
    ("hash_sha256", hash_sha256),
    ("hash_sha512", hash_sha512),
    // IP addresses.
    ("check_ip_version", check_ip_version),
    ("ipv4_in_subnet", ipv4_in_subnet),
    ("ipv6_in_subnet", ipv6_in_subnet),
    ("ipv4_is_public", ipv4_is_public),
    ("ipv6_is_public", ipv6_is_public),
];

/// Names of all registered functions, in registry order.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS.iter().map(|(name, _)| *name)
}

fn lookup_fn(name: &str) -> Option<Func> {
    FUNCTIONS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Whether `FN.<name>` exists.
pub(crate) fn exists(name: &str) -> bool {
    lookup_fn(name).is_some()
}

/// Calls `FN.<name>(args)`.
pub(crate) fn call(name: &str, args: &[Value]) -> Result<Value, ExprError> {
    let f = lookup_fn(name).ok_or_else(|| ExprError::UnknownFunction { name: name.to_owned() })?;
    f(args)
}

/// Calls `FN.<name>.map(args)`: list arguments are zipped to the shortest, every other argument
/// (strings and dicts included) is repeated; with no list argument the result is `[f(args)]`.
pub(crate) fn call_map(name: &str, args: &[Value]) -> Result<Value, ExprError> {
    let f = lookup_fn(name).ok_or_else(|| ExprError::UnknownFunction { name: name.to_owned() })?;
    let len = args
        .iter()
        .filter_map(|a| match a {
            Value::Array(items) => Some(items.len()),
            _ => None,
        })
        .min();
    let Some(len) = len else {
        return Ok(Value::Array(vec![f(args)?]));
    };
    let mut out = Vec::with_capacity(len);
    for i in 0..len {
        let row: Vec<Value> = args
            .iter()
            .map(|a| match a {
                Value::Array(items) => items[i].clone(),
                other => other.clone(),
            })
            .collect();
        out.push(f(&row)?);
    }
    Ok(Value::Array(out))
}

// ---- argument helpers ----

fn arity(args: &[Value], min: usize, max: usize) -> Result<(), ExprError> {
    if (min..=max).contains(&args.len()) {
        return Ok(());
    }
    let expected = if min == max {
        format!("{min} argument{}", if min == 1 { "" } else { "s" })
    } else if max == usize::MAX {
        format!("at least {min} argument{}", if min == 1 { "" } else { "s" })
    } else {
        format!("{min} to {max} arguments")
    };
    Err(ExprError::Type { msg: format!("takes {expected} but {} were given", args.len()) })
}

fn wrong_type(i: usize, want: &str, got: &Value) -> ExprError {
    ExprError::Type {
        msg: format!("argument {} must be {want}, not {}", i + 1, typename(got)),
    }
}

fn str_at(args: &[Value], i: usize) -> Result<&str, ExprError> {
    match &args[i] {
        Value::String(s) => Ok(s),
        other => Err(wrong_type(i, "str", other)),
    }
}

fn opt_str_at(args: &[Value], i: usize) -> Result<Option<&str>, ExprError> {
    match args.get(i) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => str_at(args, i).map(Some),
    }
}

fn list_at(args: &[Value], i: usize) -> Result<&Vec<Value>, ExprError> {
    match &args[i] {
        Value::Array(items) => Ok(items),
        other => Err(wrong_type(i, "list", other)),
    }
}

fn dict_at(args: &[Value], i: usize) -> Result<&Map<String, Value>, ExprError> {
    match &args[i] {
        Value::Object(map) => Ok(map),
        other => Err(wrong_type(i, "dict", other)),
    }
}

fn int_at(args: &[Value], i: usize) -> Result<i64, ExprError> {
    match (&args[i], Num::of(&args[i])) {
        (Value::Number(_) | Value::Bool(_), Some(Num::Int(n))) => {
            i64::try_from(n).map_err(|_| ExprError::Overflow { value: n.to_string() })
        }
        (other, _) => Err(wrong_type(i, "int", other)),
    }
}

fn string(s: impl Into<String>) -> Result<Value, ExprError> {
    Ok(Value::String(s.into()))
}

fn boolean(b: bool) -> Result<Value, ExprError> {
    Ok(Value::Bool(b))
}

fn value_error(msg: impl Into<String>) -> ExprError {
    ExprError::Value { msg: msg.into() }
}

// ---- strings ----

fn capitalize(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let s = str_at(args, 0)?;
    let mut chars = s.chars();
    let out = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars.as_str().to_lowercase().chars()).collect(),
        None => String::new(),
    };
    string(out)
}

fn titleize(args: &[Value]) -> Result<Value, ExprError> {
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

fn uppercase(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    string(str_at(args, 0)?.to_uppercase())
}

fn lowercase(args: &[Value]) -> Result<Value, ExprError> {
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
                msg: format!("sequence item {i}: expected str instance, {} found", typename(other)),
            }),
        })
        .collect()
}

fn concat(args: &[Value]) -> Result<Value, ExprError> {
    string(str_items(args)?.concat())
}

/// Python `str.format` with positional fields: `{}`, `{0}`, `{{`, `}}`; a format spec is
/// supported for the common `:.Nf` and `:d` forms.
fn format(args: &[Value]) -> Result<Value, ExprError> {
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
                        value_error(format!("format field '{{{field}}}' is not supported; use {{}} or {{0}}"))
                    })?
                };
                let v = values.get(index).ok_or_else(|| {
                    value_error(format!("Replacement index {index} out of range for positional args tuple"))
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

fn join(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let items = str_items(list_at(args, 0)?)?;
    let sep = unescape_separator(opt_str_at(args, 1)?.unwrap_or(""));
    string(items.join(&sep))
}

fn split(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let s = str_at(args, 0)?;
    let parts: Vec<Value> = match opt_str_at(args, 1)? {
        None => s.split_whitespace().map(|p| Value::String(p.to_owned())).collect(),
        Some("") => return Err(value_error("empty separator")),
        Some(sep) => s.split(sep).map(|p| Value::String(p.to_owned())).collect(),
    };
    Ok(Value::Array(parts))
}

fn strip(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let s = str_at(args, 0)?;
    match opt_str_at(args, 1)? {
        None => string(s.trim()),
        Some(chars) => string(s.trim_matches(|c| chars.contains(c))),
    }
}

fn replace(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 3, 3)?;
    string(str_at(args, 0)?.replace(str_at(args, 1)?, str_at(args, 2)?))
}

fn slice(args: &[Value]) -> Result<Value, ExprError> {
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
        Value::String(if before { format!("{affix}{s}") } else { format!("{s}{affix}") })
    };
    Ok(match &args[0] {
        Value::Array(items) => Value::Array(items.iter().map(apply).collect()),
        other => apply(other),
    })
}

fn prefix(args: &[Value]) -> Result<Value, ExprError> {
    affix(args, true)
}

fn suffix(args: &[Value]) -> Result<Value, ExprError> {
    affix(args, false)
}

fn startswith(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    boolean(str_at(args, 0)?.starts_with(str_at(args, 1)?))
}

fn endswith(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    boolean(str_at(args, 0)?.ends_with(str_at(args, 1)?))
}

fn slugify(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let sep = opt_str_at(args, 1)?.unwrap_or("-");
    string(crate::dsl::slugify(str_at(args, 0)?, sep))
}

/// Python `urllib.parse.quote(x, safe)`: everything but `A-Za-z0-9_.-~` and `safe` is escaped.
fn url_encode(args: &[Value]) -> Result<Value, ExprError> {
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
fn url_decode(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let bytes = str_at(args, 0)?.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
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

// ---- regex ----

fn compile(pattern: &str) -> Result<Regex, ExprError> {
    Regex::new(pattern)
        .map_err(|e| value_error(format!("invalid regular expression {}: {e}", repr_str(pattern))))
}

fn regex_extract(args: &[Value]) -> Result<Value, ExprError> {
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

fn regex_match(args: &[Value]) -> Result<Value, ExprError> {
    boolean(anchored_match(args)?)
}

fn regex_not_match(args: &[Value]) -> Result<Value, ExprError> {
    boolean(!anchored_match(args)?)
}

// ---- comparison, null checks, logic ----

fn is_equal(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    boolean(py_eq(&args[0], &args[1]))
}

fn not_equal(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    boolean(!py_eq(&args[0], &args[1]))
}

fn ordered(args: &[Value], op: &str, want: &[std::cmp::Ordering]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    boolean(want.contains(&py_cmp(&args[0], &args[1], op)?))
}

fn less_than(args: &[Value]) -> Result<Value, ExprError> {
    ordered(args, "<", &[std::cmp::Ordering::Less])
}

fn less_than_or_equal(args: &[Value]) -> Result<Value, ExprError> {
    ordered(args, "<=", &[std::cmp::Ordering::Less, std::cmp::Ordering::Equal])
}

fn greater_than(args: &[Value]) -> Result<Value, ExprError> {
    ordered(args, ">", &[std::cmp::Ordering::Greater])
}

fn greater_than_or_equal(args: &[Value]) -> Result<Value, ExprError> {
    ordered(args, ">=", &[std::cmp::Ordering::Greater, std::cmp::Ordering::Equal])
}

fn is_null(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    boolean(args[0].is_null())
}

fn not_null(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    boolean(!args[0].is_null())
}

fn and(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    Ok(if truthy(&args[0]) { args[1].clone() } else { args[0].clone() })
}

fn or(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    Ok(if truthy(&args[0]) { args[0].clone() } else { args[1].clone() })
}

fn not(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    boolean(!truthy(&args[0]))
}

// ---- collections ----

fn length(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    Ok(Value::from(py_len(&args[0])?))
}

fn at(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_index(&args[0], &args[1])
}

fn contains(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    boolean(py_contains(&args[1], &args[0])?)
}

fn does_not_contain(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    boolean(!py_contains(&args[1], &args[0])?)
}

fn any_contained(args: &[Value]) -> Result<bool, ExprError> {
    arity(args, 2, 2)?;
    for item in list_at(args, 1)? {
        if py_contains(&args[0], item)? {
            return Ok(true);
        }
    }
    Ok(false)
}

fn contains_any_of(args: &[Value]) -> Result<Value, ExprError> {
    boolean(any_contained(args)?)
}

fn contains_none_of(args: &[Value]) -> Result<Value, ExprError> {
    boolean(!any_contained(args)?)
}

fn is_empty(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    boolean(py_len(&args[0])? == 0)
}

fn not_empty(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    boolean(py_len(&args[0])? > 0)
}

fn compact(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    Ok(Value::Array(list_at(args, 0)?.iter().filter(|v| !v.is_null()).cloned().collect()))
}

fn drop_nulls(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let keep = |v: &&Value| !v.is_null() && v.as_str() != Some("");
    Ok(Value::Array(list_at(args, 0)?.iter().filter(keep).cloned().collect()))
}

fn flatten_into(items: &[Value], out: &mut Vec<Value>) {
    for item in items {
        match item {
            Value::Array(inner) => flatten_into(inner, out),
            other => out.push(other.clone()),
        }
    }
}

fn flatten(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let mut out = Vec::new();
    flatten_into(list_at(args, 0)?, &mut out);
    Ok(Value::Array(out))
}

/// Set elements must be hashable in Python; lists and dicts are not.
fn hashable(items: &[Value]) -> Result<(), ExprError> {
    match items.iter().find(|v| v.is_array() || v.is_object()) {
        Some(v) => Err(ExprError::Type { msg: format!("unhashable type: '{}'", typename(v)) }),
        None => Ok(()),
    }
}

/// Python sets do not keep order; ferrocat keeps first-occurrence order so runs are reproducible.
fn dedupe(items: impl IntoIterator<Item = Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for v in items {
        if !out.iter().any(|o| py_eq(o, &v)) {
            out.push(v);
        }
    }
    out
}

fn lists(args: &[Value]) -> Result<Vec<&Vec<Value>>, ExprError> {
    let lists = (0..args.len()).map(|i| list_at(args, i)).collect::<Result<Vec<_>, _>>()?;
    for l in &lists {
        hashable(l)?;
    }
    Ok(lists)
}

fn unique(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let items = lists(args)?[0];
    Ok(Value::Array(dedupe(items.iter().cloned())))
}

fn union(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, usize::MAX)?;
    Ok(Value::Array(dedupe(lists(args)?.into_iter().flatten().cloned())))
}

fn has(list: &[Value], v: &Value) -> bool {
    list.iter().any(|x| py_eq(x, v))
}

fn intersection(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, usize::MAX)?;
    let all = lists(args)?;
    let kept = all[0].iter().filter(|v| all[1..].iter().all(|l| has(l, v))).cloned();
    Ok(Value::Array(dedupe(kept)))
}

fn difference(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, usize::MAX)?;
    let all = lists(args)?;
    let kept = all[0].iter().filter(|v| !all[1..].iter().any(|l| has(l, v))).cloned();
    Ok(Value::Array(dedupe(kept)))
}

fn symmetric_difference(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let all = lists(args)?;
    let (a, b) = (all[0], all[1]);
    let kept = a.iter().filter(|v| !has(b, v)).chain(b.iter().filter(|v| !has(a, v))).cloned();
    Ok(Value::Array(dedupe(kept)))
}

fn zip(args: &[Value]) -> Result<Value, ExprError> {
    let all = (0..args.len()).map(|i| list_at(args, i)).collect::<Result<Vec<_>, _>>()?;
    let len = all.iter().map(|l| l.len()).min().unwrap_or(0);
    let rows = (0..len).map(|i| Value::Array(all.iter().map(|l| l[i].clone()).collect()));
    Ok(Value::Array(rows.collect()))
}

/// Largest list `range` and `iter_product` may build; bounds memory for hostile input.
const MAX_GENERATED: usize = 1_000_000;

fn iter_product(args: &[Value]) -> Result<Value, ExprError> {
    let all = (0..args.len()).map(|i| list_at(args, i)).collect::<Result<Vec<_>, _>>()?;
    let total = all.iter().try_fold(1usize, |acc, l| acc.checked_mul(l.len()));
    if total.is_none_or(|t| t > MAX_GENERATED) {
        return Err(value_error(format!("product would exceed {MAX_GENERATED} items")));
    }
    let mut rows: Vec<Vec<Value>> = vec![Vec::new()];
    for list in all {
        rows = rows
            .into_iter()
            .flat_map(|row| {
                list.iter().map(move |v| {
                    let mut next = row.clone();
                    next.push(v.clone());
                    next
                })
            })
            .collect();
    }
    Ok(Value::Array(rows.into_iter().map(Value::Array).collect()))
}

fn range(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 3)?;
    let (start, end) = if args.len() == 1 { (0, int_at(args, 0)?) } else { (int_at(args, 0)?, int_at(args, 1)?) };
    let step = if args.len() == 3 { int_at(args, 2)? } else { 1 };
    if step == 0 {
        return Err(value_error("range() arg 3 must not be zero"));
    }
    let span = if step > 0 { i128::from(end) - i128::from(start) } else { i128::from(start) - i128::from(end) };
    let count = if span <= 0 { 0 } else { (span + i128::from(step.unsigned_abs()) - 1) / i128::from(step.unsigned_abs()) };
    if count > MAX_GENERATED as i128 {
        return Err(value_error(format!("range would exceed {MAX_GENERATED} items")));
    }
    let items = (0..count).map(|k| int_value(i128::from(start) + k * i128::from(step)));
    Ok(Value::Array(items.collect::<Result<_, _>>()?))
}

fn zip_map(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let keys = list_at(args, 0)?;
    let values = list_at(args, 1)?;
    Ok(Value::Object(keys.iter().zip(values).map(|(k, v)| (key_string(k), v.clone())).collect()))
}

// ---- math ----

fn add(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_add(&args[0], &args[1])
}

fn sub(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_sub(&args[0], &args[1])
}

fn mul(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_mul(&args[0], &args[1])
}

fn div(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_div(&args[0], &args[1])
}

fn modulo(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_mod(&args[0], &args[1])
}

fn pow(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_pow(&args[0], &args[1])
}

fn sum(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let start = args.get(1).cloned().unwrap_or(Value::from(0));
    list_at(args, 0)?.iter().try_fold(start, |acc, v| py_add(&acc, v))
}

fn extreme(args: &[Value], name: &str, want: std::cmp::Ordering) -> Result<Value, ExprError> {
    arity(args, 1, usize::MAX)?;
    let items: &[Value] = if args.len() == 1 { list_at(args, 0)? } else { args };
    let mut best = items
        .first()
        .ok_or_else(|| value_error(format!("{name}() arg is an empty sequence")))?;
    for v in &items[1..] {
        if py_cmp(v, best, if name == "min" { "<" } else { ">" })? == want {
            best = v;
        }
    }
    Ok(best.clone())
}

fn min(args: &[Value]) -> Result<Value, ExprError> {
    extreme(args, "min", std::cmp::Ordering::Less)
}

fn max(args: &[Value]) -> Result<Value, ExprError> {
    extreme(args, "max", std::cmp::Ordering::Greater)
}

// ---- objects ----

fn lookup(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 3)?;
    let map = dict_at(args, 0)?;
    let default = args.get(2).cloned().unwrap_or(Value::Null);
    Ok(match &args[1] {
        Value::String(k) => map.get(k).cloned().unwrap_or(default),
        _ => default,
    })
}

fn map_keys(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let map = dict_at(args, 0)?;
    let mapping = dict_at(args, 1)?;
    let mut out = Map::new();
    for (k, v) in map {
        let new_key = mapping.get(k).ok_or_else(|| ExprError::KeyNotFound { key: k.clone() })?;
        out.insert(key_string(new_key), v.clone());
    }
    Ok(Value::Object(out))
}

fn merge(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, usize::MAX)?;
    let dicts: Vec<&Value> = match (&args[0], args.len()) {
        (Value::Array(items), 1) => items.iter().collect(),
        _ => args.iter().collect(),
    };
    let mut out = Map::new();
    for (i, d) in dicts.into_iter().enumerate() {
        match d {
            Value::Object(m) => out.extend(m.iter().map(|(k, v)| (k.clone(), v.clone()))),
            other => return Err(wrong_type(i, "dict", other)),
        }
    }
    Ok(Value::Object(out))
}

fn to_keys(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    Ok(Value::Array(dict_at(args, 0)?.keys().map(|k| Value::String(k.clone())).collect()))
}

fn to_values(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    Ok(Value::Array(dict_at(args, 0)?.values().cloned().collect()))
}

// ---- JSON / YAML ----

fn is_json(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    boolean(args[0].as_str().is_some_and(|s| serde_json::from_str::<Value>(s).is_ok()))
}

fn parse_json(s: &str) -> Result<Value, ExprError> {
    serde_json::from_str(s).map_err(|e| value_error(format!("invalid JSON {}: {e}", repr_str(s))))
}

fn deserialize_json(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    parse_json(str_at(args, 0)?)
}

fn deserialize_ndjson(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let lines = str_at(args, 0)?.lines().filter(|l| !l.trim().is_empty());
    Ok(Value::Array(lines.map(parse_json).collect::<Result<_, _>>()?))
}

fn deserialize_yaml(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let s = str_at(args, 0)?;
    serde_yaml::from_str(s).map_err(|e| value_error(format!("invalid YAML: {e}")))
}

fn serialize_json(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    serde_json::to_string(&args[0]).map(Value::String).map_err(|e| value_error(e.to_string()))
}

fn prettify_json(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    serde_json::to_string_pretty(&args[0]).map(Value::String).map_err(|e| value_error(e.to_string()))
}

// ---- encoding and hashing ----

fn to_base64(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    string(STANDARD.encode(str_at(args, 0)?))
}

fn decoded_text(bytes: Result<Vec<u8>, base64::DecodeError>, input: &str) -> Result<Value, ExprError> {
    let bytes = bytes.map_err(|e| value_error(format!("invalid base64 {}: {e}", repr_str(input))))?;
    String::from_utf8(bytes)
        .map(Value::String)
        .map_err(|_| value_error(format!("base64 {} does not decode to UTF-8 text", repr_str(input))))
}

fn from_base64(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let s = str_at(args, 0)?;
    decoded_text(STANDARD.decode(s.trim()), s)
}

fn to_base64url(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    string(URL_SAFE.encode(str_at(args, 0)?))
}

fn from_base64url(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let s = str_at(args, 0)?;
    // Accept input with or without `=` padding.
    decoded_text(URL_SAFE_NO_PAD.decode(s.trim().trim_end_matches('=')), s)
}

fn hash_md5(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    use md5::Digest as _;
    string(hex::encode(md5::Md5::digest(str_at(args, 0)?.as_bytes())))
}

fn hash_sha1(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    use sha1::Digest as _;
    string(hex::encode(sha1::Sha1::digest(str_at(args, 0)?.as_bytes())))
}

fn hash_sha256(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    use sha2::Digest as _;
    string(hex::encode(sha2::Sha256::digest(str_at(args, 0)?.as_bytes())))
}

fn hash_sha512(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    use sha2::Digest as _;
    string(hex::encode(sha2::Sha512::digest(str_at(args, 0)?.as_bytes())))
}

// ---- IP addresses ----

fn ip_at(args: &[Value], i: usize) -> Result<IpAddr, ExprError> {
    let s = str_at(args, i)?;
    s.parse()
        .map_err(|_| value_error(format!("{} does not appear to be an IPv4 or IPv6 address", repr_str(s))))
}

fn check_ip_version(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    Ok(Value::from(if ip_at(args, 0)?.is_ipv4() { 4 } else { 6 }))
}

/// Parses `addr/prefix` strictly, as Python's `ip_network` does (host bits must be zero).
fn network(s: &str) -> Result<(IpAddr, u32), ExprError> {
    let bad = || value_error(format!("{} does not appear to be an IPv4 or IPv6 network", repr_str(s)));
    let (addr, prefix) = s.split_once('/').map_or((s, None), |(a, p)| (a, Some(p)));
    let addr: IpAddr = addr.parse().map_err(|_| bad())?;
    let bits = if addr.is_ipv4() { 32 } else { 128 };
    let prefix = match prefix {
        Some(p) => p.parse::<u32>().ok().filter(|p| *p <= bits).ok_or_else(bad)?,
        None => bits,
    };
    if ip_bits(addr) & !mask(prefix, bits) != 0 {
        return Err(value_error(format!("{} has host bits set", repr_str(s))));
    }
    Ok((addr, prefix))
}

fn ip_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

fn mask(prefix: u32, bits: u32) -> u128 {
    let all = if bits == 128 { u128::MAX } else { (1u128 << bits) - 1 };
    if prefix == 0 { 0 } else { all & !((1u128 << (bits - prefix)) - 1) }
}

fn in_subnet(args: &[Value], v4: bool) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let ip = ip_at(args, 0)?;
    let (net, prefix) = network(str_at(args, 1)?)?;
    if ip.is_ipv4() != v4 || net.is_ipv4() != v4 {
        let want = if v4 { "IPv4" } else { "IPv6" };
        return Err(value_error(format!("both arguments must be {want}")));
    }
    let bits = if v4 { 32 } else { 128 };
    let m = mask(prefix, bits);
    boolean(ip_bits(ip) & m == ip_bits(net) & m)
}

fn ipv4_in_subnet(args: &[Value]) -> Result<Value, ExprError> {
    in_subnet(args, true)
}

fn ipv6_in_subnet(args: &[Value]) -> Result<Value, ExprError> {
    in_subnet(args, false)
}

fn within(addr: u128, net: u128, prefix: u32, bits: u32) -> bool {
    let m = mask(prefix, bits);
    addr & m == net & m
}

/// Python's `IPv4Address.is_global`, after the IANA special-purpose registry.
fn ipv4_global(a: Ipv4Addr) -> bool {
    let x = u128::from(u32::from(a));
    let net = |s: [u8; 4]| u128::from(u32::from(Ipv4Addr::from(s)));
    let special: [([u8; 4], u32); 16] = [
        ([0, 0, 0, 0], 8),
        ([10, 0, 0, 0], 8),
        ([100, 64, 0, 0], 10),
        ([127, 0, 0, 0], 8),
        ([169, 254, 0, 0], 16),
        ([172, 16, 0, 0], 12),
        ([192, 0, 0, 0], 24),
        ([192, 0, 2, 0], 24),
        ([192, 168, 0, 0], 16),
        ([198, 18, 0, 0], 15),
        ([198, 51, 100, 0], 24),
        ([203, 0, 113, 0], 24),
        ([240, 0, 0, 0], 4),
        ([255, 255, 255, 255], 32),
        ([192, 88, 99, 0], 24),
        ([224, 0, 0, 0], 4),
    ];
    // 192.0.0.9 and 192.0.0.10 are globally reachable exceptions inside 192.0.0.0/24.
    if a.octets()[..3] == [192, 0, 0] && matches!(a.octets()[3], 9 | 10) {
        return true;
    }
    !special.iter().any(|(n, p)| within(x, net(*n), *p, 32))
}

/// Python's `IPv6Address.is_global`, after the IANA special-purpose registry.
fn ipv6_global(a: Ipv6Addr) -> bool {
    let x = u128::from(a);
    let net = |s: &str| s.parse::<Ipv6Addr>().map(u128::from).unwrap_or(0);
    let special: [(&str, u32); 12] = [
        ("::", 128),
        ("::1", 128),
        ("::ffff:0:0", 96),
        ("64:ff9b:1::", 48),
        ("100::", 64),
        ("2001::", 23),
        ("2001:db8::", 32),
        ("2002::", 16),
        ("fc00::", 7),
        ("fe80::", 10),
        ("ff00::", 8),
        ("3fff::", 20),
    ];
    !special.iter().any(|(n, p)| within(x, net(n), *p, 128))
}

fn ipv4_is_public(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    match ip_at(args, 0)? {
        IpAddr::V4(a) => boolean(ipv4_global(a)),
        IpAddr::V6(_) => Err(value_error("expected an IPv4 address")),
    }
}

fn ipv6_is_public(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    match ip_at(args, 0)? {
        IpAddr::V6(a) => boolean(ipv6_global(a)),
        IpAddr::V4(_) => Err(value_error("expected an IPv6 address")),
    }
}
