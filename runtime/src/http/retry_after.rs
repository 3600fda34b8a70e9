//! `Retry-After`: seconds, or an HTTP date (RFC 9110: IMF-fixdate, e.g.
//! `Wed, 21 Oct 2015 07:28:00 GMT`).

use std::time::{Duration, SystemTime};

use crate::time::DateTime;

/// How long `value` asks to wait, from `now`; `None` when it is malformed. A date in the past
/// is no wait at all.
pub(crate) fn parse(value: &str, now: SystemTime) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = http_date(v)?;
    let at = SystemTime::from(at);
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

/// `Wed, 21 Oct 2015 07:28:00 GMT`.
fn http_date(v: &str) -> Option<DateTime> {
    let (_, rest) = v.split_once(", ")?;
    let mut parts = rest.split(' ');
    let (day, month, year, time, zone) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    if parts.next().is_some() || zone != "GMT" || day.len() != 2 {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    format!("{year}-{month:02}-{day} {time}").parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_and_http_dates() {
        let now = SystemTime::from("2015-10-21 07:27:00".parse::<DateTime>().unwrap());
        assert_eq!(parse("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            parse("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        for bad in [
            "",
            "soon",
            "-5",
            "Wed, 21 Oct 2015 07:28:00 CET",
            "21 Oct 2015",
            "Wed, 2 Oct 2015 07:28:00 GMT",
        ] {
            assert_eq!(parse(bad, now), None, "{bad}");
        }
        // Huge values parse; the caller caps them.
        assert_eq!(
            parse("99999999999", now),
            Some(Duration::from_secs(99_999_999_999))
        );
    }
}
