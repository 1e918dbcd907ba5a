//! The storage contract of civic311 and its two implementations: SQLite (the embedded default,
//! one file in WAL mode) and PostgreSQL (production). Both run the same code: each operation is
//! written once and dispatched to the pool of the configured backend; only the migrations, and a
//! few statements whose dialects differ, exist twice.
//!
//! Every change to a request is saved with its events in one transaction, guarded by the
//! request's `version` (optimistic concurrency): a stale save is refused as
//! [`StoreError::Conflict`] and writes nothing.

mod activity;
mod appointments;
mod areas;
mod backend;
mod bulk;
mod catalog;
mod cohort;
mod contacts;
mod duplicates;
mod error;
mod follow_ups;
mod intake;
mod pool;
mod recount;
mod requests;
mod rollup;
mod rows;
mod schema;
mod sla;
mod work_orders;

pub use activity::Activity;
pub use appointments::Appointment;
pub use areas::Area;
pub use catalog::{BUDGET_SINCE_ALWAYS, BudgetVersion, CatalogVersion};
pub use cohort::Cohort;
pub use error::StoreError;
pub use follow_ups::Attachment;
pub use intake::{Comment, CommentSaved, KeyRole, MAX_MEDIA_BYTES, TokenState, random_hex};
pub use pool::{DatabaseUrl, Store};
pub use requests::{
    Compare, Condition, EventFeed, Page, RequestCounts, RequestFilter, StoredEvent, UpsertCounts,
    Upserted,
};
pub use rollup::{OpenGroup, Rolled, RolledGroup, RollupQuery, Split, SplitKey};
pub use schema::SchemaStatus;
pub use sla::{SlaAttainment, SweepReport};
pub use work_orders::{
    Attempt, FieldReport, NOTIFICATION_TOPIC, Notification, OutboxMessage, REPORT_TOPIC,
    ReportMail, ReportOutcome, WORK_ORDER_TOPIC,
};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
