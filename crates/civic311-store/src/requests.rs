//! Service requests: reading, filing, changing, merging; each change saved with its events.

use chrono::{DateTime, Utc};
use civic311_domain::{
    Actor, AreaRef, DepartmentCode, DomainError, NewServiceRequest, RequestEvent, ServiceCode,
    ServiceRequest, ServiceRequestId,
};
use serde::Serialize;

use crate::error::again_after_deadlock;
use crate::pool::dispatch;
use crate::{Result, Store};

/// Which requests to list. Empty lists and `None` mean "no restriction".
#[derive(Debug, Clone, Default)]
pub struct RequestFilter {
    pub ids: Vec<ServiceRequestId>,
    pub service_codes: Vec<ServiceCode>,
    /// Status states as stored: `open`, `in_progress`, `on_hold`, `closed`.
    pub states: Vec<&'static str>,
    pub department: Option<DepartmentCode>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_before: Option<DateTime<Utc>>,
    pub updated_after: Option<DateTime<Utc>>,
    pub updated_before: Option<DateTime<Utc>>,
    pub area: Option<AreaRef>,
}

/// A test of a request's stored columns beyond what a [`RequestFilter`] selects: what one
/// number of a summary counts (analytics' facets), so that the database itself finds that
/// number's requests and pages through them ([`Store::cohort_page`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Condition {
    /// Every one holds (true when there are none).
    All(Vec<Condition>),
    /// At least one holds (false when there are none).
    Any(Vec<Condition>),
    /// Does not hold. Meant for columns that are never empty (the channel): on an empty one
    /// neither a test nor its negation holds.
    Not(Box<Condition>),
    /// A channel among these.
    Channels(Vec<String>),
    Service(String),
    /// The department; `None`: without one.
    Department(Option<String>),
    /// A status state as stored (`open`, `in_progress`, `on_hold`, `closed`).
    Status(String),
    /// An [`Outcome::code`](civic311_domain::outcome::Outcome::code) among these.
    Outcomes(Vec<i16>),
    /// The close time kept with the outcome, in seconds (requests without one never hold).
    CloseSeconds(Compare, i64),
    Created(Compare, DateTime<Utc>),
    /// The due date (requests without one never hold).
    Due(Compare, DateTime<Utc>),
    /// Placed in this area.
    InArea {
        layer: String,
        area: String,
    },
}

/// How a column compares with a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compare {
    Below,
    AtMost,
    AtLeast,
    Above,
}

impl Condition {
    /// Whether it tests only what an area keeps beside each of its requests (the creation time
    /// and the outcome code), so that an area's requests that hold are found in the area's
    /// index alone.
    pub(crate) fn kept_with_areas(&self) -> bool {
        match self {
            Condition::All(list) | Condition::Any(list) => {
                list.iter().all(Condition::kept_with_areas)
            }
            Condition::Not(c) => c.kept_with_areas(),
            Condition::Outcomes(_) | Condition::Created(..) => true,
            Condition::Channels(_)
            | Condition::Service(_)
            | Condition::Department(_)
            | Condition::Status(_)
            | Condition::CloseSeconds(..)
            | Condition::Due(..)
            | Condition::InArea { .. } => false,
        }
    }
}

impl RequestFilter {
    /// The area when the filter selects an area's requests of a period and nothing else.
    pub(crate) fn area_alone(&self) -> Option<&AreaRef> {
        let RequestFilter {
            ids,
            service_codes,
            states,
            department,
            created_from: _,
            created_before: _,
            updated_after,
            updated_before,
            area,
        } = self;
        let alone = ids.is_empty()
            && service_codes.is_empty()
            && states.is_empty()
            && department.is_none()
            && updated_after.is_none()
            && updated_before.is_none();
        area.as_ref().filter(|_| alone)
    }
}

impl Compare {
    pub(crate) fn sql(self) -> &'static str {
        match self {
            Compare::Below => " < ",
            Compare::AtMost => " <= ",
            Compare::AtLeast => " >= ",
            Compare::Above => " > ",
        }
    }
}

/// A page of a listing, newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub limit: u32,
    pub offset: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    pub total: i64,
    pub by_state: Vec<(String, i64)>,
    pub events: i64,
    /// Requests moved after their first routing (`reassigned` events).
    pub reassignments: i64,
    /// Reassignments from one department to another: the first department was the wrong door.
    pub misroutes: i64,
    /// Reopens of a request within 30 days of its closing: closures that did not hold.
    pub reopened_within_30_days: i64,
}

/// An event as stored, with its place in the global order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredEvent {
    pub seq: i64,
    #[serde(flatten)]
    pub event: RequestEvent,
}

/// What an upsert of imported requests did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UpsertCounts {
    pub inserted: usize,
    pub updated: usize,
    pub unchanged: usize,
}

