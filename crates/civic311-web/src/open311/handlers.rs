//! The GeoReport endpoints. Each resource function returns a [`Reply`] or an [`Open311Error`];
//! the entry points pick the format from the path and render either in it.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use chrono::{Duration, Utc};
use civic311_domain::{
    Actor, Channel, ClosureReason, EventKind, HoldReason, LatLong, Location, NewServiceRequest,
    Priority, Requester, ServiceCode, ServiceRequestId, Status,
};
use civic311_store::{EventFeed, MAX_MEDIA_BYTES, Page, RequestFilter, StoredEvent, TokenState};
use serde_json::{Value, json};

use super::error::Open311Error;
use super::format::{Format, Reply};
use super::params::Params;
use super::wire::{self, WireDefinition, WireRequest, WireService};
use crate::AppState;

type Result<T, E = Open311Error> = std::result::Result<T, E>;

/// The spec's default window for request lists without dates.
const DEFAULT_WINDOW_DAYS: i64 = 90;
const MAX_PAGE_SIZE: u32 = 500;
const DEFAULT_PAGE_SIZE: u32 = 50;
const MAX_UPDATES: u32 = 1_000;

fn json<T: serde::Serialize>(v: T) -> Result<Value> {
    serde_json::to_value(v).map_err(|e| {
        tracing::error!(error = %e, "cannot serialize an Open311 reply");
        Open311Error::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    })
}

fn finish(format: Format, reply: Result<Reply>) -> Response {
    match reply {
        Ok(r) => r.into_response(),
        Err(e) => e.in_format(format).into_response(),
    }
}

fn format_of(ext: Option<Format>, file: &str) -> Result<Format> {
    ext.ok_or_else(|| {
        Open311Error::not_found(format!(
            "{file}: add .json or .xml to the path to choose the response format"
        ))
    })
}

pub async fn get_top(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let query = query.unwrap_or_default();
    let key = format!("{file}?{query}");
    let generation = state.store.generation();
    let render = async {
        let (name, ext) = Format::split(&file);
        let format = ext.unwrap_or(Format::Json);
        let params = Params::parse(query.as_bytes());
        let reply = async {
            let format = format_of(ext, &file)?;
            check_jurisdiction(&state, &params)?;
            match name {
                "discovery" => Ok(discovery(&state, &headers, format)),
                "services" => services(&state, format).await,
                "requests" => list_requests(&state, &params, format).await,
                "servicerequestupdates" => list_updates(&state, &params, format).await,
                _ => Err(Open311Error::not_found(format!("no such resource: {name}"))),
            }
        }
        .await;
        finish(format, reply)
    };
    // Discovery names the Host it was asked on: not shared between clients.
    if file.starts_with("discovery") {
        return render.await;
    }
    state.replies.reply(key, generation, render).await
}

