//! AtroCore's date operators as value windows, after `Core/SelectManagers/Base.php`
//! (`convertDateTimeWhere` for `datetime` fields, the generic switch of `getWherePart` for
//! `date` fields; the same in 2.2.31 and 2.3.16).
//!
//! `datetime` fields are stored in UTC (`Y-m-d H:i:s`). AtroCore reads the time zone only from
//! the item's `timeZone` key (default UTC, no user preference): a day is local midnight to the
//! next midnight minus one second, with the day added after conversion to UTC (so 24 hours, also
//! on daylight-saving days); month, quarter and year windows use the UTC calendar whatever the
//! zone. `date` fields compare `Y-m-d` strings with the UTC date of today; `timeZone` is ignored.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

/// Operators that only make sense on dates (`between` and comparisons also fit numbers).
pub fn is_day_operator(op: &str) -> bool {
    matches!(
        op,
        "on" | "notOn"
            | "before"
            | "after"
            | "today"
            | "past"
            | "future"
            | "lastSevenDays"
            | "lastXDays"
            | "nextXDays"
            | "olderThanXDays"
            | "afterXDays"
            | "currentMonth"
            | "lastMonth"
            | "nextMonth"
            | "currentQuarter"
            | "lastQuarter"
            | "currentYear"
            | "lastYear"
    )
}

/// Whether a field holds dates or date-times (from the instance metadata type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporal {
    /// `date`: `Y-m-d`.
    Date,
    /// `datetime`: `Y-m-d H:i:s` in UTC.
    DateTime,
}

/// One bound of a window: the value and whether it is included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bound {
    /// The stored form (`Y-m-d` or `Y-m-d H:i:s`).
    pub value: String,
    /// `>=`/`<=` rather than `>`/`<`.
    pub inclusive: bool,
}

/// What a date operator compares with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateCond {
    /// Between the bounds (either may be open).
    Window(Option<Bound>, Option<Bound>),
    /// Equal to one value (`on` for dates, `equals`).
    Equals(String),
    /// Not equal to one value (`notOn`: a single instant for date-times).
    NotEquals(String),
    /// No condition (an operator whose value is missing: AtroCore drops it).
    Nothing,
}

/// Why a date condition cannot be built (AtroCore throws: a 500).
#[derive(Debug)]
pub struct DateError(pub String);

fn incl(value: String) -> Option<Bound> {
    Some(Bound {
        value,
        inclusive: true,
    })
}

fn excl(value: String) -> Option<Bound> {
    Some(Bound {
        value,
        inclusive: false,
    })
}

/// PHP's `intval` of a string: optional whitespace and sign, then the leading digits; 0 if none.
fn php_intval(s: &str) -> i64 {
    let t = s.trim_start();
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'-') => (-1, &t[1..]),
        Some(b'+') => (1, &t[1..]),
        _ => (1, t),
    };
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse::<i64>().map_or(0, |d| sign * d)
}

fn fmt_utc(ts: Timestamp) -> String {
    ts.to_zoned(TimeZone::UTC)
        .strftime("%Y-%m-%d %H:%M:%S")
        .to_string()
}

fn fmt_date(d: Date) -> String {
    d.strftime("%Y-%m-%d").to_string()
}

/// A local date or date-time in `tz`, as a UTC instant (`new DateTime($value, $tz)`).
fn local_to_utc(value: &str, tz: &TimeZone) -> Result<Timestamp, DateError> {
    let v = value.trim();
    if let Ok(ts) = v.parse::<Timestamp>() {
        return Ok(ts);
    }
    let dt = v
        .replace('T', " ")
        .parse::<DateTime>()
        .or_else(|_| {
            v.parse::<Date>()
                .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        })
        .map_err(|e| {
            DateError(format!(
                "DateTime::__construct(): Failed to parse time string ({v}): {e}"
            ))
        })?;
    tz.to_ambiguous_zoned(dt)
        .compatible()
        .map(|z| z.timestamp())
        .map_err(|e| DateError(e.to_string()))
}

