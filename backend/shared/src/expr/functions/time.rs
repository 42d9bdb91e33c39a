//! Date and time functions that do not read the clock (`now`, `utcnow`, `today` and
//! `wall_clock` would break workflow replay and are not registered).
//!
//! JSON has no datetime type, so a datetime is an ISO 8601 string, as Tracecat stores one in a
//! result: naive `2024-01-01T00:00:00` or aware `2024-01-01T00:00:00+00:00`, with microseconds
//! only when non-zero. Numbers given where a datetime is expected are Unix seconds (UTC).

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Timelike, Utc};
use serde_json::Value;

use super::{arity, int_at, opt_str_at, str_at, string, value_error, wrong_type};
use crate::expr::value::{Num, float_value, repr_str};
use crate::expr::{ExprContext, ExprError};

/// A Python datetime: naive or with a fixed UTC offset.
#[derive(Debug, Clone, Copy)]
enum Dt {
    Naive(NaiveDateTime),
    Aware(DateTime<FixedOffset>),
}

impl Dt {
    fn naive(self) -> NaiveDateTime {
        match self {
            Dt::Naive(n) => n,
            Dt::Aware(a) => a.naive_local(),
        }
    }

    /// Seconds since the epoch; naive datetimes are taken as UTC.
    fn timestamp(self) -> f64 {
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
    fn isoformat(self) -> String {
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

fn dt_at(args: &[Value], i: usize) -> Result<Dt, ExprError> {
    match &args[i] {
        Value::String(s) => parse_iso(s),
        v @ Value::Number(_) => {
            let secs = Num::of(v).map_or(0.0, Num::as_f64);
            from_epoch(secs).map(|d| Dt::Aware(d.fixed_offset()))
        }
        other => Err(wrong_type(
            i,
            "a datetime (ISO string or epoch seconds)",
            other,
        )),
    }
}

fn from_epoch(secs: f64) -> Result<DateTime<Utc>, ExprError> {
    let whole = secs.floor();
    // The range check keeps the casts exact.
    if !whole.is_finite() || whole.abs() > 1e14 {
        return Err(value_error(format!("timestamp {secs} is out of range")));
    }
    #[allow(clippy::cast_possible_truncation)]
    let (s, nanos) = (whole as i64, ((secs - whole) * 1e9).round() as u32);
    Utc.timestamp_opt(s, nanos.min(999_999_999))
        .single()
        .ok_or_else(|| value_error(format!("timestamp {secs} is out of range")))
}

/// Python's `datetime.fromisoformat` (3.11+): date, date and time with `T` or a space,
/// fractional seconds, and a `Z` or `±HH:MM` offset.
fn parse_iso(s: &str) -> Result<Dt, ExprError> {
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
    Err(value_error(format!(
        "Invalid isoformat string: {}",
        repr_str(s)
    )))
}

fn iso(dt: Dt) -> Result<Value, ExprError> {
    string(dt.isoformat())
}

pub(super) fn to_datetime(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    iso(dt_at(args, 0)?)
}

pub(super) fn to_isoformat(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    iso(dt_at(args, 0)?)
}

/// `strftime`; chrono's specifiers match Python's for the common ones (`%Y %m %d %H %M %S %z
/// %a %A %b %B %j %p`), except that `%f` is written as `%6f` to give microseconds.
fn strftime(dt: Dt, fmt: &str) -> String {
    let fmt = fmt.replace("%f", "%6f");
    match dt {
        Dt::Naive(n) => n.format(&fmt).to_string(),
        Dt::Aware(a) => a.format(&fmt).to_string(),
    }
}

pub(super) fn format_datetime(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let dt = dt_at(args, 0)?;
    let fmt = str_at(args, 1)?;
    // chrono fails while writing on a bad specifier (and `to_string` would panic): check first.
    let mut items = chrono::format::StrftimeItems::new(fmt);
    if items.any(|i| matches!(i, chrono::format::Item::Error)) {
        return Err(value_error(format!(
            "invalid format string {}",
            repr_str(fmt)
        )));
    }
    string(strftime(dt, fmt))
}

pub(super) fn parse_datetime(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let s = str_at(args, 0)?;
    let fmt = str_at(args, 1)?.replace("%f", "%6f");
    let parsed = DateTime::parse_from_str(s, &fmt)
        .map(Dt::Aware)
        .or_else(|_| NaiveDateTime::parse_from_str(s, &fmt).map(Dt::Naive))
        .or_else(|_| {
            NaiveDate::parse_from_str(s, &fmt)
                .map(|d| Dt::Naive(d.and_hms_opt(0, 0, 0).unwrap_or_default()))
        })
        .map_err(|_| {
            value_error(format!(
                "time data {} does not match format {}",
                repr_str(s),
                repr_str(&fmt)
            ))
        })?;
    iso(parsed)
}

fn unit_at(args: &[Value], i: usize) -> Result<bool, ExprError> {
    match opt_str_at(args, i)? {
        None | Some("s") => Ok(false),
        Some("ms") => Ok(true),
        Some(other) => Err(value_error(format!(
            "unit must be 's' or 'ms', got {}",
            repr_str(other)
        ))),
    }
}

pub(super) fn to_timestamp(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let ts = dt_at(args, 0)?.timestamp();
    if unit_at(args, 1)? {
        // Milliseconds are whole numbers in Tracecat's implementation.
        #[allow(clippy::cast_possible_truncation)]
        return Ok(Value::from((ts * 1000.0).round() as i64));
    }
    float_value(ts)
}

pub(super) fn from_timestamp(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let Some(n) = Num::of(&args[0]) else {
        return Err(wrong_type(0, "a number", &args[0]));
    };
    let secs = if unit_at(args, 1)? {
        n.as_f64() / 1000.0
    } else {
        n.as_f64()
    };
    iso(Dt::Naive(from_epoch(secs)?.naive_utc()))
}

pub(super) fn datetime(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 3, 6)?;
    let part = |i: usize| -> Result<u32, ExprError> {
        if i >= args.len() {
            return Ok(0);
        }
        u32::try_from(int_at(args, i)?)
            .map_err(|_| value_error("datetime parts must not be negative"))
    };
    let year = i32::try_from(int_at(args, 0)?).map_err(|_| value_error("year is out of range"))?;
    let date = NaiveDate::from_ymd_opt(year, part(1)?, part(2)?)
        .ok_or_else(|| value_error("day is out of range for month"))?;
    let dt = date
        .and_hms_opt(part(3)?, part(4)?, part(5)?)
        .ok_or_else(|| value_error("hour, minute or second is out of range"))?;
    iso(Dt::Naive(dt))
}

fn part(args: &[Value], f: fn(NaiveDateTime) -> u32) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    Ok(Value::from(f(dt_at(args, 0)?.naive())))
}

pub(super) fn get_second(args: &[Value]) -> Result<Value, ExprError> {
    part(args, |d| d.second())
}

pub(super) fn get_minute(args: &[Value]) -> Result<Value, ExprError> {
    part(args, |d| d.minute())
}

pub(super) fn get_hour(args: &[Value]) -> Result<Value, ExprError> {
    part(args, |d| d.hour())
}

pub(super) fn get_day(args: &[Value]) -> Result<Value, ExprError> {
    part(args, |d| d.day())
}

pub(super) fn get_year(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    Ok(Value::from(dt_at(args, 0)?.naive().year()))
}

const DAYS: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];
const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn named(
    names: &[&str],
    index: usize,
    number: u32,
    format: Option<&str>,
) -> Result<Value, ExprError> {
    match format.unwrap_or("number") {
        "number" => Ok(Value::from(number)),
        "full" => string(names[index]),
        "short" => string(&names[index][..3]),
        _ => Err(value_error("format must be 'number', 'full', or 'short'")),
    }
}

