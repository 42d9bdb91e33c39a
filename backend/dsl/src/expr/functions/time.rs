//! Date and time functions. None reads the machine's clock inside a workflow: `now`, `utcnow`,
//! `today` and `wall_clock` read the run's logical time from `ENV.workflow.logical_time`.
//!
//! JSON has no datetime type, so a datetime is an ISO 8601 string, as Tracecat stores one in a
//! result: naive `2024-01-01T00:00:00` or aware `2024-01-01T00:00:00+00:00`, with microseconds
//! only when non-zero. Numbers given where a datetime is expected are Unix seconds (UTC).
//! A time of day (`parse_time`, `to_time`) is Python's `time.isoformat()`, `HH:MM:SS[.ffffff]`.
//!
//! A timedelta (`seconds`, `minutes`, `hours`, `days`, `weeks`) is its length in seconds: an
//! int for whole inputs, a float otherwise. That is the unit `seconds_between` returns and the
//! unit a number stands for as a datetime, so `FN.hours(2) < FN.seconds_between(a, b)` and
//! `FN.from_timestamp(FN.to_timestamp(x) + FN.days(1))` work, and the DSL's `duration` type
//! accepts it. Naive datetimes are UTC wherever Python would use the machine's local zone
//! (ferrocat runs in UTC); IANA zone names come from the bundled `chrono-tz` database.

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Timelike, Utc};
use chrono_tz::Tz;
use serde_json::Value;

use super::{arity, int_at, opt_bool_at, opt_str_at, str_at, string, value_error, wrong_type};
use crate::expr::datetime::{Dt, iso, naive_and_aware_check, parse_iso};
use crate::expr::value::{Num, float_value, int_value, repr_str, typename};
use crate::expr::{ExprContext, ExprError};

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

/// An IANA zone name, as Python's `zoneinfo.ZoneInfo(name)`.
fn tz_at(args: &[Value], i: usize) -> Result<Tz, ExprError> {
    let name = str_at(args, i)?;
    name.parse::<Tz>()
        .map_err(|_| value_error(format!("No time zone found with key {name}")))
}

/// `dt.astimezone(tz)`, a naive `dt` taken as UTC.
fn in_zone(dt: Dt, tz: Tz) -> Dt {
    let utc = match dt {
        Dt::Naive(n) => n.and_utc(),
        Dt::Aware(a) => a.with_timezone(&Utc),
    };
    Dt::Aware(utc.with_timezone(&tz).fixed_offset())
}

/// `to_datetime(x, timezone=None)`: with a zone, a naive `x` is taken as UTC and converted.
pub(super) fn to_datetime(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 2)?;
    let dt = dt_at(args, 0)?;
    match args.get(1) {
        None | Some(Value::Null) => iso(dt),
        Some(_) => iso(in_zone(dt, tz_at(args, 1)?)),
    }
}

/// `set_timezone(x, timezone)`: the same instant in another zone.
pub(super) fn set_timezone(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 2, 2)?;
    iso(in_zone(dt_at(args, 0)?, tz_at(args, 1)?))
}

/// `unset_timezone(x)`: the wall-clock time without its offset.
pub(super) fn unset_timezone(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    iso(Dt::Naive(dt_at(args, 0)?.naive()))
}

/// `windows_filetime(x)`: 100-nanosecond intervals since 1601-01-01 UTC (naive `x` is UTC),
/// computed through a float number of seconds as Tracecat's `int(delta.total_seconds() * 1e7)`.
pub(super) fn windows_filetime(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let utc = match dt_at(args, 0)? {
        Dt::Naive(n) => n.and_utc(),
        Dt::Aware(a) => a.with_timezone(&Utc),
    };
    let epoch = NaiveDate::from_ymd_opt(1601, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc())
        .ok_or_else(|| value_error("Windows epoch is out of range"))?;
    let micros = (utc - epoch)
        .num_microseconds()
        .ok_or_else(|| value_error("datetime is out of range for a Windows filetime"))?;
    // `total_seconds()` is the correctly rounded quotient micros / 10**6, which the decimal
    // text parses to exactly; the product is then truncated like Python's int().
    let sign = if micros < 0 { "-" } else { "" };
    let (whole, frac) = (
        micros.unsigned_abs() / 1_000_000,
        micros.unsigned_abs() % 1_000_000,
    );
    let seconds: f64 = format!("{sign}{whole}.{frac:06}")
        .parse()
        .map_err(|_| value_error("datetime is out of range for a Windows filetime"))?;
    let ticks = (seconds * 10_000_000.0).trunc();
    if ticks.abs() >= 9.2e18 {
        return Err(value_error(
            "datetime is out of range for a Windows filetime",
        ));
    }
    // In range by the check above.
    #[allow(clippy::cast_possible_truncation)]
    Ok(Value::from(ticks as i64))
}

/// Python's `time.isoformat()`.
fn time_iso(t: NaiveTime) -> String {
    let micros = t.nanosecond() / 1000;
    let base = t.format("%H:%M:%S").to_string();
    if micros == 0 {
        base
    } else {
        format!("{base}.{micros:06}")
    }
}

