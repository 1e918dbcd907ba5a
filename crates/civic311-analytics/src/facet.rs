//! The requests behind a number. Every count a [`Summary`](crate::Summary) gives is the size of
//! a [`Facet`] of its cohort, and [`requests_behind`] lists that facet, so a dashboard's number
//! and the list it links to come from the same definition and cannot disagree.

use std::fmt;

use chrono::{Duration, NaiveDate, NaiveTime};
use civic311_domain::outcome::{Ending, Outcome, Target};
use civic311_domain::time::at_local;
use civic311_domain::{Channel, DepartmentCode, ServiceCode, ServiceRequest};
use civic311_store::{Compare, Condition, Page, RequestFilter, Store};

use crate::summary::{AGE_BUCKETS, CLOSE_BUCKETS, DAY, Options, PAGE};

/// What time to close says of a request (docs/METRICS.md, time to close).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Closing {
    Open,
    /// Closed as a duplicate of another request: not the work done.
    Duplicate,
    /// Closed without a usable close time.
    WithoutTime,
    Closed {
        seconds: i64,
    },
}

pub(crate) fn closing(r: &ServiceRequest) -> Closing {
    let outcome = Outcome::of(r);
    match outcome.ending {
        Ending::Open => Closing::Open,
        Ending::Duplicate => Closing::Duplicate,
        Ending::WithoutTime => Closing::WithoutTime,
        Ending::Closed => Closing::Closed {
            seconds: outcome.close_seconds.unwrap_or_default(),
        },
    }
}

/// What SLA attainment says of a request, judged at `options.now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SlaClass {
    Met,
    ClosedLate,
    OpenOverdue,
    OpenOnTime,
    /// Closed without a usable close time: cannot be judged.
    ClosedWithoutTime,
    /// No due date.
    WithoutTarget,
    /// Opened by the city itself and left out.
    SelfGeneratedLeftOut,
    /// Merged as a duplicate: left out.
    Duplicate,
}

impl SlaClass {
    const ALL: [(SlaClass, &'static str); 8] = [
        (SlaClass::Met, "met"),
        (SlaClass::ClosedLate, "closed_late"),
        (SlaClass::OpenOverdue, "open_overdue"),
        (SlaClass::OpenOnTime, "open_on_time"),
        (SlaClass::ClosedWithoutTime, "closed_without_time"),
        (SlaClass::WithoutTarget, "without_target"),
        (SlaClass::SelfGeneratedLeftOut, "self_generated_left_out"),
        (SlaClass::Duplicate, "duplicate"),
    ];

    pub fn as_str(self) -> &'static str {
        SlaClass::ALL
            .iter()
            .find(|(c, _)| *c == self)
            .map_or("", |(_, name)| name)
    }

    fn parse(s: &str) -> Option<SlaClass> {
        SlaClass::ALL.iter().find(|(_, n)| *n == s).map(|(c, _)| *c)
    }

    /// A breach: closed after its due date, or open past it.
    pub fn is_breach(self) -> bool {
        matches!(self, SlaClass::ClosedLate | SlaClass::OpenOverdue)
    }
}

pub(crate) fn sla_class(r: &ServiceRequest, options: &Options) -> SlaClass {
    let overdue = r.due_at.is_some_and(|due| due < options.now);
    judge(
        Outcome::of(r).target,
        r.channel.is_self_generated(),
        overdue,
        options,
    )
}

/// The SLA class of a request whose record says `target`, judged at `options.now` (`overdue`:
/// due before it).
pub(crate) fn judge(
    target: Target,
    self_generated: bool,
    overdue: bool,
    options: &Options,
) -> SlaClass {
    match target {
        Target::Duplicate => SlaClass::Duplicate,
        _ if self_generated && !options.include_self_generated => SlaClass::SelfGeneratedLeftOut,
        Target::WithoutTarget => SlaClass::WithoutTarget,
        Target::ClosedWithoutTime => SlaClass::ClosedWithoutTime,
        Target::Met => SlaClass::Met,
        Target::ClosedLate => SlaClass::ClosedLate,
        Target::Pending if overdue => SlaClass::OpenOverdue,
        Target::Pending => SlaClass::OpenOnTime,
    }
}

