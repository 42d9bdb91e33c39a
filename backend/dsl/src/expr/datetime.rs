//! The datetime value of the language: JSON has no datetime type, so a datetime is an ISO 8601
//! string, naive `2024-01-01T00:00:00` or aware `2024-01-01T00:00:00+00:00`, and a timedelta is
//! a number of seconds. This module parses and prints them and does the `+`/`-` arithmetic the
//! operators (`ops`) and the time functions (`functions::time`) share.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use serde_json::Value;

use super::ExprError;
use super::value::{Num, float_value, repr_str};

/// A Python datetime: naive or with a fixed UTC offset.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Dt {
    Naive(NaiveDateTime),
    Aware(DateTime<FixedOffset>),
}

impl Dt {
    pub(crate) fn naive(self) -> NaiveDateTime {
        match self {
            Dt::Naive(n) => n,
            Dt::Aware(a) => a.naive_local(),
        }
    }

    /// Seconds since the epoch; naive datetimes are taken as UTC.
    pub(crate) fn timestamp(self) -> f64 {
        let utc = match self {
            Dt::Naive(n) => n.and_utc(),
            Dt::Aware(a) => a.with_timezone(&Utc),
        };
        // Sub-second precision as Python's float timestamp has it.
        #[allow(clippy::cast_precision_loss)]
        let secs = utc.timestamp() as f64;
        secs + f64::from(utc.timestamp_subsec_micros()) / 1e6
    }

    /// Python's `datetime.isoformat()`.
    pub(crate) fn isoformat(self) -> String {
        let n = self.naive();
        let micros = n.and_utc().timestamp_subsec_micros();
        let mut s = n.format("%Y-%m-%dT%H:%M:%S").to_string();
        if micros != 0 {
            s.push_str(&format!(".{micros:06}"));
        }
        if let Dt::Aware(a) = self {
            s.push_str(&a.format("%:z").to_string());
        }
        s
    }
}

/// Python's `datetime.fromisoformat` (3.11+): date, date and time with `T` or a space,
/// fractional seconds, and a `Z` or `±HH:MM` offset.
pub(crate) fn parse_iso(s: &str) -> Result<Dt, ExprError> {
    let t = s.trim();
    if let Ok(a) = DateTime::parse_from_rfc3339(&t.replacen(' ', "T", 1)) {
        return Ok(Dt::Aware(a));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f%:z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
        "%Y-%m-%dT%H:%M%:z",
    ] {
        if let Ok(a) = DateTime::parse_from_str(t, fmt) {
            return Ok(Dt::Aware(a));
        }
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return Ok(Dt::Naive(n));
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return Ok(Dt::Naive(d.and_hms_opt(0, 0, 0).unwrap_or_default()));
    }
    Err(ExprError::Value {
        msg: format!("Invalid isoformat string: {}", repr_str(s)),
    })
}

/// A datetime as the ISO string the DSL holds it in.
pub(crate) fn iso(dt: Dt) -> Result<Value, ExprError> {
    Ok(Value::String(dt.isoformat()))
}

/// The `+` and `-` operators on datetimes, after Python's `datetime ± timedelta` and
/// `datetime - datetime`, with datetimes as ISO strings (with a time part) and timedeltas as
/// seconds: `FN.utcnow() - FN.days(7)` is a datetime, `b - a` a number of seconds. `None`
/// when the operands are not a datetime and a number (or two datetimes for `-`).
pub(crate) fn datetime_arith(
    a: &Value,
    b: &Value,
    subtract: bool,
) -> Option<Result<Value, ExprError>> {
    let seconds = |v: &Value| match v {
        Value::Number(_) => Num::of(v).map(Num::as_f64),
        _ => None,
    };
    let as_dt = |v: &Value| {
        v.as_str()
            .filter(|s| s.trim().len() > 10)
            .and_then(|s| parse_iso(s).ok())
    };
    match (as_dt(a), as_dt(b)) {
        (Some(x), None) => {
            let secs = seconds(b)?;
            Some(shift(x, if subtract { -secs } else { secs }))
        }
        (None, Some(y)) if !subtract => Some(shift(y, seconds(a)?)),
        (Some(x), Some(y)) if subtract => Some(
            naive_and_aware_check(y, x).and_then(|()| float_value(x.timestamp() - y.timestamp())),
        ),
        _ => None,
    }
}

fn shift(dt: Dt, secs: f64) -> Result<Value, ExprError> {
    let overflow = || ExprError::Overflow {
        value: "date value out of range".to_owned(),
    };
    if !secs.is_finite() || secs.abs() > 1e15 {
        return Err(overflow());
    }
    // Python's timedelta resolution; in range by the check above.
    #[allow(clippy::cast_possible_truncation)]
    let delta = chrono::TimeDelta::microseconds((secs * 1e6).round_ties_even() as i64);
    match dt {
        Dt::Naive(n) => n.checked_add_signed(delta).map(Dt::Naive),
        Dt::Aware(a) => a.checked_add_signed(delta).map(Dt::Aware),
    }
    .ok_or_else(overflow)
    .and_then(iso)
}

pub(crate) fn naive_and_aware_check(start: Dt, end: Dt) -> Result<(), ExprError> {
    if matches!(start, Dt::Naive(_)) != matches!(end, Dt::Naive(_)) {
        return Err(ExprError::Type {
            msg: "can't subtract offset-naive and offset-aware datetimes".to_owned(),
        });
    }
    Ok(())
}
