//! The report as sections of text, tables and bar charts: what both the HTML and the PDF show,
//! so that the two never say different things.

use civic311_analytics::cityscore::ScoreMetric;
use civic311_analytics::monthly::{Activity, Mover, Period, Row};
use civic311_analytics::summary::Summary;
use civic311_analytics::{Bucket, MonthlyReport};

/// Rows of a long table shown; the JSON report has them all.
const TOP_ROWS: usize = 20;
const DAY: f64 = 86_400.0;

pub struct Document {
    pub title: String,
    pub subtitle: String,
    pub notes: Vec<String>,
    pub sections: Vec<Section>,
}

pub struct Section {
    pub id: &'static str,
    pub heading: String,
    pub text: Option<String>,
    pub chart: Option<Chart>,
    pub table: Option<Table>,
}

pub struct Table {
    /// The first column is text, the others numbers (right-aligned).
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Bars, one per label; the last one (this month) stands out when `highlight_last`.
pub struct Chart {
    pub title: String,
    pub bars: Vec<(String, f64)>,
    pub highlight_last: bool,
}

pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn signed(n: i64) -> String {
    let sign = if n > 0 {
        "+"
    } else if n < 0 {
        "-"
    } else {
        ""
    };
    format!("{sign}{}", count(n.unsigned_abs()))
}

/// A bar's value as written above it: a count, or a figure with one decimal.
pub fn bar_value(value: f64) -> String {
    if value.fract() == 0.0 && value >= 0.0 {
        count(value as u64)
    } else {
        format!("{value:.1}")
    }
}

pub fn days(seconds: Option<f64>) -> String {
    seconds.map_or_else(|| "-".to_owned(), |s| format!("{:.1} d", s / DAY))
}

pub fn percent(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "-".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

/// `+12 (+8.3%)`, `-5 (-2.0%)`, `+3 (new)`, `0`.
pub fn change(now: u64, before: u64) -> String {
    let difference = now as i64 - before as i64;
    if difference == 0 {
        return "0".to_owned();
    }
    if before == 0 {
        return format!("{} (new)", signed(difference));
    }
    let ratio = difference as f64 / before as f64 * 100.0;
    format!("{} ({ratio:+.1}%)", signed(difference))
}

/// The change of a rate or a duration, in its own unit: `+2.5 pts`, `-0.4 d`.
fn change_of(now: Option<f64>, before: Option<f64>, scale: f64, unit: &str) -> String {
    match (now, before) {
        (Some(a), Some(b)) => format!("{:+.1} {unit}", (a - b) * scale),
        _ => "-".to_owned(),
    }
}

fn named(key: &str, name: Option<&String>) -> String {
    match name {
        Some(name) if name != key => format!("{name} ({key})"),
        _ => key.to_owned(),
    }
}

fn dissatisfaction(answered: i64, dissatisfied: i64) -> Option<f64> {
    (answered > 0).then(|| dissatisfied as f64 / answered as f64)
}

/// The month's headline numbers against the month before and a year before.
fn headline(r: &MonthlyReport) -> Table {
    let [a, b, c] = [&r.this_month, &r.previous_month, &r.year_ago];
    let mut rows = Vec::new();
    let mut counts = |label: &str, of: &dyn Fn(&Summary, &Activity) -> u64| {
        let (x, y, z) = (
            of(&a.summary, &a.activity),
            of(&b.summary, &b.activity),
            of(&c.summary, &c.activity),
        );
        rows.push(vec![
            label.to_owned(),
            count(x),
            count(y),
            change(x, y),
            count(z),
            change(x, z),
        ]);
    };
    let n = |v: i64| u64::try_from(v).unwrap_or(0);
    counts("Service requests", &|s, _| s.volume.requests);
    counts(
        "Informational contacts",
        &|_, a| n(a.informational_contacts),
    );
    counts("Closed (with a close time)", &|s, _| s.time_to_close.closed);
    counts("Open now (backlog)", &|s, _| s.backlog.open);
    counts("Open and overdue", &|s, _| s.sla.open_overdue);
    counts("Escalations", &|_, a| n(a.escalations));
    counts("Reassignments", &|_, a| n(a.reassignments));
    counts("Misroutes (to another department)", &|_, a| n(a.misroutes));
    counts("Reopened", &|_, a| n(a.reopened));
    counts("Surveys answered", &|_, a| n(a.surveys_answered));
    let mut rates = |label: &str,
                     of: &dyn Fn(&Period) -> Option<f64>,
                     show: fn(Option<f64>) -> String,
                     scale: f64,
                     unit: &str| {
        let (x, y, z) = (of(a), of(b), of(c));
        rows.push(vec![
            label.to_owned(),
            show(x),
            show(y),
            change_of(x, y, scale, unit),
            show(z),
            change_of(x, z, scale, unit),
        ]);
    };
    rates(
        "SLA attainment",
        &|p| p.summary.sla.attainment,
        percent,
        100.0,
        "pts",
    );
    rates(
        "Median time to close",
        &|p| p.summary.time_to_close.median_seconds,
        days,
        1.0 / DAY,
        "d",
    );
    rates(
        "90th percentile time to close",
        &|p| p.summary.time_to_close.p90_seconds,
        days,
        1.0 / DAY,
        "d",
    );
    rates(
        "Dissatisfied (score 1-2 of 5)",
        &|p| dissatisfaction(p.activity.surveys_answered, p.activity.dissatisfied),
        percent,
        100.0,
        "pts",
    );
    Table {
        columns: vec![
            "Measure".into(),
            r.month.to_string(),
            r.previous_month.month.to_string(),
            "Change".into(),
            r.year_ago.month.to_string(),
            "Change".into(),
        ],
        rows,
    }
}

/// A metric's value written in its unit.
fn score_value(metric: ScoreMetric, value: Option<f64>) -> String {
    match metric {
        ScoreMetric::SlaAttainment | ScoreMetric::Satisfaction => percent(value),
        ScoreMetric::MedianDaysToClose | ScoreMetric::P90DaysToClose => {
            value.map_or_else(|| "-".to_owned(), |d| format!("{d:.1} d"))
        }
        ScoreMetric::OpenOverdue | ScoreMetric::Escalations => {
            value.map_or_else(|| "-".to_owned(), |n| count(n as u64))
        }
    }
}

fn score(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), |s| format!("{s:.2}"))
}

