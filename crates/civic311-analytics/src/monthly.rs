//! The monthly report to the mayor, the manager and the council (docs/METRICS.md, "Monthly
//! report"): a month's requests against the month before and the same month a year before, the
//! year's trend, what happened in the month (contacts, escalations, reassignments, reopenings,
//! surveys), each service, department and area, and what moved most.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use civic311_domain::outcome::{Ending, Outcome};
use civic311_domain::{LayerId, ServiceRequest};
pub use civic311_store::Activity;
use civic311_store::{RequestFilter, RollupQuery, Split, SplitKey, Store};
use serde::Serialize;

use crate::cityscore::{CityScore, ScoreCard};
use crate::rolled::summarize_split;
use crate::summary::{Options, Summary, Tally, summarize};

/// Months in the trend, the report's month the last.
const TREND_MONTHS: u32 = 13;
/// Rows in each list of movers.
const MOVERS: usize = 5;
/// Requests read at a time.
const PAGE: u32 = 5_000;

/// A calendar month of the city's, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    pub fn new(year: i32, month: u32) -> Option<Month> {
        NaiveDate::from_ymd_opt(year, month, 1).map(|_| Month { year, month })
    }

    /// The month `n` months before this one.
    pub fn back(self, n: u32) -> Month {
        let index = self.year * 12 + self.month as i32 - 1 - n as i32;
        Month {
            year: index.div_euclid(12),
            month: index.rem_euclid(12) as u32 + 1,
        }
    }

    /// The month `t` falls in, in `timezone`.
    pub fn containing(t: DateTime<Utc>, timezone: Tz) -> Month {
        let local = t.with_timezone(&timezone);
        Month {
            year: local.year(),
            month: local.month(),
        }
    }

    /// The month after this one.
    pub fn next(self) -> Month {
        Month {
            year: self.year + i32::from(self.month == 12),
            month: self.month % 12 + 1,
        }
    }

    /// The month before the one `now` falls in, in `timezone`: the last complete month.
    pub fn last_complete(now: DateTime<Utc>, timezone: Tz) -> Month {
        Month::containing(now, timezone).back(1)
    }

    /// Its first local midnight, as a moment.
    pub fn start(self, timezone: Tz) -> DateTime<Utc> {
        let first = NaiveDate::from_ymd_opt(self.year, self.month, 1).unwrap_or_default();
        civic311_domain::time::at_local(timezone, first, chrono::NaiveTime::MIN)
    }

    /// `[start, start of the next month)`.
    pub fn window(self, timezone: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        (self.start(timezone), self.next().start(timezone))
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl FromStr for Month {
    type Err = String;

    fn from_str(s: &str) -> Result<Month, String> {
        let wrong = || format!("{s:?} is not a month: write YYYY-MM, e.g. 2019-10");
        let (year, month) = s.trim().split_once('-').ok_or_else(wrong)?;
        let year = year.parse().map_err(|_| wrong())?;
        let month = month.parse().map_err(|_| wrong())?;
        Month::new(year, month).ok_or_else(wrong)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[derive(Debug, Clone)]
pub struct MonthlyOptions {
    pub month: Month,
    /// When open requests are judged (overdue, age): the report of a past month can be rebuilt
    /// as it was on the day it was sent.
    pub now: DateTime<Utc>,
    pub timezone: Tz,
    pub include_self_generated: bool,
    /// The city score's targets.
    pub score_card: ScoreCard,
}

/// A month's summary and what happened in it.
#[derive(Debug, Clone, Serialize)]
pub struct Period {
    pub month: Month,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub summary: Summary,
    pub activity: Activity,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    pub month: Month,
    pub requests: i64,
}

/// One service, department or area in the month, against the month before and a year before.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    pub key: String,
    pub name: Option<String>,
    pub requests: u64,
    pub previous_month: u64,
    pub year_ago: u64,
    /// Closed with a usable time (the median's count).
    pub closed: u64,
    pub median_seconds: Option<f64>,
    pub open: u64,
    pub open_overdue: u64,
    pub attainment: Option<f64>,
    /// What its requests closed in the month's cohort cost, by the budget table (`None`
    /// without one).
    pub cost: Option<f64>,
}

/// The month's cost by the budget table (docs/METRICS.md, "Cost per request").
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Costs {
    /// Over the cohort's requests closed other than as duplicates whose service has a cost.
    pub total: f64,
    pub closed_with_cost: u64,
    /// Closed, but their service has no row in the budget table: not in the total.
    pub closed_without_cost: u64,
    pub per_closed_request: Option<f64>,
    /// The budget version it is priced with: the one in force on the month's first day.
    pub budget_from: Option<chrono::NaiveDate>,
}

impl Costs {
    /// `n` requests closed, each costing `cost`.
    fn add(&mut self, cost: Option<f64>, n: u64) {
        match cost {
            Some(c) => {
                self.total += c * n as f64;
                self.closed_with_cost += n;
            }
            None => self.closed_without_cost += n,
        }
    }

    fn finish(mut self) -> Self {
        self.per_closed_request =
            (self.closed_with_cost > 0).then(|| self.total / self.closed_with_cost as f64);
        self
    }
}

/// A service or an area whose volume changed most.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mover {
    /// `service`, or the area's layer.
    pub dimension: String,
    pub key: String,
    pub name: Option<String>,
    pub requests: u64,
    /// The month compared with: the one before, or the same a year before.
    pub compared: u64,
    pub change: i64,
    /// `None` when the compared month had none.
    pub change_ratio: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Movers {
    pub month_over_month: Vec<Mover>,
    pub year_over_year: Vec<Mover>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthlyReport {
    pub month: Month,
    pub timezone: String,
    pub judged_at: DateTime<Utc>,
    pub include_self_generated: bool,
    pub this_month: Period,
    pub previous_month: Period,
    pub year_ago: Period,
    /// Requests created each month, the 12 before and this one.
    pub trend: Vec<TrendPoint>,
    pub services: Vec<Row>,
    pub departments: Vec<Row>,
    /// Per area layer, its areas that had requests in one of the three months.
    pub areas: BTreeMap<String, Vec<Row>>,
    pub movers: Movers,
    pub cityscore: CityScores,
    /// `None` when the city has no budget table.
    pub costs: Option<Costs>,
}

/// The city score of each of the three months, against the same targets.
#[derive(Debug, Clone, Serialize)]
pub struct CityScores {
    pub this_month: CityScore,
    pub previous_month: CityScore,
    pub year_ago: CityScore,
}

/// Builds the report from the roll-ups (docs/METRICS.md, "Roll-ups"): its cost grows with the
/// services, departments and areas of the three months and the months of the trend, not with
/// their requests (but the open ones, judged at `options.now`, and the few whose close times a
/// median needs).
pub async fn monthly_report(
    store: &Store,
    options: &MonthlyOptions,
) -> civic311_store::Result<MonthlyReport> {
    report(store, options, Source::Rolled).await
}

/// The same report from the month's requests read one by one: the reference the roll-ups are
/// tested against. Its cost grows with the month's requests.
pub async fn monthly_report_rows(
    store: &Store,
    options: &MonthlyOptions,
) -> civic311_store::Result<MonthlyReport> {
    report(store, options, Source::Rows).await
}

/// Where the month's own figures come from.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Rolled,
    Rows,
}

async fn report(
    store: &Store,
    options: &MonthlyOptions,
    source: Source,
) -> civic311_store::Result<MonthlyReport> {
    let tz = options.timezone;
    let cohort = |month: Month| {
        let (from, to) = month.window(tz);
        Options {
            filter: RequestFilter {
                created_from: Some(from),
                created_before: Some(to),
                ..RequestFilter::default()
            },
            now: options.now,
            timezone: tz,
            include_self_generated: options.include_self_generated,
        }
    };
    let this = cohort(options.month);
    let (previous, year_ago) = (
        cohort(options.month.back(1)),
        cohort(options.month.back(12)),
    );

    // This month in detail (each service, department and area its own tally); the other two
    // months for comparison.
    let first_day = this
        .filter
        .created_from
        .map(|from| from.with_timezone(&tz).date_naive());
    let version = match first_day {
        Some(day) => store.costs(day).await?,
        None => None,
    };
    let budget_from = version.as_ref().map(|(from, _)| *from);
    let budget: HashMap<String, f64> = version
        .into_iter()
        .flat_map(|(_, costs)| costs)
        .map(|c| (c.service_code.to_string(), c.per_request()))
        .collect();
    let ((summary, by_service, by_department, by_area), spent) = match source {
        Source::Rolled => detail_rolled(store, &this, &budget).await?,
        Source::Rows => {
            let mut groups = Groups::new(&this, &budget);
            let mut pages = store.read_cohort(&this.filter, PAGE).await?;
            while let Some(page) = pages.next_page().await? {
                for (_, r) in &page {
                    groups.add(r);
                }
            }
            groups.finish()
        }
    };
    let with_costs = !budget.is_empty();
    let previous_summary = summarize(store, &previous).await?;
    let year_ago_summary = summarize(store, &year_ago).await?;

    let mut trend = Vec::with_capacity(TREND_MONTHS as usize);
    for back in (0..TREND_MONTHS).rev() {
        let month = options.month.back(back);
        let (from, to) = month.window(tz);
        let requests = store
            .rolled_count(&civic311_store::RollupQuery {
                from,
                before: to,
                service_codes: Vec::new(),
                department: None,
                area: None,
            })
            .await?;
        trend.push(TrendPoint {
            month,
            requests: i64::try_from(requests).unwrap_or(i64::MAX),
        });
    }

    let service_names: HashMap<String, String> = store
        .services()
        .await?
        .into_iter()
        .map(|s| (s.code.to_string(), s.name))
        .collect();
    let department_names: HashMap<String, String> = store
        .departments()
        .await?
        .into_iter()
        .map(|d| (d.code.to_string(), d.name))
        .collect();
    let compare = |name_of: &dyn Fn(&str) -> Option<String>,
                   tallies: BTreeMap<String, Summary>,
                   costs: &BTreeMap<String, f64>,
                   before: &BTreeMap<String, u64>,
                   year: &BTreeMap<String, u64>| {
        let mut keys: Vec<&String> = tallies
            .keys()
            .chain(before.keys())
            .chain(year.keys())
            .collect();
        keys.sort();
        keys.dedup();
        let mut rows: Vec<Row> = keys
            .into_iter()
            .map(|key| {
                let cost = with_costs.then(|| costs.get(key).copied().unwrap_or(0.0));
                row(key, name_of(key), tallies.get(key), cost, before, year)
            })
            .collect();
        rows.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| a.key.cmp(&b.key)));
        rows
    };
    let services = compare(
        &|k| service_names.get(k).cloned(),
        by_service,
        &spent.services,
        &previous_summary.volume.by_service,
        &year_ago_summary.volume.by_service,
    );
    let departments = compare(
        &|k| department_names.get(k).cloned(),
        by_department,
        &spent.departments,
        &previous_summary.volume.by_department,
        &year_ago_summary.volume.by_department,
    );
    let empty = BTreeMap::new();
    let no_costs = BTreeMap::new();
    let mut areas = BTreeMap::new();
    let mut layers: Vec<&String> = by_area
        .keys()
        .chain(previous_summary.volume.by_area.keys())
        .chain(year_ago_summary.volume.by_area.keys())
        .collect();
    layers.sort();
    layers.dedup();
    for layer in layers {
        let names: HashMap<String, Option<String>> = match LayerId::parse(layer) {
            Ok(id) => store.area_names(&id).await?.into_iter().collect(),
            Err(_) => HashMap::new(),
        };
        let rows = compare(
            &|k| names.get(k).cloned().flatten(),
            by_area.get(layer).cloned().unwrap_or_default(),
            spent.areas.get(layer).unwrap_or(&no_costs),
            previous_summary.volume.by_area.get(layer).unwrap_or(&empty),
            year_ago_summary.volume.by_area.get(layer).unwrap_or(&empty),
        );
        areas.insert(layer.clone(), rows);
    }
    let movers = Movers {
        month_over_month: movers(&services, &areas, |r| r.previous_month),
        year_over_year: movers(&services, &areas, |r| r.year_ago),
    };

    let period = |month: Month, summary: Summary| async move {
        let (from, to) = month.window(tz);
        let activity = store.activity(from, to).await?;
        Ok::<_, civic311_store::StoreError>(Period {
            month,
            from,
            to,
            summary,
            activity,
        })
    };
    let this_month = period(options.month, summary).await?;
    let previous_month = period(options.month.back(1), previous_summary).await?;
    let year_ago = period(options.month.back(12), year_ago_summary).await?;
    let card = &options.score_card;
    Ok(MonthlyReport {
        month: options.month,
        timezone: tz.name().to_owned(),
        judged_at: options.now,
        include_self_generated: options.include_self_generated,
        cityscore: CityScores {
            this_month: card.score(&this_month),
            previous_month: card.score(&previous_month),
            year_ago: card.score(&year_ago),
        },
        this_month,
        previous_month,
        year_ago,
        trend,
        services,
        departments,
        areas,
        movers,
        costs: with_costs.then(|| Costs {
            budget_from,
            ..spent.all.finish()
        }),
    })
}

