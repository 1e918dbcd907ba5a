//! `GET /staff`: the dashboard of a cohort (period, department, service, area): volume, time to
//! close, backlog and SLA attainment as docs/METRICS.md defines them, computed by
//! [`civic311_analytics::summarize`], the metrics API's function. Every number is a link to
//! `/staff/requests` with the same cohort and the [`Facet`] that number counts.

use std::collections::BTreeMap;

use askama::Template;
use axum::extract::{Query, RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Datelike;
use civic311_analytics::Month;
use civic311_analytics::{Facet, SlaClass, Summary};
use civic311_domain::LayerId;
use civic311_report::document::{count, days, percent};

use super::{PageError, PageQuery, here, render, signed_in};
use crate::AppState;
use crate::cohort::CohortQuery;

/// Rows shown in each table (services, areas); the JSON API has them all.
const TOP: usize = 15;
/// Width of a bar chart's drawing area, in SVG units.
const BAR_WIDTH: f64 = 360.0;
const BAR_HEIGHT: u32 = 22;

/// A number and where its requests are listed.
pub struct Figure {
    pub label: String,
    pub value: String,
    pub href: String,
    /// The count, unformatted (`data-n`), for a count; empty for a rate or a duration.
    pub n: String,
}

/// One bar of a chart: a count drawn to scale, linked to its requests.
pub struct Bar {
    pub label: String,
    pub value: String,
    pub n: u64,
    pub href: String,
    pub y: u32,
    pub width: String,
}

pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub height: u32,
    pub bars: Vec<Bar>,
}

/// A `<select>` option.
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

pub struct AreaTable {
    pub layer: String,
    pub rows: Vec<Figure>,
}

#[derive(Template)]
#[template(path = "staff/dashboard.html")]
struct Dashboard {
    title: String,
    who: String,
    cohort: CohortQuery,
    services: Vec<Choice>,
    departments: Vec<Choice>,
    areas: Vec<(String, Vec<Choice>)>,
    cards: Vec<Figure>,
    sla: Vec<Figure>,
    time_to_close: Vec<Figure>,
    charts: Vec<Chart>,
    by_service: Vec<Figure>,
    by_department: Vec<Figure>,
    by_channel: Vec<Figure>,
    by_status: Vec<Figure>,
    by_area: Vec<AreaTable>,
    api: String,
}

/// Links to the requests behind a number of `cohort`.
struct Links<'a> {
    cohort: &'a CohortQuery,
}

impl Links<'_> {
    fn to(&self, facet: &Facet) -> String {
        let mut q = self.cohort.to_query();
        q.append_pair("facet", &facet.to_string());
        format!("/staff/requests?{}", q.finish())
    }

    fn figure(&self, label: impl Into<String>, n: u64, facet: Facet) -> Figure {
        Figure {
            label: label.into(),
            value: count(n),
            href: self.to(&facet),
            n: n.to_string(),
        }
    }

    /// The busiest `TOP` of a breakdown, named by `name`, each linked by `facet`.
    fn top(
        &self,
        counts: &BTreeMap<String, u64>,
        name: impl Fn(&str) -> String,
        facet: impl Fn(&str) -> Facet,
    ) -> Vec<Figure> {
        let mut rows: Vec<_> = counts.iter().collect();
        rows.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        rows.into_iter()
            .take(TOP)
            .map(|(key, &n)| self.figure(name(key), n, facet(key)))
            .collect()
    }

    fn chart(&self, id: &'static str, title: &str, bars: Vec<(String, u64, Facet)>) -> Chart {
        let most = bars.iter().map(|b| b.1).max().unwrap_or(0).max(1) as f64;
        let bars: Vec<Bar> = bars
            .into_iter()
            .zip(0u32..)
            .map(|((label, n, facet), i)| Bar {
                label,
                value: count(n),
                n,
                href: self.to(&facet),
                y: i * BAR_HEIGHT,
                width: format!("{:.1}", n as f64 / most * BAR_WIDTH),
            })
            .collect();
        Chart {
            id,
            title: title.to_owned(),
            height: bars.len() as u32 * BAR_HEIGHT,
            bars,
        }
    }
}

