//! AtroCore's dates (`Y-m-d`) and date-times (`Y-m-d H:i:s`, UTC unless a `timezone` is asked
//! for), as small validated value types.
//!
//! Generated structs use them for fields the instance metadata declares `date` or `datetime`.
//! They parse what AtroCore sends (and the ISO 8601 forms `2024-05-01T10:00:00Z`), print what it
//! expects, order chronologically and convert to and from Unix time and `SystemTime`, with no
//! date-library dependency.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A malformed date or date-time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseDateError {
    input: String,
    expected: &'static str,
}

impl fmt::Display for ParseDateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {:?}", self.expected, self.input)
    }
}

impl std::error::Error for ParseDateError {}

/// A calendar date (`2024-05-01`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    year: i32,
    month: u8,
    day: u8,
}

/// A date and time of day, to the second (`2024-05-01 10:00:00`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime {
    date: Date,
    hour: u8,
    minute: u8,
    second: u8,
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's `days_from_civil`).
fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i32, u8, u8) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y as i32, m, d)
}

impl Date {
    /// A date, if it exists in the calendar.
    pub fn new(year: i32, month: u8, day: u8) -> Option<Date> {
        (day >= 1 && day <= days_in_month(year, month)).then_some(Date { year, month, day })
    }

    /// The year.
    pub fn year(self) -> i32 {
        self.year
    }

    /// The month, 1 to 12.
    pub fn month(self) -> u8 {
        self.month
    }

    /// The day of the month, from 1.
    pub fn day(self) -> u8 {
        self.day
    }

    /// The date `days` days later (earlier when negative).
    pub fn add_days(self, days: i64) -> Date {
        let (year, month, day) =
            civil_from_days(days_from_civil(self.year, self.month, self.day) + days);
        Date { year, month, day }
    }

    /// Midnight at the start of this date.
    pub fn at(self, hour: u8, minute: u8, second: u8) -> Option<DateTime> {
        (hour < 24 && minute < 60 && second < 60).then_some(DateTime {
            date: self,
            hour,
            minute,
            second,
        })
    }
}

impl DateTime {
    /// A date-time, if valid.
    pub fn new(
        year: i32,
        month: u8,
        day: u8,
        hour: u8,
        minute: u8,
        second: u8,
    ) -> Option<DateTime> {
        Date::new(year, month, day)?.at(hour, minute, second)
    }

    /// The date part.
    pub fn date(self) -> Date {
        self.date
    }

    /// Hour, minute and second.
    pub fn time(self) -> (u8, u8, u8) {
        (self.hour, self.minute, self.second)
    }

    /// Seconds since the Unix epoch (the value is read as UTC).
    pub fn unix_seconds(self) -> i64 {
        days_from_civil(self.date.year, self.date.month, self.date.day) * 86_400
            + i64::from(self.hour) * 3600
            + i64::from(self.minute) * 60
            + i64::from(self.second)
    }

    /// The UTC date-time `seconds` after the Unix epoch.
    pub fn from_unix_seconds(seconds: i64) -> DateTime {
        let days = seconds.div_euclid(86_400);
        let rest = seconds.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        DateTime {
            date: Date { year, month, day },
            hour: (rest / 3600) as u8,
            minute: (rest % 3600 / 60) as u8,
            second: (rest % 60) as u8,
        }
    }

    /// The current UTC time, to the second.
    pub fn now() -> DateTime {
        DateTime::from(SystemTime::now())
    }
}

impl From<SystemTime> for DateTime {
    fn from(t: SystemTime) -> DateTime {
        let seconds = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => d.as_secs() as i64,
            Err(e) => -(e.duration().as_secs_f64().ceil() as i64),
        };
        DateTime::from_unix_seconds(seconds)
    }
}

impl From<DateTime> for SystemTime {
    fn from(t: DateTime) -> SystemTime {
        let s = t.unix_seconds();
        if s >= 0 {
            UNIX_EPOCH + Duration::from_secs(s as u64)
        } else {
            UNIX_EPOCH - Duration::from_secs(s.unsigned_abs())
        }
    }
}

fn number(s: &str, len: usize) -> Option<u32> {
    (s.len() == len && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn parse_date(s: &str) -> Option<Date> {
    let mut parts = s.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    Date::new(
        number(y, 4)? as i32,
        number(m, 2)? as u8,
        number(d, 2)? as u8,
    )
}

impl FromStr for Date {
    type Err = ParseDateError;

    fn from_str(s: &str) -> Result<Date, ParseDateError> {
        parse_date(s.trim()).ok_or_else(|| ParseDateError {
            input: s.to_owned(),
            expected: "date (Y-m-d)",
        })
    }
}

impl FromStr for DateTime {
    type Err = ParseDateError;

    /// `Y-m-d H:i:s` (AtroCore), `Y-m-d H:i`, or ISO 8601 with `T`, an optional fraction of a
    /// second (dropped: the type holds whole seconds) and an optional offset (`Z`, `+02:00`,
    /// `+0200`, `-05`), which is applied: the result is always UTC.
    fn from_str(s: &str) -> Result<DateTime, ParseDateError> {
        let err = || ParseDateError {
            input: s.to_owned(),
            expected: "date-time (Y-m-d H:i:s)",
        };
        let t = s.trim();
        // `get`, not `split_at`: byte 10 may sit inside a multi-byte character.
        let (date, rest) = (t.get(..10).ok_or_else(err)?, t.get(10..).ok_or_else(err)?);
        let date = parse_date(date).ok_or_else(err)?;
        let rest = rest
            .strip_prefix(' ')
            .or_else(|| rest.strip_prefix('T'))
            .ok_or_else(err)?;
        // The time is made of digits and colons; what follows is a fraction and an offset.
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == ':'))
            .unwrap_or(rest.len());
        let (time, mut tail) = rest.split_at(end);
        if let Some(fraction) = tail.strip_prefix('.') {
            let digits = fraction
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(fraction.len());
            if digits == 0 {
                return Err(err());
            }
            tail = &fraction[digits..];
        }
        let offset = parse_offset(tail).ok_or_else(err)?;
        let mut hms = time.split(':');
        let h = number(hms.next().ok_or_else(err)?, 2).ok_or_else(err)? as u8;
        let m = number(hms.next().ok_or_else(err)?, 2).ok_or_else(err)? as u8;
        let sec = match hms.next() {
            Some(x) => number(x, 2).ok_or_else(err)? as u8,
            None => 0,
        };
        if hms.next().is_some() {
            return Err(err());
        }
        let local = date.at(h, m, sec).ok_or_else(err)?;
        Ok(if offset == 0 {
            local
        } else {
            DateTime::from_unix_seconds(local.unix_seconds() - offset)
        })
    }
}

