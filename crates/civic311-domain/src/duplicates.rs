//! Suggesting likely duplicates of a new request among earlier ones.
//!
//! A duplicate is a second report of a problem the city already knows about. The suggester
//! scores each earlier request on four things and multiplies them:
//!
//! - **service**: the same service (1.0) or one of the same group (0.6); others are not
//!   candidates;
//! - **place**: the same street address (1.0), otherwise the distance between the points, from
//!   1.0 at the same spot down to 0.4 at [`DuplicateRules::radius_m`]; farther is no candidate;
//! - **time**: the earlier request was still open when the new one came (1.0), was closed at
//!   most [`DuplicateRules::grace_days`] before (0.6: residents report again right after a
//!   closure they do not believe), or was closed longer ago (0.25: more likely a new problem);
//! - **text**: when both carry a description, 0.5 plus their word overlap (Jaccard), at most 1.
//!
//! Requests closed as duplicates are skipped: the suggestion is their parent. Suggestions at or
//! above [`DuplicateRules::min_score`] are returned, best first. docs/BENCHMARKS.md measures the
//! rules against the duplicates Kansas City's staff marked, with the plain radius-and-days rule
//! as the baseline.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use geo::{Distance, Haversine, Point};
use serde::Serialize;

use crate::{ClosureReason, LatLong, ServiceRequest, ServiceRequestId, Status};

/// The knobs of the suggester; the defaults are the ones measured in docs/BENCHMARKS.md.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DuplicateRules {
    /// Farthest an earlier request's point may be (metres), unless the address is the same.
    pub radius_m: f64,
    /// How far back to look (days).
    pub window_days: i64,
    /// A request closed at most this long before the new one still counts as recent (days).
    pub grace_days: i64,
    /// Lowest score suggested.
    pub min_score: f64,
    /// Most suggestions returned.
    pub max_suggestions: usize,
}

impl Default for DuplicateRules {
    fn default() -> Self {
        DuplicateRules {
            radius_m: 150.0,
            window_days: 90,
            grace_days: 7,
            min_score: 0.5,
            max_suggestions: 5,
        }
    }
}

/// An earlier request suggested as the one a new request duplicates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    pub id: ServiceRequestId,
    /// 0..=1, the product of the factors.
    pub score: f64,
    /// Between the two points, when both have one (metres, rounded).
    pub distance_m: Option<f64>,
    pub same_service: bool,
    pub same_address: bool,
    /// The earlier request was still open when the new one came.
    pub open: bool,
}

/// The new request as the suggester sees it. `group` is its service's group, if any.
pub struct Report<'a> {
    pub request: &'a ServiceRequest,
    pub group: Option<&'a str>,
}

impl DuplicateRules {
    /// The earliest creation time a candidate for a request made at `at` may have.
    pub fn window_start(&self, at: DateTime<Utc>) -> DateTime<Utc> {
        at - Duration::days(self.window_days)
    }

    /// The latitude/longitude box around `p` that holds every point within the radius.
    pub fn bounding_box(&self, p: LatLong) -> (f64, f64, f64, f64) {
        let dlat = self.radius_m / 111_000.0;
        let dlong = self.radius_m / (111_000.0 * p.lat().to_radians().cos().max(0.01));
        (
            p.lat() - dlat,
            p.lat() + dlat,
            p.long() - dlong,
            p.long() + dlong,
        )
    }

