//! `wait_until` dates. Tracecat parses them with Python's `dateparser` in UTC: ISO 8601 and
//! natural language. This reads the forms people write: ISO 8601 and RFC 3339 (with or without
//! seconds or a zone; a date alone is its midnight), RFC 2822, `now`, `today` / `tomorrow` /
//! `yesterday` with an optional time (`9am tomorrow`, `tomorrow at 17:30`), weekdays as
//! dateparser reads them (`monday`: the latest one, today included; `next friday`: the first
//! after today; `last friday`: the latest before today), dates with a month name (`1 April
//! 2026`, `Apr 1, 2026 9am`, `April 1`), a time alone (today), and offsets (`in 2 hours`, `90
//! minutes from now`, `3 days ago`, `2h`). Relative forms count from the run's logical time, so
//! a replay reads the same date.

use chrono::{DateTime, Datelike as _, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc, Weekday};

/// The moment `text` names, relative forms counted from `now`; `None` when it names none.
pub fn parse(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let text = text.trim();
    absolute(text).or_else(|| natural(&text.to_ascii_lowercase(), now))
}

fn absolute(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    if let Ok(t) = DateTime::parse_from_rfc2822(text) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M%:z", "%Y-%m-%d %H:%M%:z"] {
        if let Ok(t) = DateTime::parse_from_str(text, format) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let text = text.strip_suffix('Z').or_else(|| text.strip_suffix(" UTC")).unwrap_or(text);
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(text, format) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().map(|d| d.and_time(NaiveTime::MIN).and_utc())
}

fn natural(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if text == "now" {
        return Some(now);
    }
    if let Some(offset) = offset(text) {
        return Some(now + offset);
    }
    // A day (a word, a weekday or a date with a month name) and/or a time of day, in either
    // order, `at` and `on` allowed between.
    let today = now.date_naive();
    let mut day: Option<NaiveDate> = None;
    let mut time = None;
    let cleaned = text.replace(',', " ");
    let words: Vec<&str> = cleaned.split_whitespace().filter(|w| !matches!(*w, "at" | "on")).collect();
    let mut rest = words.as_slice();
    while let Some((word, tail)) = rest.split_first() {
        let found = match *word {
            "today" => Some((today, tail)),
            "tomorrow" => Some((today + Duration::days(1), tail)),
            "yesterday" => Some((today - Duration::days(1), tail)),
            "next" | "last" | "this" => {
                let (name, tail) = tail.split_first()?;
                let weekday = weekday(name)?;
                Some((nearest(today, weekday, word), tail))
            }
            _ => match weekday(word) {
                Some(weekday) => Some((nearest(today, weekday, "latest"), tail)),
                None => month_date(rest, today),
            },
        };
        if let Some((date, tail)) = found {
            if day.replace(date).is_some() {
                return None;
            }
            rest = tail;
            continue;
        }
        // "9 am" as two words, or "9am" / "17:30" / "5:30pm" as one.
        let (clock, tail) = match tail.first() {
            Some(&suffix @ ("am" | "pm")) => (format!("{word}{suffix}"), &tail[1..]),
            _ => ((*word).to_owned(), tail),
        };
        if time.replace(time_of_day(&clock)?).is_some() {
            return None;
        }
        rest = tail;
    }
    if day.is_none() && time.is_none() {
        return None;
    }
    // A named date without a time is its midnight; a day word keeps the time of now.
    let named = words.iter().any(|w| month(w).is_some());
    let default_time = if named { NaiveTime::MIN } else { now.time() };
    Some(day.unwrap_or(today).and_time(time.unwrap_or(default_time)).and_utc())
}

fn weekday(word: &str) -> Option<Weekday> {
    let word = word.strip_suffix('.').unwrap_or(word);
    Some(match word {
        "monday" | "mon" => Weekday::Mon,
        "tuesday" | "tue" | "tues" => Weekday::Tue,
        "wednesday" | "wed" => Weekday::Wed,
        "thursday" | "thu" | "thurs" => Weekday::Thu,
        "friday" | "fri" => Weekday::Fri,
        "saturday" | "sat" => Weekday::Sat,
        "sunday" | "sun" => Weekday::Sun,
        _ => return None,
    })
}

/// The `weekday` nearest `today`: `next` is the first after today, `last` the latest before
/// it, anything else the latest with today included (dateparser's reading of a bare weekday).
fn nearest(today: NaiveDate, weekday: Weekday, which: &str) -> NaiveDate {
    let back = (7 + today.weekday().num_days_from_monday() as i64 - weekday.num_days_from_monday() as i64) % 7;
    match which {
        "next" => today + Duration::days(7 - back),
        "last" => today - Duration::days(if back == 0 { 7 } else { back }),
        _ => today - Duration::days(back),
    }
}

fn month(word: &str) -> Option<u32> {
    let word = word.strip_suffix('.').unwrap_or(word);
    const MONTHS: [&str; 12] =
        ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"];
    MONTHS.iter().position(|m| *m == word || (word.len() >= 3 && m.starts_with(word))).map(|i| i as u32 + 1)
}