pub async fn get_item(
    State(state): State<AppState>,
    Path((dir, file)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> Response {
    let query = query.unwrap_or_default();
    let key = format!("{dir}/{file}?{query}");
    let generation = state.store.generation();
    let render = async {
        let (item, ext) = Format::split(&file);
        let format = ext.unwrap_or(Format::Json);
        let params = Params::parse(query.as_bytes());
        let reply = async {
            let format = format_of(ext, &file)?;
            check_jurisdiction(&state, &params)?;
            match dir.as_str() {
                "services" => service_definition(&state, item, format).await,
                "requests" => one_request(&state, item, &params, format).await,
                "tokens" => token(&state, item, format).await,
                _ => Err(Open311Error::not_found(format!("no such resource: {dir}"))),
            }
        }
        .await;
        finish(format, reply)
    };
    state.replies.reply(key, generation, render).await
}

pub async fn post_top(
    State(state): State<AppState>,
    Path(file): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    request: Request,
) -> Response {
    let (name, ext) = Format::split(&file);
    let format = ext.unwrap_or(Format::Json);
    let reply = async {
        let format = format_of(ext, &file)?;
        let mut params = Params::parse(query.unwrap_or_default().as_bytes());
        let upload = read_body(&state, request, &mut params).await?;
        check_jurisdiction(&state, &params)?;
        match name {
            "requests" => post_request(&state, &headers, params, upload, format).await,
            "servicerequestupdates" => post_update(&state, params, format).await,
            _ => Err(Open311Error::method_not_allowed(
                format!("{name} cannot be POSTed to"),
                "GET, HEAD",
            )),
        }
    }
    .await;
    finish(format, reply)
}

pub async fn method_not_allowed(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    let postable = [
        "/open311/v2/requests.",
        "/open311/v2/servicerequestupdates.",
    ]
    .iter()
    .any(|p| path.starts_with(p) && !path[p.len()..].contains('/'));
    Open311Error::method_not_allowed(
        format!("{method} is not allowed on {path}"),
        if postable {
            "GET, HEAD, POST"
        } else {
            "GET, HEAD"
        },
    )
    .in_format(Format::of_path(uri.path()))
    .into_response()
}

pub async fn not_found(uri: Uri) -> Response {
    Open311Error::not_found(format!("no such Open311 resource: {}", uri.path()))
        .in_format(Format::of_path(uri.path()))
        .into_response()
}

fn check_jurisdiction(state: &AppState, params: &Params) -> Result<()> {
    match (
        params.get("jurisdiction_id"),
        &state.open311.jurisdiction_id,
    ) {
        (Some(asked), Some(ours)) if !asked.eq_ignore_ascii_case(ours) => {
            Err(Open311Error::not_found(format!(
                "unknown jurisdiction_id {asked:?}; this server serves {ours:?}"
            )))
        }
        _ => Ok(()),
    }
}

fn base_url(state: &AppState, headers: &HeaderMap) -> String {
    if let Some(url) = &state.open311.public_url {
        return url.trim_end_matches('/').to_owned();
    }
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    format!("http://{host}")
}

fn discovery(state: &AppState, headers: &HeaderMap, format: Format) -> Reply {
    let base = base_url(state, headers);
    let changeset = "2026-11-23T00:00:00Z";
    Reply::ok(
        format,
        "discovery",
        json!({
            "changeset": changeset,
            "contact": state.open311.contact,
            "key_service": state.open311.key_service,
            "endpoints": [{
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": format!("{base}/open311/v2"),
                "changeset": changeset,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }],
        }),
    )
}

async fn services(state: &AppState, format: Format) -> Result<Reply> {
    let catalog = catalog(state).await?;
    let wire: Vec<WireService> = catalog
        .services
        .iter()
        .filter(|s| s.active)
        .map(WireService::from)
        .collect();
    Ok(Reply::ok(format, "services", json(wire)?))
}

async fn service_definition(state: &AppState, code: &str, format: Format) -> Result<Reply> {
    let unknown = || Open311Error::not_found(format!("unknown service_code {code:?}"));
    let code = ServiceCode::parse(code).map_err(|_| unknown())?;
    let service = state.store.service(&code).await?.ok_or_else(unknown)?;
    Ok(Reply::ok(
        format,
        "service_definition",
        json(WireDefinition::from(&service))?,
    ))
}

async fn catalog(state: &AppState) -> Result<std::sync::Arc<crate::catalog::Catalog>> {
    Ok(state.catalog.get(&state.store).await?)
}

fn request_id(id: &str) -> Result<ServiceRequestId> {
    ServiceRequestId::parse(id)
        .map_err(|_| Open311Error::bad_request(format!("{id:?} is not a service_request_id")))
}

/// Requests as GeoReport shows them, with their public histories when `extensions` is on.
async fn render_requests(
    state: &AppState,
    requests: Vec<civic311_domain::ServiceRequest>,
    extensions: bool,
) -> Result<Value> {
    let names = catalog(state).await?;
    let mut histories: HashMap<String, Vec<StoredEvent>> = HashMap::new();
    if extensions {
        let ids: Vec<ServiceRequestId> = requests.iter().map(|r| r.id.clone()).collect();
        for (id, e) in state.store.events_of(&ids).await? {
            histories.entry(id).or_default().push(e);
        }
    }
    let tz = state.open311.timezone;
    let wire: Vec<WireRequest> = requests
        .into_iter()
        .map(|r| {
            let history = extensions.then(|| {
                histories
                    .get(r.id.as_str())
                    .map(Vec::as_slice)
                    .unwrap_or_default()
            });
            WireRequest::new(r, &names, tz, history)
        })
        .collect();
    json(wire)
}

async fn list_requests(state: &AppState, params: &Params, format: Format) -> Result<Reply> {
    let tz = state.open311.timezone;
    let extensions = params.bool("extensions")?;
    let page = params.number("page", 1, 1..=u32::MAX)?;
    let page_size = params.number("page_size", DEFAULT_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?;
    // Every parameter is checked, even those a list of ids makes moot: a malformed one is an
    // error, never silently ignored.
    let ids: Vec<ServiceRequestId> = params
        .list("service_request_id")
        .into_iter()
        .map(request_id)
        .collect::<Result<_>>()?;
    let mut filter = RequestFilter::default();
    for code in params.list("service_code") {
        filter.service_codes.push(
            ServiceCode::parse(code).map_err(|_| {
                Open311Error::bad_request(format!("{code:?} is not a service_code"))
            })?,
        );
    }
    for status in params.list("status") {
        match status.to_ascii_lowercase().as_str() {
            "open" => filter.states.extend(["open", "in_progress", "on_hold"]),
            "closed" => filter.states.push("closed"),
            _ => {
                return Err(Open311Error::bad_request(format!(
                    "status {status:?} must be open or closed"
                )));
            }
        }
    }
    let start = params.datetime("start_date", tz)?;
    let end = params.datetime("end_date", tz)?;
    let updated_after = params.datetime("updated_after", tz)?;
    let updated_before = params.datetime("updated_before", tz)?;
    if let (Some(s), Some(e)) = (start, end)
        && s > e
    {
        return Err(Open311Error::bad_request("start_date is after end_date"));
    }
    if !ids.is_empty() {
        // The spec: a list of ids overrides every other argument.
        filter = RequestFilter {
            ids,
            ..RequestFilter::default()
        };
    } else {
        let window = Duration::days(DEFAULT_WINDOW_DAYS);
        filter.created_from = match (start, end) {
            (Some(s), _) => Some(s),
            (None, Some(e)) => Some(e - window),
            // A sync by update time wants every request changed then, however old.
            (None, None) if updated_after.is_some() || updated_before.is_some() => None,
            (None, None) => Some(Utc::now() - window),
        };
        // end_date is inclusive.
        filter.created_before = end.map(|e| e + Duration::microseconds(1));
        filter.updated_after = updated_after;
        filter.updated_before = updated_before;
    }
    let page = Page {
        limit: page_size,
        offset: u64::from(page - 1) * u64::from(page_size),
    };
    let requests = state.store.public_requests(&filter, page).await?;
    Ok(Reply::ok(
        format,
        "service_requests",
        render_requests(state, requests, extensions).await?,
    ))
}

async fn one_request(state: &AppState, id: &str, params: &Params, format: Format) -> Result<Reply> {
    let unknown = || Open311Error::not_found(format!("no service request {id:?}"));
    let id = ServiceRequestId::parse(id).map_err(|_| unknown())?;
    let request = state.store.public_request(&id).await?.ok_or_else(unknown)?;
    let extensions = params.bool("extensions")?;
    Ok(Reply::ok(
        format,
        "service_requests",
        render_requests(state, vec![request], extensions).await?,
    ))
}

async fn token(state: &AppState, token: &str, format: Format) -> Result<Reply> {
    let id = match state.store.token(token).await? {
        TokenState::Unknown => {
            return Err(Open311Error::not_found(format!("unknown token {token:?}")));
        }
        TokenState::Pending => None,
        TokenState::Filed(id) => Some(id.to_string()),
    };
    Ok(Reply::ok(
        format,
        "service_requests",
        json!([{ "service_request_id": id, "token": token }]),
    ))
}

/// The client behind a POST: the name its API key was issued to.
async fn authenticate(state: &AppState, params: &Params) -> Result<String> {
    match params.get("api_key") {
        Some(key) => state
            .store
            .api_key_owner(key)
            .await?
            .ok_or_else(|| Open311Error::forbidden("api_key is not valid")),
        None if state.open311.require_api_key => {
            Err(Open311Error::bad_request("api_key is required"))
        }
        None => Ok("anonymous".into()),
    }
}

/// A photo sent with a multipart POST (CitySDK style), checked by its content.
struct Upload {
    content_type: &'static str,
    bytes: Bytes,
}

fn image_type(bytes: &[u8]) -> Option<&'static str> {
    crate::media::file_type(bytes).filter(|t| t.starts_with("image/"))
}

/// Reads a form-encoded or multipart body into `params`; returns the uploaded photo, if any.
async fn read_body(
    state: &AppState,
    request: Request,
    params: &mut Params,
) -> Result<Option<Upload>> {
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart = Multipart::from_request(request, state)
            .await
            .map_err(|e| Open311Error::bad_request(format!("unreadable multipart body: {e}")))?;
        let mut upload = None;
        loop {
            let field = match multipart.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return Err(multipart_error(e)),
            };
            let name = field.name().unwrap_or("").to_owned();
            if name == "media" && field.file_name().is_some() {
                let bytes = field.bytes().await.map_err(multipart_error)?;
                if bytes.len() > MAX_MEDIA_BYTES {
                    return Err(too_large());
                }
                let content_type = image_type(&bytes).ok_or_else(|| {
                    Open311Error::new(
                        StatusCode::UNSUPPORTED_MEDIA_TYPE,
                        "media must be a JPEG, PNG, GIF or WebP image",
                    )
                })?;
                upload = Some(Upload {
                    content_type,
                    bytes,
                });
            } else {
                let text = field.text().await.map_err(multipart_error)?;
                params.0.push((name, text));
            }
        }
        Ok(upload)
    } else if content_type.is_empty()
        || content_type.starts_with("application/x-www-form-urlencoded")
    {
        let bytes = Bytes::from_request(request, state)
            .await
            .map_err(|_| too_large())?;
        params.0.extend(Params::parse(&bytes).0);
        Ok(None)
    } else {
        Err(Open311Error::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "send the request as application/x-www-form-urlencoded or multipart/form-data, \
                 not {content_type}"
            ),
        ))
    }
}

