//! Importers: real data from cities into the store. Rows that cannot be used are rejected with
//! their row number, column and reason, never dropped silently; one bad row never stops an
//! import.

pub mod areas;
pub mod catalog_csv;
pub mod costs_csv;
pub mod csv_import;
pub mod exchange;
pub mod kansas_city;
pub mod mapping;
pub mod open311;
mod report;
mod text;
mod xml;

pub use report::{ImportReport, Reject};

/// What stops an import as a whole (as opposed to a rejected row).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Format { path: String, reason: String },
    #[error(transparent)]
    Store(#[from] civic311_store::StoreError),
}
