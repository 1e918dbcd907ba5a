//! Roll-ups: the requests counted by what the metrics tell apart (service, department, channel,
//! status, [`Outcome`](civic311_domain::outcome::Outcome), close-time bin, area), per UTC day and
//! per UTC month of creation. A summary of a year then reads a few thousand groups instead of
//! every request: cost O(groups), not O(rows) (docs/METRICS.md, "Roll-ups").
//!
//! Triggers keep them on every write, whatever the path (API, imports, the SLA sweeper); a bulk
//! load drops the triggers with the indexes (bulk.rs) and [`Store::rebuild_rollups`] counts
//! everything again at its end. A range of creation times is read as whole months and whole days
//! from the roll-ups and its ragged ends from the requests themselves, grouped the same way, so
//! any range gives exact counts.
//!
//! Each area has roll-ups of its own, by UTC month only (a day grain by area would hold nearly
//! as many rows as requests): a range of one area is read as the whole months nearest its ends,
//! with the hours between those month starts and its ends added or taken away from the area's
//! requests, found by the areas' index of creation times (signed pieces). Its cost grows with
//! the months and those few hours' requests, not with the area's requests of the range.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use civic311_domain::{AreaRef, DepartmentCode, ServiceCode};

use crate::pool::dispatch;
use crate::{Result, Store};

/// The requests created in `[from, before)`, of some services (all when empty), a department
/// and an area.
#[derive(Debug, Clone)]
pub struct RollupQuery {
    pub from: DateTime<Utc>,
    pub before: DateTime<Utc>,
    pub service_codes: Vec<ServiceCode>,
    pub department: Option<DepartmentCode>,
    /// Read from the area's own roll-ups and requests.
    pub area: Option<AreaRef>,
}

/// Requests alike in everything a summary counts them by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RolledGroup {
    pub service_code: String,
    /// Empty for requests without a department.
    pub department_code: String,
    pub channel: String,
    pub status: String,
    /// [`Outcome::code`](civic311_domain::outcome::Outcome::code).
    pub outcome: i16,
    pub requests: u64,
    /// The sum of their close times, in seconds (0 for those without one).
    pub close_seconds: i64,
}

/// What the roll-ups hold of a [`RollupQuery`]'s requests.
#[derive(Debug, Clone, Default)]
pub struct Rolled {
    pub groups: Vec<RolledGroup>,
    /// Requests closed with a usable time by [`close_bin`](civic311_domain::outcome::close_bin),
    /// ascending.
    pub bins: Vec<(i64, u64)>,
    /// Requests by layer and area (a request counts once in each layer it is placed in).
    pub areas: Vec<(String, String, u64)>,
}

/// Open requests alike in what judging them at a moment tells apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenGroup {
    /// The index of the first of the `born_after` moments they were created after (their
    /// number when none).
    pub age: usize,
    /// Due before the moment of judging.
    pub overdue: bool,
    pub outcome: i16,
    pub channel: String,
    pub requests: u64,
}

/// The [`Outcome::code`](civic311_domain::outcome::Outcome::code)s of open requests are the
/// ones below this (their ending is the first, whatever their target).
pub(crate) const OPEN_OUTCOMES_BELOW: i16 = 10;

/// Service, department (empty for none), channel, status and outcome code.
pub(crate) type GroupKey = (String, String, String, String, i16);

/// How a period's requests are cut into parts, each summarized on its own (the monthly report's
/// rows): by service, by department, or by area (a request in each of its areas).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Split {
    Service,
    Department,
    Area,
}

/// A part of a [`Split`]: `(service, "")`, `(department, "")` (`""` for requests without a
/// department), or `(layer, area)`.
pub type SplitKey = (String, String);

/// Signed sums of roll-up rows and requests, added piece by piece.
#[derive(Default)]
struct Sums {
    groups: std::collections::BTreeMap<GroupKey, (i64, i64)>,
    bins: std::collections::BTreeMap<i64, i64>,
    areas: std::collections::BTreeMap<(String, String), i64>,
}

impl Sums {
    fn group(&mut self, sign: i64, key: GroupKey, n: i64, seconds: i64) {
        let e = self.groups.entry(key).or_default();
        e.0 += sign * n;
        e.1 += sign * seconds;
    }