fn too_large() -> Open311Error {
    Open311Error::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the request is too large; media may be up to {} MB",
            MAX_MEDIA_BYTES / (1024 * 1024)
        ),
    )
}

fn multipart_error(e: axum::extract::multipart::MultipartError) -> Open311Error {
    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
        too_large()
    } else {
        Open311Error::bad_request(format!("unreadable multipart body: {}", e.body_text()))
    }
}

fn location(params: &Params) -> Result<Location> {
    let point = match (params.float("lat")?, params.float("long")?) {
        (Some(lat), Some(long)) => {
            Some(LatLong::new(lat, long).map_err(|e| Open311Error::bad_request(e.to_string()))?)
        }
        (None, None) => None,
        _ => {
            return Err(Open311Error::bad_request(
                "lat and long must be given together",
            ));
        }
    };
    let location = Location {
        point,
        address: params.owned("address_string"),
        address_id: params.owned("address_id"),
        zip: None,
        areas: Vec::new(),
    };
    if location.point.is_none() && location.address.is_none() && location.address_id.is_none() {
        return Err(Open311Error::bad_request(
            "a location is required: lat and long, address_string or address_id",
        ));
    }
    Ok(location)
}

fn requester(params: &Params) -> Result<Option<Requester>> {
    if let Some(email) = params.get("email")
        && (!email.contains('@') || email.contains(char::is_whitespace))
    {
        return Err(Open311Error::bad_request(format!(
            "email {email:?} is not an e-mail address"
        )));
    }
    let r = Requester {
        first_name: params.owned("first_name"),
        last_name: params.owned("last_name"),
        email: params.owned("email"),
        phone: params.owned("phone"),
        account_id: params.owned("account_id"),
        device_id: params.owned("device_id"),
        consent: civic311_domain::Consent {
            // Someone who leaves an address or number through a 311 app expects to hear back.
            contact: params.get("email").is_some() || params.get("phone").is_some(),
            survey: false,
        },
    };
    Ok((r != Requester::default()).then_some(r))
}

