//! The civic311 exchange format and the exports that write it.
//!
//! One city exports its requests ([`export`]) as CSV, GeoJSON or Parquet in the versioned
//! exchange schema ([`record`], docs/EXCHANGE.md): its own services beside a standard category,
//! times in UTC, areas by their stable ids, no personal data. Another city, a researcher's
//! DuckDB or a shared repository of peer metrics reads it as is; civic311 itself imports it back
//! (`civic311-import::exchange`) with nothing lost.

pub mod export;
#[cfg(feature = "parquet")]
mod parquet_sink;
pub mod read;
#[cfg(feature = "parquet")]
mod read_parquet;
pub mod record;

pub use export::{ExportError, ExportOptions, ExportSummary, Format, export};
pub use record::{COLUMNS, Kind, Record, VERSION, Value};