    fn bin(&mut self, sign: i64, bin: i64, n: i64) {
        *self.bins.entry(bin).or_default() += sign * n;
    }

    /// Requests read from the table: a group, and their bin when they have one.
    fn rows(&mut self, sign: i64, key: GroupKey, bin: Option<i64>, n: i64, seconds: i64) {
        if let Some(bin) = bin {
            self.bin(sign, bin, n);
        }
        self.group(sign, key, n, seconds);
    }

    /// What is left of the sums: the groups, bins and areas counted more than zero times.
    fn rolled(self) -> Result<Rolled> {
        let count = |n: i64| {
            u64::try_from(n)
                .map_err(|_| crate::StoreError::corrupt(format!("a roll-up count of {n}")))
        };
        let mut rolled = Rolled::default();
        for ((service_code, department_code, channel, status, outcome), (n, s)) in self.groups {
            if n != 0 {
                rolled.groups.push(RolledGroup {
                    service_code,
                    department_code,
                    channel,
                    status,
                    outcome,
                    requests: count(n)?,
                    close_seconds: s,
                });
            }
        }
        for (bin, n) in self.bins {
            if n != 0 {
                rolled.bins.push((bin, count(n)?));
            }
        }
        for ((layer, area), n) in self.areas {
            if n != 0 {
                rolled.areas.push((layer, area, count(n)?));
            }
        }
        Ok(rolled)
    }
}

/// The sums of each part.
fn parts_rolled(
    parts: std::collections::BTreeMap<SplitKey, Sums>,
) -> Result<Vec<(SplitKey, Rolled)>> {
    parts
        .into_iter()
        .map(|(key, sums)| Ok((key, sums.rolled()?)))
        .filter(|part: &Result<(SplitKey, Rolled)>| {
            part.as_ref()
                .map_or(true, |(_, r)| !r.groups.is_empty() || !r.bins.is_empty())
        })
        .collect()
}

/// Where a part of a range is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    /// The requests themselves, grouped on reading.
    Rows {
        from: DateTime<Utc>,
        before: DateTime<Utc>,
    },
    /// Periods `[from, before)` of a grain: 1 for UTC days (`YYYY-MM-DD`), 2 for UTC months
    /// (`YYYY-MM`).
    Grain {
        grain: i16,
        from: String,
        before: String,
    },
}

const DAY: i16 = 1;
const MONTH: i16 = 2;

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN))
}

/// The first UTC midnight at or after `t`.
fn day_ceil(t: DateTime<Utc>) -> DateTime<Utc> {
    let floor = midnight(t.date_naive());
    if floor == t {
        t
    } else {
        floor + Duration::days(1)
    }
}

/// The first day of the first UTC month that starts at or after `t`, a midnight (`t` itself
/// on a month's first day: a midnight is expected).
fn month_ceil(t: DateTime<Utc>) -> DateTime<Utc> {
    let d = t.date_naive();
    if d.day() == 1 {
        return t;
    }
    let (y, m) = if d.month() == 12 {
        (d.year() + 1, 1)
    } else {
        (d.year(), d.month() + 1)
    };
    NaiveDate::from_ymd_opt(y, m, 1).map_or(t, midnight)
}

fn month_floor(t: DateTime<Utc>) -> DateTime<Utc> {
    t.date_naive().with_day(1).map_or(t, midnight)
}

/// Where `q`'s requests are read from, each piece added (1) or taken away (-1): [`pieces`] of
/// the city, [`area_pieces`] of an area.
fn pieces_of(q: &RollupQuery) -> Vec<(i64, Piece)> {
    match q.area {
        Some(_) => area_pieces(q.from, q.before),
        None => pieces(q.from, q.before)
            .into_iter()
            .map(|p| (1, p))
            .collect(),
    }
}

/// The UTC month start nearest `t`.
fn nearest_month(t: DateTime<Utc>) -> DateTime<Utc> {
    let (floor, ceil) = (month_floor(t), month_ceil(day_ceil(t)));
    if t - floor <= ceil - t { floor } else { ceil }
}