/// A UTC offset in seconds: empty (UTC), `Z`, `±hh:mm`, `±hhmm` or `±hh`; `None` when malformed.
fn parse_offset(s: &str) -> Option<i64> {
    if s.is_empty() || s == "Z" || s == "z" {
        return Some(0);
    }
    let sign = match s.as_bytes()[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let body = &s[1..];
    let (h, m) = match body.len() {
        2 => (body, "00"),
        4 => (body.get(..2)?, body.get(2..)?),
        5 if body.as_bytes()[2] == b':' => (body.get(..2)?, body.get(3..)?),
        _ => return None,
    };
    let (h, m) = (number(h, 2)?, number(m, 2)?);
    (h <= 23 && m <= 59).then(|| sign * i64::from(h * 3600 + m * 60))
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl fmt::Display for DateTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {:02}:{:02}:{:02}",
            self.date, self.hour, self.minute, self.second
        )
    }
}

macro_rules! serde_via_str {
    ($t:ty) => {
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_str(self)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                text.parse().map_err(serde::de::Error::custom)
            }
        }
        /// The wire form, so typed dates work in date filters (`.after(date)`).
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.to_string()
            }
        }
        impl From<$t> for serde_json::Value {
            fn from(v: $t) -> serde_json::Value {
                serde_json::Value::String(v.to_string())
            }
        }
    };
}

serde_via_str!(Date);
serde_via_str!(DateTime);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_atrocore_forms() {
        let t: DateTime = "2025-09-17 15:39:24".parse().unwrap();
        assert_eq!(t.to_string(), "2025-09-17 15:39:24");
        assert_eq!("2025-09-17T15:39:24Z".parse::<DateTime>().unwrap(), t);
        assert_eq!(
            "2025-09-17T15:39:24.123+00:00".parse::<DateTime>().unwrap(),
            t
        );
        assert_eq!(
            "2025-09-17 15:39".parse::<DateTime>().unwrap().to_string(),
            "2025-09-17 15:39:00"
        );
        let d: Date = "2024-02-29".parse().unwrap();
        assert_eq!(d.to_string(), "2024-02-29");
        for bad in [
            "2023-02-29",
            "2024-13-01",
            "2024-1-01",
            "",
            "2024-05-01 25:00:00",
            "2024-05-01T10:00:00+2:00",
            "2024-05-01T10:00:00+24:00",
            "2024-05-01T10:00:00.+00:00",
            "2024-05-01T10:00:00 UTC",
            // Byte 10 inside a multi-byte character: an error, not a panic.
            "2024-05-0é 10:00:00",
            "2024-05-01é10:00:00",
            "日本語日本語日本語",
        ] {
            assert!(bad.parse::<DateTime>().is_err() || bad.len() == 10, "{bad}");
        }
        assert!("2023-02-29".parse::<Date>().is_err());
    }

    #[test]
    fn offsets_are_applied_not_dropped() {
        let utc: DateTime = "2025-09-17 13:39:24".parse().unwrap();
        for s in [
            "2025-09-17T15:39:24.123+02:00",
            "2025-09-17T15:39:24+0200",
            "2025-09-17T15:39:24+02",
            "2025-09-17T08:39:24-05:00",
        ] {
            assert_eq!(s.parse::<DateTime>().unwrap(), utc, "{s}");
        }
        // Across a day and a year boundary.
        assert_eq!(
            "2025-01-01T00:30:00+01:00"
                .parse::<DateTime>()
                .unwrap()
                .to_string(),
            "2024-12-31 23:30:00"
        );
    }

    #[test]
    fn unix_round_trip_and_order() {
        for s in [0_i64, 951_782_400, 1_700_000_000, -86_401, 4_102_444_800] {
            assert_eq!(DateTime::from_unix_seconds(s).unix_seconds(), s);
        }
        assert_eq!(
            DateTime::from_unix_seconds(0).to_string(),
            "1970-01-01 00:00:00"
        );
        assert_eq!(
            DateTime::from_unix_seconds(951_782_400).to_string(),
            "2000-02-29 00:00:00"
        );
        let a: DateTime = "2024-01-01 00:00:00".parse().unwrap();
        let b: DateTime = "2024-01-01 00:00:01".parse().unwrap();
        assert!(a < b);
        assert_eq!(
            Date::new(2024, 12, 31).unwrap().add_days(1).to_string(),
            "2025-01-01"
        );
    }

    #[test]
    fn serde_uses_the_wire_form() {
        let t: DateTime = serde_json::from_str("\"2025-09-17 15:39:24\"").unwrap();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2025-09-17 15:39:24\""
        );
        assert!(serde_json::from_str::<DateTime>("\"yesterday\"").is_err());
    }
}
