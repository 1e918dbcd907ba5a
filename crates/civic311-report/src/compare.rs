//! Cities compared on the standard categories, as a document (HTML or PDF like the monthly
//! report): one table per measure, a row per category, a column per city.

use civic311_analytics::compare::{Comparison, Figures};

use crate::document::{Chart, Document, Section, Table, count, days, percent};

fn table(c: &Comparison, what: &str, cell: impl Fn(&Figures) -> String) -> Table {
    let mut columns = vec![what.to_owned()];
    columns.extend(c.cities.iter().map(|city| city.name.clone()));
    let mut rows: Vec<Vec<String>> = c
        .categories
        .iter()
        .map(|row| {
            let mut cells = vec![row.label.to_owned()];
            cells.extend(row.cities.iter().map(&cell));
            cells
        })
        .collect();
    let mut all = vec!["All requests".to_owned()];
    all.extend(c.cities.iter().map(|city| cell(&city.all)));
    rows.push(all);
    Table { columns, rows }
}

fn section(id: &'static str, heading: &str, text: &str, table: Table) -> Section {
    Section {
        id,
        heading: heading.to_owned(),
        text: Some(text.to_owned()),
        chart: None,
        table: Some(table),
    }
}

pub fn build(c: &Comparison) -> Document {
    let names: Vec<&str> = c.cities.iter().map(|city| city.name.as_str()).collect();
    let mut sections = vec![section(
        "volume",
        "Requests by category",
        "Requests created in the period, and each category's share of the city's requests.",
        table(c, "Category", |f| {
            format!("{} ({})", count(f.requests), percent(f.share))
        }),
    )];
    sections.push(section(
        "median",
        "Median time to close",
        "Over requests closed with a usable close time (duplicates left out), as in docs/METRICS.md.",
        table(c, "Category", |f| days(f.median_seconds)),
    ));
    sections.push(section(
        "p90",
        "90th percentile time to close",
        "Nine in ten closed requests were closed within this time.",
        table(c, "Category", |f| days(f.p90_seconds)),
    ));
    sections.push(section(
        "sla",
        "SLA attainment",
        "Met over met, closed late and open overdue, each city against its own due dates; '-' where a city sets none.",
        table(c, "Category", |f| {
            if f.judged == 0 {
                "-".to_owned()
            } else {
                format!("{} of {}", percent(f.attainment), count(f.judged))
            }
        }),
    ));
    sections.push(section(
        "open",
        "Still open",
        "Requests of the period not closed when the comparison was made.",
        table(c, "Category", |f| count(f.open)),
    ));
    for (i, city) in c.cities.iter().enumerate() {
        sections.push(Section {
            id: "shares",
            heading: format!("{}: where its requests go", city.name),
            text: None,
            chart: Some(Chart {
                title: "Share of requests by category (%)".into(),
                bars: c
                    .categories
                    .iter()
                    .filter(|row| row.cities[i].requests > 0)
                    .map(|row| {
                        (
                            row.category.to_string(),
                            (row.cities[i].share.unwrap_or(0.0) * 1000.0).round() / 10.0,
                        )
                    })
                    .collect(),
                highlight_last: false,
            }),
            table: None,
        });
    }
    Document {
        title: format!("{} compared", names.join(", ")),
        subtitle: format!(
            "Requests created from {} to {} (each city's local days), as they stood on {}",
            c.from,
            c.to.pred_opt().unwrap_or(c.to),
            c.judged_at.format("%Y-%m-%d %H:%M UTC")
        ),
        notes: vec![
            "Categories are the exchange format's standard ones (docs/EXCHANGE.md): each city's services are mapped to them by its catalog, else by the keyword rules.".into(),
            "A category's numbers depend on how each city names and splits its services: read a large gap as a question before a verdict.".into(),
        ],
        sections,
    }
}