/// `[from, before)` of an area: the whole months between the month starts nearest its ends,
/// plus or minus the requests between each end and its month start. A range shorter than
/// that (within one month) is read from the requests.
fn area_pieces(from: DateTime<Utc>, before: DateTime<Utc>) -> Vec<(i64, Piece)> {
    if from >= before {
        return Vec::new();
    }
    let (first, last) = (nearest_month(from), nearest_month(before));
    if first >= last {
        return vec![(1, Piece::Rows { from, before })];
    }
    let month = |t: DateTime<Utc>| t.format("%Y-%m").to_string();
    let mut pieces = vec![(
        1,
        Piece::Grain {
            grain: MONTH,
            from: month(first),
            before: month(last),
        },
    )];
    // Hours before `from` in the first month are taken away, hours after it added.
    if first < from {
        pieces.push((
            -1,
            Piece::Rows {
                from: first,
                before: from,
            },
        ));
    } else if from < first {
        pieces.push((
            1,
            Piece::Rows {
                from,
                before: first,
            },
        ));
    }
    if last < before {
        pieces.push((1, Piece::Rows { from: last, before }));
    } else if before < last {
        pieces.push((
            -1,
            Piece::Rows {
                from: before,
                before: last,
            },
        ));
    }
    pieces
}

/// `[from, before)` as whole months, whole days and the ragged ends.
pub(crate) fn pieces(from: DateTime<Utc>, before: DateTime<Utc>) -> Vec<Piece> {
    if from >= before {
        return Vec::new();
    }
    let (first_day, last_day) = (day_ceil(from), midnight(before.date_naive()));
    if first_day >= last_day {
        return vec![Piece::Rows { from, before }];
    }
    let day = |t: DateTime<Utc>| t.format("%Y-%m-%d").to_string();
    let month = |t: DateTime<Utc>| t.format("%Y-%m").to_string();
    let mut pieces = vec![Piece::Rows {
        from,
        before: first_day,
    }];
    let (first_month, last_month) = (month_ceil(first_day), month_floor(last_day));
    if first_month < last_month {
        pieces.push(Piece::Grain {
            grain: DAY,
            from: day(first_day),
            before: day(first_month),
        });
        pieces.push(Piece::Grain {
            grain: MONTH,
            from: month(first_month),
            before: month(last_month),
        });
        pieces.push(Piece::Grain {
            grain: DAY,
            from: day(last_month),
            before: day(last_day),
        });
    } else {
        pieces.push(Piece::Grain {
            grain: DAY,
            from: day(first_day),
            before: day(last_day),
        });
    }
    pieces.push(Piece::Rows {
        from: last_day,
        before,
    });
    pieces.retain(|p| match p {
        Piece::Rows { from, before } => from < before,
        Piece::Grain { from, before, .. } => from < before,
    });
    pieces
}

impl Store {
    /// The groups, close-time bins and areas of `q`'s requests.
    pub async fn rolled_up(&self, q: &RollupQuery) -> Result<Rolled> {
        let mut sums = Sums::default();
        for (sign, piece) in pieces_of(q) {
            if q.area.is_some() && matches!(piece, Piece::Rows { .. }) {
                // An area's requests, read once for both.
                for (key, bin, n, seconds) in dispatch!(self, read, area_groups_bins(&piece, q))? {
                    sums.rows(sign, key, bin, n, seconds);
                }
            } else {
                for (key, (n, seconds)) in dispatch!(self, read, rollup_groups(&piece, q))? {
                    sums.group(sign, key, n, seconds);
                }
                for (bin, n) in dispatch!(self, read, rollup_bins(&piece, q))? {
                    sums.bin(sign, bin, n);
                }
            }
            for (layer, area, n) in dispatch!(self, read, rollup_areas(&piece, q))? {
                *sums.areas.entry((layer, area)).or_default() += sign * n;
            }
        }
        sums.rolled()
    }