async fn post_request(
    state: &AppState,
    headers: &HeaderMap,
    params: Params,
    upload: Option<Upload>,
    format: Format,
) -> Result<Reply> {
    let client = authenticate(state, &params).await?;
    let code = params.require("service_code")?;
    let service_code = ServiceCode::parse(code)
        .map_err(|_| Open311Error::bad_request(format!("{code:?} is not a service_code")))?;
    let not_in_catalog = || {
        Open311Error::bad_request(format!(
            "service_code {code:?} is not in this city's catalog (see services.{})",
            if format == Format::Xml { "xml" } else { "json" }
        ))
    };
    let catalog = catalog(state).await?;
    // The cache may be a few seconds old: ask the store before refusing.
    if !catalog.services.iter().any(|s| s.code == service_code)
        && state.store.service(&service_code).await?.is_none()
    {
        return Err(not_in_catalog());
    }
    // Everything checkable is checked before the photo is stored.
    let mut location = location(&params)?;
    if let Some(point) = location.point {
        location.areas = catalog.areas.locate(point);
    }
    let requester = requester(&params)?;
    let now = Utc::now();
    let media_url = match upload {
        Some(u) => {
            let id = state
                .store
                .insert_media(u.content_type, &u.bytes, now)
                .await?;
            Some(format!("{}/media/{id}", base_url(state, headers)))
        }
        None => params.owned("media_url"),
    };
    let new = NewServiceRequest {
        service_code,
        description: params.owned("description"),
        location,
        channel: Channel::Open311Api,
        priority: Priority::Normal,
        requester,
        attributes: params.attributes(),
        media_url,
    };
    let (request, token) = state
        .store
        .create_request_with_token(new, Actor::ApiClient(client), now)
        .await?;
    Ok(Reply::ok(
        format,
        "service_requests",
        json!([{
            "service_request_id": request.id.to_string(),
            "token": token,
            "service_notice": null,
            "account_id": params.get("account_id"),
        }]),
    ))
}