fn row(
    key: &str,
    name: Option<String>,
    this: Option<&Summary>,
    cost: Option<f64>,
    before: &BTreeMap<String, u64>,
    year: &BTreeMap<String, u64>,
) -> Row {
    let count = |m: &BTreeMap<String, u64>| m.get(key).copied().unwrap_or(0);
    let this = this.cloned().unwrap_or_default();
    Row {
        key: key.to_owned(),
        name,
        requests: this.volume.requests,
        previous_month: count(before),
        year_ago: count(year),
        closed: this.time_to_close.closed,
        median_seconds: this.time_to_close.median_seconds,
        open: this.backlog.open,
        open_overdue: this.sla.open_overdue,
        attainment: this.sla.attainment,
        cost,
    }
}

/// The services and areas whose volume changed most against `compared`, largest change first.
fn movers(
    services: &[Row],
    areas: &BTreeMap<String, Vec<Row>>,
    compared: impl Fn(&Row) -> u64,
) -> Vec<Mover> {
    let dimensions = std::iter::once(("service", services)).chain(
        areas
            .iter()
            .map(|(layer, rows)| (layer.as_str(), rows.as_slice())),
    );
    let mut out = Vec::new();
    for (dimension, rows) in dimensions {
        let mut movers: Vec<Mover> = rows
            .iter()
            .map(|r| {
                let before = compared(r);
                Mover {
                    dimension: dimension.to_owned(),
                    key: r.key.clone(),
                    name: r.name.clone(),
                    requests: r.requests,
                    compared: before,
                    change: r.requests as i64 - before as i64,
                    change_ratio: (before > 0)
                        .then(|| (r.requests as f64 - before as f64) / before as f64),
                }
            })
            .filter(|m| m.change != 0)
            .collect();
        movers.sort_by(|a, b| {
            b.change
                .abs()
                .cmp(&a.change.abs())
                .then_with(|| a.key.cmp(&b.key))
        });
        out.extend(movers.into_iter().take(MOVERS));
    }
    out
}

