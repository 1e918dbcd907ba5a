//! Bookable services (bulky-item pickup, a tree inspection): residents pick a day when they
//! file, each zone serves a limited number of requests per day, and cancelling or moving a
//! booking is an event like any other change.

use chrono::{DateTime, Datelike, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::{
    Actor, AreaId, DomainError, EventKind, LayerId, RequestEvent, ServiceCode, ServiceRequest,
};

/// The attribute a bookable service's requests carry the chosen day in (`YYYY-MM-DD`), so that
/// Open311 clients show and send it like any other question.
pub const APPOINTMENT_ATTRIBUTE: &str = "appointment_date";
/// The zone of a schedule without zones: the whole city.
pub const CITY_WIDE: &str = "*";

const WEEKDAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// When and how much a bookable service can take, per zone and day (TOML, see docs/SLA.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppointmentSchedule {
    pub service: ServiceCode,
    /// The area layer whose areas are the zones; without it the city is one zone.
    #[serde(default)]
    pub layer: Option<LayerId>,
    /// The city's time zone, which says what "today" is.
    pub timezone: Tz,
    /// Service days: `mon` ... `sun`.
    pub days: Vec<String>,
    /// Requests per zone per service day.
    pub capacity: u32,
    /// Zones that differ: their own capacity and/or days.
    #[serde(default, rename = "zone")]
    pub zones: Vec<ZoneSchedule>,
    /// Dates without service (holidays).
    #[serde(default)]
    pub closed: Vec<NaiveDate>,
    /// The earliest day bookable is today + `lead_days`.
    #[serde(default = "one")]
    pub lead_days: u32,
    /// The latest day bookable is today + `horizon_days`.
    #[serde(default = "four_weeks")]
    pub horizon_days: u32,
}

fn one() -> u32 {
    1
}

fn four_weeks() -> u32 {
    28
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneSchedule {
    pub area: AreaId,
    #[serde(default)]
    pub capacity: Option<u32>,
    #[serde(default)]
    pub days: Option<Vec<String>>,
}

/// A day a resident may pick, with its places.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Slot {
    pub day: NaiveDate,
    pub capacity: u32,
    pub booked: u32,
}

impl AppointmentSchedule {
    /// Refuses unknown day names, a zero horizon and zones named twice.
    pub fn check(&self) -> Result<(), DomainError> {
        let bad = |why: String| Err(DomainError::InvalidSchedule(why));
        let days = self
            .days
            .iter()
            .chain(self.zones.iter().flat_map(|z| z.days.iter().flatten()));
        for d in days {
            if !WEEKDAYS.contains(&d.as_str()) {
                return bad(format!("unknown day {d:?} (use mon, tue, ... sun)"));
            }
        }
        if self.lead_days > self.horizon_days {
            return bad(format!(
                "lead_days {} is after horizon_days {}",
                self.lead_days, self.horizon_days
            ));
        }
        if !self.zones.is_empty() && self.layer.is_none() {
            return bad("zones need a `layer` to find them in".into());
        }
        for (i, z) in self.zones.iter().enumerate() {
            if self.zones[..i].iter().any(|o| o.area == z.area) {
                return bad(format!("zone {} is given twice", z.area));
            }
        }
        Ok(())
    }

    /// The zone a request at this location books in, if it is in one.
    pub fn zone_of(&self, request: &ServiceRequest) -> Option<String> {
        match &self.layer {
            None => Some(CITY_WIDE.to_owned()),
            Some(layer) => request
                .location
                .area_in(layer.as_str())
                .map(|a| a.as_str().to_owned()),
        }
    }

    /// Places in `zone` on `day` (0 when it is not a service day there).
    pub fn capacity(&self, zone: &str, day: NaiveDate) -> u32 {
        if self.closed.contains(&day) {
            return 0;
        }
        let special = self.zones.iter().find(|z| z.area.as_str() == zone);
        let days = special.and_then(|z| z.days.as_ref()).unwrap_or(&self.days);
        let name = WEEKDAYS[day.weekday().num_days_from_monday() as usize];
        if !days.iter().any(|d| d == name) {
            return 0;
        }
        special.and_then(|z| z.capacity).unwrap_or(self.capacity)
    }

    /// The days bookable at `now`: from today + lead to today + horizon, in the city's zone.
    pub fn window(&self, now: DateTime<Utc>) -> (NaiveDate, NaiveDate) {
        let today = now.with_timezone(&self.timezone).date_naive();
        let add = |n: u32| {
            today
                .checked_add_days(Days::new(u64::from(n)))
                .unwrap_or(today)
        };
        (add(self.lead_days), add(self.horizon_days))
    }

    /// The service days of `zone` open to booking at `now`, with their capacity.
    pub fn days_open(&self, zone: &str, now: DateTime<Utc>) -> Vec<(NaiveDate, u32)> {
        let (first, last) = self.window(now);
        first
            .iter_days()
            .take_while(|d| *d <= last)
            .map(|d| (d, self.capacity(zone, d)))
            .filter(|(_, c)| *c > 0)
            .collect()
    }

