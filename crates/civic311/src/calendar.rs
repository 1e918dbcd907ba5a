//! The business calendar file a department (or the city) keeps: TOML, e.g.
//!
//! ```toml
//! timezone = "America/Chicago"
//! open = "08:00"
//! close = "17:00"
//! days = ["mon", "tue", "wed", "thu", "fri"]
//! holidays = ["2024-05-27", "2024-07-04"]
//! ```

use anyhow::{Context, Result, anyhow};
use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use civic311_domain::BusinessCalendar;
use serde::Deserialize;

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    timezone: String,
    open: String,
    close: String,
    days: Vec<String>,
    #[serde(default)]
    holidays: Vec<String>,
}

fn time(key: &str, s: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(s, "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(s, "%H:%M:%S"))
        .map_err(|_| anyhow!("`{key}`: {s:?} is not a time such as 08:00"))
}

/// Reads a calendar file; errors name the key and the value at fault.
pub fn parse(text: &str) -> Result<BusinessCalendar> {
    let f: CalendarFile = toml::from_str(text).map_err(|e| anyhow!("{e}"))?;
    let timezone: Tz = f
        .timezone
        .parse()
        .map_err(|_| anyhow!("`timezone`: {:?} is not an IANA time zone", f.timezone))?;
    let (open, close) = (time("open", &f.open)?, time("close", &f.close)?);
    let mut hours = [None; 7];
    for d in &f.days {
        let i = DAYS
            .iter()
            .position(|k| k.eq_ignore_ascii_case(d))
            .ok_or_else(|| anyhow!("`days`: {d:?} is not one of {}", DAYS.join(", ")))?;
        hours[i] = Some((open, close));
    }
    let holidays = f
        .holidays
        .iter()
        .map(|h| {
            NaiveDate::parse_from_str(h, "%Y-%m-%d")
                .with_context(|| format!("`holidays`: {h:?} is not a date such as 2024-05-27"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(BusinessCalendar::new(timezone, hours, holidays)?)
}
