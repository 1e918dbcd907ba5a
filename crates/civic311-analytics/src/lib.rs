//! Metrics over the store's requests, one definition each (docs/METRICS.md). Reads, never writes.
//!
//! This first version reads the requests a filter selects, a page of store keys at a time, and
//! computes every number exactly: its cost grows with the requests selected. Roll-ups kept up to
//! date as requests change (cost by groups, not rows) come next; these exact computations stay
//! as their reference.

pub mod cityscore;
pub mod compare;
pub mod facet;
pub mod monthly;
pub mod process;
mod quantile;
pub mod summary;

pub use facet::{Behind, Facet, SlaClass, requests_behind};
pub use monthly::{Month, MonthlyOptions, MonthlyReport, monthly_report};
pub use quantile::quantile;
pub use summary::{Bucket, Options, Summary, summarize};