fn parse_date(value: &str) -> Result<Date, DateError> {
    let v = value.trim();
    v.get(..10)
        .unwrap_or(v)
        .parse::<Date>()
        .map_err(|e| DateError(format!("invalid date '{v}': {e}")))
}

fn days(n: i64, d: Date) -> Result<Date, DateError> {
    d.checked_add(n.days())
        .map_err(|e| DateError(e.to_string()))
}

/// The first day of the month `months` months from `d`'s.
fn month_start(d: Date, months: i64) -> Result<Date, DateError> {
    d.first_of_month()
        .checked_add(months.months())
        .map_err(|e| DateError(e.to_string()))
}

fn quarter_start(d: Date, quarters: i64) -> Result<Date, DateError> {
    let first = Date::new(d.year(), ((d.month() - 1) / 3) * 3 + 1, 1)
        .map_err(|e| DateError(e.to_string()))?;
    first
        .checked_add((quarters * 3).months())
        .map_err(|e| DateError(e.to_string()))
}

fn year_start(d: Date, years: i64) -> Result<Date, DateError> {
    Date::new(d.year(), 1, 1)
        .map_err(|e| DateError(e.to_string()))?
        .checked_add(years.years())
        .map_err(|e| DateError(e.to_string()))
}

/// Calendar windows (the UTC calendar for both kinds): `[start, next start)`.
fn calendar(op: &str, today: Date, kind: Temporal) -> Result<Option<DateCond>, DateError> {
    let (from, to) = match op {
        "currentMonth" => (month_start(today, 0)?, month_start(today, 1)?),
        "lastMonth" => (month_start(today, -1)?, month_start(today, 0)?),
        "nextMonth" => (month_start(today, 1)?, month_start(today, 2)?),
        "currentQuarter" => (quarter_start(today, 0)?, quarter_start(today, 1)?),
        "lastQuarter" => (quarter_start(today, -1)?, quarter_start(today, 0)?),
        "currentYear" => (year_start(today, 0)?, year_start(today, 1)?),
        "lastYear" => (year_start(today, -1)?, year_start(today, 0)?),
        _ => return Ok(None),
    };
    let show = |d: Date| match kind {
        Temporal::Date => fmt_date(d),
        Temporal::DateTime => format!("{} 00:00:00", fmt_date(d)),
    };
    Ok(Some(DateCond::Window(incl(show(from)), excl(show(to)))))
}

