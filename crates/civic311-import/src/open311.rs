//! Pulls another city's Open311 GeoReport v2 feed into the store: services first, then requests
//! window by window, resumable, polite, and tolerant of what real servers publish.
//!
//! - Ids and codes arrive as strings or numbers; both become strings, prefixed with the source
//!   name (`chicago:4fd3b...`) so several cities can live in one store without collisions.
//! - Dates come with an offset, with `Z`, with milliseconds, or without a zone (then they are
//!   the city's local time, `--timezone`).
//! - JSON is tried first; a server that only speaks XML is read as XML.
//! - Missing fields are absent, unknown fields ignored, `lat`/`long` may be strings,
//!   `media_url` may be a list. A record that cannot be used (no id, no date) is rejected with
//!   its position and reason; the rest of the page is kept.
//! - Requests are read in date windows with `page`/`page_size`; a server that ignores paging is
//!   detected (page 2 repeats page 1) and a window that may have hit its result cap is split in
//!   two until it is complete.
//! - After each window the position is saved (`sync_cursors`): a stopped run resumes there, and
//!   the next run continues from it, also re-reading requests updated since the last run where
//!   the server supports `updated_after`.
//! - At most one call per `min_interval`; 429 and 5xx answers are retried with back-off, and a
//!   `Retry-After` is honoured.

use std::collections::{HashMap, HashSet};
use std::time::Duration as StdDuration;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use chrono_tz::Tz;
use civic311_domain::time::parse_w3c;
use civic311_domain::{
    AttributeDatatype, AttributeDefinition, AttributeOption, Channel, ClosureReason,
    HistoricalRequest, LatLong, Location, Priority, RequestEvent, Service, ServiceCode,
    ServiceRequest, ServiceRequestId, Status,
};
use civic311_store::{Store, UpsertCounts};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ImportError;
use crate::report::{ImportReport, Reject};
use crate::xml;

/// What to pull and how politely.
#[derive(Debug, Clone)]
pub struct Pull {
    /// The endpoint, e.g. `https://311api.cityofchicago.org/open311/v2`.
    pub base: String,
    pub jurisdiction: Option<String>,
    /// Short name of the source; prefixes ids and codes and names the resume cursor.
    pub source: String,
    /// Start here instead of where the last run stopped.
    pub since: Option<DateTime<Utc>>,
    /// Stop at this time (default: now).
    pub until: Option<DateTime<Utc>>,
    /// The city's time zone, for dates without one.
    pub timezone: Tz,
    /// Length of the first date window; windows that may be truncated are split.
    pub window: Duration,
    /// Requests asked per page.
    pub page_size: u32,
    /// Least time between two calls to the server.
    pub min_interval: StdDuration,
}

impl Pull {
    pub fn new(base: &str, source: &str) -> Pull {
        Pull {
            base: base.trim_end_matches('/').to_owned(),
            jurisdiction: None,
            source: source.to_owned(),
            since: None,
            until: None,
            timezone: Tz::UTC,
            window: Duration::days(7),
            page_size: 100,
            min_interval: StdDuration::from_secs(1),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WireFormat {
    Json,
    Xml,
}

impl WireFormat {
    fn ext(self) -> &'static str {
        match self {
            WireFormat::Json => "json",
            WireFormat::Xml => "xml",
        }
    }
}

/// What a pull did.
#[derive(Debug, Default)]
pub struct PullReport {
    pub format: Option<WireFormat>,
    pub services: usize,
    pub requests_seen: usize,
    pub counts: UpsertCounts,
    /// Records that could not be used, by position in the page they came in.
    pub import: ImportReport,
    pub calls: usize,
    pub windows: usize,
    /// Windows the server capped and that could not be split further.
    pub possibly_truncated: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    pub paging_supported: Option<bool>,
    pub updated_after_supported: Option<bool>,
}

impl std::fmt::Display for PullReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} services; {} requests read ({} new, {} updated, {} unchanged, {} rejected) in {} \
             calls over {} windows",
            self.services,
            self.requests_seen,
            self.counts.inserted,
            self.counts.updated,
            self.counts.unchanged,
            self.import.rejected.len(),
            self.calls,
            self.windows
        )
    }
}