    /// Checks that `day` can be booked in `zone` at `now`; its capacity.
    pub fn bookable(
        &self,
        zone: &str,
        day: NaiveDate,
        now: DateTime<Utc>,
    ) -> Result<u32, DomainError> {
        let (first, last) = self.window(now);
        if day < first || day > last {
            return Err(DomainError::NotBookable {
                day,
                reason: format!("bookable days are {first} to {last}"),
            });
        }
        match self.capacity(zone, day) {
            0 => Err(DomainError::NotBookable {
                day,
                reason: "it is not a service day in this zone".into(),
            }),
            c => Ok(c),
        }
    }
}

/// The question a bookable service asks at intake (added to the service when its schedule is
/// set, so Open311 clients ask it too).
pub fn appointment_attribute() -> crate::AttributeDefinition {
    crate::AttributeDefinition {
        code: APPOINTMENT_ATTRIBUTE.to_owned(),
        variable: true,
        datatype: crate::AttributeDatatype::String,
        required: true,
        order: 0,
        description: "Which day? (YYYY-MM-DD; free days at /api/v1/appointments/slots)".to_owned(),
        datatype_description: Some("a date as YYYY-MM-DD".to_owned()),
        values: Vec::new(),
    }
}

/// The day a request asked for, from its `appointment_date` answer.
pub fn requested_day(request: &ServiceRequest) -> Result<Option<NaiveDate>, DomainError> {
    let Some(answer) = request
        .attributes
        .iter()
        .find(|a| a.code == APPOINTMENT_ATTRIBUTE)
    else {
        return Ok(None);
    };
    let text = answer.values.first().map(|v| v.trim()).unwrap_or_default();
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| DomainError::InvalidAttributeValue {
            code: APPOINTMENT_ATTRIBUTE.to_owned(),
            value: text.to_owned(),
            reason: "expected a date as YYYY-MM-DD",
        })
}

impl ServiceRequest {
    pub fn appointment_booked(
        &mut self,
        day: NaiveDate,
        zone: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> RequestEvent {
        let kind = EventKind::AppointmentBooked {
            day,
            zone: zone.to_owned(),
        };
        self.record(actor, now, kind)
    }

    pub fn appointment_moved(
        &mut self,
        from: NaiveDate,
        to: NaiveDate,
        reason: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<RequestEvent, DomainError> {
        if self.status.is_closed() {
            return Err(DomainError::Closed);
        }
        let reason = reason.trim().to_owned();
        Ok(self.record(
            actor,
            now,
            EventKind::AppointmentRescheduled { from, to, reason },
        ))
    }

    pub fn appointment_cancelled(
        &mut self,
        day: NaiveDate,
        reason: &str,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<RequestEvent, DomainError> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(DomainError::Empty {
                field: "cancellation reason",
            });
        }
        let reason = reason.to_owned();
        Ok(self.record(actor, now, EventKind::AppointmentCancelled { day, reason }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn schedule() -> AppointmentSchedule {
        toml::from_str(
            r#"
            service = "bulky-item"
            layer = "sanitation-zones"
            timezone = "America/Chicago"
            days = ["tue", "thu"]
            capacity = 40
            closed = ["2026-12-24"]
            [[zone]]
            area = "north"
            capacity = 60
            days = ["mon"]
            "#,
        )
        .unwrap()
    }

    #[test]
    fn capacity_follows_days_zones_and_holidays() {
        let s = schedule();
        s.check().unwrap();
        let day = |d| NaiveDate::from_ymd_opt(2026, 12, d).unwrap();
        assert_eq!(s.capacity("south", day(1)), 40, "a Tuesday");
        assert_eq!(s.capacity("south", day(2)), 0, "a Wednesday");
        assert_eq!(s.capacity("north", day(7)), 60, "north works Mondays");
        assert_eq!(s.capacity("north", day(1)), 0);
        assert_eq!(
            s.capacity("south", day(24)),
            0,
            "closed on Christmas Eve (a Thursday)"
        );
        // Sunday 29 Nov 2026, 23:30 in Kansas City is already Monday in UTC: "today" is local.
        let now = chrono_tz::America::Chicago
            .with_ymd_and_hms(2026, 11, 29, 23, 30, 0)
            .unwrap()
            .with_timezone(&Utc);
        let nov30 = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(s.window(now), (nov30, day(27)));
        assert!(s.bookable("south", day(1), now).is_ok());
        assert!(s.bookable("south", day(2), now).is_err());
        assert!(
            s.bookable("south", day(29), now).is_err(),
            "past the horizon"
        );
        let open = s.days_open("south", now);
        assert_eq!(open.first(), Some(&(day(1), 40)));
        assert!(!open.iter().any(|(d, _)| *d == day(24)));
    }

    #[test]
    fn bad_schedules_are_refused() {
        let mut s = schedule();
        s.days.push("fry".into());
        assert!(s.check().is_err());
        let mut s = schedule();
        s.zones.push(s.zones[0].clone());
        assert!(s.check().is_err());
        let mut s = schedule();
        s.layer = None;
        assert!(s.check().is_err());
    }
}
