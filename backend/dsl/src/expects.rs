//! `entrypoint.expects`: the field type grammar and the normalization of trigger inputs against
//! it (unknown keys rejected, lax coercion, defaults filled in), after Tracecat's dynamic
//! pydantic model.

use serde_json::{Map, Value};

use super::DslError;
use super::model::ExpectedField;
use crate::expr::{python_repr, typename};

/// A parsed `expects` type such as `list[int] | None`.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeExpr {
    /// `int`.
    Int,
    /// `str`.
    Str,
    /// `bool`.
    Bool,
    /// `float`.
    Float,
    /// `datetime` (ISO 8601 string, or epoch seconds).
    Datetime,
    /// `duration` (ISO 8601 duration string, or seconds).
    Duration,
    /// `any` / `Any`.
    Any,
    /// `None`.
    None,
    /// `list[T]` (`list` alone is `list[any]`).
    List(Box<TypeExpr>),
    /// `dict` or `dict[K, V]`.
    Dict(Option<(Box<TypeExpr>, Box<TypeExpr>)>),
    /// `A | B | …`.
    Union(Vec<TypeExpr>),
    /// `enum["a", "b"]`.
    Enum(Vec<String>),
    /// `$Name`: a reference, accepted as is.
    Ref(String),
}

/// Largest number of `enum[...]` values Tracecat allows.
const MAX_ENUM_VALUES: usize = 20;

impl TypeExpr {
    /// Parses a type expression.
    pub fn parse(text: &str) -> Result<TypeExpr, DslError> {
        let mut p = TypeParser { src: text, pos: 0 };
        let ty = p.union()?;
        p.skip_ws();
        if p.pos < text.len() {
            return Err(p.error("unexpected trailing text"));
        }
        Ok(ty)
    }
}

struct TypeParser<'a> {
    src: &'a str,
    pos: usize,
}

impl TypeParser<'_> {
    fn error(&self, what: &str) -> DslError {
        DslError::Type {
            ty: self.src.to_owned(),
            msg: format!("{what} at position {}", self.pos),
        }
    }

    fn skip_ws(&mut self) {
        let rest = &self.src[self.pos..];
        self.pos += rest.len() - rest.trim_start().len();
    }

    fn eat(&mut self, s: &str) -> bool {
        self.skip_ws();
        if self.src[self.pos..].starts_with(s) {
            self.pos += s.len();
            true
        } else {
            false
        }
    }

    fn name(&mut self) -> &str {
        self.skip_ws();
        let rest = &self.src[self.pos..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        self.pos += len;
        &rest[..len]
    }

    fn union(&mut self) -> Result<TypeExpr, DslError> {
        let mut members = vec![self.single()?];
        while self.eat("|") {
            members.push(self.single()?);
        }
        Ok(if members.len() == 1 {
            members.remove(0)
        } else {
            TypeExpr::Union(members)
        })
    }

    fn single(&mut self) -> Result<TypeExpr, DslError> {
        if self.eat("$") {
            let name = self.name().to_owned();
            return if name.is_empty() {
                Err(self.error("expected a name after '$'"))
            } else {
                Ok(TypeExpr::Ref(name))
            };
        }
        let start = self.pos;
        let name = self.name().to_owned();
        let ty = match name.as_str() {
            "int" => TypeExpr::Int,
            "str" => TypeExpr::Str,
            "bool" => TypeExpr::Bool,
            "float" => TypeExpr::Float,
            "datetime" => TypeExpr::Datetime,
            "duration" => TypeExpr::Duration,
            "any" | "Any" => TypeExpr::Any,
            "None" => TypeExpr::None,
            "list" => {
                if self.eat("[") {
                    let inner = self.union()?;
                    self.expect_close()?;
                    TypeExpr::List(Box::new(inner))
                } else {
                    TypeExpr::List(Box::new(TypeExpr::Any))
                }
            }
            "dict" => {
                if self.eat("[") {
                    let k = self.union()?;
                    if !self.eat(",") {
                        return Err(self.error("expected ',' in dict[K, V]"));
                    }
                    let v = self.union()?;
                    self.expect_close()?;
                    TypeExpr::Dict(Some((Box::new(k), Box::new(v))))
                } else {
                    TypeExpr::Dict(None)
                }
            }
            "enum" => self.enum_values()?,
            _ => {
                self.pos = start;
                return Err(self.error(&format!("unknown type '{name}'")));
            }
        };
        Ok(ty)
    }

    fn expect_close(&mut self) -> Result<(), DslError> {
        if self.eat("]") {
            Ok(())
        } else {
            Err(self.error("expected ']'"))
        }
    }

    fn enum_values(&mut self) -> Result<TypeExpr, DslError> {
        if !self.eat("[") {
            return Err(self.error("expected '[' after enum"));
        }
        let mut values: Vec<String> = Vec::new();
        loop {
            self.skip_ws();
            let rest = &self.src[self.pos..];
            let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'');
            let Some(q) = quote else {
                return Err(self.error("expected a quoted enum value"));
            };
            let Some(end) = rest[1..].find(q) else {
                return Err(self.error("unterminated enum value"));
            };
            let value = rest[1..=end].to_owned();
            self.pos += end + 2;
            if values
                .iter()
                .any(|v| v.to_lowercase() == value.to_lowercase())
            {
                return Err(self.error(&format!("duplicate enum value '{value}'")));
            }
            values.push(value);
            if self.eat("]") {
                break;
            }
            if !self.eat(",") {
                return Err(self.error("expected ',' or ']' in enum"));
            }
        }
        if values.len() > MAX_ENUM_VALUES {
            return Err(self.error(&format!("enum has more than {MAX_ENUM_VALUES} values")));
        }
        Ok(TypeExpr::Enum(values))
    }
}