/// What the closed requests of each group cost.
#[derive(Default)]
struct Spent {
    all: Costs,
    services: BTreeMap<String, f64>,
    departments: BTreeMap<String, f64>,
    areas: BTreeMap<String, BTreeMap<String, f64>>,
}

/// The month's tally, and one per service, department and area.
struct Groups<'o> {
    options: &'o Options,
    /// Cost per request by service code.
    budget: &'o HashMap<String, f64>,
    all: Tally<'o>,
    services: BTreeMap<String, Tally<'o>>,
    departments: BTreeMap<String, Tally<'o>>,
    areas: BTreeMap<String, BTreeMap<String, Tally<'o>>>,
    spent: Spent,
}

/// The month in detail from the roll-ups: its summary, one per service, department and area
/// (the areas its city roll-ups place its requests in), and what their closed requests cost.
async fn detail_rolled(
    store: &Store,
    this: &Options,
    budget: &HashMap<String, f64>,
) -> civic311_store::Result<(Finished, Spent)> {
    let summary = summarize(store, this).await?;
    let (from, before) = (
        this.filter.created_from.unwrap_or(DateTime::<Utc>::MIN_UTC),
        this.filter
            .created_before
            .unwrap_or(DateTime::<Utc>::MIN_UTC),
    );
    let q = RollupQuery {
        from,
        before,
        service_codes: Vec::new(),
        department: None,
        area: None,
    };
    let mut spent = Spent::default();
    // The work was done: closed, and not as a duplicate of another request.
    let cost = |groups: &[civic311_store::RolledGroup]| -> civic311_store::Result<Costs> {
        let mut costs = Costs::default();
        for g in groups {
            let (ending, _) = Outcome::from_code(g.outcome).ok_or_else(|| {
                civic311_store::StoreError::Corrupt(format!("outcome code {}", g.outcome))
            })?;
            if matches!(ending, Ending::Closed | Ending::WithoutTime) {
                costs.add(budget.get(&g.service_code).copied(), g.requests);
            }
        }
        Ok(costs)
    };
    let mut services = BTreeMap::new();
    for ((service, _), rolled, part) in
        summarize_split(store, this, &q, Split::Service, &[]).await?
    {
        let costs = cost(&rolled.groups)?;
        spent.all.total += costs.total;
        spent.all.closed_with_cost += costs.closed_with_cost;
        spent.all.closed_without_cost += costs.closed_without_cost;
        spent.services.insert(service.clone(), costs.total);
        services.insert(service, part);
    }
    let mut departments = BTreeMap::new();
    for ((department, _), rolled, part) in
        summarize_split(store, this, &q, Split::Department, &[]).await?
    {
        let department = if department.is_empty() {
            "none".to_owned()
        } else {
            department
        };
        spent
            .departments
            .insert(department.clone(), cost(&rolled.groups)?.total);
        departments.insert(department, part);
    }
    let placed: Vec<SplitKey> = summary
        .volume
        .by_area
        .iter()
        .flat_map(|(layer, areas)| areas.keys().map(|area| (layer.clone(), area.clone())))
        .collect();
    let mut areas: BTreeMap<String, BTreeMap<String, Summary>> = BTreeMap::new();
    for ((layer, area), rolled, part) in
        summarize_split(store, this, &q, Split::Area, &placed).await?
    {
        spent
            .areas
            .entry(layer.clone())
            .or_default()
            .insert(area.clone(), cost(&rolled.groups)?.total);
        areas.entry(layer).or_default().insert(area, part);
    }
    Ok(((summary, services, departments, areas), spent))
}

