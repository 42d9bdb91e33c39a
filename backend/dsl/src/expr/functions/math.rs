//! Math functions with Python int/float semantics.

use serde_json::Value;

use super::{arity, list_at, value_error};
use crate::expr::ExprError;
use crate::expr::ops::{py_add, py_div, py_mod, py_mul, py_pow, py_sub};
use crate::expr::value::py_cmp;

pub(super) fn add(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_add(&args[0], &args[1])
}

pub(super) fn sub(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_sub(&args[0], &args[1])
}

pub(super) fn mul(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_mul(&args[0], &args[1])
}

pub(super) fn div(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_div(&args[0], &args[1])
}

pub(super) fn modulo(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_mod(&args[0], &args[1])
}

pub(super) fn pow(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    py_pow(&args[0], &args[1])
}

pub(super) fn sum(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let start = args.get(1).cloned().unwrap_or(Value::from(0));
    list_at(args, 0)?
        .iter()
        .try_fold(start, |acc, v| py_add(&acc, v))
}

fn extreme(args: &[Value], name: &str, want: std::cmp::Ordering) -> Result<Value, ExprError> {
    arity(args, 1, usize::MAX)?;
    let items: &[Value] = if args.len() == 1 {
        list_at(args, 0)?
    } else {
        args
    };
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

pub(super) fn min(args: &[Value]) -> Result<Value, ExprError> {
    extreme(args, "min", std::cmp::Ordering::Less)
}

pub(super) fn max(args: &[Value]) -> Result<Value, ExprError> {
    extreme(args, "max", std::cmp::Ordering::Greater)
}
