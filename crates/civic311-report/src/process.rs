//! Process diagnostics as a document (HTML or PDF like the monthly report).

use civic311_analytics::process::{ProcessReport, Transition, Variant};

use crate::document::{Document, Section, Table, count, days, percent};

/// Services shown in the table (the JSON has them all).
const SERVICES: usize = 20;

fn variants(rows: &[Variant]) -> Table {
    Table {
        columns: ["Path", "Requests", "Share", "Median first to last step"]
            .map(str::to_owned)
            .to_vec(),
        rows: rows
            .iter()
            .map(|v| {
                vec![
                    v.path.clone(),
                    count(v.requests),
                    percent(Some(v.share)),
                    days(v.median_seconds),
                ]
            })
            .collect(),
    }
}

fn transitions(rows: &[Transition]) -> Table {
    Table {
        columns: ["Step", "Times", "Median", "90th percentile", "Total"]
            .map(str::to_owned)
            .to_vec(),
        rows: rows
            .iter()
            .map(|t| {
                vec![
                    format!("{} → {}", t.from, t.to),
                    count(t.times),
                    days(t.median_seconds),
                    days(t.p90_seconds),
                    days(Some(t.total_seconds)),
                ]
            })
            .collect(),
    }
}

fn section(id: &'static str, heading: &str, text: Option<String>, table: Table) -> Section {
    Section {
        id,
        heading: heading.to_owned(),
        text,
        chart: None,
        table: Some(table),
    }
}

pub fn build(p: &ProcessReport, title: &str) -> Document {
    let period = match (p.from, p.to) {
        (Some(a), Some(b)) => format!(
            "requests created from {} to {}",
            a.format("%Y-%m-%d %H:%M UTC"),
            b.format("%Y-%m-%d %H:%M UTC")
        ),
        _ => "every request".to_owned(),
    };
    let mut sections = vec![
        section(
            "paths",
            "The paths requests take",
            Some(
                "Each request's routing and status steps in order (a step repeated at once counts once); notes, photos and surveys are not steps.".into(),
            ),
            variants(&p.top_variants),
        ),
        section(
            "bottlenecks",
            "Where the time goes",
            Some("The steps with the most time spent between them, over all requests.".into()),
            transitions(&p.bottlenecks),
        ),
    ];
    let mut services = Table {
        columns: [
            "Service",
            "Requests",
            "Paths",
            "Most common path",
            "Slowest step (median)",
            "Bounced",
            "Intake paths",
        ]
        .map(str::to_owned)
        .to_vec(),
        rows: Vec::new(),
    };
    let mut bounced = Table {
        columns: ["Request", "Service", "Departments"]
            .map(str::to_owned)
            .to_vec(),
        rows: Vec::new(),
    };
    for s in p.services.iter().take(SERVICES) {
        let top = s.top_variants.first().map_or("-".to_owned(), |v| {
            format!("{} ({})", v.path, percent(Some(v.share)))
        });
        let slowest = s.bottlenecks.first().map_or("-".to_owned(), |t| {
            format!("{} → {} ({})", t.from, t.to, days(t.median_seconds))
        });
        let intake = s
            .intake_paths
            .iter()
            .map(|(c, n)| format!("{c} {}", count(*n)))
            .collect::<Vec<_>>()
            .join(", ");
        services.rows.push(vec![
            s.service_code.clone(),
            count(s.requests),
            count(s.variants),
            top,
            slowest,
            count(s.bounced),
            intake,
        ]);
        for b in &s.bounced_examples {
            bounced.rows.push(vec![
                b.request_id.clone(),
                s.service_code.clone(),
                b.departments.join(" → "),
            ]);
        }
    }
    sections.push(section("services", "Services", None, services));
    sections.push(section(
        "bounced",
        "Requests that bounced between departments",
        Some(format!(
            "{} requests changed department more than once; up to five per service are listed.",
            count(p.bounced)
        )),
        bounced,
    ));
    Document {
        title: format!("{title}: process diagnostics"),
        subtitle: format!(
            "{} {period}; {} services take requests by more than one channel",
            count(p.requests),
            count(p.services_with_several_intake_paths)
        ),
        notes: vec![
            "Imported history has only the steps the city's export records (creation, routing, closing); paths are richer for requests handled in civic311.".into(),
            "Definitions: docs/METRICS.md, \"Process diagnostics\".".into(),
        ],
        sections,
    }
}
