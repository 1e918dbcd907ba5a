//! `GET /staff/requests`: the requests behind one number of the dashboard (the cohort and the
//! [`Facet`]), a page at a time; `GET /staff/requests/{id}`: one request with its history.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Html;
use civic311_analytics::Facet;
use civic311_domain::{ServiceRequest, ServiceRequestId};
use civic311_report::document::count;
use civic311_store::Page;

use super::{PageError, PageQuery, here, render, signed_in};
use crate::AppState;
use crate::error::ApiError;

/// Requests on a page of the list.
const PER_PAGE: u32 = 50;

pub struct Row {
    pub id: String,
    pub service: String,
    pub department: String,
    pub status: String,
    pub created: String,
    pub due: String,
    pub closed: String,
    pub address: String,
}

impl Row {
    fn of(r: &ServiceRequest, tz: chrono_tz::Tz) -> Row {
        let local = |t: chrono::DateTime<chrono::Utc>| {
            t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string()
        };
        Row {
            id: r.id.to_string(),
            service: r.service_code.to_string(),
            department: r
                .department
                .as_ref()
                .map_or_else(String::new, |d| d.to_string()),
            status: match r.status.reason() {
                Some(why) => format!("{} ({why})", r.status.state()),
                None => r.status.state().to_owned(),
            },
            created: local(r.created_at),
            due: r.due_at.map(local).unwrap_or_default(),
            closed: r.closed_at.map(local).unwrap_or_default(),
            address: r.location.address.clone().unwrap_or_default(),
        }
    }
}

#[derive(Template)]
#[template(path = "staff/requests.html")]
struct List {
    who: String,
    facet: String,
    total: String,
    total_raw: u64,
    first: u64,
    last: u64,
    rows: Vec<Row>,
    back: String,
    previous: Option<String>,
    next: Option<String>,
    api: String,
}

pub async fn requests(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    let cohort = q.cohort();
    let facet_text = q.facet.clone().unwrap_or_default();
    let page_text = q.page.clone().unwrap_or_default();
    let extra = [("facet", facet_text.as_str()), ("page", page_text.as_str())];
    let who = signed_in(&state, &headers, &here("/staff/requests", &cohort, &extra)).await?;
    let facet = Facet::parse(facet_text.trim()).map_err(ApiError::bad_request)?;
    let page: u64 = match page_text.trim() {
        "" => 1,
        p => p
            .parse()
            .ok()
            .filter(|&p| p >= 1)
            .ok_or_else(|| ApiError::bad_request(format!("page {p:?}: write 1 or more")))?,
    };
    let tz = state.open311.timezone;
    let options = cohort.options(tz)?;
    let offset = (page - 1) * u64::from(PER_PAGE);
    let behind = civic311_analytics::requests_behind(
        &state.store,
        &options,
        &facet,
        Page {
            limit: PER_PAGE,
            offset,
        },
    )
    .await?;
    let link = |path: &str, page: Option<u64>| {
        let mut q = cohort.to_query();
        q.append_pair("facet", &facet.to_string());
        if let Some(p) = page {
            q.append_pair("page", &p.to_string());
        }
        format!("{path}?{}", q.finish())
    };
    let shown = behind.requests.len() as u64;
    let list = List {
        who,
        facet: facet.to_string(),
        total: count(behind.total),
        total_raw: behind.total,
        first: if shown == 0 { 0 } else { offset + 1 },
        last: offset + shown,
        rows: behind.requests.iter().map(|r| Row::of(r, tz)).collect(),
        back: format!("/staff?{}", cohort.to_query().finish()),
        previous: (page > 1).then(|| link("/staff/requests", Some(page - 1))),
        next: (offset + shown < behind.total).then(|| link("/staff/requests", Some(page + 1))),
        api: link("/api/v1/staff/metrics/requests", None),
    };
    Ok(render(&list))
}

pub struct HistoryLine {
    pub at: String,
    pub who: String,
    pub what: String,
}

#[derive(Template)]
#[template(path = "staff/request.html")]
struct One {
    who: String,
    row: Row,
    description: String,
    channel: String,
    areas: Vec<String>,
    history: Vec<HistoryLine>,
}

pub async fn request(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let who = signed_in(&state, &headers, &format!("/staff/requests/{id}")).await?;
    let id = ServiceRequestId::parse(id).map_err(|e| ApiError::bad_request(e.to_string()))?;
    let r = state
        .store
        .request(&id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("service request {id} not found")))?;
    let tz = state.open311.timezone;
    let history = state
        .store
        .events(&id)
        .await?
        .into_iter()
        .map(|e| HistoryLine {
            at: e
                .event
                .at
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
            who: e.event.actor.to_string(),
            what: serde_json::to_string(&e.event.kind).unwrap_or_default(),
        })
        .collect();
    let one = One {
        who,
        row: Row::of(&r, tz),
        description: r.description.clone().unwrap_or_default(),
        channel: r.channel.as_str().to_owned(),
        areas: r
            .location
            .areas
            .iter()
            .map(|a| format!("{}:{}", a.layer, a.area))
            .collect(),
        history,
    };
    Ok(render(&one))
}
