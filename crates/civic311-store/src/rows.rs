//! Rows as both backends return them, and their conversion to domain types. `FromRow` is derived
//! generically, so one struct serves SQLite and PostgreSQL.

use chrono::{DateTime, Utc};
use civic311_domain::{
    Actor, AreaRef, AttributeAnswer, AttributeDefinition, Channel, Consent, Department,
    DepartmentCode, EventKind, LatLong, Location, Priority, RequestEvent, Requester, Service,
    ServiceCode, ServiceRequest, ServiceRequestId, SlaTarget, SlaUnit, Status,
};
use serde::Deserialize;
use sqlx::types::Json;

use crate::{Result, StoreError, StoredEvent};

/// A request as the read queries return it: one JSON array per request, these fields in this
/// order, with the parent's public id and the request's areas as `[layer, area]` pairs (see
/// `sql/requests.rs`); or, for PostgreSQL's bulk reads, these columns of a row, the areas read
/// apart.
#[derive(serde::Deserialize)]
pub(crate) struct RequestRow {
    pub key: i64,
    id: String,
    service_code: String,
    status: String,
    status_reason: Option<String>,
    priority: String,
    description: Option<String>,
    #[serde(deserialize_with = "number_or_text")]
    lat: Option<f64>,
    #[serde(deserialize_with = "number_or_text")]
    long: Option<f64>,
    address: Option<String>,
    address_id: Option<String>,
    zip: Option<String>,
    channel: String,
    department_code: Option<String>,
    assignee: Option<String>,
    due_at: Option<DateTime<Utc>>,
    parent_id: Option<String>,
    attributes: Json<Vec<AttributeAnswer>>,
    media_url: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
    version: i64,
    pub areas: Vec<(String, String)>,
}

/// The columns in the order of the struct, by position: a 10M-row export spent a tenth of its
/// time finding columns by name, and a twentieth more checking each value's SQL type against
/// the Rust one, which the column list of the query (`REQUEST_COLUMNS`) fixes once for all rows.
impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for RequestRow
where
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database>,
    f64: sqlx::Decode<'r, R::Database>,
    String: sqlx::Decode<'r, R::Database>,
    DateTime<Utc>: sqlx::Decode<'r, R::Database>,
    Json<Vec<AttributeAnswer>>: sqlx::Decode<'r, R::Database>,
{
    fn from_row(row: &'r R) -> std::result::Result<Self, sqlx::Error> {
        Ok(RequestRow {
            key: row.try_get_unchecked(0)?,
            id: row.try_get_unchecked(1)?,
            service_code: row.try_get_unchecked(2)?,
            status: row.try_get_unchecked(3)?,
            status_reason: row.try_get_unchecked(4)?,
            priority: row.try_get_unchecked(5)?,
            description: row.try_get_unchecked(6)?,
            lat: row.try_get_unchecked(7)?,
            long: row.try_get_unchecked(8)?,
            address: row.try_get_unchecked(9)?,
            address_id: row.try_get_unchecked(10)?,
            zip: row.try_get_unchecked(11)?,
            channel: row.try_get_unchecked(12)?,
            department_code: row.try_get_unchecked(13)?,
            assignee: row.try_get_unchecked(14)?,
            due_at: row.try_get_unchecked(15)?,
            parent_id: row.try_get_unchecked(16)?,
            attributes: row.try_get_unchecked(17)?,
            media_url: row.try_get_unchecked(18)?,
            created_at: row.try_get_unchecked(19)?,
            updated_at: row.try_get_unchecked(20)?,
            closed_at: row.try_get_unchecked(21)?,
            version: row.try_get_unchecked(22)?,
            areas: Vec::new(),
        })
    }
}