fn choices(options: Vec<(String, String)>, selected: Option<&str>) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            selected: selected == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

/// Months the dashboard shows when it is opened without a query.
const DEFAULT_MONTHS: u32 = 12;

/// The dashboard opened without a query: the 12 months up to the newest request's, so that its
/// cost is a year's requests (not the whole history) and its URL says which year it shows.
async fn default_period(state: &AppState) -> Result<Option<Redirect>, PageError> {
    let Some(newest) = state.store.newest_request().await? else {
        return Ok(None);
    };
    let tz = state.open311.timezone;
    let local = newest.created_at.with_timezone(&tz);
    let Some(month) = Month::new(local.year(), local.month()) else {
        return Ok(None);
    };
    let day =
        |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&tz).format("%Y-%m-%d").to_string();
    let from = day(month.back(DEFAULT_MONTHS - 1).start(tz));
    let to = day(month.window(tz).1);
    Ok(Some(Redirect::to(&format!("/staff?from={from}&to={to}"))))
}

pub async fn dashboard(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    let cohort = q.cohort();
    let who = signed_in(&state, &headers, &here("/staff", &cohort, &[])).await?;
    if raw.as_deref().unwrap_or("").is_empty()
        && let Some(to) = default_period(&state).await?
    {
        return Ok(to.into_response());
    }
    let options = cohort.options(state.open311.timezone)?;
    let summary = civic311_analytics::summarize(&state.store, &options).await?;

    let services = state.store.services().await?;
    let service_name = |code: &str| {
        services
            .iter()
            .find(|s| s.code.as_str() == code)
            .map_or_else(|| code.to_owned(), |s| s.name.clone())
    };
    let departments = state.store.departments().await?;
    let department_name = |code: &str| match departments.iter().find(|d| d.code.as_str() == code) {
        Some(d) => d.name.clone(),
        None if code == "none" => "No department".to_owned(),
        None => code.to_owned(),
    };
    let mut area_choices = Vec::new();
    let mut area_names: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for layer in state.store.layers_in_use().await? {
        let Ok(id) = LayerId::parse(&layer) else {
            continue;
        };
        let names = area_names.entry(layer.clone()).or_default();
        for (area, name) in state.store.area_names(&id).await? {
            names.insert(area.clone(), name.unwrap_or(area));
        }
        for area in summary
            .volume
            .by_area
            .get(&layer)
            .into_iter()
            .flat_map(|a| a.keys())
        {
            names.entry(area.clone()).or_insert_with(|| area.clone());
        }
        let options = names
            .iter()
            .map(|(area, name)| (format!("{layer}:{area}"), name.clone()))
            .collect();
        area_choices.push((layer, choices(options, cohort.area.as_deref())));
    }

    let links = Links { cohort: &cohort };
    let page = Dashboard {
        title: state.report_title.to_string(),
        who,
        services: choices(
            services
                .iter()
                .map(|s| (s.code.to_string(), s.name.clone()))
                .collect(),
            cohort.service_code.as_deref(),
        ),
        departments: choices(
            departments
                .iter()
                .map(|d| (d.code.to_string(), d.name.clone()))
                .collect(),
            cohort.department.as_deref(),
        ),
        areas: area_choices,
        cards: cards(&links, &summary),
        sla: sla(&links, &summary),
        time_to_close: time_to_close(&links, &summary),
        charts: charts(&links, &summary),
        by_service: links.top(&summary.volume.by_service, service_name, |c| {
            Facet::Service(c.to_owned())
        }),
        by_department: links.top(&summary.volume.by_department, department_name, |d| {
            Facet::Department(d.to_owned())
        }),
        by_channel: links.top(&summary.volume.by_channel, str::to_owned, |c| {
            Facet::Channel(c.to_owned())
        }),
        by_status: links.top(&summary.volume.by_status, str::to_owned, |s| {
            Facet::Status(s.to_owned())
        }),
        by_area: summary
            .volume
            .by_area
            .iter()
            .map(|(layer, counts)| {
                let names = area_names.get(layer);
                AreaTable {
                    layer: layer.clone(),
                    rows: links.top(
                        counts,
                        |a| {
                            names
                                .and_then(|n| n.get(a))
                                .cloned()
                                .unwrap_or_else(|| a.to_owned())
                        },
                        |a| Facet::Area {
                            layer: layer.clone(),
                            area: a.to_owned(),
                        },
                    ),
                }
            })
            .collect(),
        api: format!("/api/v1/staff/metrics?{}", cohort.to_query().finish()),
        cohort,
    };
    Ok(render(&page).into_response())
}

