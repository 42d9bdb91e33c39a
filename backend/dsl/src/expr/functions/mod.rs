//! The `FN.*` function library: strings, regex, comparisons, logic, collections, math, objects,
//! tables and formatting, JSON/YAML/CSV, time, encoding/hashing, IP helpers and IOC extraction,
//! plus `.map` broadcasting.
//!
//! Functions run inside replayed workflow code, so they are deterministic: the clock functions
//! (`now`, `utcnow`, `today`, `wall_clock`) read the run's logical time from the context
//! instead of the clock. `uuid4` is the one random function (see `generators`).
//! One submodule per family; this module holds the registry, `.map` and argument helpers.

mod collections;
mod encoding;
mod generators;
mod iocs;
mod logic;
mod math;
mod net;
mod objects;
mod strings;
mod tables;
mod time;

use serde_json::{Map, Value};

use self::collections::*;
use self::encoding::*;
use self::generators::*;
use self::iocs::*;
use self::logic::*;
use self::math::*;
use self::net::*;
use self::objects::*;
use self::strings::*;
use self::tables::*;
use self::time::*;
use super::value::{Num, typename};
use super::{ExprContext, ExprError};

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
    ("flatten_dict", flatten_dict),
    ("tabulate", tabulate),
    // Formatting.
    ("to_markdown_list", to_markdown_list),
    ("to_markdown_table", to_markdown_table),
    ("to_markdown_tasks", to_markdown_tasks),
    // JSON, YAML and CSV.
    ("is_json", is_json),
    ("deserialize_json", deserialize_json),
    ("deserialize_ndjson", deserialize_ndjson),
    ("deserialize_yaml", deserialize_yaml),
    ("serialize_json", serialize_json),
    ("serialize", serialize_json),
    ("prettify_json", prettify_json),
    ("serialize_yaml", serialize_yaml),
    ("parse_csv", parse_csv),
    // Encoding and hashing.
    ("to_base64", to_base64),
    ("from_base64", from_base64),
    ("to_base64url", to_base64url),
    ("from_base64url", from_base64url),
    ("hash_md5", hash_md5),
    ("hash_sha1", hash_sha1),
    ("hash_sha256", hash_sha256),
    ("hash_sha512", hash_sha512),
    // Date and time (the clock functions are in `CONTEXT_FUNCTIONS`).
    ("to_datetime", to_datetime),
    ("to_isoformat", to_isoformat),
    ("format_datetime", format_datetime),
    ("parse_datetime", parse_datetime),
    ("to_timestamp", to_timestamp),
    ("from_timestamp", from_timestamp),
    ("datetime", datetime),
    ("get_second", get_second),
    ("get_minute", get_minute),
    ("get_hour", get_hour),
    ("get_day", get_day),
    ("get_year", get_year),
    ("get_day_of_week", get_day_of_week),
    ("get_month", get_month),
    ("seconds_between", seconds_between),
    ("minutes_between", minutes_between),
    ("hours_between", hours_between),
    ("days_between", days_between),
    ("weeks_between", weeks_between),
    ("parse_time", parse_time),
    ("to_time", to_time),
    ("set_timezone", set_timezone),
    ("unset_timezone", unset_timezone),
    ("windows_filetime", windows_filetime),
    ("is_working_hours", is_working_hours),
    ("seconds", seconds),
    ("minutes", minutes),
    ("hours", hours),
    ("days", days),
    ("weeks", weeks),
    // IP addresses.
    ("check_ip_version", check_ip_version),
    ("ipv4_in_subnet", ipv4_in_subnet),
    ("ipv6_in_subnet", ipv6_in_subnet),
    ("ipv4_is_public", ipv4_is_public),
    ("ipv6_is_public", ipv6_is_public),
    // IOC extraction.
    ("extract_asns", extract_asns),
    ("extract_cves", extract_cves),
    ("extract_domains", extract_domains),
    ("extract_emails", extract_emails),
    ("extract_md5", extract_md5),
    ("extract_sha1", extract_sha1),
    ("extract_sha256", extract_sha256),
    ("extract_sha512", extract_sha512),
    ("extract_ip", extract_ip),
    ("extract_ipv4", extract_ipv4),
    ("extract_ipv6", extract_ipv6),
    ("extract_mac", extract_mac),
    ("extract_urls", extract_urls),
    ("normalize_email", normalize_email),
    // Generators.
    ("uuid4", uuid4),
    ("get_interaction", get_interaction),
];

/// Names of all registered functions, in registry order.
pub fn function_names() -> impl Iterator<Item = &'static str> {
    FUNCTIONS
        .iter()
        .map(|(name, _)| *name)
        .chain(CONTEXT_FUNCTIONS.iter().map(|(name, _)| *name))
}

