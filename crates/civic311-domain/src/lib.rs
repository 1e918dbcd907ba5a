//! The 311 vocabulary and its rules.
//!
//! This crate owns what a service request *is* and which changes to it are allowed. It performs no
//! I/O: storage, HTTP and imports live in other crates and call into the types here, which can only
//! hold valid values ("parse, don't validate"). Every change to a request goes through a method
//! that returns the [`RequestEvent`]s describing it, so the caller can persist state and history
//! together.

pub mod appointments;
pub mod calendar;
pub mod catalog;
pub mod categories;
pub mod channel;
pub mod contact;
pub mod costs;
pub mod duplicates;
pub mod error;
pub mod event;
pub mod follow_ups;
pub mod geo;
pub mod ids;
pub mod notifications;
pub mod outcome;
pub mod places;
pub mod privacy;
pub mod request;
pub mod routing;
pub mod sla;
pub mod status;
pub mod time;
pub mod work_orders;

pub use appointments::{AppointmentSchedule, Slot};
pub use calendar::BusinessCalendar;
pub use catalog::{
    AttributeAnswer, AttributeDatatype, AttributeDefinition, AttributeOption, CatalogChanges,
    CatalogDocument, Department, Service, SlaTarget, SlaUnit,
};
pub use categories::StandardCategory;
pub use contact::InformationalContact;
pub use costs::ServiceCost;
pub use duplicates::{DuplicateRules, Suggestion};
pub use error::DomainError;
pub use event::{Actor, EventKind, RequestEvent};
pub use geo::{AreaRef, LatLong, Location};
pub use ids::{AreaId, DepartmentCode, LayerId, ServiceCode, ServiceRequestId};
pub use places::AreaIndex;
pub use request::{
    Channel, Consent, HistoricalRequest, NewServiceRequest, Priority, Requester, ServiceRequest,
};
pub use routing::{Route, RoutingRule, RoutingTable};
pub use status::{ClosureReason, HoldReason, Status};
pub use work_orders::{Backoff, WorkOrder, WorkOrderMessage, WorkOrderState};

/// Longest description a request may carry (characters). Long enough for a resident's story,
/// short enough that a pasted document is refused rather than stored.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
