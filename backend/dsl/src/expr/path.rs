//! Evaluation of the jsonpath after a context name, with Tracecat's return-shape rules: one
//! match gives a scalar, a path written with `[*]`/`[?(`/`[?@` or several matches give a list,
//! and no match gives `None` (run-time evaluation is not strict).

use std::cmp::Ordering;

use regex::Regex;
use serde_json::{Map, Value};

use super::ast::{Filter, FilterOp, FilterOperand, JsonPath, PathSegment, Transform};
use super::value::{py_cmp, py_eq, py_len, python_str};

/// Evaluates `path` against a context map (`ACTIONS`, `SECRETS`, …) and shapes the result.
pub(crate) fn eval_in_map(map: &Map<String, Value>, path: &JsonPath) -> Value {
    let Some((first, rest)) = path.segments.split_first() else {
        return Value::Object(map.clone());
    };
    if let PathSegment::Transform(_) = first {
        return eval_in_value(&Value::Object(map.clone()), path);
    }
    let start = apply_to_map(map, first);
    shape(find_owned(start, rest), path.always_list)
}

/// Evaluates `path` against a value (`TRIGGER`) and shapes the result.
pub(crate) fn eval_in_value(value: &Value, path: &JsonPath) -> Value {
    shape(find_owned(vec![value], &path.segments), path.always_list)
}

fn shape(matches: Vec<Value>, always_list: bool) -> Value {
    if always_list || matches.len() > 1 {
        Value::Array(matches)
    } else {
        matches.into_iter().next().unwrap_or(Value::Null)
    }
}

/// Like `find_all`, but applies backtick transforms, which produce new values.
fn find_owned(current: Vec<&Value>, segments: &[PathSegment]) -> Vec<Value> {
    let Some(pos) = segments
        .iter()
        .position(|s| matches!(s, PathSegment::Transform(_)))
    else {
        return find_all(current, segments).into_iter().cloned().collect();
    };
    let PathSegment::Transform(t) = &segments[pos] else {
        return Vec::new();
    };
    let transformed: Vec<Value> = find_all(current, &segments[..pos])
        .into_iter()
        .filter_map(|v| transform(t, v))
        .collect();
    transformed
        .iter()
        .flat_map(|v| find_owned(vec![v], &segments[pos + 1..]))
        .collect()
}

fn transform(t: &Transform, v: &Value) -> Option<Value> {
    match (t, v) {
        (
            Transform::Sub {
                pattern,
                replacement,
            },
            Value::String(s),
        ) => {
            let re = Regex::new(pattern).ok()?;
            Some(Value::String(
                re.replace_all(s, replacement.as_str()).into_owned(),
            ))
        }
        (Transform::Len, _) => py_len(v).ok().map(Value::from),
        (Transform::Str, _) => Some(Value::String(python_str(v))),
        (
            Transform::Split {
                sep,
                index,
                maxsplit,
            },
            Value::String(s),
        ) => {
            let parts: Vec<&str> = match usize::try_from(*maxsplit) {
                Ok(n) => s.splitn(n + 1, sep.as_str()).collect(),
                Err(_) => s.split(sep.as_str()).collect(),
            };
            let len = i64::try_from(parts.len()).ok()?;
            let i = if *index < 0 { index + len } else { *index };
            usize::try_from(i)
                .ok()
                .and_then(|i| parts.get(i))
                .map(|p| Value::String((*p).to_owned()))
        }
        _ => None,
    }
}

fn find_all<'a>(mut current: Vec<&'a Value>, segments: &[PathSegment]) -> Vec<&'a Value> {
    for segment in segments {
        current = current
            .into_iter()
            .flat_map(|v| apply(v, segment))
            .collect();
        if current.is_empty() {
            break;
        }
    }
    current
}

/// The first segment applied to a context map, which is not itself a `Value`.
fn apply_to_map<'a>(map: &'a Map<String, Value>, segment: &PathSegment) -> Vec<&'a Value> {
    match segment {
        PathSegment::Key(k) => map.get(k).into_iter().collect(),
        PathSegment::Wildcard => map.values().collect(),
        // Transforms are applied by `find_owned`, never on the context map itself.
        PathSegment::Index(_) | PathSegment::Slice(..) | PathSegment::Transform(_) => Vec::new(),
        PathSegment::Descendant(name) => {
            let mut out = Vec::new();
            if name == "*" {
                for v in map.values() {
                    out.push(v);
                    descend(v, &mut out);
                }
            } else {
                if let Some(v) = map.get(name) {
                    out.push(v);
                }
                for v in map.values() {
                    collect_named(v, name, &mut out);
                }
            }
            out
        }
        PathSegment::Filter(f) => map.values().filter(|v| filter_matches(f, v)).collect(),
    }
}

