//! The headline numbers of a set of requests (docs/METRICS.md): volume, time to close, backlog
//! and SLA attainment. The set is a cohort: the requests a [`RequestFilter`] selects, i.e.
//! created in a period, of some services, in an area.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use civic311_domain::ServiceRequest;
use civic311_store::{RequestFilter, Store};
use serde::Serialize;

use crate::facet::{Closing, SlaClass, bucket, closing, sla_class};
use crate::quantile::quantile;

/// Requests read from the store at a time (every cohort read of this crate but the event log).
pub(crate) const PAGE: u32 = 5_000;
pub(crate) const DAY: i64 = 86_400;

/// Upper bounds (exclusive, in days) of the time-to-close distribution; the last is open.
pub(crate) const CLOSE_BUCKETS: &[(i64, &str)] = &[
    (1, "under 1 day"),
    (3, "1-3 days"),
    (7, "3-7 days"),
    (30, "7-30 days"),
    (90, "30-90 days"),
    (i64::MAX, "90 days or more"),
];
/// Upper bounds (exclusive, in days) of the backlog's ages; the last is open.
pub(crate) const AGE_BUCKETS: &[(i64, &str)] = &[
    (8, "0-7 days"),
    (31, "8-30 days"),
    (91, "31-90 days"),
    (366, "91-365 days"),
    (i64::MAX, "over a year"),
];

#[derive(Debug, Clone)]
pub struct Options {
    pub filter: RequestFilter,
    /// The moment open requests are judged at: overdue or not, and how old.
    pub now: DateTime<Utc>,
    /// The city's time zone: months are its local months.
    pub timezone: Tz,
    /// Count requests the city opened itself (channel `self_generated`) in SLA attainment.
    pub include_self_generated: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    pub label: &'static str,
    pub requests: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    pub volume: Volume,
    pub time_to_close: TimeToClose,
    pub backlog: Backlog,
    pub sla: Sla,
}

/// Requests of the cohort, counted by what they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Volume {
    pub requests: u64,
    pub by_channel: BTreeMap<String, u64>,
    pub by_service: BTreeMap<String, u64>,
    /// `none` for requests no department has.
    pub by_department: BTreeMap<String, u64>,
    pub by_status: BTreeMap<String, u64>,
    /// Local month of creation, `YYYY-MM`.
    pub by_month: BTreeMap<String, u64>,
    /// Layer, then area id; a request counts once in each layer it is placed in.
    pub by_area: BTreeMap<String, BTreeMap<String, u64>>,
}

/// From creation to closing, over the cohort's closed requests that were not merged as
/// duplicates (a merge is not the work done).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TimeToClose {
    /// Closed with a usable close time: the times below are theirs.
    pub closed: u64,
    /// Closed without a usable time (none in the source, a placeholder date, or a close before
    /// the creation, which imports keep without a close date): left out of the times.
    pub closed_without_time: u64,
    /// Closed as duplicates of another request: left out.
    pub duplicates: u64,
    /// Not closed yet: left out (their time is not known).
    pub open: u64,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
    pub mean_seconds: Option<f64>,
    pub distribution: Vec<Bucket>,
}

/// The cohort's requests still open at `now`, by age.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Backlog {
    pub open: u64,
    pub aging: Vec<Bucket>,
}

/// Requests with a due date, judged at `now`; duplicates left out. Attainment is met over
/// judged (met + closed late + open overdue): an open overdue request is a breach already.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Sla {
    pub met: u64,
    pub closed_late: u64,
    pub open_overdue: u64,
    pub open_on_time: u64,
    /// Closed without a usable close time: cannot be judged.
    pub closed_without_time: u64,
    /// No due date (the service has no SLA).
    pub without_target: u64,
    /// Opened by the city itself, left out unless asked for.
    pub self_generated_left_out: u64,
    pub attainment: Option<f64>,
}

impl Sla {
    /// The count of requests of `class`; none for duplicates, which SLA attainment leaves out.
    pub(crate) fn count_mut(&mut self, class: SlaClass) -> Option<&mut u64> {
        Some(match class {
            SlaClass::Duplicate => return None,
            SlaClass::SelfGeneratedLeftOut => &mut self.self_generated_left_out,
            SlaClass::WithoutTarget => &mut self.without_target,
            SlaClass::ClosedWithoutTime => &mut self.closed_without_time,
            SlaClass::Met => &mut self.met,
            SlaClass::ClosedLate => &mut self.closed_late,
            SlaClass::OpenOverdue => &mut self.open_overdue,
            SlaClass::OpenOnTime => &mut self.open_on_time,
        })
    }