/// What an import's upsert did, and which of its requests repeat an id the same import wrote
/// before (see [`Store::upsert_import`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upserted {
    pub counts: UpsertCounts,
    /// Positions in the batch.
    pub repeated: Vec<usize>,
}

impl std::ops::AddAssign for UpsertCounts {
    fn add_assign(&mut self, o: Self) {
        self.inserted += o.inserted;
        self.updated += o.updated;
        self.unchanged += o.unchanged;
    }
}

/// Which events to read across requests, oldest first (for update feeds and sync).
#[derive(Debug, Clone)]
pub struct EventFeed {
    /// Event kind names (`status_changed`, `note_added`...). Must not be empty.
    pub kinds: Vec<&'static str>,
    pub from: Option<DateTime<Utc>>,
    pub before: Option<DateTime<Utc>>,
    /// Only events after this `seq`: a cursor for paging through the feed.
    pub after_seq: Option<i64>,
    pub limit: u32,
}

impl Store {
    pub async fn request(&self, id: &ServiceRequestId) -> Result<Option<ServiceRequest>> {
        dispatch!(self, read, request(id.as_str(), true))
    }

    /// [`Store::request`] for public outputs, without the requester.
    pub async fn public_request(&self, id: &ServiceRequestId) -> Result<Option<ServiceRequest>> {
        dispatch!(self, read, request(id.as_str(), false))
    }

    pub async fn requests(
        &self,
        filter: &RequestFilter,
        page: Page,
    ) -> Result<Vec<ServiceRequest>> {
        dispatch!(self, read, requests(filter, page, true))
    }

    /// The request created last, if any (without its requester).
    pub async fn newest_request(&self) -> Result<Option<ServiceRequest>> {
        let page = Page {
            limit: 1,
            offset: 0,
        };
        Ok(self
            .public_requests(&RequestFilter::default(), page)
            .await?
            .into_iter()
            .next())
    }

    /// [`Store::requests`] for public outputs: the requester is never read (so it cannot leak,
    /// and the query is one fewer).
    pub async fn public_requests(
        &self,
        filter: &RequestFilter,
        page: Page,
    ) -> Result<Vec<ServiceRequest>> {
        dispatch!(self, read, requests(filter, page, false))
    }

    /// The requests matching `filter` whose store keys are in `keys`, in key order, with their
    /// keys, without requesters: pages for exports, which can read several ranges at once.
    pub async fn export_page(
        &self,
        filter: &RequestFilter,
        keys: std::ops::Range<i64>,
    ) -> Result<Vec<(i64, ServiceRequest)>> {
        dispatch!(self, read, export_page(filter, keys))
    }

    /// The range of store keys in use (`None` for an empty store): pages of an export are
    /// ranges of it.
    pub async fn request_keys(&self) -> Result<Option<std::ops::Range<i64>>> {
        dispatch!(self, read, request_keys())
    }

    /// The store's keys in ranges of `size`, lowest first (none for an empty store): the pages
    /// that exports and metrics read with [`Store::export_page`].
    pub async fn key_pages(
        &self,
        size: u32,
    ) -> Result<impl Iterator<Item = std::ops::Range<i64>> + use<>> {
        let keys = self.request_keys().await?.unwrap_or(0..0);
        let end = keys.end;
        Ok((keys.start..end)
            .step_by(size as usize)
            .map(move |start| start..end.min(start.saturating_add(i64::from(size)))))
    }

    /// The store keys of the requests `filter` selects, lowest first, found through the
    /// indexes (creation time, service, area): a month of ten million requests is read without
    /// walking every key. Read them with [`Store::export_keys`].
    pub async fn cohort_keys(&self, filter: &RequestFilter) -> Result<Vec<i64>> {
        dispatch!(self, read, cohort_keys(filter))
    }

    /// The requests `filter` selects that `condition` holds, `page` of them in key order
    /// (lowest first, without requesters), and how many there are in all: found, counted and
    /// paged by the database in one statement, so a page costs the cohort's index entries and
    /// rows tested, not every request read and judged here.
    pub async fn cohort_page(
        &self,
        filter: &RequestFilter,
        condition: &Condition,
        page: Page,
    ) -> Result<(u64, Vec<ServiceRequest>)> {
        dispatch!(self, read, cohort_page(filter, condition, page))
    }

    /// The requests stored under `keys` (a few thousand at a time), in key order, without
    /// requesters.
    pub async fn export_keys(&self, keys: &[i64]) -> Result<Vec<(i64, ServiceRequest)>> {
        dispatch!(self, read, export_keys(keys))
    }

    pub async fn count_requests(&self, filter: &RequestFilter) -> Result<i64> {
        dispatch!(self, read, count_requests(filter))
    }

    pub async fn request_counts(&self) -> Result<RequestCounts> {
        dispatch!(self, read, request_counts())
    }

