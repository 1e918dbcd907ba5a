//! Time as 311 systems write it.

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// W3C datetimes as clients send them: with an offset or `Z`, with or without fractional
/// seconds, with `T` or a space; without a zone they are the city's local time; a bare date is
/// its local midnight.
pub fn parse_w3c(s: &str, tz: Tz) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%:z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&Utc));
        }
    }
    let local = [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })?;
    // A local time skipped by a DST change does not exist; one repeated takes the earlier.
    tz.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// A local time on `date`, resolved in `tz`; a time skipped by a DST change moves an hour on,
/// one repeated takes the earlier.
pub fn at_local(tz: Tz, date: NaiveDate, time: chrono::NaiveTime) -> DateTime<Utc> {
    let local = NaiveDateTime::new(date, time);
    match tz.from_local_datetime(&local).earliest() {
        Some(t) => t.with_timezone(&Utc),
        None => tz
            .from_local_datetime(&(local + chrono::Duration::hours(1)))
            .earliest()
            .map_or_else(|| Utc.from_utc_datetime(&local), |t| t.with_timezone(&Utc)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KC: Tz = chrono_tz::America::Chicago;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn dates_in_the_forms_clients_send() {
        let t = utc("2019-10-01T13:30:00Z");
        for s in [
            "2019-10-01T08:30:00-05:00",
            "2019-10-01T13:30:00Z",
            "2019-10-01T13:30:00.000Z",
            "2019-10-01T08:30:00.000-0500",
            "2019-10-01 08:30:00-05:00",
            "2019-10-01T08:30:00",
            "2019-10-01 08:30:00",
            "2019-10-01T08:30",
        ] {
            assert_eq!(parse_w3c(s, KC), Some(t), "{s}");
        }
        assert_eq!(
            parse_w3c("2019-10-01", KC),
            Some(utc("2019-10-01T05:00:00Z"))
        );
        for bad in ["yesterday", "2019-13-01", "2019-10-01T25:00:00Z", ""] {
            assert_eq!(parse_w3c(bad, KC), None, "{bad}");
        }
    }
}
