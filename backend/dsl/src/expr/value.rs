//! Python value semantics over `serde_json::Value`: `str()` and `repr()` printing, truthiness,
//! type names, equality, ordering, membership, casts and indexing, as Tracecat's Python evaluator
//! has them. The arithmetic operators built on these live in `ops`.
//!
//! JSON has no separate bool/int/float hierarchy, so the mapping is: `null` is `None`, booleans are
//! `bool` (and count as the ints 0 and 1 in arithmetic and comparisons, as in Python), numbers
//! stored as integers are `int`, numbers stored as floats are `float`.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::ExprError;

/// A Python number: `int` (held as `i128`, narrowed back to JSON on output) or `float`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Num {
    Int(i128),
    Float(f64),
}

impl Num {
    /// The number held by a JSON value, counting `True`/`False` as 1/0 like Python does.
    pub(crate) fn of(v: &Value) -> Option<Num> {
        match v {
            Value::Bool(b) => Some(Num::Int(i128::from(*b))),
            Value::Number(n) => Some(num_of(n)),
            _ => None,
        }
    }

    pub(crate) fn as_f64(self) -> f64 {
        match self {
            // Precision loss above 2^53 is what Python's float() does as well.
            #[allow(clippy::cast_precision_loss)]
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

fn num_of(n: &Number) -> Num {
    if let Some(i) = n.as_i64() {
        Num::Int(i128::from(i))
    } else if let Some(u) = n.as_u64() {
        Num::Int(i128::from(u))
    } else {
        Num::Float(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// A JSON integer, or an error when it does not fit in 64 bits.
pub(crate) fn int_value(i: i128) -> Result<Value, ExprError> {
    if let Ok(v) = i64::try_from(i) {
        Ok(Value::from(v))
    } else if let Ok(v) = u64::try_from(i) {
        Ok(Value::from(v))
    } else {
        Err(ExprError::Overflow {
            value: i.to_string(),
        })
    }
}

/// A JSON float, or an error for NaN and infinities.
pub(crate) fn float_value(f: f64) -> Result<Value, ExprError> {
    Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| ExprError::NotFinite {
            value: format_float(f),
        })
}

/// The Python type name of a value: `NoneType`, `bool`, `int`, `float`, `str`, `list`, `dict`.
pub fn typename(v: &Value) -> &'static str {
    match v {
        Value::Null => "NoneType",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "int",
        Value::String(_) => "str",
        Value::Array(_) => "list",
        Value::Object(_) => "dict",
    }
}

/// Python truthiness: `None`, `False`, `0`, `0.0`, `""`, `[]` and `{}` are false.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => match num_of(n) {
            Num::Int(i) => i != 0,
            Num::Float(f) => f != 0.0,
        },
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Object(o) => !o.is_empty(),
    }
}

/// Python `str(v)`: strings print raw, everything else as Python's `repr` (`None`, `True`,
/// `1.5`, `[1, 'a']`, `{'a': None}`).
pub fn python_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => python_repr(other),
    }
}

/// Python `repr(v)`: like [`python_str`] but strings are quoted the way Python quotes them.
pub fn python_repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(v, &mut out);
    out
}

fn write_repr(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => match num_of(n) {
            Num::Int(i) => out.push_str(&i.to_string()),
            Num::Float(f) => out.push_str(&format_float(f)),
        },
        Value::String(s) => out.push_str(&repr_str(s)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push('{');
            for (i, (k, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&repr_str(k));
                out.push_str(": ");
                write_repr(item, out);
            }
            out.push('}');
        }
    }
}

/// Python's `repr()` of a string: single quotes unless the text holds a `'` and no `"`.
pub(crate) fn repr_str(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `repr()` of a float: shortest round-trip digits, always with a `.0` or an exponent,
/// scientific notation below 1e-4 and from 1e16 on (`1e+16`, `1.5e-05`).
pub fn format_float(f: f64) -> String {
    if f.is_nan() {
        return "nan".to_owned();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    let abs = f.abs();
    if abs != 0.0 && !(1e-4..1e16).contains(&abs) {
        // Rust prints `1e16` / `1.5e-5`; Python prints `1e+16` / `1.5e-05`.
        let s = format!("{f:e}");
        let (mantissa, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match exp.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', exp),
        };
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    let s = format!("{f}");
    if s.contains('.') { s } else { format!("{s}.0") }
}

/// Python `==` on JSON values: `1 == 1.0 == True`, containers compare element-wise.
pub fn py_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Null, Value::Null) => true,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| py_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| py_eq(v, w)))
        }
        _ => match (Num::of(a), Num::of(b)) {
            (Some(x), Some(y)) => num_cmp(x, y) == Some(Ordering::Equal),
            _ => false,
        },
    }
}