    /// The groups and close-time bins of `q`'s requests (`q` of the city: no area) for each
    /// pair of service and department (`""` for none) they hold, from the same roll-ups as
    /// [`Store::rolled_up`]. A period that spans whole UTC months is read as an area's is (the
    /// months nearest its ends, plus or minus the hours between): by pair, a month's days hold
    /// some thirty times the rows of the month itself.
    pub async fn rolled_up_by_group(&self, q: &RollupQuery) -> Result<Vec<(SplitKey, Rolled)>> {
        let mut parts: std::collections::BTreeMap<SplitKey, Sums> = Default::default();
        let by_month = area_pieces(q.from, q.before);
        let pieces = if by_month
            .iter()
            .any(|(_, p)| matches!(p, Piece::Grain { .. }))
        {
            by_month
        } else {
            pieces(q.from, q.before)
                .into_iter()
                .map(|p| (1, p))
                .collect()
        };
        for (sign, piece) in pieces {
            for (key, (n, seconds)) in dispatch!(self, read, rollup_groups(&piece, q))? {
                let sums = parts.entry((key.0.clone(), key.1.clone())).or_default();
                sums.group(sign, key, n, seconds);
            }
            for (service, department, bin, n) in
                dispatch!(self, read, rollup_bins_by_group(&piece, q))?
            {
                parts
                    .entry((service, department))
                    .or_default()
                    .bin(sign, bin, n);
            }
        }
        parts_rolled(parts)
    }

    /// The groups and close-time bins of the requests created in `[from, before)` in each of
    /// `areas` (layer, area), from the areas' own roll-ups (as [`Store::rolled_up`] of one area,
    /// all at once: its cost grows with the areas and months, and the requests of the hours
    /// between the period's ends and the nearest month starts). Areas with none are left out.
    pub async fn rolled_up_by_area(
        &self,
        from: DateTime<Utc>,
        before: DateTime<Utc>,
        areas: &[SplitKey],
    ) -> Result<Vec<(SplitKey, Rolled)>> {
        let wanted: std::collections::HashSet<&SplitKey> = areas.iter().collect();
        let mut parts: std::collections::BTreeMap<SplitKey, Sums> = Default::default();
        for (sign, piece) in area_pieces(from, before) {
            match piece {
                Piece::Rows { from, before } => {
                    for (layer, area, key, bin, n, seconds) in
                        dispatch!(self, read, area_split_rows(from, before))?
                    {
                        let part = (layer, area);
                        if wanted.contains(&part) {
                            parts
                                .entry(part)
                                .or_default()
                                .rows(sign, key, bin, n, seconds);
                        }
                    }
                }
                Piece::Grain { from, before, .. } => {
                    for (layer, area, key, n, seconds) in
                        dispatch!(self, read, area_split_groups(areas, &from, &before))?
                    {
                        parts
                            .entry((layer, area))
                            .or_default()
                            .group(sign, key, n, seconds);
                    }
                    for (layer, area, bin, n) in
                        dispatch!(self, read, area_split_bins(areas, &from, &before))?
                    {
                        parts.entry((layer, area)).or_default().bin(sign, bin, n);
                    }
                }
            }
        }
        parts_rolled(parts)
    }

    /// How many requests `q` selects.
    pub async fn rolled_count(&self, q: &RollupQuery) -> Result<u64> {
        let mut n = 0;
        for (sign, piece) in pieces_of(q) {
            n += sign * dispatch!(self, read, rollup_count(&piece, q))?;
        }
        u64::try_from(n).map_err(|_| crate::StoreError::corrupt(format!("a roll-up count of {n}")))
    }

    /// Requests created in each UTC month from `q.from`'s to the one before `q.before`'s
    /// (`YYYY-MM`, whole months, whatever the days of `q.from` and `q.before`).
    pub async fn counts_by_utc_month(&self, q: &RollupQuery) -> Result<Vec<(String, u64)>> {
        let month = |t: DateTime<Utc>| t.format("%Y-%m").to_string();
        let rows = dispatch!(
            self,
            read,
            rollup_months_counts(q, &month(q.from), &month(q.before))
        )?;
        rows.into_iter()
            .map(|(m, n)| {
                u64::try_from(n)
                    .map(|n| (m, n))
                    .map_err(|_| crate::StoreError::corrupt(format!("a roll-up count of {n}")))
            })
            .collect()
    }

