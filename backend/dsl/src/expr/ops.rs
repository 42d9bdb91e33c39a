//! Python's arithmetic operators (`+ - * / % **`, unary `-`/`+`) over JSON values, as Tracecat's
//! evaluator has them: ints and floats kept apart, overflow as an error, string and list
//! concatenation and repetition (bounded), and datetime arithmetic from `datetime`.

use serde_json::Value;

use super::ExprError;
use super::datetime::datetime_arith;
use super::value::{Num, float_value, int_value, typename};

fn binop_type_error(op: &str, a: &Value, b: &Value) -> ExprError {
    ExprError::Type {
        msg: format!(
            "unsupported operand type(s) for {op}: '{}' and '{}'",
            typename(a),
            typename(b)
        ),
    }
}

fn int_op(op: &str, r: Option<i128>) -> Result<Value, ExprError> {
    match r {
        Some(i) => int_value(i),
        None => Err(ExprError::Overflow {
            value: format!("result of {op}"),
        }),
    }
}

/// Python `a + b`: numbers, string concatenation, list concatenation, and a datetime (ISO
/// string) plus a timedelta (seconds).
pub fn py_add(a: &Value, b: &Value) -> Result<Value, ExprError> {
    if let Some(r) = datetime_arith(a, b, false) {
        return r;
    }
    match (a, b) {
        (Value::String(x), Value::String(y)) => Ok(Value::String(format!("{x}{y}"))),
        (Value::Array(x), Value::Array(y)) => {
            Ok(Value::Array(x.iter().chain(y).cloned().collect()))
        }
        _ => match (Num::of(a), Num::of(b)) {
            (Some(Num::Int(x)), Some(Num::Int(y))) => int_op("+", x.checked_add(y)),
            (Some(x), Some(y)) => float_value(x.as_f64() + y.as_f64()),
            _ => Err(binop_type_error("+", a, b)),
        },
    }
}

/// Python `a - b` on numbers, a datetime minus a timedelta (seconds), and a datetime minus a
/// datetime (seconds).
pub fn py_sub(a: &Value, b: &Value) -> Result<Value, ExprError> {
    if let Some(r) = datetime_arith(a, b, true) {
        return r;
    }
    match (Num::of(a), Num::of(b)) {
        (Some(Num::Int(x)), Some(Num::Int(y))) => int_op("-", x.checked_sub(y)),
        (Some(x), Some(y)) => float_value(x.as_f64() - y.as_f64()),
        _ => Err(binop_type_error("-", a, b)),
    }
}

/// Python `a * b`: numbers, and a string or list repeated an int number of times.
pub fn py_mul(a: &Value, b: &Value) -> Result<Value, ExprError> {
    let repeat = |seq: &Value, n: i128| -> Result<Value, ExprError> {
        let n = usize::try_from(n.max(0)).map_err(|_| ExprError::Overflow {
            value: n.to_string(),
        })?;
        let len = match seq {
            Value::String(s) => s.len(),
            Value::Array(a) => a.len(),
            _ => 0,
        };
        if len.saturating_mul(n) > MAX_REPEAT_LEN {
            return Err(ExprError::Value {
                msg: format!("repetition result would exceed {MAX_REPEAT_LEN} elements"),
            });
        }
        // A list repeats its items by copy: `[big] * n` is n copies of big.
        if let Value::Array(items) = seq {
            let per_copy = items
                .iter()
                .map(|item| approx_bytes(item, MAX_REPEAT_BYTES))
                .fold(0usize, usize::saturating_add);
            if per_copy.saturating_mul(n) > MAX_REPEAT_BYTES {
                return Err(ExprError::Value {
                    msg: format!(
                        "repetition result would exceed {} MiB",
                        MAX_REPEAT_BYTES / (1024 * 1024)
                    ),
                });
            }
        }
        Ok(match seq {
            Value::String(s) => Value::String(s.repeat(n)),
            Value::Array(items) => Value::Array(
                std::iter::repeat_n(items.iter(), n)
                    .flatten()
                    .cloned()
                    .collect(),
            ),
            other => other.clone(),
        })
    };
    match (a, b) {
        (Value::String(_) | Value::Array(_), Value::Number(_) | Value::Bool(_)) => match Num::of(b)
        {
            Some(Num::Int(n)) => repeat(a, n),
            _ => Err(non_int_multiplier(b)),
        },
        (Value::Number(_) | Value::Bool(_), Value::String(_) | Value::Array(_)) => match Num::of(a)
        {
            Some(Num::Int(n)) => repeat(b, n),
            _ => Err(non_int_multiplier(a)),
        },
        _ => match (Num::of(a), Num::of(b)) {
            (Some(Num::Int(x)), Some(Num::Int(y))) => int_op("*", x.checked_mul(y)),
            (Some(x), Some(y)) => float_value(x.as_f64() * y.as_f64()),
            _ => Err(binop_type_error("*", a, b)),
        },
    }
}

/// Largest string or list a `*` repetition may build; bounds memory for hostile input.
const MAX_REPEAT_LEN: usize = 10_000_000;
/// Most bytes (roughly) a list repetition may copy.
const MAX_REPEAT_BYTES: usize = 64 * 1024 * 1024;

/// About how many bytes `value` holds, counting no further than `budget`.
fn approx_bytes(value: &Value, budget: usize) -> usize {
    let mut total = 0usize;
    let mut stack = vec![value];
    while let Some(v) = stack.pop() {
        total = total.saturating_add(match v {
            Value::String(s) => s.len() + 8,
            Value::Array(items) => {
                stack.extend(items);
                8
            }
            Value::Object(map) => {
                stack.extend(map.values());
                map.keys().map(|k| k.len() + 8).sum()
            }
            _ => 8,
        });
        if total > budget {
            break;
        }
    }
    total
}