/// A JSON number, or a number written as text (SQLite's coordinates, see `sql/requests.rs`).
fn number_or_text<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<f64>, D::Error> {
    #[derive(serde::Deserialize)]
    #[serde(untagged)]
    enum Number {
        Number(f64),
        Text(String),
    }
    match Option::<Number>::deserialize(d)? {
        None => Ok(None),
        Some(Number::Number(n)) => Ok(Some(n)),
        Some(Number::Text(t)) => t.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

fn corrupt<E: std::fmt::Display>(key: i64) -> impl Fn(E) -> StoreError {
    move |e| StoreError::corrupt(format!("service request key {key}: {e}"))
}

impl RequestRow {
    /// Rebuilds the domain request; the requester is attached by the caller.
    pub fn into_request(self) -> Result<ServiceRequest> {
        let c = corrupt(self.key);
        let point = match (self.lat, self.long) {
            (Some(lat), Some(long)) => Some(LatLong::new(lat, long).map_err(&c)?),
            _ => None,
        };
        Ok(ServiceRequest {
            id: ServiceRequestId::parse(self.id).map_err(&c)?,
            service_code: ServiceCode::parse(self.service_code).map_err(&c)?,
            status: Status::parse(&self.status, self.status_reason.as_deref()).map_err(&c)?,
            priority: Priority::parse(&self.priority).map_err(&c)?,
            description: self.description,
            location: Location {
                point,
                address: self.address,
                address_id: self.address_id,
                zip: self.zip,
                areas: self
                    .areas
                    .into_iter()
                    .map(|(layer, area)| {
                        Ok(AreaRef {
                            layer: civic311_domain::LayerId::parse(layer)?,
                            area: civic311_domain::AreaId::parse(area)?,
                        })
                    })
                    .collect::<std::result::Result<Vec<_>, civic311_domain::DomainError>>()
                    .map(|mut areas| {
                        areas.sort();
                        areas
                    })
                    .map_err(&c)?,
            },
            channel: Channel::parse(&self.channel).map_err(&c)?,
            requester: None,
            department: self
                .department_code
                .map(DepartmentCode::parse)
                .transpose()
                .map_err(&c)?,
            assignee: self.assignee,
            due_at: self.due_at,
            parent_id: self
                .parent_id
                .map(ServiceRequestId::parse)
                .transpose()
                .map_err(&c)?,
            attributes: self.attributes.0,
            media_url: self.media_url,
            created_at: self.created_at,
            updated_at: self.updated_at,
            closed_at: self.closed_at,
            version: self.version,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct RequesterRow {
    pub request_key: i64,
    first_name: Option<String>,
    last_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    account_id: Option<String>,
    device_id: Option<String>,
    consent_contact: bool,
    consent_survey: bool,
}

impl From<RequesterRow> for Requester {
    fn from(r: RequesterRow) -> Requester {
        Requester {
            first_name: r.first_name,
            last_name: r.last_name,
            email: r.email,
            phone: r.phone,
            account_id: r.account_id,
            device_id: r.device_id,
            consent: Consent {
                contact: r.consent_contact,
                survey: r.consent_survey,
            },
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub payload: Json<EventKind>,
}

impl EventRow {
    pub fn into_stored(self) -> Result<StoredEvent> {
        let actor: Actor = self.actor.parse().map_err(StoreError::corrupt)?;
        Ok(StoredEvent {
            seq: self.seq,
            event: RequestEvent {
                at: self.at,
                actor,
                kind: self.payload.0,
            },
        })
    }
}

/// An event with the public id of its request.
#[derive(sqlx::FromRow)]
pub(crate) struct RequestEventRow {
    pub request_id: String,
    #[sqlx(flatten)]
    pub event: EventRow,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ServiceRow {
    code: String,
    name: String,
    description: Option<String>,
    service_group: Option<String>,
    keywords: Json<Vec<String>>,
    department_code: Option<String>,
    attributes: Json<Vec<AttributeDefinition>>,
    sla_amount: Option<i32>,
    sla_unit: Option<String>,
    sla_by_priority: Json<std::collections::BTreeMap<civic311_domain::Priority, SlaTarget>>,
    active: bool,
    category: Option<String>,
}

impl ServiceRow {
    pub fn into_service(self) -> Result<Service> {
        let code = self.code.clone();
        let c = move |e: civic311_domain::DomainError| {
            StoreError::corrupt(format!("service {code}: {e}"))
        };
        let sla = match (
            self.sla_amount,
            self.sla_unit.as_deref().and_then(SlaUnit::parse),
        ) {
            (Some(amount), Some(unit)) => Some(SlaTarget {
                amount: u32::try_from(amount).unwrap_or(0),
                unit,
            }),
            _ => None,
        };
        Ok(Service {
            code: ServiceCode::parse(self.code).map_err(&c)?,
            name: self.name,
            description: self.description,
            group: self.service_group,
            keywords: self.keywords.0,
            department: self
                .department_code
                .map(DepartmentCode::parse)
                .transpose()
                .map_err(&c)?,
            attributes: self.attributes.0,
            sla,
            sla_by_priority: self.sla_by_priority.0,
            category: self
                .category
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(&c)?,
            active: self.active,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct DepartmentRow {
    code: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
}

impl DepartmentRow {
    pub fn into_department(self) -> Result<Department> {
        Ok(Department {
            code: DepartmentCode::parse(self.code).map_err(StoreError::corrupt)?,
            name: self.name,
            email: self.email,
            phone: self.phone,
        })
    }
}