    /// The creation times the roll-ups span: from the first day of their first month to the
    /// first day of the month after their last (UTC). `None` when there are no requests.
    pub async fn rollup_span(&self) -> Result<Option<(DateTime<Utc>, DateTime<Utc>)>> {
        let Some((first, last)) = dispatch!(self, read, rollup_months())? else {
            return Ok(None);
        };
        let start = |m: &str| {
            NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
                .map(midnight)
                .map_err(|e| crate::StoreError::corrupt(format!("roll-up month {m:?}: {e}")))
        };
        Ok(Some((
            start(&first)?,
            month_ceil(start(&last)? + Duration::days(1)),
        )))
    }

    /// The open requests of `q`, by age (see [`OpenGroup::age`]), overdue at `now` or not,
    /// outcome and channel. Read from the requests (through the status index): open requests
    /// are few, and their age and lateness change with `now`.
    pub async fn open_groups(
        &self,
        q: &RollupQuery,
        now: DateTime<Utc>,
        born_after: &[DateTime<Utc>],
    ) -> Result<Vec<OpenGroup>> {
        let groups = dispatch!(self, read, open_groups(q, now, born_after, None))?;
        Ok(groups.into_iter().map(|(_, g)| g).collect())
    }

    /// [`Store::open_groups`] of each part of `split` (`q` of the city: no area).
    pub async fn open_groups_split(
        &self,
        q: &RollupQuery,
        now: DateTime<Utc>,
        born_after: &[DateTime<Utc>],
        split: Split,
    ) -> Result<Vec<(SplitKey, OpenGroup)>> {
        dispatch!(self, read, open_groups(q, now, born_after, Some(split)))
    }

    /// The close times of `q`'s requests at ranks `[from, before)` (from 0, in ascending
    /// order) within close-time bins, for each `(bin, from, before)` of `wanted`, in one read:
    /// `(bin, rank, seconds)`.
    pub async fn close_times_in(
        &self,
        q: &RollupQuery,
        wanted: &[(i64, i64, i64)],
    ) -> Result<Vec<(i64, i64, i64)>> {
        dispatch!(self, read, close_times_in(q, wanted))
    }

    /// [`Store::close_times_in`] for the parts of `split` at once (`q` of the city: no area),
    /// ranked within each part's bins: `(part, bin, rank, seconds)` for each `(part, bin, from,
    /// before)` of `wanted`.
    pub async fn close_times_split(
        &self,
        q: &RollupQuery,
        split: Split,
        wanted: &[(SplitKey, i64, i64, i64)],
    ) -> Result<Vec<(SplitKey, i64, i64, i64)>> {
        let ranks: std::collections::HashMap<(&SplitKey, i64), (i64, i64)> = wanted
            .iter()
            .map(|(part, bin, from, before)| ((part, *bin), (*from, *before)))
            .collect();
        let bins: Vec<(SplitKey, i64)> = ranks
            .keys()
            .map(|(part, bin)| ((*part).clone(), *bin))
            .collect();
        let rows = dispatch!(self, read, close_times_split(q, split, &bins))?;
        Ok(rows
            .into_iter()
            .map(|(k1, k2, bin, rank, seconds)| ((k1, k2), bin, rank, seconds))
            .filter(|(part, bin, rank, _)| {
                ranks
                    .get(&(part, *bin))
                    .is_some_and(|(from, before)| (*from..*before).contains(rank))
            })
            .collect())
    }

    /// Empties the roll-ups and counts every request into them again (after a bulk load).
    pub async fn rebuild_rollups(&self) -> Result<()> {
        dispatch!(self, write, rebuild_rollups())
    }