fn non_int_multiplier(n: &Value) -> ExprError {
    ExprError::Type {
        msg: format!(
            "can't multiply sequence by non-int of type '{}'",
            typename(n)
        ),
    }
}

/// Python true division `a / b`; always a float; a zero divisor is "Cannot divide by zero".
pub fn py_div(a: &Value, b: &Value) -> Result<Value, ExprError> {
    match (Num::of(a), Num::of(b)) {
        (Some(x), Some(y)) => {
            if y.as_f64() == 0.0 {
                return Err(ExprError::DivisionByZero);
            }
            match (x, y) {
                // Exact when both fit in f64's mantissa; Python rounds the true quotient too.
                (Num::Int(p), Num::Int(q)) if p % q == 0 =>
                {
                    #[allow(clippy::cast_precision_loss)]
                    float_value((p / q) as f64)
                }
                _ => float_value(x.as_f64() / y.as_f64()),
            }
        }
        _ => Err(binop_type_error("/", a, b)),
    }
}

/// Python `a % b` on numbers: the result takes the sign of the divisor.
pub fn py_mod(a: &Value, b: &Value) -> Result<Value, ExprError> {
    match (Num::of(a), Num::of(b)) {
        (Some(x), Some(y)) => {
            if y.as_f64() == 0.0 {
                return Err(ExprError::ModuloByZero);
            }
            match (x, y) {
                (Num::Int(p), Num::Int(q)) => int_value(((p % q) + q) % q),
                _ => {
                    let (p, q) = (x.as_f64(), y.as_f64());
                    let r = p % q;
                    float_value(if r != 0.0 && (r < 0.0) != (q < 0.0) {
                        r + q
                    } else {
                        r
                    })
                }
            }
        }
        _ => Err(binop_type_error("%", a, b)),
    }
}

/// Python `a ** b`: an int for a non-negative int exponent, a float otherwise.
pub fn py_pow(a: &Value, b: &Value) -> Result<Value, ExprError> {
    match (Num::of(a), Num::of(b)) {
        (Some(Num::Int(x)), Some(Num::Int(y))) if y >= 0 => {
            let exp = u32::try_from(y).map_err(|_| ExprError::Overflow {
                value: format!("{x} ** {y}"),
            })?;
            int_op("**", x.checked_pow(exp))
        }
        (Some(x), Some(y)) => {
            if x.as_f64() == 0.0 && y.as_f64() < 0.0 {
                return Err(ExprError::Value {
                    msg: "0.0 cannot be raised to a negative power".to_owned(),
                });
            }
            float_value(x.as_f64().powf(y.as_f64()))
        }
        _ => Err(binop_type_error("** or pow()", a, b)),
    }
}

/// Python unary minus / plus on numbers (booleans become ints).
pub fn py_neg(v: &Value, negate: bool) -> Result<Value, ExprError> {
    let op = if negate { '-' } else { '+' };
    match Num::of(v) {
        Some(Num::Int(i)) => int_value(if negate { -i } else { i }),
        Some(Num::Float(f)) => float_value(if negate { -f } else { f }),
        None => Err(ExprError::Type {
            msg: format!("bad operand type for unary {op}: '{}'", typename(v)),
        }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn arithmetic_keeps_int_and_float_apart() {
        assert_eq!(py_add(&json!(1), &json!(2)).unwrap(), json!(2 + 1));
        assert_eq!(py_add(&json!(1), &json!(2.0)).unwrap(), json!(3.0));
        assert_eq!(py_add(&json!(true), &json!(true)).unwrap(), json!(2));
        assert_eq!(py_add(&json!("a"), &json!("b")).unwrap(), json!("ab"));
        assert_eq!(py_add(&json!([1]), &json!([2])).unwrap(), json!([1, 2]));
        assert_eq!(
            py_add(&json!(1), &json!("a")).unwrap_err().to_string(),
            "unsupported operand type(s) for +: 'int' and 'str'"
        );
        assert_eq!(py_div(&json!(4), &json!(2)).unwrap(), json!(2.0));
        assert_eq!(py_div(&json!(1), &json!(4)).unwrap(), json!(0.25));
        assert_eq!(
            py_div(&json!(1), &json!(0)).unwrap_err().to_string(),
            "Cannot divide by zero"
        );
        assert_eq!(py_mod(&json!(-7), &json!(3)).unwrap(), json!(2));
        assert_eq!(py_mod(&json!(7), &json!(-3)).unwrap(), json!(-2));
        assert_eq!(py_mod(&json!(-7.5), &json!(2)).unwrap(), json!(0.5));
        assert_eq!(py_mul(&json!("ab"), &json!(2)).unwrap(), json!("abab"));
        assert_eq!(py_mul(&json!(2), &json!([0])).unwrap(), json!([0, 0]));
        assert_eq!(py_pow(&json!(2), &json!(10)).unwrap(), json!(1024));
        assert_eq!(py_pow(&json!(2), &json!(-1)).unwrap(), json!(0.5));
        assert_eq!(py_neg(&json!(true), true).unwrap(), json!(-1));
        assert!(matches!(
            py_add(&json!(i64::MAX), &json!(u64::MAX)),
            Err(ExprError::Overflow { .. })
        ));
    }
}