fn num_cmp(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        _ => a.as_f64().partial_cmp(&b.as_f64()),
    }
}

/// Python ordering (`<`, `<=`, …): numbers with numbers, strings with strings, lists
/// lexicographically. Anything else is the TypeError Python raises, naming `op`.
pub fn py_cmp(a: &Value, b: &Value, op: &str) -> Result<Ordering, ExprError> {
    let unsupported = || ExprError::Type {
        msg: format!(
            "'{op}' not supported between instances of '{}' and '{}'",
            typename(a),
            typename(b)
        ),
    };
    match (a, b) {
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        (Value::Array(x), Value::Array(y)) => {
            for (p, q) in x.iter().zip(y) {
                if !py_eq(p, q) {
                    return py_cmp(p, q, op);
                }
            }
            Ok(x.len().cmp(&y.len()))
        }
        _ => match (Num::of(a), Num::of(b)) {
            // NaN cannot occur in JSON, so a missing ordering never happens in practice.
            (Some(x), Some(y)) => Ok(num_cmp(x, y).unwrap_or(Ordering::Equal)),
            _ => Err(unsupported()),
        },
    }
}

/// Python `a in b`: substring, dict key or list element membership.
pub fn py_contains(container: &Value, item: &Value) -> Result<bool, ExprError> {
    match container {
        Value::String(s) => match item {
            Value::String(sub) => Ok(s.contains(sub.as_str())),
            other => Err(ExprError::Type {
                msg: format!(
                    "'in <string>' requires string as left operand, not {}",
                    typename(other)
                ),
            }),
        },
        Value::Array(items) => Ok(items.iter().any(|x| py_eq(x, item))),
        Value::Object(map) => match item {
            Value::String(k) => Ok(map.contains_key(k)),
            Value::Array(_) | Value::Object(_) => Err(ExprError::Type {
                msg: format!("unhashable type: '{}'", typename(item)),
            }),
            // JSON object keys are always strings, so no other key can be present.
            _ => Ok(false),
        },
        other => Err(ExprError::Type {
            msg: format!("argument of type '{}' is not iterable", typename(other)),
        }),
    }
}

/// Python `a is b`, approximated for JSON values: `None`, booleans, numbers and strings are the
/// same object when they have the same type and value (CPython caches these in practice);
/// lists and dicts are never identical because each evaluation builds a new one.
pub fn py_is(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Array(_), _) | (Value::Object(_), _) => false,
        _ => typename(a) == typename(b) && py_eq(a, b),
    }
}

/// Python `int(x)`: truncates floats, parses decimal strings (`int("1.5")` fails).
pub fn cast_int(v: &Value) -> Result<Value, ExprError> {
    match v {
        Value::String(s) => {
            let t = s.trim();
            let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
            let valid = !digits.is_empty()
                && !digits.starts_with('_')
                && !digits.ends_with('_')
                && !digits.contains("__")
                && digits.chars().all(|c| c.is_ascii_digit() || c == '_');
            let parsed = valid
                .then(|| t.replace('_', "").parse::<i128>().ok())
                .flatten();
            match parsed {
                Some(i) => int_value(i),
                None => Err(ExprError::Value {
                    msg: format!("invalid literal for int() with base 10: {}", repr_str(s)),
                }),
            }
        }
        _ => match Num::of(v) {
            Some(Num::Int(i)) => int_value(i),
            Some(Num::Float(f)) => {
                // Truncation toward zero is Python's int(float); the range check keeps it exact.
                if f.abs() < 1.8e19 {
                    #[allow(clippy::cast_possible_truncation)]
                    int_value(f.trunc() as i128)
                } else {
                    Err(ExprError::Overflow {
                        value: format_float(f),
                    })
                }
            }
            None => Err(ExprError::Type {
                msg: format!(
                    "int() argument must be a string, a bytes-like object or a real number, not '{}'",
                    typename(v)
                ),
            }),
        },
    }
}

/// Python `float(x)`: converts numbers and parses decimal/exponent strings.
pub fn cast_float(v: &Value) -> Result<Value, ExprError> {
    match v {
        Value::String(s) => {
            let t = s.trim().replace('_', "");
            let lower = t.to_ascii_lowercase();
            let plain = lower.trim_start_matches(['+', '-']);
            // Rust accepts "inf"/"nan" too, but JSON cannot hold them; reject with Python's text.
            let parsed = if plain.starts_with("inf") || plain.starts_with("nan") || t.is_empty() {
                None
            } else {
                t.parse::<f64>().ok()
            };
            match parsed {
                Some(f) => float_value(f),
                None => Err(ExprError::Value {
                    msg: format!("could not convert string to float: {}", repr_str(s)),
                }),
            }
        }
        _ => match Num::of(v) {
            Some(n) => float_value(n.as_f64()),
            None => Err(ExprError::Type {
                msg: format!(
                    "float() argument must be a string or a real number, not '{}'",
                    typename(v)
                ),
            }),
        },
    }
}