/// Coerces `value` to `ty` the way pydantic's lax mode does; `Err` holds pydantic's message.
pub fn coerce(ty: &TypeExpr, value: &Value) -> Result<Value, String> {
    match ty {
        TypeExpr::Any | TypeExpr::Ref(_) => Ok(value.clone()),
        TypeExpr::None => value
            .is_null()
            .then(|| Value::Null)
            .ok_or_else(|| "Input should be None".to_owned()),
        TypeExpr::Str => match value {
            Value::String(_) => Ok(value.clone()),
            _ => Err("Input should be a valid string".to_owned()),
        },
        TypeExpr::Int => coerce_int(value),
        TypeExpr::Float => match value {
            Value::Number(n) => Ok(Value::from(n.as_f64().unwrap_or_default())),
            Value::Bool(b) => Ok(Value::from(if *b { 1.0 } else { 0.0 })),
            Value::String(s) => s
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .map(Value::from)
                .ok_or_else(|| {
                    "Input should be a valid number, unable to parse string as a number".to_owned()
                }),
            _ => Err("Input should be a valid number".to_owned()),
        },
        TypeExpr::Bool => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => {
                Ok(Value::Bool(n.as_i64() == Some(1)))
            }
            Value::String(s) => match s.trim().to_lowercase().as_str() {
                "1" | "on" | "t" | "true" | "y" | "yes" => Ok(Value::Bool(true)),
                "0" | "off" | "f" | "false" | "n" | "no" => Ok(Value::Bool(false)),
                _ => Err("Input should be a valid boolean, unable to interpret input".to_owned()),
            },
            _ => Err("Input should be a valid boolean".to_owned()),
        },
        TypeExpr::Datetime => match value {
            Value::String(s) if looks_like_datetime(s) => Ok(value.clone()),
            Value::Number(_) => Ok(value.clone()),
            _ => Err("Input should be a valid datetime".to_owned()),
        },
        TypeExpr::Duration => match value {
            Value::String(s) if s.trim_start_matches('-').starts_with('P') => Ok(value.clone()),
            Value::Number(_) => Ok(value.clone()),
            _ => Err("Input should be a valid timedelta".to_owned()),
        },
        TypeExpr::List(inner) => match value {
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, v)| coerce(inner, v).map_err(|e| format!("[{i}]: {e}")))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            _ => Err("Input should be a valid list".to_owned()),
        },
        TypeExpr::Dict(kv) => match (value, kv) {
            (Value::Object(_), None) => Ok(value.clone()),
            (Value::Object(map), Some((k, v))) => {
                let mut out = Map::new();
                for (key, item) in map {
                    let key = match coerce(k, &Value::String(key.clone()))? {
                        Value::String(s) => s,
                        other => crate::expr::python_str(&other),
                    };
                    out.insert(
                        key.clone(),
                        coerce(v, item).map_err(|e| format!("[{key:?}]: {e}"))?,
                    );
                }
                Ok(Value::Object(out))
            }
            _ => Err("Input should be a valid dictionary".to_owned()),
        },
        TypeExpr::Enum(values) => {
            let s = value.as_str().unwrap_or_default();
            values
                .iter()
                .find(|v| v.as_str() == s)
                .or_else(|| values.iter().find(|v| v.eq_ignore_ascii_case(s)))
                .filter(|_| value.is_string())
                .map(|v| Value::String(v.clone()))
                .ok_or_else(|| {
                    let quoted: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
                    format!("Input should be {}", quoted.join(" or "))
                })
        }
        TypeExpr::Union(members) => {
            // pydantic's smart mode: an exact type match wins, then the first lax success.
            if let Some(m) = members.iter().find(|m| exact_match(m, value)) {
                return coerce(m, value);
            }
            let mut errors = Vec::new();
            for m in members {
                match coerce(m, value) {
                    Ok(v) => return Ok(v),
                    Err(e) => errors.push(e),
                }
            }
            Err(errors.join("; "))
        }
    }
}