/// mySociety's status words for an update.
fn update_status(s: Status) -> &'static str {
    match s {
        Status::Open => "OPEN",
        Status::InProgress => "IN_PROGRESS",
        Status::OnHold(HoldReason::AppointmentScheduled) => "ACTION_SCHEDULED",
        Status::OnHold(_) => "INVESTIGATING",
        Status::Closed(ClosureReason::Resolved) => "FIXED",
        Status::Closed(ClosureReason::Duplicate) => "DUPLICATE",
        Status::Closed(ClosureReason::Referred) => "NOT_COUNCILS_RESPONSIBILITY",
        Status::Closed(ClosureReason::NoActionNeeded | ClosureReason::UnableToLocate) => {
            "NO_FURTHER_ACTION"
        }
        Status::Closed(ClosureReason::Cancelled) => "CLOSED",
    }
}

/// The status an event leaves its request in, for events that set one.
fn status_set_by(kind: &EventKind) -> Option<Status> {
    match kind {
        EventKind::Created { status, .. } => Some(*status),
        EventKind::StatusChanged { to, .. } => Some(*to),
        EventKind::Reopened { .. } => Some(Status::Open),
        EventKind::MergedInto { .. } => Some(Status::Closed(ClosureReason::Duplicate)),
        _ => None,
    }
}

const UPDATE_KINDS: [&str; 4] = ["status_changed", "reopened", "note_added", "merged_into"];

