//! Duplicate suggestions: the candidates a new request could duplicate, read from the store,
//! scored by the domain's [`DuplicateRules`].

use chrono::{DateTime, Utc};
use civic311_domain::duplicates::Report;
use civic311_domain::{DuplicateRules, Service, ServiceCode, ServiceRequest, Suggestion};

use crate::pool::dispatch;
use crate::{Result, Store};

/// Most candidates read for one request (the newest first); the scoring keeps the best few.
const MAX_CANDIDATES: u32 = 500;

/// Earlier requests near a place, of some services, in a time window.
#[derive(Debug, Clone)]
pub(crate) struct CandidateQuery {
    pub service_codes: Vec<ServiceCode>,
    pub from: DateTime<Utc>,
    pub before: DateTime<Utc>,
    /// (south, north, west, east)
    pub bbox: Option<(f64, f64, f64, f64)>,
    /// Requests at this address qualify wherever their point is.
    pub address: Option<String>,
    pub limit: u32,
}

impl Store {
    /// The earlier requests `request` most likely duplicates, best first, each with its score.
    /// `catalog` gives the services' groups (a related service is one of the same group).
    pub async fn suggest_duplicates(
        &self,
        request: &ServiceRequest,
        catalog: &[Service],
        rules: &DuplicateRules,
    ) -> Result<Vec<(Suggestion, ServiceRequest)>> {
        let group_of = |code: &ServiceCode| {
            catalog
                .iter()
                .find(|s| &s.code == code)
                .and_then(|s| s.group.as_deref())
        };
        let group = group_of(&request.service_code);
        let mut service_codes = vec![request.service_code.clone()];
        if group.is_some() {
            service_codes.extend(
                catalog
                    .iter()
                    .filter(|s| s.group.as_deref() == group && s.code != request.service_code)
                    .map(|s| s.code.clone()),
            );
        }
        let query = CandidateQuery {
            service_codes,
            from: rules.window_start(request.created_at),
            before: request.created_at,
            bbox: request.location.point.map(|p| rules.bounding_box(p)),
            address: request.location.address.clone(),
            limit: MAX_CANDIDATES,
        };
        if query.bbox.is_none() && query.address.is_none() {
            return Ok(Vec::new());
        }
        let candidates: Vec<ServiceRequest> = dispatch!(self, read, duplicate_candidates(&query))?;
        let new = Report { request, group };
        let suggestions = rules.suggest(
            &new,
            candidates.iter().map(|c| Report {
                request: c,
                group: group_of(&c.service_code),
            }),
        );
        let mut candidates = candidates;
        Ok(suggestions
            .into_iter()
            .filter_map(|s| {
                let i = candidates.iter().position(|c| c.id == s.id)?;
                Some((s, candidates.swap_remove(i)))
            })
            .collect())
    }
}