fn exact_match(ty: &TypeExpr, v: &Value) -> bool {
    matches!(
        (ty, typename(v)),
        (TypeExpr::Int, "int")
            | (TypeExpr::Float, "float")
            | (TypeExpr::Str, "str")
            | (TypeExpr::Bool, "bool")
            | (TypeExpr::None, "NoneType")
            | (TypeExpr::List(_), "list")
            | (TypeExpr::Dict(_), "dict")
    )
}

fn coerce_int(value: &Value) -> Result<Value, String> {
    match value {
        Value::Number(n) if n.is_i64() || n.is_u64() => Ok(value.clone()),
        Value::Number(n) => {
            let f = n.as_f64().unwrap_or(f64::NAN);
            // Whole floats only, in the range where the cast is exact.
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                #[allow(clippy::cast_possible_truncation)]
                Ok(Value::from(f as i64))
            } else {
                Err(
                    "Input should be a valid integer, got a number with a fractional part"
                        .to_owned(),
                )
            }
        }
        Value::Bool(b) => Ok(Value::from(i64::from(*b))),
        Value::String(s) => s.trim().parse::<i64>().map(Value::from).map_err(|_| {
            "Input should be a valid integer, unable to parse string as an integer".to_owned()
        }),
        _ => Err("Input should be a valid integer".to_owned()),
    }
}

fn looks_like_datetime(s: &str) -> bool {
    let b = s.trim().as_bytes();
    b.len() >= 10 && b[4] == b'-' && b[7] == b'-' && b[..4].iter().all(u8::is_ascii_digit)
}

/// Normalizes a trigger payload against `expects`: when `expects` is non-empty and the payload
/// is a dict, unknown keys are rejected, values coerced, defaults filled in and optional fields
/// without a default set to null. Any other payload is returned unchanged.
pub fn normalize_trigger_inputs(
    expects: &Map<String, Value>,
    payload: &Value,
) -> Result<Value, DslError> {
    let Value::Object(input) = payload else {
        return Ok(payload.clone());
    };
    if expects.is_empty() {
        return Ok(payload.clone());
    }
    match normalize_fields(expects, input)? {
        Ok(out) => Ok(Value::Object(out)),
        Err(errors) => Err(DslError::TriggerInputs { errors }),
    }
}