/// The bucket `seconds` falls in, the buckets' bounds being in days.
pub(crate) fn bucket(buckets: &[(i64, &'static str)], seconds: i64) -> usize {
    buckets
        .iter()
        .position(|(below, _)| seconds < below.saturating_mul(DAY))
        .unwrap_or(buckets.len() - 1)
}

/// A part of a cohort that one number of its summary counts. Written in a URL as its
/// [`Display`](fmt::Display) form (`sla:open_overdue`, `age:2`, `service:POTHOLE`), which
/// [`Facet::parse`] reads back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Facet {
    /// The whole cohort: `volume.requests`.
    All,
    Channel(String),
    Service(String),
    /// `none` for requests without a department.
    Department(String),
    /// A status state (`open`, `in_progress`, `on_hold`, `closed`).
    Status(String),
    /// Local month of creation, `YYYY-MM`.
    Month(String),
    Area {
        layer: String,
        area: String,
    },
    /// Closed with a usable time: `time_to_close.closed`.
    Closed,
    ClosedWithoutTime,
    Duplicates,
    /// Not closed: `backlog.open` (and `time_to_close.open`).
    Open,
    /// A bucket of the time-to-close distribution, by its index.
    CloseBucket(usize),
    /// A bucket of the backlog's ages, by its index.
    AgeBucket(usize),
    Sla(SlaClass),
    /// Closed late or open overdue.
    SlaBreached,
}

impl Facet {
    pub fn parse(s: &str) -> Result<Facet, String> {
        let bad = || {
            format!(
                "facet {s:?}: write all, open, closed, closed_without_time, duplicates, \
                 sla_breached, channel:C, service:S, department:D, status:S, month:YYYY-MM, \
                 area:LAYER:AREA, close:N, age:N or sla:CLASS"
            )
        };
        let index = |n: &str, buckets: &[(i64, &str)]| {
            n.parse::<usize>()
                .ok()
                .filter(|&i| i < buckets.len())
                .ok_or_else(bad)
        };
        let value = |v: &str| {
            if v.is_empty() {
                Err(bad())
            } else {
                Ok(v.to_owned())
            }
        };
        Ok(match s.split_once(':') {
            None => match s {
                "" | "all" => Facet::All,
                "open" => Facet::Open,
                "closed" => Facet::Closed,
                "closed_without_time" => Facet::ClosedWithoutTime,
                "duplicates" => Facet::Duplicates,
                "sla_breached" => Facet::SlaBreached,
                _ => return Err(bad()),
            },
            Some(("channel", v)) => Facet::Channel(value(v)?),
            Some(("service", v)) => Facet::Service(value(v)?),
            Some(("department", v)) => Facet::Department(value(v)?),
            Some(("status", v)) => Facet::Status(value(v)?),
            Some(("month", v)) => Facet::Month(value(v)?),
            Some(("area", v)) => {
                let (layer, area) = v.split_once(':').ok_or_else(bad)?;
                Facet::Area {
                    layer: value(layer)?,
                    area: value(area)?,
                }
            }
            Some(("close", n)) => Facet::CloseBucket(index(n, CLOSE_BUCKETS)?),
            Some(("age", n)) => Facet::AgeBucket(index(n, AGE_BUCKETS)?),
            Some(("sla", c)) => Facet::Sla(SlaClass::parse(c).ok_or_else(bad)?),
            Some(_) => return Err(bad()),
        })
    }

    /// Whether `r`, a request of the cohort, is counted by this facet's number.
    pub fn holds(&self, r: &ServiceRequest, options: &Options) -> bool {
        match self {
            Facet::All => true,
            Facet::Channel(c) => r.channel.as_str() == c,
            Facet::Service(s) => r.service_code.as_str() == s,
            Facet::Department(d) => r.department.as_ref().map_or("none", |d| d.as_str()) == d,
            Facet::Status(s) => r.status.state() == s,
            Facet::Month(m) => {
                r.created_at
                    .with_timezone(&options.timezone)
                    .format("%Y-%m")
                    .to_string()
                    == *m
            }
            Facet::Area { layer, area } => r
                .location
                .areas
                .iter()
                .any(|a| a.layer.as_str() == layer && a.area.as_str() == area),
            Facet::Closed => matches!(closing(r), Closing::Closed { .. }),
            Facet::ClosedWithoutTime => closing(r) == Closing::WithoutTime,
            Facet::Duplicates => closing(r) == Closing::Duplicate,
            Facet::Open => closing(r) == Closing::Open,
            Facet::CloseBucket(i) => match closing(r) {
                Closing::Closed { seconds } => bucket(CLOSE_BUCKETS, seconds) == *i,
                _ => false,
            },
            Facet::AgeBucket(i) => {
                closing(r) == Closing::Open
                    && bucket(AGE_BUCKETS, (options.now - r.created_at).num_seconds()) == *i
            }
            Facet::Sla(class) => sla_class(r, options) == *class,
            Facet::SlaBreached => sla_class(r, options).is_breach(),
        }
    }
}

impl fmt::Display for Facet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Facet::All => f.write_str("all"),
            Facet::Channel(c) => write!(f, "channel:{c}"),
            Facet::Service(s) => write!(f, "service:{s}"),
            Facet::Department(d) => write!(f, "department:{d}"),
            Facet::Status(s) => write!(f, "status:{s}"),
            Facet::Month(m) => write!(f, "month:{m}"),
            Facet::Area { layer, area } => write!(f, "area:{layer}:{area}"),
            Facet::Closed => f.write_str("closed"),
            Facet::ClosedWithoutTime => f.write_str("closed_without_time"),
            Facet::Duplicates => f.write_str("duplicates"),
            Facet::Open => f.write_str("open"),
            Facet::CloseBucket(i) => write!(f, "close:{i}"),
            Facet::AgeBucket(i) => write!(f, "age:{i}"),
            Facet::Sla(c) => write!(f, "sla:{}", c.as_str()),
            Facet::SlaBreached => f.write_str("sla_breached"),
        }
    }
}