/// Tracecat's `bool(x)`: a string is true only when its lowercase form is `"true"` or `"1"`;
/// everything else uses Python truthiness.
pub fn cast_bool(v: &Value) -> bool {
    match v {
        Value::String(s) => matches!(s.to_lowercase().as_str(), "true" | "1"),
        other => truthy(other),
    }
}

/// Python `len(x)` for strings (in characters), lists and dicts.
pub fn py_len(v: &Value) -> Result<usize, ExprError> {
    match v {
        Value::String(s) => Ok(s.chars().count()),
        Value::Array(a) => Ok(a.len()),
        Value::Object(o) => Ok(o.len()),
        other => Err(ExprError::Type {
            msg: format!("object of type '{}' has no len()", typename(other)),
        }),
    }
}

/// Python indexing `v[i]` with the error texts Tracecat's evaluator uses.
pub fn py_index(v: &Value, index: &Value) -> Result<Value, ExprError> {
    match v {
        Value::Array(items) => {
            let i = seq_index(index, items.len())?;
            Ok(items[i].clone())
        }
        Value::String(s) => {
            let chars: Vec<char> = s.chars().collect();
            let i = seq_index(index, chars.len())?;
            Ok(Value::String(chars[i].to_string()))
        }
        Value::Object(map) => {
            let key = match index {
                Value::String(k) => k.clone(),
                other => python_str(other),
            };
            map.get(&key).cloned().ok_or(ExprError::KeyNotFound { key })
        }
        other => Err(ExprError::NotIndexable {
            typename: typename(other),
        }),
    }
}

/// Resolves a Python sequence index (negative counts from the end) against a length.
pub(crate) fn seq_index(index: &Value, len: usize) -> Result<usize, ExprError> {
    let i = match (index, Num::of(index)) {
        (Value::Bool(_) | Value::Number(_), Some(Num::Int(i))) => i,
        _ => return Err(ExprError::IndexNotInteger),
    };
    let len_i = i128::try_from(len).unwrap_or(i128::MAX);
    let resolved = if i < 0 { i + len_i } else { i };
    if (0..len_i).contains(&resolved) {
        usize::try_from(resolved).map_err(|_| ExprError::IndexOutOfRange { index: i })
    } else {
        Err(ExprError::IndexOutOfRange { index: i })
    }
}

