//! Comparison, null-check and logic functions.

use serde_json::Value;

use super::{arity, boolean};
use crate::expr::ExprError;
use crate::expr::value::{py_cmp, py_eq, truthy};

pub(super) fn is_equal(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    boolean(py_eq(&args[0], &args[1]))
}

pub(super) fn not_equal(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    boolean(!py_eq(&args[0], &args[1]))
}

fn ordered(args: &[Value], op: &str, want: &[std::cmp::Ordering]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    boolean(want.contains(&py_cmp(&args[0], &args[1], op)?))
}

pub(super) fn less_than(args: &[Value]) -> Result<Value, ExprError> {
    ordered(args, "<", &[std::cmp::Ordering::Less])
}

pub(super) fn less_than_or_equal(args: &[Value]) -> Result<Value, ExprError> {
    ordered(
        args,
        "<=",
        &[std::cmp::Ordering::Less, std::cmp::Ordering::Equal],
    )
}

pub(super) fn greater_than(args: &[Value]) -> Result<Value, ExprError> {
    ordered(args, ">", &[std::cmp::Ordering::Greater])
}

pub(super) fn greater_than_or_equal(args: &[Value]) -> Result<Value, ExprError> {
    ordered(
        args,
        ">=",
        &[std::cmp::Ordering::Greater, std::cmp::Ordering::Equal],
    )
}

pub(super) fn is_null(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    boolean(args[0].is_null())
}

pub(super) fn not_null(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    boolean(!args[0].is_null())
}

pub(super) fn and(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    Ok(if truthy(&args[0]) {
        args[1].clone()
    } else {
        args[0].clone()
    })
}

pub(super) fn or(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    Ok(if truthy(&args[0]) {
        args[0].clone()
    } else {
        args[1].clone()
    })
}

pub(super) fn not(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    boolean(!truthy(&args[0]))
}
