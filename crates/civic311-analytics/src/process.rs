//! Process diagnostics from the event log (docs/METRICS.md, "Process diagnostics"): the paths
//! requests take through routing and status changes, where the time goes between steps,
//! requests that bounced between departments, and services that arrive by several channels.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use civic311_domain::{EventKind, ServiceRequest, ServiceRequestId};
use civic311_store::{RequestFilter, Store};
use serde::Serialize;

use crate::quantile::quantile;

/// Requests read at a time (their events in one query).
const PAGE: u32 = 2_000;
/// Variants, transitions and bounced requests listed per service.
const TOP: usize = 5;
/// A channel bringing at least this share of a service's requests is one of its intake paths.
const INTAKE_SHARE: f64 = 0.05;

#[derive(Debug, Clone, Serialize)]
pub struct Variant {
    /// The steps, e.g. `created → routed → in_progress → closed`.
    pub path: String,
    pub requests: u64,
    pub share: f64,
    /// From the first step to the last, over the requests of this variant.
    pub median_seconds: Option<f64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Transition {
    pub from: String,
    pub to: String,
    pub times: u64,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
    /// All the time spent on this transition: where the waiting adds up.
    pub total_seconds: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bounced {
    pub request_id: String,
    /// The departments it went through, in order.
    pub departments: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ServiceProcess {
    pub service_code: String,
    pub requests: u64,
    pub variants: u64,
    pub top_variants: Vec<Variant>,
    /// The transitions with the most time spent in them, most first.
    pub bottlenecks: Vec<Transition>,
    /// Requests that changed department more than once (back to one they had left included).
    pub bounced: u64,
    pub bounced_examples: Vec<Bounced>,
    /// Channels bringing at least 5% of the service's requests, busiest first.
    pub intake_paths: Vec<(String, u64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ProcessReport {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub requests: u64,
    pub top_variants: Vec<Variant>,
    pub bottlenecks: Vec<Transition>,
    pub bounced: u64,
    /// Services taking requests by more than one intake path.
    pub services_with_several_intake_paths: u64,
    /// Busiest first.
    pub services: Vec<ServiceProcess>,
}

/// The step an event is on a request's path, if it is one (notes, photos, surveys are not).
fn step(kind: &EventKind) -> Option<String> {
    Some(match kind {
        EventKind::Created { .. } => "created".into(),
        EventKind::Routed { .. } => "routed".into(),
        EventKind::Reassigned {
            from_department,
            to_department,
            ..
        } if from_department != to_department => "moved to another department".into(),
        EventKind::Reassigned { .. } => "reassigned".into(),
        EventKind::StatusChanged { to, .. } => to.state().into(),
        EventKind::Reopened { .. } => "reopened".into(),
        EventKind::MergedInto { .. } => "merged as a duplicate".into(),
        EventKind::Escalated { .. } => "escalated".into(),
        EventKind::WorkOrderRequested { .. } => "work order".into(),
        _ => return None,
    })
}

/// The departments a request went through, in order, from its routing and reassignment events.
fn departments(events: &[&civic311_domain::RequestEvent]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for e in events {
        let to = match &e.kind {
            EventKind::Routed { department, .. } => department,
            EventKind::Reassigned { to_department, .. } => to_department,
            _ => continue,
        };
        if let Some(d) = to
            && out.last() != Some(&d.to_string())
        {
            out.push(d.to_string());
        }
    }
    out
}

#[derive(Default)]
struct Tally {
    requests: u64,
    variants: HashMap<String, Vec<i64>>,
    transitions: HashMap<(String, String), Vec<i64>>,
    bounced: Vec<Bounced>,
    channels: HashMap<String, u64>,
}

impl Tally {
    fn add(&mut self, r: &ServiceRequest, events: &[&civic311_domain::RequestEvent]) {
        self.requests += 1;
        *self
            .channels
            .entry(r.channel.as_str().to_owned())
            .or_default() += 1;
        let mut steps: Vec<(String, DateTime<Utc>)> = Vec::new();
        for e in events {
            if let Some(s) = step(&e.kind)
                && steps.last().map(|(last, _)| last) != Some(&s)
            {
                steps.push((s, e.at));
            }
        }
        let path: Vec<&str> = steps.iter().map(|(s, _)| s.as_str()).collect();
        let span = match (steps.first(), steps.last()) {
            (Some((_, a)), Some((_, b))) => (*b - *a).num_seconds(),
            _ => 0,
        };
        self.variants
            .entry(path.join(" → "))
            .or_default()
            .push(span);
        for pair in steps.windows(2) {
            let ((a, at_a), (b, at_b)) = (&pair[0], &pair[1]);
            self.transitions
                .entry((a.clone(), b.clone()))
                .or_default()
                .push((*at_b - *at_a).num_seconds());
        }
        let went = departments(events);
        if went.len() > 2 {
            self.bounced.push(Bounced {
                request_id: r.id.to_string(),
                departments: went,
            });
        }
    }

    fn top_variants(&mut self) -> Vec<Variant> {
        let total = self.requests.max(1) as f64;
        let mut variants: Vec<Variant> = self
            .variants
            .iter_mut()
            .map(|(path, spans)| {
                spans.sort_unstable();
                Variant {
                    path: path.clone(),
                    requests: spans.len() as u64,
                    share: spans.len() as f64 / total,
                    median_seconds: quantile(spans, 0.5),
                }
            })
            .collect();
        variants.sort_by(|a, b| {
            b.requests
                .cmp(&a.requests)
                .then_with(|| a.path.cmp(&b.path))
        });
        variants.truncate(TOP);
        variants
    }

    fn bottlenecks(&mut self) -> Vec<Transition> {
        let mut transitions: Vec<Transition> = self
            .transitions
            .iter_mut()
            .map(|((from, to), times)| {
                times.sort_unstable();
                Transition {
                    from: from.clone(),
                    to: to.clone(),
                    times: times.len() as u64,
                    median_seconds: quantile(times, 0.5),
                    p90_seconds: quantile(times, 0.9),
                    total_seconds: times.iter().map(|&t| t as f64).sum(),
                }
            })
            .collect();
        transitions.sort_by(|a, b| {
            b.total_seconds
                .total_cmp(&a.total_seconds)
                .then_with(|| (&a.from, &a.to).cmp(&(&b.from, &b.to)))
        });
        transitions.truncate(TOP);
        transitions
    }

    fn intake_paths(&self) -> Vec<(String, u64)> {
        let mut paths: Vec<(String, u64)> = self
            .channels
            .iter()
            .filter(|(_, n)| **n as f64 >= INTAKE_SHARE * self.requests as f64)
            .map(|(c, n)| (c.clone(), *n))
            .collect();
        paths.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        paths
    }
}

/// The process of the requests `filter` selects (their whole history, whenever it happened).
pub async fn process(
    store: &Store,
    filter: &RequestFilter,
) -> civic311_store::Result<ProcessReport> {
    let mut all = Tally::default();
    let mut services: BTreeMap<String, Tally> = BTreeMap::new();
    let mut pages = store.read_cohort(filter, PAGE).await?;
    while let Some(page) = pages.next_page().await? {
        let ids: Vec<ServiceRequestId> = page.iter().map(|(_, r)| r.id.clone()).collect();
        let mut events: HashMap<String, Vec<civic311_domain::RequestEvent>> = HashMap::new();
        for (id, e) in store.events_of(&ids).await? {
            events.entry(id).or_default().push(e.event);
        }
        for (_, r) in &page {
            let history: Vec<&civic311_domain::RequestEvent> = events
                .get(r.id.as_str())
                .map(|v| v.iter().collect())
                .unwrap_or_default();
            all.add(r, &history);
            services
                .entry(r.service_code.to_string())
                .or_default()
                .add(r, &history);
        }
    }
    let mut per_service: Vec<ServiceProcess> = services
        .into_iter()
        .map(|(service_code, mut t)| ServiceProcess {
            service_code,
            requests: t.requests,
            variants: t.variants.len() as u64,
            top_variants: t.top_variants(),
            bottlenecks: t.bottlenecks(),
            bounced: t.bounced.len() as u64,
            bounced_examples: t.bounced.iter().take(TOP).cloned().collect(),
            intake_paths: t.intake_paths(),
        })
        .collect();
    per_service.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then_with(|| a.service_code.cmp(&b.service_code))
    });
    Ok(ProcessReport {
        from: filter.created_from,
        to: filter.created_before,
        requests: all.requests,
        top_variants: all.top_variants(),
        bottlenecks: all.bottlenecks(),
        bounced: all.bounced.len() as u64,
        services_with_several_intake_paths: per_service
            .iter()
            .filter(|s| s.intake_paths.len() > 1)
            .count() as u64,
        services: per_service,
    })
}
