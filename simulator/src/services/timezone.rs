//! The `timezone` query parameter of record outputs: every non-empty `date` and `datetime`
//! field is read as UTC, moved to the zone and written `Y-m-d H:i:s` (a `date` too, so it can
//! move to the day before and gain a time). An unknown zone is `400` with PHP's message.
//!
//! AtroCore: `app/Atro/Services/Record.php::prepareEntityForOutput` and
//! `modifyEntityFieldsByTimezone` (2.2.31, 2.3.13 and 2.3.16-beta14 alike; the server's own
//! zone is UTC). Output only: filters are not affected.

use axum::http::StatusCode;
use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use serde_json::{Map, Value};

use crate::model::Entity;
use crate::state::Ctx;
use crate::util::ApiError;

/// Applies the request's `timezone` to the output `out` of a record of `entity`.
pub(crate) fn apply(
    ctx: &Ctx,
    entity: &Entity,
    out: &mut Map<String, Value>,
) -> Result<(), ApiError> {
    let Some(zone) = ctx.timezone.as_deref().filter(|z| !z.is_empty()) else {
        return Ok(());
    };
    for f in &entity.fields {
        if !matches!(f.meta_type.as_deref(), Some("date" | "datetime")) {
            continue;
        }
        let Some(text) = out
            .get(&f.name)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
        else {
            continue;
        };
        // The zone is checked only once there is a value to move, as PHP builds it then.
        let tz = TimeZone::get(zone).map_err(|_| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                format!("DateTimeZone::__construct(): Unknown or bad timezone ({zone})"),
            )
        })?;
        let Some(utc) = parse(text) else {
            continue;
        };
        let moved = utc
            .to_zoned(TimeZone::UTC)
            .map(|z| z.with_time_zone(tz.clone()).datetime())
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
        out.insert(
            f.name.clone(),
            Value::String(moved.strftime("%Y-%m-%d %H:%M:%S").to_string()),
        );
    }
    Ok(())
}

/// A stored `Y-m-d H:i:s` or `Y-m-d` (midnight).
fn parse(text: &str) -> Option<DateTime> {
    DateTime::strptime("%Y-%m-%d %H:%M:%S", text)
        .ok()
        .or_else(|| {
            Date::strptime("%Y-%m-%d", text)
                .ok()
                .map(|d| d.to_datetime(jiff::civil::Time::midnight()))
        })
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn stored_dates_and_date_times_are_read() {
        assert_eq!(
            parse("2024-05-01").map(|d| d.to_string()),
            Some("2024-05-01T00:00:00".to_owned())
        );
        assert!(parse("2024-05-01 10:20:30").is_some());
        assert!(parse("yesterday").is_none());
    }
}