type Finished = (
    Summary,
    BTreeMap<String, Summary>,
    BTreeMap<String, Summary>,
    BTreeMap<String, BTreeMap<String, Summary>>,
);

impl<'o> Groups<'o> {
    fn new(options: &'o Options, budget: &'o HashMap<String, f64>) -> Self {
        Groups {
            options,
            budget,
            all: Tally::new(options),
            services: BTreeMap::new(),
            departments: BTreeMap::new(),
            areas: BTreeMap::new(),
            spent: Spent::default(),
        }
    }

    fn add(&mut self, r: &ServiceRequest) {
        let options = self.options;
        self.all.add(r);
        let service = r.service_code.to_string();
        let department = r.department.as_ref().map_or("none", |d| d.as_str());
        // The work was done: closed, and not as a duplicate of another request.
        let done = r.status.is_closed() && r.status.reason() != Some("duplicate");
        let cost = self.budget.get(&service).copied();
        if done {
            self.spent.all.add(cost, 1);
        }
        let spend = |to: &mut f64| {
            if done {
                *to += cost.unwrap_or(0.0);
            }
        };
        spend(self.spent.services.entry(service.clone()).or_default());
        spend(
            self.spent
                .departments
                .entry(department.to_owned())
                .or_default(),
        );
        self.services
            .entry(service)
            .or_insert_with(|| Tally::new(options))
            .add(r);
        self.departments
            .entry(department.to_owned())
            .or_insert_with(|| Tally::new(options))
            .add(r);
        for a in &r.location.areas {
            let (layer, area) = (a.layer.to_string(), a.area.to_string());
            spend(
                self.spent
                    .areas
                    .entry(layer.clone())
                    .or_default()
                    .entry(area.clone())
                    .or_default(),
            );
            self.areas
                .entry(layer)
                .or_default()
                .entry(area)
                .or_insert_with(|| Tally::new(options))
                .add(r);
        }
    }