/// `1 april [2026]` or `april 1[st] [2026]` at the start of `words`, and the words after it.
/// Without a year it is this year's.
fn month_date<'w>(words: &'w [&'w str], today: NaiveDate) -> Option<(NaiveDate, &'w [&'w str])> {
    let day_of = |w: &str| -> Option<u32> {
        let digits = w.trim_end_matches(|c: char| c.is_ascii_alphabetic());
        if !matches!(&w[digits.len()..], "" | "st" | "nd" | "rd" | "th") {
            return None;
        }
        digits.parse().ok().filter(|d| (1..=31).contains(d))
    };
    let (m, d, rest) = match words {
        [first, second, rest @ ..] if month(first).is_some() => (month(first)?, day_of(second)?, rest),
        [first, second, rest @ ..] if month(second).is_some() => (month(second)?, day_of(first)?, rest),
        _ => return None,
    };
    let (year, rest) = match rest.split_first() {
        Some((y, tail)) if y.len() == 4 && y.chars().all(|c| c.is_ascii_digit()) => (y.parse().ok()?, tail),
        _ => (today.year(), rest),
    };
    Some((NaiveDate::from_ymd_opt(year, m, d)?, rest))
}

/// `17:30`, `17:30:05`, `9am`, `9:15pm`, `12am` (midnight).
fn time_of_day(word: &str) -> Option<NaiveTime> {
    let (clock, meridiem) = match word.strip_suffix("am") {
        Some(c) => (c, Some(false)),
        None => match word.strip_suffix("pm") {
            Some(c) => (c, Some(true)),
            None => (word, None),
        },
    };
    let mut parts = clock.split(':');
    let hour: u32 = parts.next()?.parse().ok()?;
    let minute: u32 = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    let second: u32 = parts.next().map_or(Some(0), |s| s.parse().ok())?;
    if parts.next().is_some() || (meridiem.is_none() && !clock.contains(':')) {
        return None;
    }
    let hour = match meridiem {
        Some(pm) if (1..=12).contains(&hour) => hour % 12 + if pm { 12 } else { 0 },
        Some(_) => return None,
        None => hour,
    };
    NaiveTime::from_hms_opt(hour, minute, second)
}

/// `in 2 hours`, `2 hours from now`, `3 days ago`, `90 minutes`, `2h`, `30s`.
fn offset(text: &str) -> Option<Duration> {
    let (body, sign) = if let Some(b) = text.strip_prefix("in ") {
        (b, 1)
    } else if let Some(b) = text.strip_suffix(" from now") {
        (b, 1)
    } else if let Some(b) = text.strip_suffix(" ago") {
        (b, -1)
    } else {
        (text, 1)
    };
    let body = body.trim();
    let split = body.find(|c: char| !c.is_ascii_digit())?;
    let amount: i64 = body[..split].parse().ok()?;
    let unit = body[split..].trim();
    let unit = unit.strip_suffix('s').filter(|u| u.len() > 1).unwrap_or(unit);
    let duration = match unit {
        "s" | "sec" | "second" => Duration::seconds(amount),
        "m" | "min" | "minute" => Duration::minutes(amount),
        "h" | "hr" | "hour" => Duration::hours(amount),
        "d" | "day" => Duration::days(amount),
        "w" | "week" => Duration::weeks(amount),
        _ => return None,
    };
    Some(duration * sign)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_people_write_name_the_moment_they_mean() {
        let now = DateTime::parse_from_rfc3339("2026-03-10T14:20:30Z").unwrap().with_timezone(&Utc);
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        for (text, want) in [
            ("2026-04-01T09:00:00Z", "2026-04-01T09:00:00Z"),
            ("2026-04-01T09:00:00+02:00", "2026-04-01T07:00:00Z"),
            ("2026-04-01 09:00:00.5", "2026-04-01T09:00:00.5Z"),
            ("2026-04-01T09:00", "2026-04-01T09:00:00Z"),
            ("2026-04-01 09:00 UTC", "2026-04-01T09:00:00Z"),
            ("2026-04-01", "2026-04-01T00:00:00Z"),
            ("Wed, 01 Apr 2026 09:00:00 +0000", "2026-04-01T09:00:00Z"),
            ("now", "2026-03-10T14:20:30Z"),
            ("in 2 hours", "2026-03-10T16:20:30Z"),
            ("90 minutes from now", "2026-03-10T15:50:30Z"),
            ("3 days ago", "2026-03-07T14:20:30Z"),
            ("2h", "2026-03-10T16:20:30Z"),
            ("in 1 week", "2026-03-17T14:20:30Z"),
            ("9am tomorrow", "2026-03-11T09:00:00Z"),
            ("Tomorrow at 17:30", "2026-03-11T17:30:00Z"),
            ("tomorrow 9 pm", "2026-03-11T21:00:00Z"),
            ("tomorrow", "2026-03-11T14:20:30Z"),
            ("yesterday 12am", "2026-03-09T00:00:00Z"),
            ("5:45pm", "2026-03-10T17:45:00Z"),
            ("today at 08:15:10", "2026-03-10T08:15:10Z"),
            // 2026-03-10 is a Tuesday.
            ("tuesday", "2026-03-10T14:20:30Z"),
            ("monday 9am", "2026-03-09T09:00:00Z"),
            ("next tuesday", "2026-03-17T14:20:30Z"),
            ("next friday at 17:00", "2026-03-13T17:00:00Z"),
            ("last tuesday", "2026-03-03T14:20:30Z"),
            ("on Wed. at 8am", "2026-03-04T08:00:00Z"),
            ("1 April 2026", "2026-04-01T00:00:00Z"),
            ("April 1, 2026 9am", "2026-04-01T09:00:00Z"),
            ("apr 2nd at 10:30", "2026-04-02T10:30:00Z"),
            ("9pm 3 march", "2026-03-03T21:00:00Z"),
        ] {
            assert_eq!(parse(text, now), Some(at(want)), "{text}");
        }
        for text in ["", "soon", "tomorrow tomorrow", "9", "13pm", "25:00", "in two hours", "2026-13-01", "9am 10am", "in 3 fortnights", "next", "next week", "monday friday", "31 february 2026", "april 40"] {
            assert_eq!(parse(text, now), None, "{text:?}");
        }
    }
}