pub(super) fn get_day_of_week(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let weekday = dt_at(args, 0)?.naive().weekday().num_days_from_monday();
    named(&DAYS, weekday as usize, weekday, opt_str_at(args, 1)?)
}

pub(super) fn get_month(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let month = dt_at(args, 0)?.naive().month();
    named(&MONTHS, month as usize - 1, month, opt_str_at(args, 1)?)
}

/// `(end - start)` in seconds; both must be naive or both aware, as in Python.
fn between(args: &[Value], unit: f64) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    let (start, end) = (dt_at(args, 0)?, dt_at(args, 1)?);
    if matches!(start, Dt::Naive(_)) != matches!(end, Dt::Naive(_)) {
        return Err(ExprError::Type {
            msg: "can't subtract offset-naive and offset-aware datetimes".to_owned(),
        });
    }
    float_value((end.timestamp() - start.timestamp()) / unit)
}

pub(super) fn seconds_between(args: &[Value]) -> Result<Value, ExprError> {
    between(args, 1.0)
}

pub(super) fn minutes_between(args: &[Value]) -> Result<Value, ExprError> {
    between(args, 60.0)
}

pub(super) fn hours_between(args: &[Value]) -> Result<Value, ExprError> {
    between(args, 3600.0)
}

pub(super) fn days_between(args: &[Value]) -> Result<Value, ExprError> {
    between(args, 86_400.0)
}

pub(super) fn weeks_between(args: &[Value]) -> Result<Value, ExprError> {
    between(args, 604_800.0)
}

/// The run's logical time from `ENV.workflow.logical_time` (an ISO string or epoch seconds).
fn logical_time(ctx: &ExprContext) -> Result<DateTime<Utc>, ExprError> {
    let raw = ctx
        .env
        .get("workflow")
        .and_then(|w| w.get("logical_time"))
        .filter(|v| !v.is_null())
        .ok_or_else(|| value_error("needs ENV.workflow.logical_time in the expression context"))?;
    let dt = dt_at(std::slice::from_ref(raw), 0)?;
    Ok(match dt {
        Dt::Naive(n) => n.and_utc(),
        Dt::Aware(a) => a.with_timezone(&Utc),
    })
}

/// `now()`: the logical time as a naive datetime (ferrocat runs in UTC).
pub(super) fn now(args: &[Value], ctx: &ExprContext) -> Result<Value, ExprError> {
    arity(args, 0, 2)?;
    iso(Dt::Naive(logical_time(ctx)?.naive_utc()))
}

/// `utcnow()`: the logical time as an aware UTC datetime.
pub(super) fn utcnow(args: &[Value], ctx: &ExprContext) -> Result<Value, ExprError> {
    arity(args, 0, 0)?;
    iso(Dt::Aware(logical_time(ctx)?.fixed_offset()))
}

/// `today()`: the logical date, `YYYY-MM-DD`.
pub(super) fn today(args: &[Value], ctx: &ExprContext) -> Result<Value, ExprError> {
    arity(args, 0, 0)?;
    string(
        logical_time(ctx)?
            .date_naive()
            .format("%Y-%m-%d")
            .to_string(),
    )
}