type CtxFunc = fn(&[Value], &ExprContext) -> Result<Value, ExprError>;

/// Functions that read the expression context: the current time is the workflow's logical time
/// from `ENV.workflow.logical_time`, never the wall clock, so replays see the same value.
static CONTEXT_FUNCTIONS: &[(&str, CtxFunc)] = &[
    ("now", now),
    ("utcnow", utcnow),
    ("today", today),
    ("wall_clock", wall_clock),
];

#[derive(Clone, Copy)]
enum Callable {
    Pure(Func),
    WithContext(CtxFunc),
}

impl Callable {
    fn invoke(self, args: &[Value], ctx: &ExprContext) -> Result<Value, ExprError> {
        match self {
            Callable::Pure(f) => f(args),
            Callable::WithContext(f) => f(args, ctx),
        }
    }
}

fn lookup_fn(name: &str) -> Option<Callable> {
    let pure = FUNCTIONS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| Callable::Pure(*f));
    pure.or_else(|| {
        CONTEXT_FUNCTIONS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, f)| Callable::WithContext(*f))
    })
}

/// Whether `FN.<name>` exists.
pub(crate) fn exists(name: &str) -> bool {
    lookup_fn(name).is_some()
}

/// Calls `FN.<name>(args)`.
pub(crate) fn call(name: &str, args: &[Value], ctx: &ExprContext) -> Result<Value, ExprError> {
    let f = lookup_fn(name).ok_or_else(|| ExprError::UnknownFunction {
        name: name.to_owned(),
    })?;
    f.invoke(args, ctx)
}

/// Calls `FN.<name>.map(args)`: list arguments are zipped to the shortest, every other argument
/// (strings and dicts included) is repeated; with no list argument the result is `[f(args)]`.
pub(crate) fn call_map(name: &str, args: &[Value], ctx: &ExprContext) -> Result<Value, ExprError> {
    let f = lookup_fn(name).ok_or_else(|| ExprError::UnknownFunction {
        name: name.to_owned(),
    })?;
    let len = args
        .iter()
        .filter_map(|a| match a {
            Value::Array(items) => Some(items.len()),
            _ => None,
        })
        .min();
    let Some(len) = len else {
        return Ok(Value::Array(vec![f.invoke(args, ctx)?]));
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
        out.push(f.invoke(&row, ctx)?);
    }
    Ok(Value::Array(out))
}

// ---- argument helpers ----

pub(super) fn arity(args: &[Value], min: usize, max: usize) -> Result<(), ExprError> {
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
    Err(ExprError::Type {
        msg: format!("takes {expected} but {} were given", args.len()),
    })
}

pub(super) fn wrong_type(i: usize, want: &str, got: &Value) -> ExprError {
    ExprError::Type {
        msg: format!("argument {} must be {want}, not {}", i + 1, typename(got)),
    }
}

pub(super) fn str_at(args: &[Value], i: usize) -> Result<&str, ExprError> {
    match &args[i] {
        Value::String(s) => Ok(s),
        other => Err(wrong_type(i, "str", other)),
    }
}

pub(super) fn opt_str_at(args: &[Value], i: usize) -> Result<Option<&str>, ExprError> {
    match args.get(i) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => str_at(args, i).map(Some),
    }
}

/// An optional flag: absent or `None` is `False`, as the Python defaults are.
pub(super) fn opt_bool_at(args: &[Value], i: usize) -> Result<bool, ExprError> {
    match args.get(i) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(wrong_type(i, "bool", other)),
    }
}

pub(super) fn list_at(args: &[Value], i: usize) -> Result<&Vec<Value>, ExprError> {
    match &args[i] {
        Value::Array(items) => Ok(items),
        other => Err(wrong_type(i, "list", other)),
    }
}

pub(super) fn dict_at(args: &[Value], i: usize) -> Result<&Map<String, Value>, ExprError> {
    match &args[i] {
        Value::Object(map) => Ok(map),
        other => Err(wrong_type(i, "dict", other)),
    }
}

pub(super) fn int_at(args: &[Value], i: usize) -> Result<i64, ExprError> {
    match (&args[i], Num::of(&args[i])) {
        (Value::Number(_) | Value::Bool(_), Some(Num::Int(n))) => {
            i64::try_from(n).map_err(|_| ExprError::Overflow {
                value: n.to_string(),
            })
        }
        (other, _) => Err(wrong_type(i, "int", other)),
    }
}

pub(super) fn string(s: impl Into<String>) -> Result<Value, ExprError> {
    Ok(Value::String(s.into()))
}

pub(super) fn boolean(b: bool) -> Result<Value, ExprError> {
    Ok(Value::Bool(b))
}

pub(super) fn value_error(msg: impl Into<String>) -> ExprError {
    ExprError::Value { msg: msg.into() }
}