    /// Sets attainment from the counts: met over judged (met + closed late + open overdue).
    pub(crate) fn attain(&mut self) {
        let judged = self.met + self.closed_late + self.open_overdue;
        self.attainment = (judged > 0).then(|| self.met as f64 / judged as f64);
    }
}

/// The summary of the requests `options.filter` selects, judged at `options.now`: from the
/// store's roll-ups when they hold the filter (creation times, services, a department), else
/// from the requests themselves.
pub async fn summarize(store: &Store, options: &Options) -> civic311_store::Result<Summary> {
    match crate::rolled::rollup_query(store, &options.filter).await? {
        Some(q) => crate::rolled::summarize_rolled(store, options, &q).await,
        None => summarize_rows(store, options).await,
    }
}

/// [`summarize`] from every request the filter selects, one at a time: the reference the
/// roll-ups are tested against, and the way for filters they do not hold (an area, states).
pub async fn summarize_rows(store: &Store, options: &Options) -> civic311_store::Result<Summary> {
    let mut tally = Tally::new(options);
    let mut pages = store.read_cohort(&options.filter, PAGE).await?;
    while let Some(page) = pages.next_page().await? {
        for (_, r) in &page {
            tally.add(r);
        }
    }
    Ok(tally.finish())
}

pub(crate) fn buckets(labels: &[(i64, &'static str)], counts: &[u64]) -> Vec<Bucket> {
    labels
        .iter()
        .zip(counts)
        .map(|((_, label), &requests)| Bucket { label, requests })
        .collect()
}

/// The summary of requests seen one at a time.
pub(crate) struct Tally<'o> {
    options: &'o Options,
    summary: Summary,
    seconds: Vec<i64>,
    close_counts: Vec<u64>,
    age_counts: Vec<u64>,
}

impl<'o> Tally<'o> {
    pub(crate) fn new(options: &'o Options) -> Self {
        Tally {
            options,
            summary: Summary::default(),
            seconds: Vec::new(),
            close_counts: vec![0; CLOSE_BUCKETS.len()],
            age_counts: vec![0; AGE_BUCKETS.len()],
        }
    }

    pub(crate) fn add(&mut self, r: &ServiceRequest) {
        let now = self.options.now;
        let v = &mut self.summary.volume;
        v.requests += 1;
        *v.by_channel
            .entry(r.channel.as_str().to_owned())
            .or_default() += 1;
        *v.by_service.entry(r.service_code.to_string()).or_default() += 1;
        let department = r.department.as_ref().map_or("none", |d| d.as_str());
        *v.by_department.entry(department.to_owned()).or_default() += 1;
        *v.by_status.entry(r.status.state().to_owned()).or_default() += 1;
        let month = r
            .created_at
            .with_timezone(&self.options.timezone)
            .format("%Y-%m");
        *v.by_month.entry(month.to_string()).or_default() += 1;
        for a in &r.location.areas {
            *v.by_area
                .entry(a.layer.to_string())
                .or_default()
                .entry(a.area.to_string())
                .or_default() += 1;
        }

        let t = &mut self.summary.time_to_close;
        match closing(r) {
            Closing::Open => t.open += 1,
            Closing::Duplicate => t.duplicates += 1,
            Closing::WithoutTime => t.closed_without_time += 1,
            Closing::Closed { seconds } => {
                t.closed += 1;
                self.seconds.push(seconds);
                self.close_counts[bucket(CLOSE_BUCKETS, seconds)] += 1;
            }
        }

        if !r.status.is_closed() {
            self.summary.backlog.open += 1;
            let age = (now - r.created_at).num_seconds();
            self.age_counts[bucket(AGE_BUCKETS, age)] += 1;
        }

        if let Some(count) = self.summary.sla.count_mut(sla_class(r, self.options)) {
            *count += 1;
        }
    }

    pub(crate) fn finish(mut self) -> Summary {
        self.seconds.sort_unstable();
        let t = &mut self.summary.time_to_close;
        t.median_seconds = quantile(&self.seconds, 0.5);
        t.p90_seconds = quantile(&self.seconds, 0.9);
        t.mean_seconds = (!self.seconds.is_empty()).then(|| {
            self.seconds.iter().map(|&s| s as f64).sum::<f64>() / self.seconds.len() as f64
        });
        t.distribution = buckets(CLOSE_BUCKETS, &self.close_counts);
        self.summary.backlog.aging = buckets(AGE_BUCKETS, &self.age_counts);
        self.summary.sla.attain();
        self.summary
    }
}