/// Checks `input` against the fields of `expects` (a template action's arguments, a trigger's
/// inputs): unknown keys rejected, values coerced, defaults filled in, optional fields without
/// a default set to null. The outer error is a malformed `expects`; the inner one lists each
/// `field: problem`.
pub fn normalize_fields(
    expects: &Map<String, Value>,
    input: &Map<String, Value>,
) -> Result<Result<Map<String, Value>, Vec<String>>, DslError> {
    let mut errors = Vec::new();
    let mut out = Map::new();
    for (name, spec) in expects {
        let (field, ty) = expected_field(name, spec)?;
        match (input.get(name), &field.default) {
            (Some(v), _) => match coerce(&ty, v) {
                Ok(v) => {
                    out.insert(name.clone(), v);
                }
                Err(msg) => errors.push(format!("{name}: {msg} [input_value={}]", python_repr(v))),
            },
            (None, Some(default)) => {
                out.insert(name.clone(), default.clone());
            }
            (None, None) if field.optional == Some(true) => {
                out.insert(name.clone(), Value::Null);
            }
            (None, None) => errors.push(format!("{name}: Field required")),
        }
    }
    for key in input.keys().filter(|k| !expects.contains_key(*k)) {
        errors.push(format!("{key}: Extra inputs are not permitted"));
    }
    Ok(if errors.is_empty() { Ok(out) } else { Err(errors) })
}

/// One `expects` entry read and its type parsed.
pub fn expected_field(name: &str, spec: &Value) -> Result<(ExpectedField, TypeExpr), DslError> {
    let field: ExpectedField =
        serde_json::from_value(spec.clone()).map_err(|e| DslError::Expects {
            field: name.to_owned(),
            msg: e.to_string(),
        })?;
    let ty = TypeExpr::parse(&field.ty)?;
    Ok((field, ty))
}

/// The JSON schema of the arguments `expects` describes: what the registry, the MCP catalogue
/// and the console show. Fields without a default that are not optional are required.
pub fn expects_schema(expects: &Map<String, Value>) -> Result<Value, DslError> {
    let mut properties = Map::new();
    let mut required = Vec::new();
    for (name, spec) in expects {
        let (field, ty) = expected_field(name, spec)?;
        let mut schema = ty.json_schema();
        if let Value::Object(schema) = &mut schema {
            if let Some(description) = &field.description {
                schema.insert("description".into(), Value::String(description.clone()));
            }
            if let Some(default) = &field.default {
                schema.insert("default".into(), default.clone());
            }
            if let Some(values) = &field.enum_ {
                schema.insert("enum".into(), Value::Array(values.clone()));
            }
        }
        if field.default.is_none() && field.optional != Some(true) {
            required.push(Value::String(name.clone()));
        }
        properties.insert(name.clone(), schema);
    }
    Ok(serde_json::json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    }))
}

