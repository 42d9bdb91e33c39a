//! The typed columns that case fields and lookup tables share (Tracecat's `SqlType`): the
//! types, their options, and how a JSON value becomes the one text Postgres reads for a
//! column of the type (bound, then cast), or is refused with what the column takes.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use serde_json::Value;

use crate::AppError;
use crate::checks::invalid;

/// Most options of a select column.
pub const MAX_OPTIONS: usize = 200;

/// A column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    Text,
    Integer,
    Numeric,
    Boolean,
    Date,
    Timestamptz,
    Jsonb,
    Select,
    MultiSelect,
}

impl SqlType {
    pub const ALL: &'static [SqlType] = &[
        SqlType::Text,
        SqlType::Integer,
        SqlType::Numeric,
        SqlType::Boolean,
        SqlType::Date,
        SqlType::Timestamptz,
        SqlType::Jsonb,
        SqlType::Select,
        SqlType::MultiSelect,
    ];

    /// The wire and stored spelling (`TEXT`, `MULTI_SELECT`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            SqlType::Text => "TEXT",
            SqlType::Integer => "INTEGER",
            SqlType::Numeric => "NUMERIC",
            SqlType::Boolean => "BOOLEAN",
            SqlType::Date => "DATE",
            SqlType::Timestamptz => "TIMESTAMPTZ",
            SqlType::Jsonb => "JSONB",
            SqlType::Select => "SELECT",
            SqlType::MultiSelect => "MULTI_SELECT",
        }
    }

    /// The type spelled `text` (any case).
    pub fn parse(text: &str) -> Option<SqlType> {
        SqlType::ALL.iter().copied().find(|t| t.as_str().eq_ignore_ascii_case(text.trim()))
    }

    /// [`SqlType::parse`], refused at `loc` with the types there are.
    pub fn parse_at(loc: &str, text: &str) -> Result<SqlType, AppError> {
        SqlType::parse(text).ok_or_else(|| {
            let all: Vec<&str> = SqlType::ALL.iter().map(|t| t.as_str()).collect();
            invalid(loc, format!("type {text:?} is not one of {}", all.join(", ")))
        })
    }

    /// The Postgres type that stores it.
    pub fn pg(self) -> &'static str {
        match self {
            SqlType::Text | SqlType::Select => "text",
            SqlType::Integer => "bigint",
            SqlType::Numeric => "numeric",
            SqlType::Boolean => "boolean",
            SqlType::Date => "date",
            SqlType::Timestamptz => "timestamptz",
            SqlType::Jsonb | SqlType::MultiSelect => "jsonb",
        }
    }

    pub fn takes_options(self) -> bool {
        matches!(self, SqlType::Select | SqlType::MultiSelect)
    }

    /// Whether a text search looks into it (Tracecat: text and JSON columns).
    pub fn is_searchable(self) -> bool {
        matches!(self, SqlType::Text | SqlType::Select | SqlType::Jsonb | SqlType::MultiSelect)
    }

    /// Checks the options given with a column of this type: only select types take them, and
    /// they need 1 to [`MAX_OPTIONS`] distinct, non-empty options of at most 255 characters.
    pub fn check_options(self, options: Option<&[String]>) -> Result<(), AppError> {
        let list = options.unwrap_or_default();
        if !self.takes_options() {
            return if list.is_empty() { Ok(()) } else { Err(invalid("options", "only SELECT and MULTI_SELECT take options")) };
        }
        if list.is_empty() || list.len() > MAX_OPTIONS {
            return Err(invalid("options", format!("a {} column needs 1-{MAX_OPTIONS} options", self.as_str())));
        }
        let mut seen = std::collections::HashSet::new();
        if list.iter().any(|o| o.trim().is_empty() || o.len() > 255 || !seen.insert(o)) {
            return Err(invalid("options", "options must be distinct, non-empty and at most 255 characters"));
        }
        Ok(())
    }

    /// The text Postgres reads as this type for `value` (`None` for null), coercing as Tracecat
    /// does: integers and numbers from their text, times from RFC 3339 (UTC when no zone is
    /// given) or epoch seconds, dates from a date or a time. `Err` says what the column takes.
    pub fn coerce(self, value: &Value, options: &[String]) -> Result<Option<String>, String> {
        if value.is_null() {
            return Ok(None);
        }
        let text = value.as_str().map(str::trim);
        let out = match self {
            SqlType::Text => value.as_str().map(str::to_owned).ok_or("text")?,
            SqlType::Select => match value.as_str() {
                Some(s) if options.iter().any(|o| o == s) => s.to_owned(),
                _ => return Err(format!("one of {options:?}")),
            },
            SqlType::MultiSelect => {
                let items: Vec<&str> = match value {
                    Value::String(s) => vec![s.as_str()],
                    Value::Array(items) => items.iter().map(Value::as_str).collect::<Option<_>>().ok_or_else(|| format!("a list of some of {options:?}"))?,
                    _ => return Err(format!("a list of some of {options:?}")),
                };
                if let Some(bad) = items.iter().find(|i| !options.iter().any(|o| o == *i)) {
                    return Err(format!("a list of some of {options:?} ({bad:?} is not one)"));
                }
                serde_json::to_string(&items).unwrap_or_default()
            }
            SqlType::Integer => integer(value).ok_or("an integer (64-bit)")?.to_string(),
            SqlType::Numeric => match value {
                Value::Number(n) => n.to_string(),
                // Within a double's range, so every value reads back as a JSON number.
                Value::String(_) if text.is_some_and(|t| is_decimal(t) && t.parse::<f64>().is_ok_and(f64::is_finite)) => text.unwrap_or_default().to_owned(),
                _ => return Err("a number".into()),
            },
            SqlType::Boolean => match value {
                Value::Bool(b) => b.to_string(),
                Value::Number(n) if n.as_i64() == Some(0) || n.as_i64() == Some(1) => (n.as_i64() == Some(1)).to_string(),
                Value::String(_) => match text.unwrap_or_default().to_ascii_lowercase().as_str() {
                    "true" | "t" | "yes" | "y" | "1" => "true".into(),
                    "false" | "f" | "no" | "n" | "0" => "false".into(),
                    _ => return Err("true or false".into()),
                },
                _ => return Err("true or false".into()),
            },
            SqlType::Date => match value {
                Value::String(_) => {
                    let s = text.unwrap_or_default();
                    NaiveDate::parse_from_str(s, "%Y-%m-%d")
                        .ok()
                        .or_else(|| timestamp(s).map(|t| t.date_naive()))
                        .ok_or("a date (YYYY-MM-DD)")?
                        .to_string()
                }
                Value::Number(n) => epoch(n).ok_or("a date (YYYY-MM-DD)")?.date_naive().to_string(),
                _ => return Err("a date (YYYY-MM-DD)".into()),
            },
            SqlType::Timestamptz => {
                let at = match value {
                    Value::String(_) => timestamp(text.unwrap_or_default()),
                    Value::Number(n) => epoch(n),
                    _ => None,
                };
                at.ok_or("a timestamp (RFC 3339; UTC when no zone is given)")?.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            }
            SqlType::Jsonb => value.to_string(),
        };
        Ok(Some(out))
    }
}