fn cards(links: &Links, s: &Summary) -> Vec<Figure> {
    vec![
        links.figure("requests", s.volume.requests, Facet::All),
        links.figure("still open", s.backlog.open, Facet::Open),
        links.figure(
            "closed",
            s.volume.by_status.get("closed").copied().unwrap_or(0),
            Facet::Status("closed".to_owned()),
        ),
        Figure {
            label: "SLA attainment".into(),
            value: percent(s.sla.attainment),
            href: links.to(&Facet::SlaBreached),
            n: String::new(),
        },
        links.figure(
            "SLA breaches",
            s.sla.closed_late + s.sla.open_overdue,
            Facet::SlaBreached,
        ),
    ]
}

fn sla(links: &Links, s: &Summary) -> Vec<Figure> {
    let sla = &s.sla;
    [
        ("met", sla.met, SlaClass::Met),
        ("closed late", sla.closed_late, SlaClass::ClosedLate),
        ("open overdue", sla.open_overdue, SlaClass::OpenOverdue),
        ("open, on time", sla.open_on_time, SlaClass::OpenOnTime),
        (
            "closed without a close time",
            sla.closed_without_time,
            SlaClass::ClosedWithoutTime,
        ),
        ("no target", sla.without_target, SlaClass::WithoutTarget),
        (
            "opened by the city, left out",
            sla.self_generated_left_out,
            SlaClass::SelfGeneratedLeftOut,
        ),
    ]
    .into_iter()
    .map(|(label, n, class)| links.figure(label, n, Facet::Sla(class)))
    .collect()
}

fn time_to_close(links: &Links, s: &Summary) -> Vec<Figure> {
    let t = &s.time_to_close;
    let closed = links.to(&Facet::Closed);
    vec![
        Figure {
            label: "median".into(),
            value: days(t.median_seconds),
            href: closed.clone(),
            n: String::new(),
        },
        Figure {
            label: "90th percentile".into(),
            value: days(t.p90_seconds),
            href: closed.clone(),
            n: String::new(),
        },
        Figure {
            label: "mean".into(),
            value: days(t.mean_seconds),
            href: closed,
            n: String::new(),
        },
        links.figure("closed with a usable time", t.closed, Facet::Closed),
        links.figure(
            "closed without one (left out)",
            t.closed_without_time,
            Facet::ClosedWithoutTime,
        ),
        links.figure(
            "closed as duplicates (left out)",
            t.duplicates,
            Facet::Duplicates,
        ),
    ]
}

fn charts(links: &Links, s: &Summary) -> Vec<Chart> {
    let months = s
        .volume
        .by_month
        .iter()
        .map(|(m, &n)| (m.clone(), n, Facet::Month(m.clone())))
        .collect();
    let closing = s
        .time_to_close
        .distribution
        .iter()
        .enumerate()
        .map(|(i, b)| (b.label.to_owned(), b.requests, Facet::CloseBucket(i)))
        .collect();
    let aging = s
        .backlog
        .aging
        .iter()
        .enumerate()
        .map(|(i, b)| (b.label.to_owned(), b.requests, Facet::AgeBucket(i)))
        .collect();
    vec![
        links.chart("by-month", "Requests by month created", months),
        links.chart("close-time", "Time to close", closing),
        links.chart("aging", "Open requests by age", aging),
    ]
}
