//! Collection functions: membership, emptiness, set operations (order-preserving), zips, ranges.

use serde_json::Value;

use super::{arity, boolean, int_at, list_at, value_error};
use crate::expr::ExprError;
use crate::expr::value::{int_value, key_string, py_contains, py_eq, py_index, py_len, typename};

pub(super) fn length(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    Ok(Value::from(py_len(&args[0])?))
}

pub(super) fn at(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_index(&args[0], &args[1])
}

pub(super) fn contains(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    boolean(py_contains(&args[1], &args[0])?)
}

pub(super) fn does_not_contain(args: &[Value]) -> Result<Value, ExprError> {
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

pub(super) fn contains_any_of(args: &[Value]) -> Result<Value, ExprError> {
    boolean(any_contained(args)?)
}

pub(super) fn contains_none_of(args: &[Value]) -> Result<Value, ExprError> {
    boolean(!any_contained(args)?)
}

pub(super) fn is_empty(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    boolean(py_len(&args[0])? == 0)
}

pub(super) fn not_empty(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    boolean(py_len(&args[0])? > 0)
}

pub(super) fn compact(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    Ok(Value::Array(
        list_at(args, 0)?
            .iter()
            .filter(|v| !v.is_null())
            .cloned()
            .collect(),
    ))
}

pub(super) fn drop_nulls(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let keep = |v: &&Value| !v.is_null() && v.as_str() != Some("");
    Ok(Value::Array(
        list_at(args, 0)?.iter().filter(keep).cloned().collect(),
    ))
}

fn flatten_into(items: &[Value], out: &mut Vec<Value>) {
    for item in items {
        match item {
            Value::Array(inner) => flatten_into(inner, out),
            other => out.push(other.clone()),
        }
    }
}

pub(super) fn flatten(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let mut out = Vec::new();
    flatten_into(list_at(args, 0)?, &mut out);
    Ok(Value::Array(out))
}

/// Set elements must be hashable in Python; lists and dicts are not.
fn hashable(items: &[Value]) -> Result<(), ExprError> {
    match items.iter().find(|v| v.is_array() || v.is_object()) {
        Some(v) => Err(ExprError::Type {
            msg: format!("unhashable type: '{}'", typename(v)),
        }),
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
    let lists = (0..args.len())
        .map(|i| list_at(args, i))
        .collect::<Result<Vec<_>, _>>()?;
    for l in &lists {
        hashable(l)?;
    }
    Ok(lists)
}

pub(super) fn unique(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let items = lists(args)?[0];
    Ok(Value::Array(dedupe(items.iter().cloned())))
}

pub(super) fn union(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, usize::MAX)?;
    Ok(Value::Array(dedupe(
        lists(args)?.into_iter().flatten().cloned(),
    )))
}

fn has(list: &[Value], v: &Value) -> bool {
    list.iter().any(|x| py_eq(x, v))
}

pub(super) fn intersection(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, usize::MAX)?;
    let all = lists(args)?;
    let kept = all[0]
        .iter()
        .filter(|v| all[1..].iter().all(|l| has(l, v)))
        .cloned();
    Ok(Value::Array(dedupe(kept)))
}

pub(super) fn difference(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, usize::MAX)?;
    let all = lists(args)?;
    let kept = all[0]
        .iter()
        .filter(|v| !all[1..].iter().any(|l| has(l, v)))
        .cloned();
    Ok(Value::Array(dedupe(kept)))
}

pub(super) fn symmetric_difference(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let all = lists(args)?;
    let (a, b) = (all[0], all[1]);
    let kept = a
        .iter()
        .filter(|v| !has(b, v))
        .chain(b.iter().filter(|v| !has(a, v)))
        .cloned();
    Ok(Value::Array(dedupe(kept)))
}

pub(super) fn zip(args: &[Value]) -> Result<Value, ExprError> {
    let all = (0..args.len())
        .map(|i| list_at(args, i))
        .collect::<Result<Vec<_>, _>>()?;
    let len = all.iter().map(|l| l.len()).min().unwrap_or(0);
    let rows = (0..len).map(|i| Value::Array(all.iter().map(|l| l[i].clone()).collect()));
    Ok(Value::Array(rows.collect()))
}

/// Largest list `range` and `iter_product` may build; bounds memory for hostile input.
const MAX_GENERATED: usize = 1_000_000;

pub(super) fn iter_product(args: &[Value]) -> Result<Value, ExprError> {
    let all = (0..args.len())
        .map(|i| list_at(args, i))
        .collect::<Result<Vec<_>, _>>()?;
    let total = all
        .iter()
        .try_fold(1usize, |acc, l| acc.checked_mul(l.len()));
    if total.is_none_or(|t| t > MAX_GENERATED) {
        return Err(value_error(format!(
            "product would exceed {MAX_GENERATED} items"
        )));
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

pub(super) fn range(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 3)?;
    let (start, end) = if args.len() == 1 {
        (0, int_at(args, 0)?)
    } else {
        (int_at(args, 0)?, int_at(args, 1)?)
    };
    let step = if args.len() == 3 { int_at(args, 2)? } else { 1 };
    if step == 0 {
        return Err(value_error("range() arg 3 must not be zero"));
    }
    let span = if step > 0 {
        i128::from(end) - i128::from(start)
    } else {
        i128::from(start) - i128::from(end)
    };
    let count = if span <= 0 {
        0
    } else {
        (span + i128::from(step.unsigned_abs()) - 1) / i128::from(step.unsigned_abs())
    };
    if count > MAX_GENERATED as i128 {
        return Err(value_error(format!(
            "range would exceed {MAX_GENERATED} items"
        )));
    }
    let items = (0..count).map(|k| int_value(i128::from(start) + k * i128::from(step)));
    Ok(Value::Array(items.collect::<Result<_, _>>()?))
}

pub(super) fn zip_map(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let keys = list_at(args, 0)?;
    let values = list_at(args, 1)?;
    Ok(Value::Object(
        keys.iter()
            .zip(values)
            .map(|(k, v)| (key_string(k), v.clone()))
            .collect(),
    ))
}