/// Status states as stored.
const OPEN_STATES: [&str; 3] = ["open", "in_progress", "on_hold"];
const CLOSED_STATES: [&str; 1] = ["closed"];

impl Facet {
    /// `filter` narrowed to rows this facet can hold, so that the store reads fewer of them
    /// (the open requests through the status index, say). Never narrower than the facet:
    /// [`Facet::holds`] still decides. Not by status for an area: its index keeps each
    /// request's outcome, which tells open from closed without reading the request.
    pub fn narrow(&self, filter: &RequestFilter) -> RequestFilter {
        let mut f = filter.clone();
        let states: &[&'static str] = match self {
            Facet::Open
            | Facet::AgeBucket(_)
            | Facet::Sla(SlaClass::OpenOverdue | SlaClass::OpenOnTime) => &OPEN_STATES,
            Facet::Closed
            | Facet::ClosedWithoutTime
            | Facet::Duplicates
            | Facet::CloseBucket(_)
            | Facet::Sla(SlaClass::Met | SlaClass::ClosedLate | SlaClass::ClosedWithoutTime)
            | Facet::Sla(SlaClass::Duplicate) => &CLOSED_STATES,
            Facet::Status(s) => match OPEN_STATES.iter().chain(&CLOSED_STATES).find(|k| *k == s) {
                Some(state) => std::slice::from_ref(state),
                None => &[],
            },
            _ => &[],
        };
        if !states.is_empty() && f.states.is_empty() && f.area.is_none() {
            f.states = states.to_vec();
        }
        match self {
            Facet::Service(code) if f.service_codes.is_empty() => {
                if let Ok(code) = ServiceCode::parse(code.as_str()) {
                    f.service_codes = vec![code];
                }
            }
            Facet::Department(d) if f.department.is_none() && d != "none" => {
                f.department = DepartmentCode::parse(d.as_str()).ok();
            }
            _ => {}
        }
        f
    }
}