/// Converts a JSON value into a dict key the way a JSON dump would (`str()` of non-strings).
pub(crate) fn key_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "true".to_owned(),
        Value::Bool(false) => "false".to_owned(),
        Value::Null => "null".to_owned(),
        other => python_str(other),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn str_prints_like_python() {
        assert_eq!(python_str(&json!(null)), "None");
        assert_eq!(python_str(&json!(true)), "True");
        assert_eq!(python_str(&json!(false)), "False");
        assert_eq!(python_str(&json!(1)), "1");
        assert_eq!(python_str(&json!(1.5)), "1.5");
        assert_eq!(python_str(&json!(2.0)), "2.0");
        assert_eq!(python_str(&json!("raw 'text'")), "raw 'text'");
        assert_eq!(python_str(&json!([1, 2])), "[1, 2]");
        assert_eq!(python_str(&json!({"a": 1})), "{'a': 1}");
        assert_eq!(
            python_str(&json!({"a": [null, true, "x"], "b": {"c": 1.0}})),
            "{'a': [None, True, 'x'], 'b': {'c': 1.0}}"
        );
        assert_eq!(python_str(&json!([])), "[]");
        assert_eq!(python_str(&json!({})), "{}");
    }

    #[test]
    fn repr_picks_quotes_and_escapes_like_python() {
        assert_eq!(repr_str("it's"), "\"it's\"");
        assert_eq!(repr_str("a\"b'c"), "'a\"b\\'c'");
        assert_eq!(repr_str("line\nbreak\\"), "'line\\nbreak\\\\'");
        assert_eq!(repr_str("\u{1}"), "'\\x01'");
        assert_eq!(repr_str("café"), "'café'");
    }

    #[test]
    fn floats_print_like_python_repr() {
        assert_eq!(format_float(0.1), "0.1");
        assert_eq!(format_float(-0.0), "-0.0");
        assert_eq!(format_float(1e16), "1e+16");
        assert_eq!(format_float(1.5e-5), "1.5e-05");
        assert_eq!(format_float(123_456.789), "123456.789");
        assert_eq!(format_float(1e-4), "0.0001");
        assert_eq!(format_float(2.5e100), "2.5e+100");
    }

    #[test]
    fn truthiness_follows_python() {
        for v in [
            json!(null),
            json!(false),
            json!(0),
            json!(0.0),
            json!(""),
            json!([]),
            json!({}),
        ] {
            assert!(!truthy(&v), "{v} should be falsy");
        }
        for v in [
            json!(true),
            json!(-1),
            json!(0.5),
            json!(" "),
            json!([0]),
            json!({"a": null}),
        ] {
            assert!(truthy(&v), "{v} should be truthy");
        }
    }

    #[test]
    fn equality_mixes_ints_floats_and_bools() {
        assert!(py_eq(&json!(1), &json!(1.0)));
        assert!(py_eq(&json!(true), &json!(1)));
        assert!(py_eq(&json!([1, {"a": 2.0}]), &json!([1.0, {"a": 2}])));
        assert!(!py_eq(&json!("1"), &json!(1)));
        assert!(!py_eq(&json!(null), &json!(false)));
    }

    #[test]
    fn ordering_errors_on_mixed_types() {
        assert_eq!(py_cmp(&json!(1), &json!(2.5), "<").unwrap(), Ordering::Less);
        assert_eq!(
            py_cmp(&json!("b"), &json!("a"), "<").unwrap(),
            Ordering::Greater
        );
        assert_eq!(
            py_cmp(&json!([1, 2]), &json!([1, 3]), "<").unwrap(),
            Ordering::Less
        );
        assert_eq!(
            py_cmp(&json!("a"), &json!(1), "<").unwrap_err().to_string(),
            "'<' not supported between instances of 'str' and 'int'"
        );
    }

    #[test]
    fn casts_follow_python_and_tracecat_rules() {
        assert_eq!(cast_int(&json!(" 42 ")).unwrap(), json!(42));
        assert_eq!(cast_int(&json!("-1_000")).unwrap(), json!(-1000));
        assert_eq!(cast_int(&json!(-2.7)).unwrap(), json!(-2));
        assert_eq!(cast_int(&json!(true)).unwrap(), json!(1));
        assert_eq!(
            cast_int(&json!("1.5")).unwrap_err().to_string(),
            "invalid literal for int() with base 10: '1.5'"
        );
        assert_eq!(
            cast_int(&json!(null)).unwrap_err().to_string(),
            "int() argument must be a string, a bytes-like object or a real number, not 'NoneType'"
        );
        assert_eq!(cast_float(&json!("2.5")).unwrap(), json!(2.5));
        assert_eq!(cast_float(&json!("1e3")).unwrap(), json!(1000.0));
        assert_eq!(cast_float(&json!(3)).unwrap(), json!(3.0));
        assert_eq!(
            cast_float(&json!("abc")).unwrap_err().to_string(),
            "could not convert string to float: 'abc'"
        );
        assert!(cast_bool(&json!("TRUE")));
        assert!(cast_bool(&json!("1")));
        assert!(!cast_bool(&json!("yes")));
        assert!(cast_bool(&json!([0])));
        assert!(!cast_bool(&json!(0)));
    }

    #[test]
    fn membership_and_identity() {
        assert!(py_contains(&json!("hello"), &json!("ell")).unwrap());
        assert!(py_contains(&json!([1, 2]), &json!(2.0)).unwrap());
        assert!(py_contains(&json!({"a": 1}), &json!("a")).unwrap());
        assert!(!py_contains(&json!({"1": 1}), &json!(1)).unwrap());
        assert_eq!(
            py_contains(&json!(null), &json!(1))
                .unwrap_err()
                .to_string(),
            "argument of type 'NoneType' is not iterable"
        );
        assert_eq!(
            py_contains(&json!("abc"), &json!(1))
                .unwrap_err()
                .to_string(),
            "'in <string>' requires string as left operand, not int"
        );
        assert!(py_is(&json!(null), &json!(null)));
        assert!(!py_is(&json!(1), &json!(true)));
        assert!(!py_is(&json!([]), &json!([])));
    }

    #[test]
    fn indexing_uses_tracecat_error_texts() {
        assert_eq!(py_index(&json!([1, 2, 3]), &json!(-1)).unwrap(), json!(3));
        assert_eq!(py_index(&json!("abc"), &json!(1)).unwrap(), json!("b"));
        assert_eq!(
            py_index(&json!([1]), &json!(5)).unwrap_err().to_string(),
            "Sequence index 5 out of range"
        );
        assert_eq!(
            py_index(&json!([1]), &json!("a")).unwrap_err().to_string(),
            "Sequence indices must be integers"
        );
        assert_eq!(
            py_index(&json!({"foo": 1}), &json!("bar"))
                .unwrap_err()
                .to_string(),
            "Key 'bar' not found for mapping access"
        );
        assert_eq!(
            py_index(&json!(3), &json!(0)).unwrap_err().to_string(),
            "Object of type 'int' is not indexable"
        );
        assert_eq!(py_len(&json!("héllo")).unwrap(), 5);
    }
}