/// The condition of date operator `op` with `value` (text or a two-item list) on a field of
/// `kind`, at `now`, in the item's `time_zone` (`None`: UTC). `None` when `op` is not a date
/// operator (the caller handles it as a plain comparison).
pub fn condition(
    op: &str,
    value: &[String],
    kind: Temporal,
    time_zone: Option<&str>,
    now: Timestamp,
) -> Result<Option<DateCond>, DateError> {
    let today_utc = now.to_zoned(TimeZone::UTC).date();
    // `strval(intval($item['value']))`: leading digits, else 0.
    let n = || -> Result<i64, DateError> { Ok(value.first().map_or(0, |v| php_intval(v))) };
    let first = value.first().filter(|v| !v.trim().is_empty());
    if let Some(c) = calendar(op, today_utc, kind)? {
        return Ok(Some(c));
    }
    match kind {
        Temporal::Date => {
            let today = fmt_date(today_utc);
            let d = |k: i64| days(k, today_utc).map(fmt_date);
            Ok(Some(match op {
                "on" => match first {
                    Some(v) => DateCond::Equals(fmt_date(parse_date(v)?)),
                    None => DateCond::Nothing,
                },
                "notOn" => match first {
                    Some(v) => DateCond::NotEquals(fmt_date(parse_date(v)?)),
                    None => DateCond::Nothing,
                },
                "before" => match first {
                    Some(v) => DateCond::Window(None, excl(fmt_date(parse_date(v)?))),
                    None => DateCond::Nothing,
                },
                "after" => match first {
                    Some(v) => DateCond::Window(excl(fmt_date(parse_date(v)?)), None),
                    None => DateCond::Nothing,
                },
                "between" => match value {
                    [a, b] => DateCond::Window(
                        incl(fmt_date(parse_date(a)?)),
                        incl(fmt_date(parse_date(b)?)),
                    ),
                    _ => DateCond::Nothing,
                },
                "today" => DateCond::Equals(today),
                "past" => DateCond::Window(None, excl(today)),
                "future" => DateCond::Window(excl(today), None),
                "lastSevenDays" => DateCond::Window(incl(d(-7)?), incl(today)),
                "lastXDays" => DateCond::Window(incl(d(-n()?)?), incl(today)),
                "nextXDays" => DateCond::Window(incl(today), incl(d(n()?)?)),
                "olderThanXDays" => DateCond::Window(None, excl(d(-n()?)?)),
                "afterXDays" => DateCond::Window(excl(d(n()?)?), None),
                _ => return Ok(None),
            }))
        }
        Temporal::DateTime => {
            let tz = match time_zone.filter(|z| !z.is_empty()) {
                Some(name) => TimeZone::get(name)
                    .map_err(|e| DateError(format!("Unknown or bad timezone ({name}): {e}")))?,
                None => TimeZone::UTC,
            };
            let today = now.to_zoned(tz.clone()).date();
            let midnight = |d: Date| -> Result<Timestamp, DateError> {
                d.to_zoned(tz.clone())
                    .map(|z| z.timestamp())
                    .map_err(|e| DateError(e.to_string()))
            };
            let day_end = |start: Timestamp| -> Result<Timestamp, DateError> {
                start
                    .checked_add(86_399.seconds())
                    .map_err(|e| DateError(e.to_string()))
            };
            let at = |v: &str| local_to_utc(v, &tz).map(fmt_utc);
            Ok(Some(match op {
                "on" => match first {
                    Some(v) => {
                        let start = local_to_utc(v, &tz)?;
                        DateCond::Window(incl(fmt_utc(start)), incl(fmt_utc(day_end(start)?)))
                    }
                    None => DateCond::Nothing,
                },
                // The generic branch: one instant, not a day.
                "notOn" => match first {
                    Some(v) => DateCond::NotEquals(at(v)?),
                    None => DateCond::Nothing,
                },
                "before" => match first {
                    Some(v) => DateCond::Window(None, excl(at(v)?)),
                    None => DateCond::Nothing,
                },
                "after" => match first {
                    Some(v) => DateCond::Window(excl(at(v)?), None),
                    None => DateCond::Nothing,
                },
                "between" => match value {
                    [a, b] => DateCond::Window(incl(at(a)?), incl(at(b)?)),
                    _ => DateCond::Nothing,
                },
                "today" => {
                    let start = midnight(today)?;
                    DateCond::Window(incl(fmt_utc(start)), incl(fmt_utc(day_end(start)?)))
                }
                "past" => DateCond::Window(None, excl(fmt_utc(now))),
                "future" => DateCond::Window(excl(fmt_utc(now)), None),
                "lastSevenDays" => DateCond::Window(
                    incl(fmt_utc(midnight(days(-7, today)?)?)),
                    incl(fmt_utc(now)),
                ),
                "lastXDays" => DateCond::Window(
                    incl(fmt_utc(midnight(days(-n()?, today)?)?)),
                    incl(fmt_utc(now)),
                ),
                "nextXDays" => {
                    let last = day_end(midnight(days(n()?, today)?)?)?;
                    DateCond::Window(incl(fmt_utc(now)), incl(fmt_utc(last)))
                }
                "olderThanXDays" => {
                    DateCond::Window(None, excl(fmt_utc(midnight(days(-n()?, today)?)?)))
                }
                "afterXDays" => {
                    DateCond::Window(excl(fmt_utc(midnight(days(n()?, today)?)?)), None)
                }
                _ => return Ok(None),
            }))
        }
    }
}

