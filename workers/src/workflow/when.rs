//! `wait_until` dates. Tracecat parses them with Python's `dateparser` in UTC: ISO 8601 and
//! natural language. This reads the forms people write: ISO 8601 and RFC 3339 (with or without
//! seconds or a zone; a date alone is its midnight), RFC 2822, `now`, `today` / `tomorrow` /
//! `yesterday` with an optional time (`9am tomorrow`, `tomorrow at 17:30`), a time alone (today),
//! and offsets (`in 2 hours`, `90 minutes from now`, `3 days ago`, `2h`). Relative forms count
//! from the run's logical time, so a replay reads the same date.

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

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
    // A day word and/or a time of day, in either order, `at` allowed between.
    let mut day = None;
    let mut time = None;
    let words: Vec<&str> = text.split_whitespace().filter(|w| *w != "at").collect();
    let mut rest = words.as_slice();
    while let Some((word, tail)) = rest.split_first() {
        let shift = match *word {
            "today" => Some(0),
            "tomorrow" => Some(1),
            "yesterday" => Some(-1),
            _ => None,
        };
        if let Some(days) = shift {
            if day.replace(days).is_some() {
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
    let date = now.date_naive() + Duration::days(day.unwrap_or(0));
    Some(date.and_time(time.unwrap_or_else(|| now.time())).and_utc())
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
        ] {
            assert_eq!(parse(text, now), Some(at(want)), "{text}");
        }
        for text in ["", "soon", "tomorrow tomorrow", "9", "13pm", "25:00", "in two hours", "2026-13-01", "9am 10am", "in 3 fortnights"] {
            assert_eq!(parse(text, now), None, "{text:?}");
        }
    }
}