fn apply<'a>(value: &'a Value, segment: &PathSegment) -> Vec<&'a Value> {
    match (segment, value) {
        (PathSegment::Key(k), Value::Object(map)) => map.get(k).into_iter().collect(),
        (PathSegment::Index(i), Value::Array(items)) => resolve_index(*i, items.len())
            .map(|i| &items[i])
            .into_iter()
            .collect(),
        (PathSegment::Wildcard, Value::Array(items)) => items.iter().collect(),
        (PathSegment::Wildcard, Value::Object(map)) => map.values().collect(),
        (PathSegment::Slice(start, end), Value::Array(items)) => {
            let (s, e) = slice_bounds(*start, *end, items.len());
            items[s..e].iter().collect()
        }
        (PathSegment::Descendant(name), _) => {
            let mut out = Vec::new();
            if name == "*" {
                descend(value, &mut out);
            } else {
                collect_named(value, name, &mut out);
            }
            out
        }
        (PathSegment::Filter(f), Value::Array(items)) => {
            items.iter().filter(|v| filter_matches(f, v)).collect()
        }
        (PathSegment::Filter(f), Value::Object(map)) => {
            map.values().filter(|v| filter_matches(f, v)).collect()
        }
        _ => Vec::new(),
    }
}

/// `..name`: the node's own `name` child, then the same for every descendant, in document order.
fn collect_named<'a>(value: &'a Value, name: &str, out: &mut Vec<&'a Value>) {
    if let Value::Object(map) = value
        && let Some(v) = map.get(name)
    {
        out.push(v);
    }
    match value {
        Value::Object(map) => map.values().for_each(|v| collect_named(v, name, out)),
        Value::Array(items) => items.iter().for_each(|v| collect_named(v, name, out)),
        _ => {}
    }
}

/// `..*`: every descendant of `value`, in document order.
fn descend<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    let children: Box<dyn Iterator<Item = &'a Value>> = match value {
        Value::Object(map) => Box::new(map.values()),
        Value::Array(items) => Box::new(items.iter()),
        _ => return,
    };
    for child in children {
        out.push(child);
        descend(child, out);
    }
}

fn resolve_index(i: i64, len: usize) -> Option<usize> {
    let len = i64::try_from(len).ok()?;
    let r = if i < 0 { i + len } else { i };
    if (0..len).contains(&r) {
        usize::try_from(r).ok()
    } else {
        None
    }
}

/// Python slice bounds for a step of 1.
pub(crate) fn slice_bounds(start: Option<i64>, end: Option<i64>, len: usize) -> (usize, usize) {
    let len_i = i64::try_from(len).unwrap_or(i64::MAX);
    let clamp = |x: i64| -> usize {
        let r = if x < 0 {
            (x + len_i).max(0)
        } else {
            x.min(len_i)
        };
        usize::try_from(r).unwrap_or(0)
    };
    let s = start.map_or(0, clamp);
    let e = end.map_or(len, clamp);
    (s, e.max(s))
}

fn filter_matches(filter: &Filter, item: &Value) -> bool {
    filter.conditions.iter().all(|cond| {
        let left = operand_values(&cond.left, item);
        match &cond.compare {
            // jsonpath-ng: without an operator the operand only has to exist (even as null/false).
            None => !left.is_empty(),
            Some((op, right)) => {
                let right = operand_values(right, item);
                left.iter()
                    .any(|l| right.iter().any(|r| compare(*op, l, r)))
            }
        }
    })
}

fn operand_values<'a>(op: &'a FilterOperand, item: &'a Value) -> Vec<&'a Value> {
    match op {
        FilterOperand::Literal(v) => vec![v],
        FilterOperand::Path(segments) => find_all(vec![item], segments),
    }
}

fn compare(op: FilterOp, l: &Value, r: &Value) -> bool {
    let ord = |want: &[Ordering]| py_cmp(l, r, "<").is_ok_and(|o| want.contains(&o));
    match op {
        FilterOp::Eq => py_eq(l, r),
        FilterOp::Ne => !py_eq(l, r),
        FilterOp::Lt => ord(&[Ordering::Less]),
        FilterOp::Le => ord(&[Ordering::Less, Ordering::Equal]),
        FilterOp::Gt => ord(&[Ordering::Greater]),
        FilterOp::Ge => ord(&[Ordering::Greater, Ordering::Equal]),
        FilterOp::Regex => match (l, r) {
            (Value::String(text), Value::String(pattern)) => {
                Regex::new(pattern).is_ok_and(|re| re.is_match(text))
            }
            _ => false,
        },
    }
}