impl TypeExpr {
    /// This type as JSON schema.
    pub fn json_schema(&self) -> Value {
        use serde_json::json;
        match self {
            TypeExpr::Int => json!({"type": "integer"}),
            TypeExpr::Str => json!({"type": "string"}),
            TypeExpr::Bool => json!({"type": "boolean"}),
            TypeExpr::Float => json!({"type": "number"}),
            TypeExpr::Datetime => json!({"type": "string", "format": "date-time"}),
            TypeExpr::Duration => json!({"type": "string", "format": "duration"}),
            TypeExpr::Any | TypeExpr::Ref(_) => json!({}),
            TypeExpr::None => json!({"type": "null"}),
            TypeExpr::List(item) => json!({"type": "array", "items": item.json_schema()}),
            TypeExpr::Dict(None) => json!({"type": "object"}),
            TypeExpr::Dict(Some((_, value))) => json!({"type": "object", "additionalProperties": value.json_schema()}),
            TypeExpr::Union(members) => json!({"anyOf": members.iter().map(TypeExpr::json_schema).collect::<Vec<_>>()}),
            TypeExpr::Enum(values) => json!({"type": "string", "enum": values}),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_the_type_grammar() {
        assert_eq!(TypeExpr::parse("int").unwrap(), TypeExpr::Int);
        assert_eq!(
            TypeExpr::parse("list[int] | None").unwrap(),
            TypeExpr::Union(vec![
                TypeExpr::List(Box::new(TypeExpr::Int)),
                TypeExpr::None
            ])
        );
        assert_eq!(
            TypeExpr::parse("dict[str, list[Any]]").unwrap(),
            TypeExpr::Dict(Some((
                Box::new(TypeExpr::Str),
                Box::new(TypeExpr::List(Box::new(TypeExpr::Any)))
            )))
        );
        assert_eq!(
            TypeExpr::parse("enum['a', \"b\"]").unwrap(),
            TypeExpr::Enum(vec!["a".into(), "b".into()])
        );
        assert_eq!(
            TypeExpr::parse("$Thing").unwrap(),
            TypeExpr::Ref("Thing".into())
        );
        assert_eq!(
            TypeExpr::parse("strng").unwrap_err().to_string(),
            "invalid type 'strng': unknown type 'strng' at position 0"
        );
        assert!(
            TypeExpr::parse("enum['A', 'a']")
                .unwrap_err()
                .to_string()
                .contains("duplicate enum value 'a'")
        );
        assert!(
            TypeExpr::parse("list[int")
                .unwrap_err()
                .to_string()
                .contains("expected ']'")
        );
    }

    #[test]
    fn coerces_like_pydantic_lax_mode() {
        assert_eq!(coerce(&TypeExpr::Int, &json!("42")), Ok(json!(42)));
        assert_eq!(coerce(&TypeExpr::Int, &json!(2.0)), Ok(json!(2)));
        assert!(coerce(&TypeExpr::Int, &json!(2.5)).is_err());
        assert_eq!(coerce(&TypeExpr::Float, &json!("1.5")), Ok(json!(1.5)));
        assert_eq!(coerce(&TypeExpr::Bool, &json!("yes")), Ok(json!(true)));
        assert_eq!(
            coerce(&TypeExpr::Str, &json!(1)),
            Err("Input should be a valid string".into())
        );
        let union = TypeExpr::parse("int | str").unwrap();
        assert_eq!(
            coerce(&union, &json!("1")),
            Ok(json!("1")),
            "exact str match wins"
        );
        assert_eq!(
            coerce(&TypeExpr::parse("list[int]").unwrap(), &json!(["1", 2])),
            Ok(json!([1, 2]))
        );
        assert_eq!(
            coerce(
                &TypeExpr::parse("enum['Low', 'High']").unwrap(),
                &json!("high")
            ),
            Ok(json!("High"))
        );
        assert_eq!(
            coerce(
                &TypeExpr::parse("enum['Low', 'High']").unwrap(),
                &json!("x")
            ),
            Err("Input should be 'Low' or 'High'".into())
        );
    }

    #[test]
    fn normalizes_trigger_inputs() {
        let expects =
            json!({"f": {"type": "str", "default": "d"}, "n": {"type": "int", "default": 42}});
        let expects = expects.as_object().unwrap();
        assert_eq!(
            normalize_trigger_inputs(expects, &json!({})).unwrap(),
            json!({"f": "d", "n": 42})
        );
        assert_eq!(
            normalize_trigger_inputs(expects, &json!({"n": "7"})).unwrap(),
            json!({"f": "d", "n": 7})
        );
        assert_eq!(
            normalize_trigger_inputs(expects, &json!(null)).unwrap(),
            json!(null)
        );
        let err =
            normalize_trigger_inputs(expects, &json!({"n": "not-an-int", "extra": 1})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Failed to validate trigger inputs:\n1. n: Input should be a valid integer, unable to parse string as an integer [input_value='not-an-int']\n2. extra: Extra inputs are not permitted"
        );
        let required = json!({"id": {"type": "int"}, "note": {"type": "str", "optional": true}});
        let err = normalize_trigger_inputs(required.as_object().unwrap(), &json!({})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Failed to validate trigger inputs:\n1. id: Field required"
        );
        assert_eq!(
            normalize_trigger_inputs(required.as_object().unwrap(), &json!({"id": 1})).unwrap(),
            json!({"id": 1, "note": null})
        );
    }
}
