//! `parse_time`, `to_time`, time zones, `windows_filetime`, `is_working_hours`, durations,
//! `wall_clock` and `uuid4`.

use serde_json::json;

use super::{ev, ev_err};
use crate::expr::{ExprContext, eval_expression};

#[test]
fn parse_time_accepts_hh_mm_ss_and_hh_mm() {
    assert_eq!(ev("FN.parse_time('09:30:15')"), json!("09:30:15"));
    assert_eq!(ev("FN.parse_time('17:45')"), json!("17:45:00"));
    assert_eq!(ev("FN.parse_time('7:05')"), json!("07:05:00"));
    for bad in ["25:00:00", "12:60:00", "12:00:60", "12.00.00", "12", "12:", ":30:00", ""] {
        assert_eq!(
            ev_err(&format!("FN.parse_time('{bad}')")),
            format!("Time string must be in HH:MM:SS or HH:MM format, got: {bad}")
        );
    }
    assert_eq!(
        ev_err("FN.parse_time(930)"),
        "argument 1 must be str, not int"
    );
}

#[test]
fn to_time_takes_the_wall_clock_part() {
    assert_eq!(ev("FN.to_time('2024-03-18T12:34:56Z')"), json!("12:34:56"));
    assert_eq!(
        ev("FN.to_time('2024-03-18T23:59:59.250+05:30')"),
        json!("23:59:59.250000")
    );
    assert_eq!(
        ev_err("FN.to_time('12:60:00')"),
        "Invalid isoformat string: '12:60:00'"
    );
    assert_eq!(
        ev_err("FN.to_time(None)"),
        "argument 1 must be a datetime (ISO string or epoch seconds), not NoneType"
    );
}

#[test]
fn set_and_unset_timezone() {
    // Winter and summer offsets of one zone come from the IANA rules.
    assert_eq!(
        ev("FN.set_timezone('2024-01-15T14:00:00Z', 'America/New_York')"),
        json!("2024-01-15T09:00:00-05:00")
    );
    assert_eq!(
        ev("FN.set_timezone('2024-07-15T14:00:00+00:00', 'America/New_York')"),
        json!("2024-07-15T10:00:00-04:00")
    );
    // A naive datetime is UTC.
    assert_eq!(
        ev("FN.set_timezone('2024-01-01T00:00:00', 'Asia/Kolkata')"),
        json!("2024-01-01T05:30:00+05:30")
    );
    assert_eq!(
        ev("FN.unset_timezone('2024-01-15T09:00:00-05:00')"),
        json!("2024-01-15T09:00:00")
    );
    assert_eq!(
        ev("FN.unset_timezone('2024-01-15T09:00:00')"),
        json!("2024-01-15T09:00:00")
    );
    assert_eq!(
        ev("FN.to_datetime('2024-06-01T12:00:00', 'Europe/Berlin')"),
        json!("2024-06-01T14:00:00+02:00")
    );
    assert_eq!(
        ev("FN.to_datetime(1700000000, 'UTC')"),
        json!("2023-11-14T22:13:20+00:00")
    );
    assert_eq!(
        ev_err("FN.set_timezone('2024-01-01', 'Mars/Olympus')"),
        "No time zone found with key Mars/Olympus"
    );
}

#[test]
fn windows_filetime_counts_100ns_since_1601() {
    assert_eq!(
        ev("FN.windows_filetime('1970-01-01T00:00:00Z')"),
        json!(116_444_736_000_000_000_i64)
    );
    // An event time from a Windows security log (naive means UTC).
    assert_eq!(
        ev("FN.windows_filetime('2024-03-18T12:34:56.789012')"),
        json!(133_552_388_967_890_128_i64)
    );
    assert_eq!(
        ev("FN.windows_filetime('2024-03-18T14:34:56.789012+02:00')"),
        ev("FN.windows_filetime('2024-03-18T12:34:56.789012')")
    );
    assert_eq!(ev("FN.windows_filetime('1601-01-01T00:00:00')"), json!(0));
}

#[test]
fn is_working_hours_checks_days_windows_and_zones() {
    // Monday 2024-03-18 and Saturday 2024-03-23.
    assert_eq!(ev("FN.is_working_hours('2024-03-18T12:00:00', '09:00', '17:00')"), json!(true));
    assert_eq!(ev("FN.is_working_hours('2024-03-18T08:59:59', '09:00', '17:00')"), json!(false));
    assert_eq!(ev("FN.is_working_hours('2024-03-18T17:00:00', '09:00:00', '17:00')"), json!(true));
    assert_eq!(ev("FN.is_working_hours('2024-03-23T12:00:00', '09:00', '17:00')"), json!(false));
    assert_eq!(
        ev("FN.is_working_hours('2024-03-23T12:00:00', '09:00', '17:00', True)"),
        json!(true)
    );
    // A night shift wraps past midnight.
    assert_eq!(ev("FN.is_working_hours('2024-03-18T23:30:00', '22:00', '06:00')"), json!(true));
    assert_eq!(ev("FN.is_working_hours('2024-03-18T04:00:00', '22:00', '06:00')"), json!(true));
    assert_eq!(ev("FN.is_working_hours('2024-03-18T12:00:00', '22:00', '06:00')"), json!(false));
    // 14:00 UTC on Monday is 09:00 in New York (and 23:00 in Tokyo).
    assert_eq!(
        ev("FN.is_working_hours('2024-03-18T14:00:00Z', '09:00', '17:00', False, 'America/New_York')"),
        json!(true)
    );
    assert_eq!(
        ev("FN.is_working_hours('2024-03-18T14:00:00', '09:00', '17:00', False, 'Asia/Tokyo')"),
        json!(false)
    );
    // Friday 23:00 UTC is already Saturday in Tokyo.
    assert_eq!(
        ev("FN.is_working_hours('2024-03-22T23:00:00Z', '00:00', '23:59', False, 'Asia/Tokyo')"),
        json!(false)
    );
    assert_eq!(
        ev_err("FN.is_working_hours('2024-03-18T12:00:00', '9am', '17:00')"),
        "Time string must be in HH:MM:SS or HH:MM format, got: 9am"
    );
    assert_eq!(
        ev_err("FN.is_working_hours('2024-03-18T12:00:00', '09:00')"),
        "takes 3 to 5 arguments but 2 were given"
    );
}