    /// The request's history, oldest first.
    pub async fn events(&self, id: &ServiceRequestId) -> Result<Vec<StoredEvent>> {
        dispatch!(self, read, events(id.as_str()))
    }

    /// The histories of several requests: (request id, event), oldest first.
    pub async fn events_of(&self, ids: &[ServiceRequestId]) -> Result<Vec<(String, StoredEvent)>> {
        dispatch!(self, read, events_of(ids))
    }

    /// Events of the given kinds across all requests: (request id, event), oldest first.
    pub async fn event_feed(&self, feed: &EventFeed) -> Result<Vec<(String, StoredEvent)>> {
        dispatch!(self, read, event_feed(feed))
    }

    /// Files a new request: checks it against its service, gives it the next free number as id,
    /// and stores it with its `created` (and `routed`) events.
    pub async fn create_request(
        &self,
        new: NewServiceRequest,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<ServiceRequest> {
        let filing = crate::intake::Filing {
            new,
            actor,
            now,
            token: None,
        };
        let mut filed = dispatch!(self, write, file_requests(&[&filing]))?;
        filed
            .pop()
            .unwrap_or_else(|| Err(crate::StoreError::corrupt("a filing was not answered")))
    }

    /// Inserts requests that already have ids (imports), all or none. A taken id fails the
    /// whole batch with [`crate::StoreError::AlreadyExists`].
    pub async fn insert_requests(
        &self,
        batch: &[(ServiceRequest, Vec<RequestEvent>)],
    ) -> Result<()> {
        dispatch!(self, write, insert_requests(batch))
    }

    /// Inserts imported requests, or brings those already stored up to date with the source
    /// ([`ServiceRequest::refresh_from_source`]): a re-import is idempotent and a newer extract
    /// writes its changes as events. All or nothing.
    pub async fn upsert_requests(
        &self,
        batch: &[(ServiceRequest, Vec<RequestEvent>)],
        source: &str,
    ) -> Result<UpsertCounts> {
        let upserted = again_after_deadlock(|| async move {
            dispatch!(self, write, upsert_requests(batch, source, i64::MAX))
        });
        Ok(upserted.await?.counts)
    }

    /// [`Store::upsert_requests`] for one batch of an import that started when the store's keys
    /// ended at `fresh` ([`Store::request_keys`]): keys only grow, so a request already stored
    /// under a key from `fresh` on was written by this import, and a request of the batch that
    /// meets it repeats an id of the import's input. Those are listed, and upserted as usual
    /// (the later row updates the earlier). Nothing is kept in memory between batches.
    pub async fn upsert_import(
        &self,
        batch: &[(ServiceRequest, Vec<RequestEvent>)],
        source: &str,
        fresh: i64,
    ) -> Result<Upserted> {
        again_after_deadlock(|| async move {
            dispatch!(self, write, upsert_requests(batch, source, fresh))
        })
        .await
    }

    /// Links imported duplicates (child, original) whose original was not stored yet when they
    /// were written; pairs already linked, or whose original is not here, are left as they are.
    /// Returns how many were linked.
    pub async fn link_duplicates(
        &self,
        pairs: &[(ServiceRequestId, ServiceRequestId)],
    ) -> Result<u64> {
        if pairs.is_empty() {
            return Ok(0);
        }
        dispatch!(self, write, link_duplicates(pairs))
    }

    /// Saves a request changed by the caller, with the events of the change, if nobody saved it
    /// since the caller read it (`request.version`); otherwise [`crate::StoreError::Conflict`]
    /// and nothing is written. On success `request.version` is the new version.
    pub async fn save_request(
        &self,
        request: &mut ServiceRequest,
        events: &[RequestEvent],
    ) -> Result<()> {
        dispatch!(self, write, save_request(request, events))
    }

    /// Loads a request, applies `change` (a domain method returning its events) and saves both
    /// in one transaction. With `expected_version`, refuses to act on a newer version than the
    /// caller saw.
    pub async fn update_request<F>(
        &self,
        id: &ServiceRequestId,
        expected_version: Option<i64>,
        change: F,
    ) -> Result<ServiceRequest>
    where
        F: FnOnce(&mut ServiceRequest) -> Result<Vec<RequestEvent>, DomainError>,
    {
        dispatch!(
            self,
            write,
            update_request(id.as_str(), expected_version, change)
        )
    }

    /// Merges `child` into `parent` as a duplicate, saving both with their events atomically.
    pub async fn merge_requests(
        &self,
        child: &ServiceRequestId,
        parent: &ServiceRequestId,
        actor: Actor,
        now: DateTime<Utc>,
    ) -> Result<(ServiceRequest, ServiceRequest)> {
        dispatch!(
            self,
            write,
            merge_requests(child.as_str(), parent.as_str(), actor, now)
        )
    }
}