/// The stored outcome codes whose ending and target `keep` accepts.
fn outcomes(keep: impl Fn(Ending, Target) -> bool) -> Condition {
    Condition::Outcomes(
        (0..100)
            .filter(|&code| Outcome::from_code(code).is_some_and(|(e, t)| keep(e, t)))
            .collect(),
    )
}

fn ending(e: Ending) -> Condition {
    outcomes(|ending, _| ending == e)
}

fn target(t: Target) -> Condition {
    outcomes(|_, target| target == t)
}

const NOTHING: Condition = Condition::Any(Vec::new());

impl Facet {
    /// What [`Facet::holds`] tests, as a [`Condition`] the store tests on its columns.
    pub fn condition(&self, options: &Options) -> Condition {
        match self {
            Facet::All => Condition::All(Vec::new()),
            Facet::Channel(c) => Condition::Channels(vec![c.clone()]),
            Facet::Service(s) => Condition::Service(s.clone()),
            // A department stored as "none", if any, is listed with those without one.
            Facet::Department(d) if d == "none" => Condition::Any(vec![
                Condition::Department(None),
                Condition::Department(Some(d.clone())),
            ]),
            Facet::Department(d) => Condition::Department(Some(d.clone())),
            Facet::Status(s) => Condition::Status(s.clone()),
            Facet::Month(m) => month(m, options),
            Facet::Area { layer, area } => Condition::InArea {
                layer: layer.clone(),
                area: area.clone(),
            },
            Facet::Closed => ending(Ending::Closed),
            Facet::ClosedWithoutTime => ending(Ending::WithoutTime),
            Facet::Duplicates => ending(Ending::Duplicate),
            Facet::Open => ending(Ending::Open),
            Facet::CloseBucket(i) => {
                let mut all = vec![ending(Ending::Closed)];
                all.extend(days(CLOSE_BUCKETS, *i).map(|(bound, below)| {
                    Condition::CloseSeconds(
                        if below {
                            Compare::Below
                        } else {
                            Compare::AtLeast
                        },
                        bound,
                    )
                }));
                Condition::All(all)
            }
            Facet::AgeBucket(i) => {
                // Aged at least `bound`: created at most `bound` before `now`; aged below it:
                // created after that.
                let mut all = vec![ending(Ending::Open)];
                all.extend(days(AGE_BUCKETS, *i).map(|(bound, below)| {
                    let at = options.now - Duration::seconds(bound);
                    Condition::Created(
                        if below {
                            Compare::Above
                        } else {
                            Compare::AtMost
                        },
                        at,
                    )
                }));
                Condition::All(all)
            }
            Facet::Sla(class) => sla(*class, options),
            Facet::SlaBreached => Condition::Any(vec![
                sla(SlaClass::ClosedLate, options),
                sla(SlaClass::OpenOverdue, options),
            ]),
        }
    }
}

/// The bounds in seconds of bucket `i`: (bound, whether below it) for the lower bound (none for
/// the first, which holds everything under its upper bound) and the upper one (none for the
/// last).
fn days(buckets: &[(i64, &str)], i: usize) -> impl Iterator<Item = (i64, bool)> {
    let lower = i
        .checked_sub(1)
        .and_then(|before| buckets.get(before))
        .map(|(days, _)| (days.saturating_mul(DAY), false));
    let upper = buckets
        .get(i)
        .filter(|_| i + 1 < buckets.len())
        .map(|(days, _)| (days.saturating_mul(DAY), true));
    lower.into_iter().chain(upper)
}

/// Created in local month `m` (`YYYY-MM`) of the city's time zone.
fn month(m: &str, options: &Options) -> Condition {
    let first = NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
        .ok()
        .filter(|d| d.format("%Y-%m").to_string() == m);
    let Some(first) = first else {
        return NOTHING;
    };
    let Some(next) = first.checked_add_months(chrono::Months::new(1)) else {
        return NOTHING;
    };
    let start = |d| at_local(options.timezone, d, NaiveTime::MIN);
    Condition::All(vec![
        Condition::Created(Compare::AtLeast, start(first)),
        Condition::Created(Compare::Below, start(next)),
    ])
}