async fn list_updates(state: &AppState, params: &Params, format: Format) -> Result<Reply> {
    let tz = state.open311.timezone;
    let after = params
        .get("after_update_id")
        .map(|v| {
            v.parse::<i64>().map_err(|_| {
                Open311Error::bad_request(format!("after_update_id {v:?} is not an update_id"))
            })
        })
        .transpose()?;
    let start = params.datetime("start_date", tz)?;
    let end = params.datetime("end_date", tz)?;
    let feed = EventFeed {
        kinds: UPDATE_KINDS.to_vec(),
        from: start,
        before: end.map(|e| e + Duration::microseconds(1)),
        after_seq: after,
        limit: params.number("page_size", MAX_UPDATES, 1..=MAX_UPDATES)?,
    };
    let events = state.store.event_feed(&feed).await?;
    let events: Vec<(String, StoredEvent)> = events
        .into_iter()
        .filter(|(_, e)| !matches!(e.event.kind, EventKind::NoteAdded { public: false, .. }))
        .collect();
    // A note carries the status its request had then: replay those requests' histories.
    let noted: Vec<ServiceRequestId> = events
        .iter()
        .filter(|(_, e)| matches!(e.event.kind, EventKind::NoteAdded { .. }))
        .filter_map(|(id, _)| ServiceRequestId::parse(id.as_str()).ok())
        .collect();
    let mut histories: HashMap<String, Vec<StoredEvent>> = HashMap::new();
    for (id, e) in state.store.events_of(&noted).await? {
        histories.entry(id).or_default().push(e);
    }
    let names = catalog(state).await?;
    let updates: Vec<Value> = events
        .into_iter()
        .filter_map(|(id, e)| {
            let status = status_set_by(&e.event.kind).or_else(|| {
                histories.get(&id).and_then(|h| {
                    h.iter()
                        .rev()
                        .filter(|x| x.seq <= e.seq)
                        .find_map(|x| status_set_by(&x.event.kind))
                })
            })?;
            let (_, summary, text) = wire::public_note(&e.event.kind, &names)?;
            Some(json!({
                "update_id": e.seq.to_string(),
                "service_request_id": id,
                "status": update_status(status),
                "updated_datetime": wire::datetime(e.event.at, tz),
                "description": text.unwrap_or(summary),
                "media_url": null,
            }))
        })
        .collect();
    Ok(Reply::ok(
        format,
        "service_request_updates",
        Value::Array(updates),
    ))
}

/// A resident's comment from a FixMyStreet-type client: a public note, and a reopen when the
/// client says the problem is back (`status=OPEN` on a closed request). The client's own
/// `update_id` makes a retried delivery return the comment already stored.
async fn post_update(state: &AppState, params: Params, format: Format) -> Result<Reply> {
    let client = authenticate(state, &params).await?;
    let id = request_id(params.require("service_request_id")?)?;
    let comment = civic311_store::Comment {
        client,
        external_id: params.owned("update_id"),
        text: params.require("description")?.to_owned(),
        reopen: params
            .get("status")
            .is_some_and(|s| s.eq_ignore_ascii_case("open")),
    };
    let saved = state
        .store
        .add_comment(&id, &comment, Utc::now())
        .await
        .map_err(|e| match e {
            civic311_store::StoreError::NotFound { .. } => {
                Open311Error::not_found(format!("no service request {id}"))
            }
            other => other.into(),
        })?;
    Ok(Reply::ok(
        format,
        "service_request_updates",
        json!([{ "update_id": saved.seq.to_string() }]),
    ))
}

pub async fn media(State(state): State<AppState>, Path(id): Path<String>) -> Response {
    match state.store.media(&id).await {
        Ok(Some((content_type, bytes))) => (
            [
                (header::CONTENT_TYPE, content_type),
                (
                    header::CACHE_CONTROL,
                    "public, max-age=31536000, immutable".into(),
                ),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) => Open311Error::not_found(format!("no media {id:?}")).into_response(),
        Err(e) => Open311Error::from(e).into_response(),
    }
}