    fn finish(self) -> (Finished, Spent) {
        let done = |m: BTreeMap<String, Tally<'o>>| -> BTreeMap<String, Summary> {
            m.into_iter().map(|(k, t)| (k, t.finish())).collect()
        };
        (
            (
                self.all.finish(),
                done(self.services),
                done(self.departments),
                self.areas.into_iter().map(|(k, m)| (k, done(m))).collect(),
            ),
            self.spent,
        )
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn months_count_back_across_years() {
        let oct: Month = "2019-10".parse().unwrap();
        assert_eq!(oct.back(1).to_string(), "2019-09");
        assert_eq!(oct.back(10).to_string(), "2018-12");
        assert_eq!(oct.back(12).to_string(), "2018-10");
        assert!("2019-13".parse::<Month>().is_err());
        assert!("october".parse::<Month>().is_err());
    }

    #[test]
    fn a_month_is_its_local_midnights() {
        let tz: Tz = "America/Chicago".parse().unwrap();
        let (from, to) = Month::new(2019, 10).unwrap().window(tz);
        assert_eq!(from.to_rfc3339(), "2019-10-01T05:00:00+00:00");
        // November starts after the clocks went back: UTC-6.
        assert_eq!(to.to_rfc3339(), "2019-11-01T05:00:00+00:00");
        let (_, to) = Month::new(2019, 11).unwrap().window(tz);
        assert_eq!(to.to_rfc3339(), "2019-12-01T06:00:00+00:00");
    }
}
