//! The tree-walking evaluator: Python operator semantics over JSON values, contexts resolved from
//! an [`ExprContext`], and the `for_each` iterator form.

use serde_json::{Map, Value};

use super::ast::{BinaryOp, CastType, ContextRoot, Expr};
use super::ops::{py_add, py_div, py_mod, py_mul, py_neg, py_sub};
use super::value::{
    cast_bool, cast_float, cast_int, py_cmp, py_contains, py_eq, py_index, py_is, python_str,
    truthy,
};
use super::{ExprContext, ExprError, functions, path};

/// Evaluates a parsed expression. The iterator form is rejected here; see [`eval_iterator`].
pub fn eval(expr: &Expr, ctx: &ExprContext) -> Result<Value, ExprError> {
    match expr {
        Expr::Literal(v) => Ok(v.clone()),
        Expr::List(items) => items
            .iter()
            .map(|e| eval(e, ctx))
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Expr::Dict(entries) => {
            let mut map = Map::new();
            for (k, e) in entries {
                map.insert(k.clone(), eval(e, ctx)?);
            }
            Ok(Value::Object(map))
        }
        Expr::Context { root, path } => Ok(match root {
            ContextRoot::Actions => path::eval_in_map(&ctx.actions, path),
            ContextRoot::Trigger => path::eval_in_value(&ctx.trigger, path),
            ContextRoot::Secrets => path::eval_in_map(&ctx.secrets, path),
            ContextRoot::Vars => path::eval_in_map(&ctx.vars, path),
            ContextRoot::Env => path::eval_in_map(&ctx.env, path),
            ContextRoot::Var => path::eval_in_map(&ctx.var, path),
            ContextRoot::Inputs => path::eval_in_map(&ctx.inputs, path),
            ContextRoot::Steps => path::eval_in_map(&ctx.steps, path),
        }),
        Expr::Call { name, map, args } => {
            let args = args
                .iter()
                .map(|e| eval(e, ctx))
                .collect::<Result<Vec<_>, _>>()?;
            let result = if *map {
                functions::call_map(name, &args, ctx)
            } else {
                functions::call(name, &args, ctx)
            };
            result.map_err(|reason| match reason {
                ExprError::UnknownFunction { .. } => reason,
                other => ExprError::Function {
                    name: name.clone(),
                    reason: Box::new(other),
                },
            })
        }
        Expr::Cast { ty, expr } | Expr::TrailingCast { expr, ty } => cast(*ty, &eval(expr, ctx)?),
        Expr::Index { target, index } => py_index(&eval(target, ctx)?, &eval(index, ctx)?),
        Expr::Unary { negate, expr } => py_neg(&eval(expr, ctx)?, *negate),
        Expr::Not(inner) => Ok(Value::Bool(!truthy(&eval(inner, ctx)?))),
        Expr::Binary { op, left, right } => {
            // Tracecat evaluates both operands eagerly, even for `||` and `&&`.
            let l = eval(left, ctx)?;
            let r = eval(right, ctx)?;
            binary(*op, l, r)
        }
        Expr::Ternary {
            then,
            cond,
            otherwise,
        } => {
            if truthy(&eval(cond, ctx)?) {
                eval(then, ctx)
            } else {
                eval(otherwise, ctx)
            }
        }
        Expr::Iterator { .. } => Err(ExprError::IteratorOutsideForEach),
    }
}

/// Applies a typecast.
pub fn cast(ty: CastType, v: &Value) -> Result<Value, ExprError> {
    match ty {
        CastType::Int => cast_int(v),
        CastType::Float => cast_float(v),
        CastType::Str => Ok(Value::String(python_str(v))),
        CastType::Bool => Ok(Value::Bool(cast_bool(v))),
    }
}

/// Applies a binary operator to two evaluated operands.
pub fn binary(op: BinaryOp, l: Value, r: Value) -> Result<Value, ExprError> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    let cmp = |want: &[std::cmp::Ordering]| -> Result<Value, ExprError> {
        Ok(Value::Bool(want.contains(&py_cmp(&l, &r, op.symbol())?)))
    };
    match op {
        BinaryOp::Or => Ok(if truthy(&l) { l } else { r }),
        BinaryOp::And => Ok(if truthy(&l) { r } else { l }),
        BinaryOp::Eq => Ok(Value::Bool(py_eq(&l, &r))),
        BinaryOp::Ne => Ok(Value::Bool(!py_eq(&l, &r))),
        BinaryOp::Lt => cmp(&[Less]),
        BinaryOp::Le => cmp(&[Less, Equal]),
        BinaryOp::Gt => cmp(&[Greater]),
        BinaryOp::Ge => cmp(&[Greater, Equal]),
        BinaryOp::In => py_contains(&r, &l).map(Value::Bool),
        BinaryOp::NotIn => py_contains(&r, &l).map(|b| Value::Bool(!b)),
        BinaryOp::Is => Ok(Value::Bool(py_is(&l, &r))),
        BinaryOp::IsNot => Ok(Value::Bool(!py_is(&l, &r))),
        BinaryOp::Add => py_add(&l, &r),
        BinaryOp::Sub => py_sub(&l, &r),
        BinaryOp::Mul => py_mul(&l, &r),
        BinaryOp::Div => py_div(&l, &r),
        BinaryOp::Mod => py_mod(&l, &r),
    }
}

/// A `for var.x in collection` iterator after evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct IteratorValues {
    /// The key path under `var` (`["x"]` for `var.x`).
    pub var_path: Vec<String>,
    /// The items iterated over, in order.
    pub items: Vec<Value>,
}

/// Evaluates an iterator expression (`for var.x in …`). Lists iterate their items, dicts their
/// keys and strings their characters, as Python's `iter()` does; other values are an error.
pub fn eval_iterator(expr: &Expr, ctx: &ExprContext) -> Result<IteratorValues, ExprError> {
    let Expr::Iterator {
        var_path,
        collection,
    } = expr
    else {
        return Err(ExprError::NotAnIterator);
    };
    let items = match eval(collection, ctx)? {
        Value::Array(items) => items,
        Value::Object(map) => map.into_iter().map(|(k, _)| Value::String(k)).collect(),
        Value::String(s) => s.chars().map(|c| Value::String(c.to_string())).collect(),
        other => {
            return Err(ExprError::Type {
                msg: format!(
                    "'{}' object is not iterable",
                    super::value::typename(&other)
                ),
            });
        }
    };
    Ok(IteratorValues {
        var_path: var_path.clone(),
        items,
    })
}

/// Sets `var.<path>` = `value` inside `var`, creating nested dicts as needed.
pub(crate) fn assign_var(var: &mut Map<String, Value>, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut current = var;
    for key in parents {
        let slot = current
            .entry(key.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !slot.is_object() {
            *slot = Value::Object(Map::new());
        }
        let Value::Object(next) = slot else {
            return;
        };
        current = next;
    }
    current.insert(last.clone(), value);
}
