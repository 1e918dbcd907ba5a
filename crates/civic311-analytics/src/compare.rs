//! The same metrics for several cities side by side, on the exchange format's standard
//! categories (docs/METRICS.md, "Comparing cities"): each city's own store (its own database, or
//! a peer's exchange export imported into one), each over the same local dates in its own time
//! zone.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use civic311_domain::StandardCategory;
use civic311_store::{RequestFilter, Store};
use serde::Serialize;

use crate::summary::{Options, Summary, Tally};

const PAGE: u32 = 5_000;

/// One city to compare.
#[derive(Debug, Clone)]
pub struct City {
    pub name: String,
    pub timezone: Tz,
    pub store: Store,
}

#[derive(Debug, Clone)]
pub struct CompareOptions {
    /// First local day, included.
    pub from: NaiveDate,
    /// Last local day, excluded.
    pub to: NaiveDate,
    pub now: DateTime<Utc>,
    pub include_self_generated: bool,
}

/// A city's numbers for one category (or all of them).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Figures {
    pub requests: u64,
    /// Of the city's requests in the period.
    pub share: Option<f64>,
    pub closed: u64,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
    pub open: u64,
    /// Met + closed late + open overdue: the requests SLA attainment is over.
    pub judged: u64,
    pub attainment: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CityFigures {
    pub name: String,
    pub timezone: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub all: Figures,
}

#[derive(Debug, Clone, Serialize)]
pub struct CategoryRow {
    pub category: StandardCategory,
    pub label: &'static str,
    /// In the order of [`Comparison::cities`].
    pub cities: Vec<Figures>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub judged_at: DateTime<Utc>,
    pub cities: Vec<CityFigures>,
    /// Every category with a request in one of the cities, in the exchange format's order.
    pub categories: Vec<CategoryRow>,
}

fn midnight(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    civic311_domain::time::at_local(tz, day, chrono::NaiveTime::MIN)
}

fn figures(s: &Summary, city_requests: u64) -> Figures {
    Figures {
        requests: s.volume.requests,
        share: (city_requests > 0).then(|| s.volume.requests as f64 / city_requests as f64),
        closed: s.time_to_close.closed,
        median_seconds: s.time_to_close.median_seconds,
        p90_seconds: s.time_to_close.p90_seconds,
        open: s.backlog.open,
        judged: s.sla.met + s.sla.closed_late + s.sla.open_overdue,
        attainment: s.sla.attainment,
    }
}

/// Reads each city's requests of the period once, tallied by standard category.
pub async fn compare(
    cities: &[City],
    options: &CompareOptions,
) -> civic311_store::Result<Comparison> {
    let mut per_city = Vec::with_capacity(cities.len());
    let mut rows: BTreeMap<StandardCategory, Vec<Figures>> = BTreeMap::new();
    for (i, city) in cities.iter().enumerate() {
        let (from, to) = (
            midnight(options.from, city.timezone),
            midnight(options.to, city.timezone),
        );
        let tally_options = Options {
            filter: RequestFilter {
                created_from: Some(from),
                created_before: Some(to),
                ..RequestFilter::default()
            },
            now: options.now,
            timezone: city.timezone,
            include_self_generated: options.include_self_generated,
        };
        let category_of: HashMap<String, StandardCategory> = city
            .store
            .services()
            .await?
            .into_iter()
            .map(|s| (s.code.to_string(), s.standard_category()))
            .collect();
        let mut all = Tally::new(&tally_options);
        let mut by_category: BTreeMap<StandardCategory, Tally<'_>> = BTreeMap::new();
        let mut pages = city.store.read_cohort(&tally_options.filter, PAGE).await?;
        while let Some(page) = pages.next_page().await? {
            for (_, r) in &page {
                all.add(r);
                let category = category_of
                    .get(r.service_code.as_str())
                    .copied()
                    .unwrap_or(StandardCategory::Other);
                by_category
                    .entry(category)
                    .or_insert_with(|| Tally::new(&tally_options))
                    .add(r);
            }
        }
        let all = all.finish();
        let total = all.volume.requests;
        for (category, tally) in by_category {
            let row = rows
                .entry(category)
                .or_insert_with(|| vec![Figures::default(); cities.len()]);
            row[i] = figures(&tally.finish(), total);
        }
        per_city.push(CityFigures {
            name: city.name.clone(),
            timezone: city.timezone.name().to_owned(),
            from,
            to,
            all: figures(&all, total),
        });
    }
    // A category a city had no request in is 0% of its requests, not unknown.
    for row in rows.values_mut() {
        for (figures, city) in row.iter_mut().zip(&per_city) {
            if figures.requests == 0 && city.all.requests > 0 {
                figures.share = Some(0.0);
            }
        }
    }
    Ok(Comparison {
        from: options.from,
        to: options.to,
        judged_at: options.now,
        cities: per_city,
        categories: rows
            .into_iter()
            .map(|(category, cities)| CategoryRow {
                category,
                label: category.label(),
                cities,
            })
            .collect(),
    })
}
