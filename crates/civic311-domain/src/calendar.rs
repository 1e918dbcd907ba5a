//! Business calendars: when a department works, so SLA targets in business hours or business
//! days become due dates, and elapsed time can be measured in working time.
//!
//! Working hours are local times in the department's time zone (so 8:00 stays 8:00 across
//! daylight saving changes); holidays are local dates.
//!
//! - **Business hours**: the clock runs only during working hours, from receipt (or the next
//!   opening, for a request received while closed). Eight business hours from Friday 16:30, with
//!   8:00–17:00 hours and Monday a holiday, end Tuesday 15:30.
//! - **Business days**: a request gets the whole of the next `n` working days, whatever time it
//!   arrived: due at closing time of the `n`-th working day after the day of receipt.
//! - **Calendar days**: `n` × 24 hours.

use std::collections::BTreeSet;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::{DomainError, SlaTarget, SlaUnit};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessCalendar {
    pub timezone: Tz,
    /// Opening and closing local time for each weekday, Monday first; `None` when closed.
    hours: [Option<(NaiveTime, NaiveTime)>; 7],
    holidays: BTreeSet<NaiveDate>,
}

use crate::time::at_local;

impl BusinessCalendar {
    /// Checks that every open day closes after it opens and that some weekday is open.
    pub fn new(
        timezone: Tz,
        hours: [Option<(NaiveTime, NaiveTime)>; 7],
        holidays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<BusinessCalendar, DomainError> {
        if hours.iter().all(Option::is_none) {
            return Err(DomainError::InvalidCalendar(
                "no weekday is a working day".into(),
            ));
        }
        for (day, (open, close)) in hours
            .iter()
            .enumerate()
            .filter_map(|(d, h)| h.map(|h| (d, h)))
        {
            if open >= close {
                return Err(DomainError::InvalidCalendar(format!(
                    "weekday {} opens at {open} but closes at {close}",
                    day + 1
                )));
            }
        }
        Ok(BusinessCalendar {
            timezone,
            hours,
            holidays: holidays.into_iter().collect(),
        })
    }

    /// Monday to Friday, `open` to `close`, with `holidays`.
    pub fn weekdays(
        timezone: Tz,
        open: NaiveTime,
        close: NaiveTime,
        holidays: impl IntoIterator<Item = NaiveDate>,
    ) -> Result<BusinessCalendar, DomainError> {
        let day = Some((open, close));
        Self::new(timezone, [day, day, day, day, day, None, None], holidays)
    }

    pub fn is_holiday(&self, date: NaiveDate) -> bool {
        self.holidays.contains(&date)
    }

    /// The working interval of a local date, if it is a working day.
    pub fn working_interval(&self, date: NaiveDate) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        if self.is_holiday(date) {
            return None;
        }
        let (open, close) = self.hours[date.weekday().num_days_from_monday() as usize]?;
        Some((
            at_local(self.timezone, date, open),
            at_local(self.timezone, date, close),
        ))
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.timezone).date_naive()
    }

    /// The moment `work` of working time has passed since `start`.
    pub fn add_working_time(&self, start: DateTime<Utc>, work: Duration) -> DateTime<Utc> {
        if work <= Duration::zero() {
            return start;
        }
        let mut remaining = work;
        let mut date = self.local_date(start);
        loop {
            if let Some((open, close)) = self.working_interval(date) {
                let from = open.max(start);
                if from < close {
                    let available = close - from;
                    if remaining <= available {
                        return from + remaining;
                    }
                    remaining -= available;
                }
            }
            // Holidays are finite and some weekday is open: this ends.
            date = date.succ_opt().unwrap_or(date);
        }
    }

    /// Working time between two moments (zero when `end` is not after `start`).
    pub fn working_time_between(&self, start: DateTime<Utc>, end: DateTime<Utc>) -> Duration {
        let mut total = Duration::zero();
        if end <= start {
            return total;
        }
        let mut date = self.local_date(start);
        let last = self.local_date(end);
        while date <= last {
            if let Some((open, close)) = self.working_interval(date) {
                let (from, to) = (open.max(start), close.min(end));
                if from < to {
                    total += to - from;
                }
            }
            match date.succ_opt() {
                Some(next) => date = next,
                None => break,
            }
        }
        total
    }

    /// Closing time of the `n`-th working day after the local date of `received`.
    pub fn add_business_days(&self, received: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let mut date = self.local_date(received);
        let mut left = n;
        let mut close = received;
        while left > 0 {
            date = date.succ_opt().unwrap_or(date);
            if let Some((_, c)) = self.working_interval(date) {
                close = c;
                left -= 1;
            }
        }
        close
    }

    /// When a request received at `received` is due under `target`.
    pub fn due(&self, received: DateTime<Utc>, target: SlaTarget) -> DateTime<Utc> {
        match target.unit {
            SlaUnit::CalendarDays => received + Duration::days(i64::from(target.amount)),
            SlaUnit::BusinessDays => self.add_business_days(received, target.amount),
            SlaUnit::BusinessHours => {
                self.add_working_time(received, Duration::hours(i64::from(target.amount)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KC: Tz = chrono_tz::America::Chicago;

    fn hm(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        at_local(KC, date(y, mo, d), hm(h, mi))
    }

    /// Kansas City's 2019 holidays around Thanksgiving, Christmas and New Year, and a Monday.
    fn city() -> BusinessCalendar {
        BusinessCalendar::weekdays(
            KC,
            hm(8, 0),
            hm(17, 0),
            [
                date(2019, 11, 18),
                date(2019, 11, 28),
                date(2019, 11, 29),
                date(2019, 12, 25),
                date(2020, 1, 1),
            ],
        )
        .unwrap()
    }

    #[test]
    fn friday_afternoon_with_a_monday_holiday() {
        let c = city();
        let friday = local(2019, 11, 15, 16, 30);
        let target = SlaTarget {
            amount: 8,
            unit: SlaUnit::BusinessHours,
        };
        // 30 minutes on Friday, Monday off, 7.5 hours on Tuesday.
        assert_eq!(c.due(friday, target), local(2019, 11, 19, 15, 30));
        let days = SlaTarget {
            amount: 2,
            unit: SlaUnit::BusinessDays,
        };
        assert_eq!(c.due(friday, days), local(2019, 11, 20, 17, 0));
        let calendar = SlaTarget {
            amount: 3,
            unit: SlaUnit::CalendarDays,
        };
        assert_eq!(c.due(friday, calendar), friday + Duration::days(3));
    }

    #[test]
    fn received_while_closed_starts_at_the_next_opening() {
        let c = city();
        let saturday_night = local(2019, 11, 23, 22, 0);
        assert_eq!(
            c.add_working_time(saturday_night, Duration::hours(1)),
            local(2019, 11, 25, 9, 0)
        );
        // Thanksgiving Thursday and Friday are holidays.
        let wednesday = local(2019, 11, 27, 16, 0);
        assert_eq!(
            c.add_working_time(wednesday, Duration::hours(2)),
            local(2019, 12, 2, 9, 0)
        );
    }

    #[test]
    fn working_hours_stay_local_across_daylight_saving() {
        let c = city();
        // DST ended on Sunday 2019-11-03: Friday's 17:00 is 22:00 UTC, Monday's 8:00 is 14:00.
        let friday = local(2019, 11, 1, 16, 0);
        let due = c.add_working_time(friday, Duration::hours(2));
        assert_eq!(due, local(2019, 11, 4, 9, 0));
        assert_eq!(due.to_rfc3339(), "2019-11-04T15:00:00+00:00");
    }

    #[test]
    fn invalid_calendars_are_refused() {
        assert!(BusinessCalendar::new(KC, [None; 7], []).is_err());
        assert!(BusinessCalendar::weekdays(KC, hm(17, 0), hm(8, 0), []).is_err());
    }

    proptest! {
        #[test]
        fn adding_then_measuring_gives_back_the_work(
            start_min in 0i64..(2 * 365 * 24 * 60),
            work_min in 1i64..(300 * 60),
        ) {
            let c = city();
            let start = local(2019, 1, 1, 0, 0) + Duration::minutes(start_min);
            let work = Duration::minutes(work_min);
            let due = c.add_working_time(start, work);
            prop_assert!(due > start);
            prop_assert_eq!(c.working_time_between(start, due), work);
            // The clock stops at a working moment: inside a working interval of its day.
            let (open, close) = c.working_interval(c.local_date(due)).expect("a working day");
            prop_assert!(open < due && due <= close);
        }

        #[test]
        fn more_work_is_never_due_earlier(
            start_min in 0i64..(2 * 365 * 24 * 60),
            a in 0i64..(100 * 60),
            b in 0i64..(100 * 60),
        ) {
            let c = city();
            let start = local(2019, 1, 1, 0, 0) + Duration::minutes(start_min);
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(
                c.add_working_time(start, Duration::minutes(lo))
                    <= c.add_working_time(start, Duration::minutes(hi))
            );
        }

        #[test]
        fn business_days_end_at_a_closing_time_after_n_working_days(
            start_min in 0i64..(2 * 365 * 24 * 60),
            n in 1u32..30,
        ) {
            let c = city();
            let received = local(2019, 1, 1, 0, 0) + Duration::minutes(start_min);
            let due = c.add_business_days(received, n);
            let due_date = c.local_date(due);
            prop_assert_eq!(c.working_interval(due_date).map(|(_, close)| close), Some(due));
            let mut working_days = 0;
            let mut d = c.local_date(received);
            while d < due_date {
                d = d.succ_opt().unwrap();
                if c.working_interval(d).is_some() {
                    working_days += 1;
                }
            }
            prop_assert_eq!(working_days, n);
        }
    }
}