    /// Computes the outcome of requests stored before outcomes were, then builds the roll-ups
    /// again. Returns how many requests it computed (nearly always none).
    pub(crate) async fn refresh_outcomes(&self) -> Result<usize> {
        let mut done = 0;
        loop {
            let n = dispatch!(self, write, refresh_outcomes(5_000))?;
            if n == 0 {
                break;
            }
            done += n;
        }
        if done > 0 {
            self.rebuild_rollups().await?;
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_requests_have_the_outcome_codes_below_the_bound() {
        use civic311_domain::outcome::{Ending, Outcome};
        for code in 0..100 {
            if let Some((ending, _)) = Outcome::from_code(code) {
                assert_eq!(ending == Ending::Open, code < OPEN_OUTCOMES_BELOW, "{code}");
            }
        }
        assert!((0..OPEN_OUTCOMES_BELOW).any(|code| Outcome::from_code(code).is_some()));
    }

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn grain(grain: i16, from: &str, before: &str) -> Piece {
        Piece::Grain {
            grain,
            from: from.into(),
            before: before.into(),
        }
    }

    #[test]
    fn a_local_year_is_months_days_and_two_ragged_ends() {
        // October 2019 to September 2020 in Kansas City (UTC-5 in October).
        let (from, before) = (t("2019-10-01T05:00:00Z"), t("2020-10-01T05:00:00Z"));
        assert_eq!(
            pieces(from, before),
            vec![
                Piece::Rows {
                    from,
                    before: t("2019-10-02T00:00:00Z")
                },
                grain(DAY, "2019-10-02", "2019-11-01"),
                grain(MONTH, "2019-11", "2020-10"),
                Piece::Rows {
                    from: t("2020-10-01T00:00:00Z"),
                    before
                },
            ]
        );
    }

    #[test]
    fn short_and_aligned_ranges() {
        let day = (t("2019-10-03T05:00:00Z"), t("2019-10-04T05:00:00Z"));
        // A local day holds no whole UTC day: its requests are read.
        assert_eq!(
            pieces(day.0, day.1),
            vec![Piece::Rows {
                from: day.0,
                before: day.1
            }]
        );
        let hours = (t("2019-10-03T05:00:00Z"), t("2019-10-03T09:30:00Z"));
        assert_eq!(
            pieces(hours.0, hours.1),
            vec![Piece::Rows {
                from: hours.0,
                before: hours.1
            }]
        );
        assert_eq!(
            pieces(t("2019-12-01T00:00:00Z"), t("2020-02-01T00:00:00Z")),
            vec![grain(MONTH, "2019-12", "2020-02")]
        );
        assert_eq!(
            pieces(t("2019-12-15T00:00:00Z"), t("2019-12-20T00:00:00Z")),
            vec![grain(DAY, "2019-12-15", "2019-12-20")]
        );
        assert!(pieces(hours.1, hours.0).is_empty());
    }

    #[test]
    fn an_area_is_read_as_months_plus_or_minus_hours() {
        let (from, before) = (t("2019-10-01T05:00:00Z"), t("2020-10-01T05:00:00Z"));
        let mut q = RollupQuery {
            from,
            before,
            service_codes: Vec::new(),
            department: None,
            area: None,
        };
        assert_eq!(pieces_of(&q).len(), 4);
        q.area = Some(AreaRef::parse("kc-neighborhoods:69").unwrap());
        // October's first five hours taken away at the start, added at the end.
        assert_eq!(
            pieces_of(&q),
            vec![
                (1, grain(MONTH, "2019-10", "2020-10")),
                (
                    -1,
                    Piece::Rows {
                        from: t("2019-10-01T00:00:00Z"),
                        before: from
                    }
                ),
                (
                    1,
                    Piece::Rows {
                        from: t("2020-10-01T00:00:00Z"),
                        before
                    }
                ),
            ]
        );
        // Ends nearer the next month's start: the hours up to it added, those after taken away.
        let (late, early) = (t("2019-10-29T12:00:00Z"), t("2019-12-20T00:00:00Z"));
        assert_eq!(
            area_pieces(late, early),
            vec![
                (1, grain(MONTH, "2019-11", "2020-01")),
                (
                    1,
                    Piece::Rows {
                        from: late,
                        before: t("2019-11-01T00:00:00Z")
                    }
                ),
                (
                    -1,
                    Piece::Rows {
                        from: early,
                        before: t("2020-01-01T00:00:00Z")
                    }
                ),
            ]
        );
        // Within a month: its requests.
        let (a, b) = (t("2019-10-03T05:00:00Z"), t("2019-10-10T05:00:00Z"));
        assert_eq!(
            area_pieces(a, b),
            vec![(1, Piece::Rows { from: a, before: b })]
        );
        (q.from, q.before) = (before, from);
        assert!(pieces_of(&q).is_empty());
    }
}