    /// Scores `earlier` as a duplicate target of `new`; `None` when it cannot be one.
    pub fn score(&self, new: &Report<'_>, earlier: &Report<'_>) -> Option<Suggestion> {
        let (n, e) = (new.request, earlier.request);
        if e.id == n.id
            || e.created_at >= n.created_at
            || e.created_at < self.window_start(n.created_at)
            || e.status == Status::Closed(ClosureReason::Duplicate)
        {
            return None;
        }
        let same_service = e.service_code == n.service_code;
        let service = if same_service {
            1.0
        } else if new.group.is_some() && new.group == earlier.group {
            0.6
        } else {
            return None;
        };
        let same_address = match (&n.location.address, &e.location.address) {
            (Some(a), Some(b)) => normalize_address(a) == normalize_address(b),
            _ => false,
        };
        let distance_m = match (n.location.point, e.location.point) {
            (Some(a), Some(b)) => Some(metres(a, b)),
            _ => None,
        };
        let place = match distance_m {
            _ if same_address => 1.0,
            Some(d) if d <= self.radius_m => 1.0 - 0.6 * d / self.radius_m,
            _ => return None,
        };
        let open = e.closed_at.is_none_or(|closed| closed >= n.created_at);
        let time = match e.closed_at {
            _ if open => 1.0,
            Some(closed) if n.created_at - closed <= Duration::days(self.grace_days) => 0.6,
            _ => 0.25,
        };
        let text = match (&n.description, &e.description) {
            (Some(a), Some(b)) => (0.5 + jaccard(a, b)).min(1.0),
            _ => 1.0,
        };
        Some(Suggestion {
            id: e.id.clone(),
            score: service * place * time * text,
            distance_m: distance_m.map(f64::round),
            same_service,
            same_address,
            open,
        })
    }

    /// The best-scoring earlier requests at or above `min_score`, best first (ties: the newer).
    pub fn suggest<'a>(
        &self,
        new: &Report<'_>,
        earlier: impl IntoIterator<Item = Report<'a>>,
    ) -> Vec<Suggestion> {
        let mut found: Vec<(Suggestion, DateTime<Utc>)> = earlier
            .into_iter()
            .filter_map(|e| {
                let at = e.request.created_at;
                self.score(new, &e).map(|s| (s, at))
            })
            .filter(|(s, _)| s.score >= self.min_score)
            .collect();
        found.sort_by(|(a, at), (b, bt)| b.score.total_cmp(&a.score).then(bt.cmp(at)));
        found.truncate(self.max_suggestions);
        found.into_iter().map(|(s, _)| s).collect()
    }
}

fn metres(a: LatLong, b: LatLong) -> f64 {
    Haversine.distance(Point::new(a.long(), a.lat()), Point::new(b.long(), b.lat()))
}