/// Each metric against its target, and the score of the three months.
fn cityscore(r: &MonthlyReport) -> Table {
    let c = &r.cityscore;
    let mut rows: Vec<Vec<String>> = c
        .this_month
        .metrics
        .iter()
        .zip(&c.previous_month.metrics)
        .zip(&c.year_ago.metrics)
        .map(|((m, before), year)| {
            vec![
                m.label.to_owned(),
                score_value(m.metric, Some(m.target)),
                score_value(m.metric, m.actual),
                score(m.score),
                score(before.score),
                score(year.score),
            ]
        })
        .collect();
    rows.push(vec![
        "City score".to_owned(),
        String::new(),
        String::new(),
        score(c.this_month.score),
        score(c.previous_month.score),
        score(c.year_ago.score),
    ]);
    Table {
        columns: vec![
            "Metric".into(),
            "Target".into(),
            format!("{} actual", r.month),
            format!("{} score", r.month),
            format!("{} score", r.previous_month.month),
            format!("{} score", r.year_ago.month),
        ],
        rows,
    }
}

/// An amount of money, to the unit: `12,345`.
pub fn money(amount: f64) -> String {
    count(amount.max(0.0).round() as u64)
}

fn breakdown(first: &str, rows: &[Row]) -> Table {
    let with_cost = rows.iter().any(|r| r.cost.is_some());
    let mut columns: Vec<String> = [
        first,
        "Requests",
        "vs last month",
        "vs a year ago",
        "Median to close",
        "SLA met",
        "Open overdue",
    ]
    .map(str::to_owned)
    .to_vec();
    if with_cost {
        columns.push("Cost".into());
    }
    let mut table = Table {
        columns,
        rows: Vec::new(),
    };
    for r in rows.iter().filter(|r| r.requests > 0).take(TOP_ROWS) {
        let mut row = vec![
            named(&r.key, r.name.as_ref()),
            count(r.requests),
            change(r.requests, r.previous_month),
            change(r.requests, r.year_ago),
            days(r.median_seconds),
            percent(r.attainment),
            count(r.open_overdue),
        ];
        if let Some(cost) = r.cost {
            row.push(money(cost));
        }
        table.rows.push(row);
    }
    table
}