/// A comparison value on a `datetime` field, converted from the item's time zone to UTC (the
/// generic branch of `convertDateTimeWhere`); other values are returned as they are.
pub fn convert_value(value: &str, time_zone: Option<&str>) -> Result<String, DateError> {
    let tz = match time_zone.filter(|z| !z.is_empty()) {
        Some(name) => TimeZone::get(name)
            .map_err(|e| DateError(format!("Unknown or bad timezone ({name}): {e}")))?,
        None => TimeZone::UTC,
    };
    local_to_utc(value, &tz).map(fmt_utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> Timestamp {
        "2026-03-29T10:30:00Z".parse().unwrap()
    }

    fn window(op: &str, v: &[&str], kind: Temporal, tz: Option<&str>) -> DateCond {
        let v: Vec<String> = v.iter().map(|s| s.to_string()).collect();
        condition(op, &v, kind, tz, now()).unwrap().unwrap()
    }

    fn w(lo: Option<(&str, bool)>, hi: Option<(&str, bool)>) -> DateCond {
        let b = |(v, inclusive): (&str, bool)| Bound {
            value: v.to_string(),
            inclusive,
        };
        DateCond::Window(lo.map(b), hi.map(b))
    }

    #[test]
    fn a_day_in_a_time_zone_is_its_local_midnights_in_utc() {
        assert_eq!(
            window(
                "on",
                &["2026-01-15"],
                Temporal::DateTime,
                Some("Europe/Berlin")
            ),
            w(
                Some(("2026-01-14 23:00:00", true)),
                Some(("2026-01-15 22:59:59", true))
            )
        );
        assert_eq!(
            window("on", &["2026-01-15"], Temporal::DateTime, None),
            w(
                Some(("2026-01-15 00:00:00", true)),
                Some(("2026-01-15 23:59:59", true))
            )
        );
        // Today in Berlin (UTC+2 since this morning's switch): 24 hours from local midnight,
        // which was still UTC+1.
        assert_eq!(
            window("today", &[], Temporal::DateTime, Some("Europe/Berlin")),
            w(
                Some(("2026-03-28 23:00:00", true)),
                Some(("2026-03-29 22:59:59", true))
            )
        );
        assert_eq!(
            window(
                "after",
                &["2026-01-15"],
                Temporal::DateTime,
                Some("America/New_York")
            ),
            w(Some(("2026-01-15 05:00:00", false)), None)
        );
        assert_eq!(
            window("notOn", &["2026-01-15"], Temporal::DateTime, None),
            DateCond::NotEquals("2026-01-15 00:00:00".into())
        );
    }

    #[test]
    fn dates_compare_with_the_utc_date_and_ignore_the_zone() {
        assert_eq!(
            window("today", &[], Temporal::Date, Some("Pacific/Kiritimati")),
            DateCond::Equals("2026-03-29".into())
        );
        assert_eq!(
            window("lastXDays", &["3"], Temporal::Date, None),
            w(Some(("2026-03-26", true)), Some(("2026-03-29", true)))
        );
        assert_eq!(
            window("currentQuarter", &[], Temporal::Date, None),
            w(Some(("2026-01-01", true)), Some(("2026-04-01", false)))
        );
        assert_eq!(
            window("lastMonth", &[], Temporal::DateTime, Some("Asia/Tokyo")),
            w(
                Some(("2026-02-01 00:00:00", true)),
                Some(("2026-03-01 00:00:00", false))
            )
        );
    }

    #[test]
    fn bad_zones_and_values_are_errors_and_empty_values_no_condition() {
        let v = vec!["2026-01-15".to_string()];
        assert!(condition("on", &v, Temporal::DateTime, Some("Mars/Base"), now()).is_err());
        assert!(condition("on", &["x".to_string()], Temporal::DateTime, None, now()).is_err());
        assert_eq!(
            condition("on", &[], Temporal::DateTime, None, now()).unwrap(),
            Some(DateCond::Nothing)
        );
        assert_eq!(
            condition("equals", &v, Temporal::DateTime, None, now()).unwrap(),
            None
        );
    }
}