#[test]
fn durations_are_seconds_and_compose_with_between_and_timestamps() {
    assert_eq!(ev("FN.seconds(90)"), json!(90));
    assert_eq!(ev("FN.minutes(15)"), json!(900));
    assert_eq!(ev("FN.hours(1.5)"), json!(5400.0));
    assert_eq!(ev("FN.days(-1)"), json!(-86400));
    assert_eq!(ev("FN.weeks(2)"), json!(1_209_600));
    assert_eq!(ev("FN.seconds(0.0000004)"), json!(0.0));
    // "Was the alert raised more than 4 hours after the event?"
    assert_eq!(
        ev("FN.hours_between('2024-05-01T08:00:00Z', '2024-05-01T13:30:00Z') * 3600 > FN.hours(4)"),
        json!(true)
    );
    assert_eq!(
        ev("FN.seconds_between('2024-05-01T08:00:00', '2024-05-01T08:15:00') == FN.minutes(15)"),
        json!(true)
    );
    // A datetime shifted by a duration, through epoch seconds.
    assert_eq!(
        ev("FN.to_datetime(FN.to_timestamp('2024-05-01T08:00:00Z') - FN.days(7))"),
        json!("2024-04-24T08:00:00+00:00")
    );
    assert_eq!(
        ev_err("FN.hours('1')"),
        "unsupported type for timedelta hours component: str"
    );
    assert_eq!(
        ev_err("FN.days(1000000000)"),
        "days=1000000000; must have magnitude <= 999999999"
    );
}

#[test]
fn wall_clock_is_the_logical_time_inside_a_run() {
    let mut c = ExprContext::default();
    c.env.insert(
        "workflow".into(),
        json!({"logical_time": "2024-05-06T07:08:09+02:00"}),
    );
    assert_eq!(
        eval_expression("FN.wall_clock()", &c).unwrap(),
        json!("2024-05-06T05:08:09")
    );
    assert_eq!(
        eval_expression("FN.wall_clock()", &c).unwrap(),
        eval_expression("FN.now()", &c).unwrap()
    );
    // Outside a run it is the machine's clock: a naive ISO datetime near now.
    let outside = eval_expression("FN.wall_clock(True)", &ExprContext::default()).unwrap();
    let parsed = chrono::NaiveDateTime::parse_from_str(
        outside.as_str().unwrap_or_default(),
        "%Y-%m-%dT%H:%M:%S%.f",
    )
    .unwrap_or_else(|e| panic!("{outside}: {e}"));
    let drift = chrono::Utc::now().naive_utc() - parsed;
    assert!(drift.num_seconds().abs() < 60, "{outside}");
}

#[test]
fn uuid4_is_a_random_version_4_uuid() {
    let a = ev("FN.uuid4()");
    let b = ev("FN.uuid4()");
    let text = a.as_str().unwrap_or_default();
    let parsed = uuid::Uuid::parse_str(text).unwrap_or_else(|e| panic!("{a}: {e}"));
    assert_eq!(parsed.get_version_num(), 4);
    assert_eq!(text.len(), 36);
    assert_eq!(text, text.to_lowercase());
    assert_ne!(a, b);
    assert_eq!(ev_err("FN.uuid4(1)"), "takes 0 arguments but 1 were given");
}

#[test]
fn datetimes_add_and_subtract_durations_with_operators() {
    let mut c = ExprContext::default();
    c.env.insert(
        "workflow".into(),
        json!({"logical_time": "2024-05-08T09:30:00Z"}),
    );
    let ev_at = |e: &str| eval_expression(e, &c).unwrap_or_else(|err| panic!("{e}: {err}"));
    // "Search the last 7 days of sign-in logs."
    assert_eq!(
        ev_at("FN.utcnow() - FN.days(7)"),
        json!("2024-05-01T09:30:00+00:00")
    );
    assert_eq!(
        ev_at("FN.hours(1.5) + FN.now()"),
        json!("2024-05-08T11:00:00")
    );
    assert_eq!(
        ev("'2024-03-10T01:30:00-05:00' + FN.minutes(45)"),
        json!("2024-03-10T02:15:00-05:00")
    );
    assert_eq!(
        ev("'2024-05-01T10:00:00Z' - '2024-05-01T08:30:00Z'"),
        json!(5400.0)
    );
    assert_eq!(
        ev("('2024-05-01T10:00:00' - '2024-05-01T08:00:00') > FN.hours(1)"),
        json!(true)
    );
    assert_eq!(
        ev_err("'2024-05-01T10:00:00' - '2024-05-01T08:00:00Z'"),
        "can't subtract offset-naive and offset-aware datetimes"
    );
    // Ordinary strings keep Python's semantics.
    assert_eq!(ev("'2024-05-01T10:00:00' + 'Z'"), json!("2024-05-01T10:00:00Z"));
    assert_eq!(
        ev_err("'abc' - 1"),
        "unsupported operand type(s) for -: 'str' and 'int'"
    );
    assert_eq!(
        ev_err("'2024-05-01' + 1"),
        "unsupported operand type(s) for +: 'str' and 'int'"
    );
}