/// `strptime(s, "%H:%M:%S")`, then `"%H:%M"`: one or two digits per part, in range.
fn parse_clock(s: &str) -> Result<NaiveTime, ExprError> {
    let parts: Vec<&str> = s.split(':').collect();
    let num = |p: &str, max: u32| -> Option<u32> {
        let ok = (1..=2).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit());
        ok.then(|| p.parse::<u32>().ok())
            .flatten()
            .filter(|n| *n <= max)
    };
    let parsed = match parts.as_slice() {
        [h, m, sec] => num(h, 23).zip(num(m, 59)).zip(num(sec, 59)),
        [h, m] => num(h, 23).zip(num(m, 59)).map(|hm| (hm, 0)),
        _ => None,
    };
    parsed
        .and_then(|((h, m), sec)| NaiveTime::from_hms_opt(h, m, sec))
        .ok_or_else(|| {
            value_error(format!(
                "Time string must be in HH:MM:SS or HH:MM format, got: {s}"
            ))
        })
}

/// `parse_time(x)`: `HH:MM:SS` or `HH:MM` to a time of day.
pub(super) fn parse_time(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    string(time_iso(parse_clock(str_at(args, 0)?)?))
}

/// `to_time(x)`: the wall-clock time of day of a datetime (its offset dropped).
pub(super) fn to_time(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    string(time_iso(dt_at(args, 0)?.naive().time()))
}

/// `is_working_hours(x, start, end, include_weekends=False, timezone=None)`: whether the time of
/// day of `x` (in `timezone` if given, a naive `x` being UTC) lies within `start`..=`end`, a
/// window that may wrap past midnight (`22:00`–`06:00`). Saturdays and Sundays are outside it
/// unless `include_weekends`.
pub(super) fn is_working_hours(args: &[Value]) -> Result<Value, ExprError> {
    arity(args, 3, 5)?;
    let mut dt = dt_at(args, 0)?;
    let (start, end) = (str_at(args, 1)?, str_at(args, 2)?);
    let include_weekends = opt_bool_at(args, 3)?;
    if !matches!(args.get(4), None | Some(Value::Null)) {
        dt = in_zone(dt, tz_at(args, 4)?);
    }
    let local = dt.naive();
    if local.weekday().num_days_from_monday() >= 5 && !include_weekends {
        return Ok(Value::Bool(false));
    }
    let (start, end, t) = (parse_clock(start)?, parse_clock(end)?, local.time());
    Ok(Value::Bool(if start <= end {
        start <= t && t <= end
    } else {
        t >= start || t <= end
    }))
}

/// Python's `timedelta` bound, `999999999` days either way: magnitudes must stay below
/// `10**9` days, i.e. at most this many whole seconds.
const MAX_DELTA_SECONDS: i128 = 1_000_000_000 * 86_400 - 1;

/// `timedelta(<unit>=x)` as seconds: an int for an int `x`, a float rounded to microseconds
/// (Python's resolution) otherwise.
// The casts only print an out-of-range count or compare with the bound.
#[allow(clippy::cast_precision_loss, clippy::cast_possible_truncation)]
fn duration(args: &[Value], unit: &str, factor: i64) -> Result<Value, ExprError> {
    arity(args, 1, 1)?;
    let out_of_range = |secs: f64| ExprError::Value {
        // Python names the days count in its OverflowError.
        msg: format!(
            "days={}; must have magnitude <= 999999999",
            (secs / 86_400.0).floor() as i128
        ),
    };
    match Num::of(&args[0]) {
        Some(Num::Int(n)) => match n.checked_mul(i128::from(factor)) {
            Some(secs) if secs.abs() <= MAX_DELTA_SECONDS => int_value(secs),
            _ => Err(out_of_range(n as f64 * factor as f64)),
        },
        Some(Num::Float(f)) => {
            let secs = f * factor as f64;
            if !secs.is_finite() {
                return Err(value_error(format!(
                    "cannot convert float {} to integer",
                    crate::expr::format_float(secs)
                )));
            }
            if secs.abs() >= (MAX_DELTA_SECONDS + 1) as f64 {
                return Err(out_of_range(secs));
            }
            float_value((secs * 1e6).round_ties_even() / 1e6)
        }
        None => Err(ExprError::Type {
            msg: format!(
                "unsupported type for timedelta {unit} component: {}",
                typename(&args[0])
            ),
        }),
    }
}

pub(super) fn seconds(args: &[Value]) -> Result<Value, ExprError> {
    duration(args, "seconds", 1)
}

pub(super) fn minutes(args: &[Value]) -> Result<Value, ExprError> {
    duration(args, "minutes", 60)
}

pub(super) fn hours(args: &[Value]) -> Result<Value, ExprError> {
    duration(args, "hours", 3600)
}

pub(super) fn days(args: &[Value]) -> Result<Value, ExprError> {
    duration(args, "days", 86_400)
}

pub(super) fn weeks(args: &[Value]) -> Result<Value, ExprError> {
    duration(args, "weeks", 604_800)
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
    naive_and_aware_check(start, end)?;
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

/// `wall_clock()`: Tracecat's real current time. Inside a workflow it is the logical time, as
/// `now()` gives: expressions there are evaluated again when Temporal replays the workflow's
/// history, and a clock read would give a different value on each replay (a different branch
/// taken, different arguments sent), so the run could not be replayed. Only where there is no
/// logical time (an expression evaluated outside any run) is the machine's clock read.
pub(super) fn wall_clock(args: &[Value], ctx: &ExprContext) -> Result<Value, ExprError> {
    arity(args, 0, 2)?;
    let has_logical_time = ctx
        .env
        .get("workflow")
        .and_then(|w| w.get("logical_time"))
        .is_some_and(|v| !v.is_null());
    let now = if has_logical_time {
        logical_time(ctx)?
    } else {
        Utc::now()
    };
    iso(Dt::Naive(now.naive_utc()))
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
