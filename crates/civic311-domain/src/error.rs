//! Every way a domain rule can be broken, as data the caller can map to its own error format.

use crate::status::Status;

/// A broken domain rule. Each variant names the offending value so the message can be shown to
/// the person who sent it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DomainError {
    #[error("invalid {kind} {value:?}: {reason}")]
    InvalidId {
        kind: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("latitude {0} is out of range (-90..=90)")]
    LatitudeOutOfRange(f64),
    #[error("longitude {0} is out of range (-180..=180)")]
    LongitudeOutOfRange(f64),
    #[error("unknown service {0:?}")]
    UnknownService(String),
    #[error("service {0:?} no longer accepts requests")]
    ServiceInactive(String),
    #[error("a request cannot go from {from} to {to}")]
    InvalidTransition { from: Status, to: Status },
    #[error("the request is already {0}")]
    NoChange(Status),
    #[error("only a closed request can be reopened (it is {0})")]
    NotClosed(Status),
    #[error("a closed request cannot be changed; reopen it first")]
    Closed,
    #[error("description is {actual} characters long; the limit is {max}")]
    DescriptionTooLong { max: usize, actual: usize },
    #[error("attribute {0:?} is required")]
    MissingAttribute(String),
    #[error("attribute {0:?} is not defined for this service")]
    UnknownAttribute(String),
    #[error("attribute {code:?}: {value:?} is not valid: {reason}")]
    InvalidAttributeValue {
        code: String,
        value: String,
        reason: &'static str,
    },
    #[error("a request cannot be merged into itself")]
    MergeIntoSelf,
    #[error("request {0} is itself merged into another; merge into that one instead")]
    ParentIsMerged(String),
    #[error("{field} must not be empty")]
    Empty { field: &'static str },
    #[error(
        "status {state:?} with reason {reason:?} is not a valid status (a closed request needs a closure reason)"
    )]
    InvalidStatus {
        state: String,
        reason: Option<String>,
    },
    #[error("media_url {url:?} is not valid: {reason}")]
    InvalidMediaUrl { url: String, reason: &'static str },
    #[error("invalid business calendar: {0}")]
    InvalidCalendar(String),
    #[error("invalid routing table: {0}")]
    InvalidRouting(String),
    #[error("a work order that is {from} cannot become {to}")]
    InvalidWorkOrderReport {
        from: &'static str,
        to: &'static str,
    },
    #[error("invalid catalog: {0}")]
    InvalidCatalog(String),
    #[error("invalid appointment schedule: {0}")]
    InvalidSchedule(String),
    #[error("{day} cannot be booked: {reason}")]
    NotBookable {
        day: chrono::NaiveDate,
        reason: String,
    },
    #[error("{day} is fully booked in this zone; pick another day")]
    FullyBooked { day: chrono::NaiveDate },
    #[error("this request has no appointment")]
    NoAppointment,
    #[error("unknown {kind} {value:?}")]
    UnknownCode { kind: &'static str, value: String },
    #[error("{value:?} is not a standard category (one of: {known})")]
    UnknownCategory { value: String, known: String },
}