/// Where the last run stopped.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Cursor {
    /// Requests created before this were read.
    next_start: DateTime<Utc>,
    /// When the last complete run started: the next run re-reads what was updated since.
    last_run: Option<DateTime<Utc>>,
    format: Option<WireFormat>,
}

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{url}: {reason}")]
    Http { url: String, reason: String },
    #[error("{url}: the answer is neither GeoReport JSON nor XML: {reason}")]
    Unreadable { url: String, reason: String },
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error(transparent)]
    Store(#[from] civic311_store::StoreError),
}

struct Client<'a> {
    http: reqwest::Client,
    pull: &'a Pull,
    last_call: Option<tokio::time::Instant>,
    calls: usize,
}

enum Fetched {
    Ok(Value),
    /// The server says the resource or format does not exist (404, 406, 415, 501).
    Missing(u16),
}

impl<'a> Client<'a> {
    fn new(pull: &'a Pull) -> Result<Client<'a>, PullError> {
        let http = reqwest::Client::builder()
            .user_agent(concat!(
                "civic311/",
                env!("CARGO_PKG_VERSION"),
                " (Open311 import)"
            ))
            .timeout(StdDuration::from_secs(60))
            .build()
            .map_err(|e| PullError::Http {
                url: pull.base.clone(),
                reason: e.to_string(),
            })?;
        Ok(Client {
            http,
            pull,
            last_call: None,
            calls: 0,
        })
    }

    async fn polite_wait(&mut self) {
        if let Some(last) = self.last_call {
            let next = last + self.pull.min_interval;
            tokio::time::sleep_until(next).await;
        }
        self.last_call = Some(tokio::time::Instant::now());
    }

    /// GETs `path` (without extension) in `format`, retrying what is worth retrying.
    async fn get(
        &mut self,
        path: &str,
        format: WireFormat,
        query: &[(&str, String)],
    ) -> Result<Fetched, PullError> {
        let url = format!("{}/{path}.{}", self.pull.base, format.ext());
        let mut query: Vec<(&str, String)> = query.to_vec();
        if let Some(j) = &self.pull.jurisdiction {
            query.push(("jurisdiction_id", j.clone()));
        }
        let mut delay = StdDuration::from_secs(2);
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.polite_wait().await;
            self.calls += 1;
            let sent = self.http.get(&url).query(&query).send().await;
            let retry_after = |r: &reqwest::Response| {
                r.headers()
                    .get(reqwest::header::RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .map(StdDuration::from_secs)
            };
            let reason = match sent {
                Ok(resp) if resp.status().is_success() => {
                    let body = resp.text().await.map_err(|e| PullError::Http {
                        url: url.clone(),
                        reason: e.to_string(),
                    })?;
                    return parse_body(&body, format)
                        .map(Fetched::Ok)
                        .map_err(|reason| PullError::Unreadable { url, reason });
                }
                Ok(resp) if matches!(resp.status().as_u16(), 404 | 406 | 415 | 501) => {
                    return Ok(Fetched::Missing(resp.status().as_u16()));
                }
                Ok(resp) if resp.status().as_u16() == 429 || resp.status().is_server_error() => {
                    if let Some(wait) = retry_after(&resp) {
                        delay = wait.min(StdDuration::from_secs(300));
                    }
                    format!("HTTP {}", resp.status())
                }
                Ok(resp) => {
                    let status = resp.status();
                    let body = resp.text().await.unwrap_or_default();
                    return Err(PullError::Http {
                        url,
                        reason: format!(
                            "HTTP {status}: {}",
                            body.chars().take(300).collect::<String>()
                        ),
                    });
                }
                Err(e) => e.to_string(),
            };
            if attempt == 4 {
                return Err(PullError::Http {
                    url,
                    reason: format!("{reason}, after {attempt} attempts"),
                });
            }
            tracing::warn!(%url, %reason, ?delay, "retrying");
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
}

fn parse_body(body: &str, format: WireFormat) -> Result<Value, String> {
    let trimmed = body.trim_start_matches('\u{feff}').trim_start();
    // Some servers answer .json with XML (or the reverse): read what came.
    if trimmed.starts_with('<') {
        let (_, value) = xml::parse(trimmed)?;
        return Ok(value);
    }
    match serde_json::from_str::<Value>(trimmed) {
        Ok(v) => Ok(v),
        Err(e) if format == WireFormat::Json => Err(e.to_string()),
        Err(e) => Err(format!("not XML, and not JSON either ({e})")),
    }
}

/// A list out of a GeoReport answer: a JSON array; an object wrapping one
/// (`{"services": [...]}`); an XML list document (`<services><service>...`, where one item
/// comes as an object, not a list); or a single record where a list was expected.
fn list(v: Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items,
        Value::Object(map)
            if !map.contains_key("service_code") && !map.contains_key("service_request_id") =>
        {
            map.into_iter()
                .flat_map(|(_, v)| match v {
                    Value::Array(items) => items,
                    Value::Object(o) => vec![Value::Object(o)],
                    _ => Vec::new(),
                })
                .collect()
        }
        Value::Object(map) => vec![Value::Object(map)],
        _ => Vec::new(),
    }
}

fn flag(v: &Value, key: &str) -> bool {
    text(v, key).is_some_and(|t| t.eq_ignore_ascii_case("true") || t == "1")
}

/// The questions of a service definition (`services/{code}`), in their order.
fn attributes_from(definition: Value) -> Vec<AttributeDefinition> {
    let definition = match definition {
        Value::Array(mut items) if !items.is_empty() => items.swap_remove(0),
        other => other,
    };
    let mut attributes: Vec<AttributeDefinition> = definition
        .get("attributes")
        .cloned()
        .map(list)
        .unwrap_or_default()
        .iter()
        .filter_map(|a| {
            let datatype = match text(a, "datatype")?.to_ascii_lowercase().as_str() {
                "number" => AttributeDatatype::Number,
                "datetime" => AttributeDatatype::Datetime,
                "text" => AttributeDatatype::Text,
                "singlevaluelist" => AttributeDatatype::Singlevaluelist,
                "multivaluelist" => AttributeDatatype::Multivaluelist,
                _ => AttributeDatatype::String,
            };
            Some(AttributeDefinition {
                code: text(a, "code")?,
                variable: a.get("variable").is_none_or(|_| flag(a, "variable")),
                datatype,
                required: flag(a, "required"),
                order: text(a, "order").and_then(|o| o.parse().ok()).unwrap_or(0),
                description: text(a, "description").unwrap_or_default(),
                datatype_description: text(a, "datatype_description"),
                values: a
                    .get("values")
                    .cloned()
                    .map(list)
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|v| {
                        let key = text(v, "key")?;
                        Some(AttributeOption {
                            name: text(v, "name").unwrap_or_else(|| key.clone()),
                            key,
                        })
                    })
                    .collect(),
            })
        })
        .collect();
    attributes.sort_by_key(|a| a.order);
    attributes
}

/// A field as text, whether the server wrote a string, a number or a boolean.
fn text(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn number(v: &Value, key: &str) -> Option<f64> {
    match v.get(key)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `media_url` as a string, or the first URL of a list of strings or `{url: ...}` objects.
fn media_url(v: &Value) -> Option<String> {
    match v.get("media_url")? {
        Value::String(s) => Some(s.trim().to_owned()).filter(|s| !s.is_empty()),
        Value::Array(items) => items.iter().find_map(|i| match i {
            Value::String(s) => Some(s.clone()),
            Value::Object(_) => text(i, "url"),
            _ => None,
        }),
        Value::Object(_) => text(v.get("media_url")?, "url"),
        _ => None,
    }
}

fn prefixed(source: &str, id: &str) -> String {
    format!("{source}:{id}")
}

fn service_from(v: &Value, source: &str) -> Option<Service> {
    let code = text(v, "service_code")?;
    Some(Service {
        code: ServiceCode::parse(prefixed(source, &code)).ok()?,
        name: text(v, "service_name").unwrap_or_else(|| code.clone()),
        description: text(v, "description"),
        group: text(v, "group"),
        keywords: text(v, "keywords")
            .map(|k| {
                k.split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default(),
        department: None,
        attributes: Vec::new(),
        sla: None,
        sla_by_priority: Default::default(),
        category: None,
        active: true,
    })
}

/// One feed record as a request and its history, or why it cannot be used.
fn request_from(
    v: &Value,
    pull: &Pull,
) -> Result<(ServiceRequest, Vec<RequestEvent>, String), (&'static str, String)> {
    let tz = pull.timezone;
    let id = text(v, "service_request_id")
        .or_else(|| text(v, "token"))
        .ok_or(("service_request_id", "missing".to_owned()))?;
    let code = text(v, "service_code").ok_or(("service_code", "missing".to_owned()))?;
    let created =
        text(v, "requested_datetime").ok_or(("requested_datetime", "missing".to_owned()))?;
    let created_at = parse_w3c(&created, tz)
        .ok_or(("requested_datetime", format!("{created:?} is not a date")))?;
    let updated_at = text(v, "updated_datetime").and_then(|t| parse_w3c(&t, tz));
    let status = match text(v, "status").map(|s| s.to_ascii_lowercase()).as_deref() {
        Some("closed" | "resolved" | "completed" | "fixed") => {
            Status::Closed(ClosureReason::Resolved)
        }
        _ => Status::Open,
    };
    let point = match (number(v, "lat"), number(v, "long")) {
        // (0, 0) is where geocoders put what they could not place.
        (Some(lat), Some(long)) if lat != 0.0 || long != 0.0 => LatLong::new(lat, long).ok(),
        _ => None,
    };
    let h = HistoricalRequest {
        id: ServiceRequestId::parse(prefixed(&pull.source, &id))
            .map_err(|e| ("service_request_id", e.to_string()))?,
        service_code: ServiceCode::parse(prefixed(&pull.source, &code))
            .map_err(|e| ("service_code", e.to_string()))?,
        status,
        priority: Priority::Normal,
        description: text(v, "description").map(|d| {
            d.chars()
                .take(civic311_domain::MAX_DESCRIPTION_CHARS)
                .collect()
        }),
        location: Location {
            point,
            address: text(v, "address"),
            address_id: text(v, "address_id"),
            zip: text(v, "zipcode"),
            areas: Vec::new(),
        },
        channel: Channel::Other,
        department: None,
        assignee: None,
        due_at: text(v, "expected_datetime").and_then(|t| parse_w3c(&t, tz)),
        created_at,
        closed_at: status
            .is_closed()
            .then(|| updated_at.unwrap_or(created_at).max(created_at)),
    };
    let (mut request, events) =
        ServiceRequest::from_history(h, &pull.source).map_err(|e| ("record", e.to_string()))?;
    request.media_url =
        media_url(v).filter(|u| u.starts_with("http://") || u.starts_with("https://"));
    if let Some(u) = updated_at {
        request.updated_at = request.updated_at.max(u);
    }
    let name = text(v, "service_name").unwrap_or(code);
    Ok((request, events, name))
}

fn w3c(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Pulls services then requests from `pull.base` into `store`; see the module docs.
pub async fn pull(
    store: &Store,
    pull: &Pull,
    mut progress: impl FnMut(&str),
) -> Result<PullReport, PullError> {
    let started = Utc::now();
    let until = pull.until.unwrap_or(started);
    let mut client = Client::new(pull)?;
    let mut report = PullReport::default();
    let saved: Option<Cursor> = store
        .sync_cursor(&pull.source)
        .await?
        .and_then(|c| serde_json::from_str(&c).ok());

    // Services, in the format the server speaks.
    let mut format = saved
        .as_ref()
        .and_then(|c| c.format)
        .unwrap_or(WireFormat::Json);
    let services = match client.get("services", format, &[]).await {
        Ok(Fetched::Ok(v)) => v,
        Ok(Fetched::Missing(_)) | Err(PullError::Unreadable { .. })
            if format == WireFormat::Json =>
        {
            format = WireFormat::Xml;
            match client.get("services", format, &[]).await? {
                Fetched::Ok(v) => v,
                Fetched::Missing(status) => {
                    return Err(PullError::Http {
                        url: format!("{}/services.xml", pull.base),
                        reason: format!(
                            "HTTP {status} in both JSON and XML: is this an Open311 endpoint?"
                        ),
                    });
                }
            }
        }
        Ok(Fetched::Missing(status)) => {
            return Err(PullError::Http {
                url: format!("{}/services.{}", pull.base, format.ext()),
                reason: format!("HTTP {status}"),
            });
        }
        Err(e) => return Err(e),
    };
    report.format = Some(format);
    let mut known: HashSet<String> = HashSet::new();
    for item in list(services) {
        let Some(mut s) = service_from(&item, &pull.source) else {
            continue;
        };
        if flag(&item, "metadata")
            && let Some(code) = text(&item, "service_code")
        {
            // A definition that cannot be read leaves the service without questions, not
            // the import without the service.
            match client.get(&format!("services/{code}"), format, &[]).await {
                Ok(Fetched::Ok(v)) => s.attributes = attributes_from(v),
                Ok(Fetched::Missing(_)) => {}
                Err(e) => tracing::warn!(error = %e, "service definition skipped"),
            }
        }
        store.upsert_service(&s).await?;
        known.insert(s.code.to_string());
        report.services += 1;
    }
    progress(&format!("{} services ({})", report.services, format.ext()));

    // Requests, window by window.
    let mut start = pull
        .since
        .or(saved.as_ref().map(|c| c.next_start))
        .unwrap_or(until - Duration::days(90));
    let mut windows: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    while start < until {
        let end = (start + pull.window).min(until);
        windows.push((start, end));
        start = end;
    }
    windows.reverse();
    let mut max_unpaged = 0usize;
    while let Some((from, to)) = windows.pop() {
        let query = vec![
            ("start_date", w3c(from)),
            ("end_date", w3c(to - Duration::seconds(1)).max(w3c(from))),
        ];
        let (items, paged) =
            read_pages(&mut client, format, &query, pull.page_size, &mut report).await?;
        report.windows += 1;
        if !paged && !items.is_empty() {
            let capped = items.len() >= max_unpaged;
            max_unpaged = max_unpaged.max(items.len());
            if capped && to - from > Duration::minutes(1) {
                let mid = from + (to - from) / 2;
                windows.push((mid, to));
                windows.push((from, mid));
                continue;
            } else if capped {
                report.possibly_truncated.push((from, to));
            }
        }
        store_items(store, pull, items, &mut known, &mut report).await?;
        let cursor = Cursor {
            next_start: to,
            last_run: saved.as_ref().and_then(|c| c.last_run),
            format: Some(format),
        };
        save(store, pull, &cursor).await?;
        progress(&format!(
            "{} .. {}: {} requests so far ({} new, {} updated)",
            w3c(from),
            w3c(to),
            report.requests_seen,
            report.counts.inserted,
            report.counts.updated
        ));
    }

    // Requests created before the window but changed since the last run.
    if let Some(last_run) = saved.as_ref().and_then(|c| c.last_run) {
        // A server that honours updated_after has nothing updated ten years from now.
        let probe = vec![("updated_after", w3c(started + Duration::days(3650)))];
        let supported = match client.get("requests", format, &probe).await? {
            Fetched::Ok(v) => list(v).is_empty(),
            Fetched::Missing(_) => false,
        };
        report.updated_after_supported = Some(supported);
        if supported {
            let query = vec![("updated_after", w3c(last_run))];
            let (items, _) =
                read_pages(&mut client, format, &query, pull.page_size, &mut report).await?;
            let n = items.len();
            store_items(store, pull, items, &mut known, &mut report).await?;
            progress(&format!("{n} requests updated since {}", w3c(last_run)));
        } else {
            progress("the server ignores updated_after: older requests' changes are not re-read");
        }
    }
    save(
        store,
        pull,
        &Cursor {
            next_start: until,
            last_run: Some(started),
            format: Some(format),
        },
    )
    .await?;
    report.calls = client.calls;
    Ok(report)
}

async fn save(store: &Store, pull: &Pull, cursor: &Cursor) -> Result<(), PullError> {
    let json = serde_json::to_string(cursor).map_err(|e| PullError::Unreadable {
        url: pull.base.clone(),
        reason: e.to_string(),
    })?;
    store
        .set_sync_cursor(&pull.source, &json, Utc::now())
        .await?;
    Ok(())
}

/// Reads every page of a query, until an empty page. Returns the records and whether the
/// server pages: one that ignores `page` answers page 2 with page 1 again. (A short page is not
/// taken as the last: some servers cap pages below the `page_size` asked.)
async fn read_pages(
    client: &mut Client<'_>,
    format: WireFormat,
    query: &[(&str, String)],
    page_size: u32,
    report: &mut PullReport,
) -> Result<(Vec<Value>, bool), PullError> {
    let mut all: Vec<Value> = Vec::new();
    let mut seen: HashSet<String> = HashSet::new();
    for page in 1..=100_000u32 {
        let mut q = query.to_vec();
        q.push(("page", page.to_string()));
        q.push(("page_size", page_size.to_string()));
        let items = match client.get("requests", format, &q).await? {
            Fetched::Ok(v) => list(v),
            Fetched::Missing(_) => Vec::new(),
        };
        let (n, before) = (items.len(), all.len());
        for item in items {
            let key = text(&item, "service_request_id").unwrap_or_else(|| item.to_string());
            if seen.insert(key) {
                all.push(item);
            }
        }
        if all.len() == before {
            // An empty page ends the list; a page of records already read means `page` is
            // ignored, and what we have may be only the server's first (capped) answer.
            let repeated = n > 0;
            if page == 2 {
                report.paging_supported = Some(!repeated);
            }
            return Ok((all, !repeated));
        }
        if page == 2 {
            report.paging_supported = Some(true);
        }
    }
    Ok((all, true))
}

async fn store_items(
    store: &Store,
    pull: &Pull,
    items: Vec<Value>,
    known: &mut HashSet<String>,
    report: &mut PullReport,
) -> Result<(), PullError> {
    let mut batch = Vec::new();
    let mut missing: HashMap<String, (ServiceCode, String)> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        report.requests_seen += 1;
        match request_from(item, pull) {
            Ok((request, events, name)) => {
                let code = request.service_code.to_string();
                if !known.contains(&code) {
                    missing.insert(code, (request.service_code.clone(), name));
                }
                batch.push((request, events));
            }
            Err((column, reason)) => report.import.rejected.push(Reject {
                row: report.requests_seen as u64,
                line: i as u64 + 1,
                column: Some(column.to_owned()),
                reason,
            }),
        }
    }
    // Requests of services the list no longer offers: keep them, under a retired service.
    for (code, (service_code, name)) in missing {
        let service = Service {
            code: service_code,
            name,
            description: None,
            group: None,
            keywords: Vec::new(),
            department: None,
            attributes: Vec::new(),
            sla: None,
            sla_by_priority: Default::default(),
            category: None,
            active: false,
        };
        store.upsert_service(&service).await?;
        known.insert(code);
    }
    for chunk in batch.chunks(1_000) {
        report.counts += store.upsert_requests(chunk, &pull.source).await?;
    }
    Ok(())
}
