//! Metrics over the store's requests, one definition each (docs/METRICS.md). Reads, never writes.
//!
//! A summary is read from the store's roll-ups (counts by group, kept up to date as requests
//! change: its cost grows with the groups, not the requests) when they hold its filter; the
//! exact computation over every request a filter selects, a page of store keys at a time, stays
//! as their reference and the way for everything else.

pub mod cityscore;
pub mod compare;
pub mod facet;
pub mod monthly;
pub mod process;
mod quantile;
mod rolled;
pub mod summary;

pub use facet::{Behind, Facet, SlaClass, requests_behind, requests_behind_rows};
pub use monthly::{Month, MonthlyOptions, MonthlyReport, monthly_report, monthly_report_rows};
pub use quantile::quantile;
pub use summary::{Bucket, Options, Summary, summarize, summarize_rows};