/// What [`sla_class`] tests: the target kept with the outcome, the channel when the city's own
/// requests are left out, and the due date against `options.now` for the open ones.
fn sla(class: SlaClass, options: &Options) -> Condition {
    let own = || Condition::Channels(vec![Channel::SelfGenerated.as_str().to_owned()]);
    let judged = |t: Target, more: Option<Condition>| {
        let mut all = vec![target(t)];
        if !options.include_self_generated {
            all.push(Condition::Not(Box::new(own())));
        }
        all.extend(more);
        Condition::All(all)
    };
    match class {
        SlaClass::Duplicate => target(Target::Duplicate),
        SlaClass::SelfGeneratedLeftOut if options.include_self_generated => NOTHING,
        SlaClass::SelfGeneratedLeftOut => {
            Condition::All(vec![outcomes(|_, t| t != Target::Duplicate), own()])
        }
        SlaClass::WithoutTarget => judged(Target::WithoutTarget, None),
        SlaClass::ClosedWithoutTime => judged(Target::ClosedWithoutTime, None),
        SlaClass::Met => judged(Target::Met, None),
        SlaClass::ClosedLate => judged(Target::ClosedLate, None),
        SlaClass::OpenOverdue => judged(
            Target::Pending,
            Some(Condition::Due(Compare::Below, options.now)),
        ),
        SlaClass::OpenOnTime => judged(
            Target::Pending,
            Some(Condition::Due(Compare::AtLeast, options.now)),
        ),
    }
}

/// A page of the requests behind a number, in the store's order (oldest key first), and how
/// many there are in all.
#[derive(Debug, Clone)]
pub struct Behind {
    pub total: u64,
    pub requests: Vec<ServiceRequest>,
}

/// The requests of `options.filter`'s cohort that `facet` holds, `page` of them: the facet's
/// [`condition`](Facet::condition) found, counted and paged by the store.
pub async fn requests_behind(
    store: &Store,
    options: &Options,
    facet: &Facet,
    page: Page,
) -> civic311_store::Result<Behind> {
    let (total, requests) = store
        .cohort_page(
            &facet.narrow(&options.filter),
            &facet.condition(options),
            page,
        )
        .await?;
    Ok(Behind { total, requests })
}

/// [`requests_behind`] from every request of the cohort, each tested by [`Facet::holds`]: the
/// reference the tests hold the store's conditions to.
pub async fn requests_behind_rows(
    store: &Store,
    options: &Options,
    facet: &Facet,
    page: Page,
) -> civic311_store::Result<Behind> {
    let mut behind = Behind {
        total: 0,
        requests: Vec::new(),
    };
    let mut pages = store
        .read_cohort(&facet.narrow(&options.filter), PAGE)
        .await?;
    while let Some(rows) = pages.next_page().await? {
        for (_, r) in rows {
            if !facet.holds(&r, options) {
                continue;
            }
            if behind.total >= page.offset && behind.requests.len() < page.limit as usize {
                behind.requests.push(r);
            }
            behind.total += 1;
        }
    }
    Ok(behind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_facet_reads_back_from_its_url_form() {
        let facets = [
            Facet::All,
            Facet::Channel("phone".into()),
            Facet::Service("POTHOLE".into()),
            Facet::Department("none".into()),
            Facet::Status("in_progress".into()),
            Facet::Month("2019-10".into()),
            Facet::Area {
                layer: "kc-neighborhoods".into(),
                area: "42".into(),
            },
            Facet::Closed,
            Facet::ClosedWithoutTime,
            Facet::Duplicates,
            Facet::Open,
            Facet::CloseBucket(5),
            Facet::AgeBucket(0),
            Facet::Sla(SlaClass::OpenOverdue),
            Facet::Sla(SlaClass::SelfGeneratedLeftOut),
            Facet::SlaBreached,
        ];
        for f in facets {
            assert_eq!(Facet::parse(&f.to_string()), Ok(f.clone()), "{f}");
        }
        for bad in [
            "close:6",
            "age:x",
            "sla:late",
            "colour:red",
            "service:",
            "area:x",
        ] {
            let e = Facet::parse(bad).unwrap_err();
            assert!(e.contains(bad), "{e}");
        }
    }
}