impl std::fmt::Display for SqlType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn integer(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.2e18).map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            s.parse::<i64>().ok().or_else(|| s.strip_suffix(".0").and_then(|i| i.parse().ok()))
        }
        _ => None,
    }
}

/// A decimal number as Postgres's numeric reads it (no NaN, no infinity).
fn is_decimal(text: &str) -> bool {
    let body = text.strip_prefix(['+', '-']).unwrap_or(text);
    let (mantissa, exponent) = match body.split_once(['e', 'E']) {
        Some((m, e)) => (m, Some(e)),
        None => (body, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && e.len() <= 4 && digits(e)
    });
    !(whole.is_empty() && fraction.is_empty()) && digits(whole) && digits(fraction) && exponent_ok
}

/// A time from RFC 3339, or without a zone (then UTC), with `T` or a space, or a bare date.
pub fn timestamp(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z") {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(Utc.from_utc_datetime(&t));
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| Utc.from_utc_datetime(&t))
}

fn epoch(n: &serde_json::Number) -> Option<DateTime<Utc>> {
    let seconds = n.as_f64()?;
    DateTime::from_timestamp_millis((seconds * 1000.0).round() as i64)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_coerce_to_the_text_postgres_reads_or_say_what_the_column_takes() {
        let none: [String; 0] = [];
        let options = ["low".to_owned(), "high".to_owned()];
        let cases: &[(SqlType, Value, Option<&str>)] = &[
            (SqlType::Integer, json!(42), Some("42")),
            (SqlType::Integer, json!("  -7 "), Some("-7")),
            (SqlType::Integer, json!(3.0), Some("3")),
            (SqlType::Numeric, json!("12.50"), Some("12.50")),
            (SqlType::Numeric, json!(1.5e3), Some("1500.0")),
            (SqlType::Boolean, json!("Yes"), Some("true")),
            (SqlType::Date, json!("2026-12-06T23:10:00Z"), Some("2026-12-06")),
            (SqlType::Timestamptz, json!("2026-12-06 10:00:00"), Some("2026-12-06T10:00:00Z")),
            (SqlType::Timestamptz, json!("2026-12-06T10:00:00+02:00"), Some("2026-12-06T08:00:00Z")),
            (SqlType::Timestamptz, json!(0), Some("1970-01-01T00:00:00Z")),
            (SqlType::Jsonb, json!({"a": [1]}), Some(r#"{"a":[1]}"#)),
            (SqlType::Select, json!("high"), Some("high")),
            (SqlType::MultiSelect, json!(["low", "high"]), Some(r#"["low","high"]"#)),
            (SqlType::Text, Value::Null, None),
        ];
        for (kind, value, want) in cases {
            assert_eq!(kind.coerce(value, &options).unwrap().as_deref(), *want, "{kind} {value}");
        }
        for (kind, value) in [
            (SqlType::Integer, json!("4.5")),
            (SqlType::Integer, json!("9223372036854775808")),
            (SqlType::Numeric, json!("NaN")),
            (SqlType::Numeric, json!("1e")),
            (SqlType::Numeric, json!("1e400")),
            (SqlType::Text, json!(5)),
            (SqlType::Boolean, json!("maybe")),
            (SqlType::Date, json!("06/12/2026")),
            (SqlType::Select, json!("medium")),
            (SqlType::MultiSelect, json!(["low", 1])),
        ] {
            assert!(kind.coerce(&value, &options).is_err(), "{kind} {value} was taken");
        }
        assert!(SqlType::Select.coerce(&json!("x"), &none).unwrap_err().contains("one of"));
    }

    #[test]
    fn options_belong_to_select_types_only() {
        assert!(SqlType::Text.check_options(Some(&["a".into()])).is_err());
        assert!(SqlType::Select.check_options(None).is_err());
        assert!(SqlType::MultiSelect.check_options(Some(&["a".into(), "a".into()])).is_err());
        assert!(SqlType::Select.check_options(Some(&["a".into(), "b".into()])).is_ok());
        assert_eq!(SqlType::parse("multi_select"), Some(SqlType::MultiSelect));
    }
}