fn shown_of(rows: &[Row]) -> Option<String> {
    let with = rows.iter().filter(|r| r.requests > 0).count();
    (with > TOP_ROWS).then(|| {
        format!("The {TOP_ROWS} with most requests of {with}; the JSON report lists every one.")
    })
}

fn movers_table(movers: &[Mover], compared: &str) -> Table {
    Table {
        columns: ["Service or area", "Requests", compared, "Change"]
            .map(str::to_owned)
            .to_vec(),
        rows: movers
            .iter()
            .map(|m| {
                let what = if m.dimension == "service" {
                    "service".to_owned()
                } else {
                    m.dimension.clone()
                };
                vec![
                    format!("{what}: {}", named(&m.key, m.name.as_ref())),
                    count(m.requests),
                    count(m.compared),
                    change(m.requests, m.compared),
                ]
            })
            .collect(),
    }
}

fn buckets_chart(title: &str, buckets: &[Bucket]) -> Chart {
    Chart {
        title: title.to_owned(),
        bars: buckets
            .iter()
            .map(|b| (b.label.to_owned(), b.requests as f64))
            .collect(),
        highlight_last: false,
    }
}

/// The report for a city called `title` (e.g. "Kansas City 311").
pub fn build(report: &MonthlyReport, title: &str) -> Document {
    let month = &report.this_month;
    let s = &month.summary;
    let mut sections = vec![Section {
        id: "headline",
        heading: "The month at a glance".into(),
        text: Some(format!(
            "Requests created in {} (local time, {}), as they stood on {}; compared with {} and {}.",
            report.month,
            report.timezone,
            report.judged_at.format("%Y-%m-%d %H:%M UTC"),
            report.previous_month.month,
            report.year_ago.month,
        )),
        chart: None,
        table: Some(headline(report)),
    }];
    sections.push(Section {
        id: "cityscore",
        heading: "City score".into(),
        text: Some(
            "Each metric against the city's target (actual over target, or target over actual where lower is better), capped, then averaged over the metrics with data: above 1.00 is better than target.".into(),
        ),
        chart: None,
        table: Some(cityscore(report)),
    });
    sections.push(Section {
        id: "trend",
        heading: "Requests, the last 13 months".into(),
        text: None,
        chart: Some(Chart {
            title: "Requests created per month".into(),
            bars: report
                .trend
                .iter()
                .map(|p| (p.month.to_string(), p.requests as f64))
                .collect(),
            highlight_last: true,
        }),
        table: None,
    });
    let channel =
        |key: &str, summary: &Summary| summary.volume.by_channel.get(key).copied().unwrap_or(0);
    let mut channels: Vec<&String> = s
        .volume
        .by_channel
        .keys()
        .chain(report.previous_month.summary.volume.by_channel.keys())
        .chain(report.year_ago.summary.volume.by_channel.keys())
        .collect();
    channels.sort();
    channels.dedup();
    sections.push(Section {
        id: "channels",
        heading: "How residents reached the city".into(),
        text: None,
        chart: None,
        table: Some(Table {
            columns: ["Channel", "Requests", "vs last month", "vs a year ago"]
                .map(str::to_owned)
                .to_vec(),
            rows: channels
                .into_iter()
                .map(|c| {
                    let now = channel(c, s);
                    vec![
                        c.clone(),
                        count(now),
                        change(now, channel(c, &report.previous_month.summary)),
                        change(now, channel(c, &report.year_ago.summary)),
                    ]
                })
                .collect(),
        }),
    });
    sections.push(Section {
        id: "time-to-close",
        heading: "Time to close".into(),
        text: Some(format!(
            "{} requests closed with a usable close time: median {}, 90th percentile {}. Left out: {} closed as duplicates, {} closed without a usable close time, {} still open.",
            count(s.time_to_close.closed),
            days(s.time_to_close.median_seconds),
            days(s.time_to_close.p90_seconds),
            count(s.time_to_close.duplicates),
            count(s.time_to_close.closed_without_time),
            count(s.time_to_close.open),
        )),
        chart: Some(buckets_chart(
            "Closed requests by time to close",
            &s.time_to_close.distribution,
        )),
        table: None,
    });
    sections.push(Section {
        id: "backlog",
        heading: "Still open".into(),
        text: Some(format!(
            "{} of the month's requests are open, {} of them past their due date. SLA: {} met, {} closed late, {} open overdue ({} attainment); {} without a target{}.",
            count(s.backlog.open),
            count(s.sla.open_overdue),
            count(s.sla.met),
            count(s.sla.closed_late),
            count(s.sla.open_overdue),
            percent(s.sla.attainment),
            count(s.sla.without_target),
            if report.include_self_generated {
                String::new()
            } else {
                format!(
                    "; {} opened by the city itself left out",
                    count(s.sla.self_generated_left_out)
                )
            },
        )),
        chart: Some(buckets_chart("Open requests by age", &s.backlog.aging)),
        table: None,
    });
    if let Some(c) = &report.costs {
        sections.push(Section {
            id: "costs",
            heading: "Cost of the work done".into(),
            text: Some(format!(
                "By the departments' budget table{}: {} for the {} requests of the month closed so far (duplicates left out), {} a request. {} closed requests are of services without a cost in the table and are not counted.",
                match c.budget_from {
                    Some(day) if day > civic311_store::BUDGET_SINCE_ALWAYS => {
                        format!(" in force from {day}")
                    }
                    _ => String::new(),
                },
                money(c.total),
                count(c.closed_with_cost),
                c.per_closed_request.map_or_else(|| "-".to_owned(), |v| format!("{v:.2}")),
                count(c.closed_without_cost),
            )),
            chart: None,
            table: None,
        });
    }
    sections.push(Section {
        id: "services",
        heading: "Services".into(),
        text: shown_of(&report.services),
        chart: None,
        table: Some(breakdown("Service", &report.services)),
    });
    sections.push(Section {
        id: "departments",
        heading: "Departments".into(),
        text: shown_of(&report.departments),
        chart: None,
        table: Some(breakdown("Department", &report.departments)),
    });
    for (layer, rows) in &report.areas {
        sections.push(Section {
            id: "areas",
            heading: format!("By area: {layer}"),
            text: shown_of(rows),
            chart: None,
            table: Some(breakdown("Area", rows)),
        });
    }
    sections.push(Section {
        id: "movers-month",
        heading: format!("What moved most since {}", report.previous_month.month),
        text: None,
        chart: None,
        table: Some(movers_table(
            &report.movers.month_over_month,
            &report.previous_month.month.to_string(),
        )),
    });
    sections.push(Section {
        id: "movers-year",
        heading: format!("What moved most since {}", report.year_ago.month),
        text: None,
        chart: None,
        table: Some(movers_table(
            &report.movers.year_over_year,
            &report.year_ago.month.to_string(),
        )),
    });
    Document {
        title: format!("{title}: monthly report, {}", report.month),
        subtitle: format!(
            "{} service requests, {} informational contacts",
            count(s.volume.requests),
            count(u64::try_from(month.activity.informational_contacts).unwrap_or(0)),
        ),
        notes: vec![
            "A month's requests are those created in it; their closings count for it whenever they happen, so its numbers settle as its requests close.".into(),
            "Escalations, reassignments, reopenings, surveys and contacts count in the month they happened.".into(),
            "Every number is defined in docs/METRICS.md; `civic311 report monthly --output FILE.json` gives them all as JSON.".into(),
        ],
        sections,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_as_people_write_them() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(1_000), "1,000");
        assert_eq!(count(10_000_000), "10,000,000");
        assert_eq!(change(110, 100), "+10 (+10.0%)");
        assert_eq!(change(95, 100), "-5 (-5.0%)");
        assert_eq!(change(3, 0), "+3 (new)");
        assert_eq!(change(7, 7), "0");
        assert_eq!(days(Some(86_400.0 * 2.5)), "2.5 d");
        assert_eq!(percent(Some(0.8766)), "87.7%");
        assert_eq!(percent(None), "-");
    }
}