/// Upper case, single spaces, no punctuation: `1500 W. 12th  St` = `1500 W 12TH ST`.
pub fn normalize_address(a: &str) -> String {
    a.split(|c: char| c.is_whitespace() || c == '.' || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_uppercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn words(s: &str) -> HashSet<String> {
    s.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .map(str::to_lowercase)
        .collect()
}

fn jaccard(a: &str, b: &str) -> f64 {
    let (a, b) = (words(a), words(b));
    let union = a.union(&b).count();
    if union == 0 {
        return 0.0;
    }
    a.intersection(&b).count() as f64 / union as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Channel, Location, Priority, ServiceCode};
    use chrono::TimeZone;

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 7, day, hour, 0, 0).unwrap()
    }

    /// A Kansas City property violation at 1500 W 12th St (a real DUP row's place).
    fn report(id: &str, code: &str, created: DateTime<Utc>, point: (f64, f64)) -> ServiceRequest {
        ServiceRequest {
            id: ServiceRequestId::parse(id).unwrap(),
            service_code: ServiceCode::parse(code).unwrap(),
            status: Status::Open,
            priority: Priority::Normal,
            description: None,
            location: Location {
                point: Some(LatLong::new(point.0, point.1).unwrap()),
                address: Some("1500 W 12th St".into()),
                address_id: None,
                zip: None,
                areas: vec![],
            },
            channel: Channel::Phone,
            requester: None,
            department: None,
            assignee: None,
            due_at: None,
            parent_id: None,
            attributes: vec![],
            media_url: None,
            created_at: created,
            updated_at: created,
            closed_at: None,
            version: 0,
        }
    }

    fn r<'a>(request: &'a ServiceRequest, group: &'a str) -> Report<'a> {
        Report {
            request,
            group: Some(group),
        }
    }

    const HERE: (f64, f64) = (39.100892, -94.603431);

    #[test]
    fn an_open_report_at_the_same_address_is_the_best_suggestion() {
        let rules = DuplicateRules::default();
        let new = report("9", "property-violations", at(29, 9), HERE);
        let open_same = report("1", "property-violations", at(20, 9), HERE);
        let mut closed_long_ago = report("2", "property-violations", at(1, 9), HERE);
        closed_long_ago.closed_at = Some(at(2, 9));
        closed_long_ago.status = Status::Closed(ClosureReason::Resolved);
        let mut closed_lately = report("3", "property-violations", at(10, 9), HERE);
        closed_lately.closed_at = Some(at(25, 9));
        closed_lately.status = Status::Closed(ClosureReason::Resolved);
        let mut elsewhere = report("4", "property-violations", at(21, 9), (39.1016, -94.6034));
        elsewhere.location.address = Some("1420 W 12th St".into());
        let other_group = report("5", "pothole", at(22, 9), HERE);
        let same_group = report("6", "mowing", at(23, 9), HERE);
        let all = [
            (&open_same, "property"),
            (&closed_long_ago, "property"),
            (&closed_lately, "property"),
            (&elsewhere, "property"),
            (&other_group, "streets"),
            (&same_group, "property"),
        ];
        let found = rules.suggest(&r(&new, "property"), all.iter().map(|(q, g)| r(q, g)));
        let ids: Vec<&str> = found.iter().map(|s| s.id.as_str()).collect();
        // 79 m away: 1 - 0.6 * 79/150 = 0.68. Closed 4 days before: 0.6. Same group: 0.6.
        // Closed four weeks before: 0.25, under the threshold. Another group: no candidate.
        assert_eq!(ids, ["1", "4", "6", "3"]);
        assert_eq!(found[0].score, 1.0);
        assert!(found[0].same_address && found[0].open && found[0].same_service);
        assert_eq!(found[1].distance_m, Some(79.0));
        assert!((found[1].score - 0.684).abs() < 0.01, "{}", found[1].score);
    }

    #[test]
    fn later_merged_and_out_of_window_requests_are_never_suggested() {
        let rules = DuplicateRules::default();
        let new = report("9", "property-violations", at(29, 9), HERE);
        let later = report("10", "property-violations", at(30, 9), HERE);
        let mut merged = report("1", "property-violations", at(28, 9), HERE);
        merged.status = Status::Closed(ClosureReason::Duplicate);
        merged.closed_at = Some(at(28, 10));
        let old = report(
            "2",
            "property-violations",
            at(1, 9) - Duration::days(90),
            HERE,
        );
        for e in [&later, &merged, &old, &new] {
            assert_eq!(rules.score(&r(&new, "p"), &r(e, "p")), None, "{}", e.id);
        }
    }

    #[test]
    fn descriptions_that_share_words_score_higher() {
        let rules = DuplicateRules::default();
        let mut new = report("9", "pothole", at(29, 9), HERE);
        new.description = Some("Deep pothole in the eastbound lane".into());
        let mut same = report("1", "pothole", at(28, 9), HERE);
        same.description = Some("deep POTHOLE, eastbound lane near the bus stop".into());
        let mut other = report("2", "pothole", at(28, 9), HERE);
        other.description = Some("Sinkhole near curb".into());
        let s = |e| rules.score(&r(&new, "s"), &r(e, "s")).unwrap().score;
        assert!(s(&same) > s(&other), "{} {}", s(&same), s(&other));
        assert_eq!(s(&other), 0.5);
    }

    #[test]
    fn addresses_compare_without_case_and_punctuation() {
        assert_eq!(normalize_address("1500 W. 12th  St,"), "1500 W 12TH ST");
        assert_ne!(
            normalize_address("1500 W 12th St"),
            normalize_address("1502 W 12th St")
        );
    }
}
