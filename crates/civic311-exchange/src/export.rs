//! Streams the store's requests, filtered, into an exchange-format file: memory stays flat
//! whatever the number of requests (pages of [`PAGE`] store keys, read ahead).

use std::collections::HashMap;
use std::io::Write;

use civic311_domain::privacy::Scrub;
use civic311_domain::{Service, ServiceCode, StandardCategory};
use civic311_store::{RequestFilter, Store, StoreError};

use crate::record::{self, Record, VERSION, Value};

/// Requests read from the store per query.
pub const PAGE: u32 = 5_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    GeoJson,
    Parquet,
}

impl Format {
    /// `csv`, `geojson`, `parquet`.
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "geojson" | "json" => Some(Format::GeoJson),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// The exporting city's id, written in every row (`kansas-city`).
    pub city: String,
    pub filter: RequestFilter,
    pub scrub: Scrub,
    pub format: Format,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportSummary {
    pub rows: u64,
    /// The area layers written as `area:` columns.
    pub layers: Vec<String>,
    /// Descriptions and addresses changed by scrubbing.
    pub scrubbed: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("could not write the export: {0}")]
    Io(#[from] std::io::Error),
    #[error("could not write the CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("could not write the Parquet file: {0}")]
    Parquet(String),
    #[error("this civic311 was built without Parquet support (cargo feature `parquet`)")]
    ParquetUnavailable,
}

/// Where records go, one format each.
pub(crate) trait Sink {
    fn push(&mut self, record: &Record) -> Result<(), ExportError>;
    fn finish(self: Box<Self>) -> Result<(), ExportError>;
}

/// Writes every request `options.filter` selects to `out`, as `options.format`.
pub async fn export(
    store: &Store,
    options: &ExportOptions,
    out: impl Write + Send + 'static,
) -> Result<ExportSummary, ExportError> {
    // A service without a category gets its guess once here, not once per request (guessing
    // per row was a quarter of a 1M-row export's time).
    let services: HashMap<ServiceCode, Service> = store
        .services()
        .await?
        .into_iter()
        .map(|mut s| {
            s.category
                .get_or_insert_with(|| StandardCategory::guess(&s.name, s.group.as_deref()));
            (s.code.clone(), s)
        })
        .collect();
    let departments: HashMap<String, String> = store
        .departments()
        .await?
        .into_iter()
        .map(|d| (d.code.to_string(), d.name))
        .collect();
    let layers = store.layers_in_use().await?;
    let mut sink: Box<dyn Sink> = match options.format {
        Format::Csv => Box::new(CsvSink::new(out, &layers)?),
        Format::GeoJson => Box::new(GeoJsonSink::new(out)?),
        #[cfg(feature = "parquet")]
        Format::Parquet => Box::new(crate::parquet_sink::ParquetSink::new(out, &layers)?),
        #[cfg(not(feature = "parquet"))]
        Format::Parquet => return Err(ExportError::ParquetUnavailable),
    };
    let mut summary = ExportSummary {
        layers: layers.clone(),
        ..ExportSummary::default()
    };
    let mut pages = store.read_cohort(&options.filter, PAGE).await?;
    while let Some(page) = pages.next_page().await? {
        for (_, r) in &page {
            let department = r
                .department
                .as_ref()
                .and_then(|d| departments.get(d.as_str()));
            let record = Record::of(
                &options.city,
                r,
                services.get(&r.service_code),
                department.map(String::as_str),
                &layers,
                options.scrub,
            );
            if record.description.as_deref() != r.description.as_deref()
                || record.address.as_deref() != r.location.address.as_deref()
            {
                summary.scrubbed += 1;
            }
            sink.push(&record)?;
            summary.rows += 1;
        }
    }
    sink.finish()?;
    Ok(summary)
}

struct CsvSink<W: Write> {
    writer: csv::Writer<W>,
    row: Vec<String>,
}

impl<W: Write> CsvSink<W> {
    fn new(out: W, layers: &[String]) -> Result<Self, ExportError> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(record::header(layers))?;
        Ok(CsvSink {
            writer,
            row: Vec::new(),
        })
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn push(&mut self, record: &Record) -> Result<(), ExportError> {
        self.row.clear();
        self.row
            .extend(record.values().iter().map(|v| v.text().unwrap_or_default()));
        self.row.extend(
            record
                .areas
                .iter()
                .map(|(_, a)| a.as_deref().unwrap_or_default().to_owned()),
        );
        self.writer.write_record(&self.row)?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.writer.flush()?;
        Ok(())
    }
}

/// A FeatureCollection written feature by feature: a point geometry where the request has
/// one (null otherwise), the record's columns as properties.
struct GeoJsonSink<W: Write> {
    out: std::io::BufWriter<W>,
    first: bool,
}

impl<W: Write> GeoJsonSink<W> {
    fn new(out: W) -> Result<Self, ExportError> {
        let mut out = std::io::BufWriter::new(out);
        write!(
            out,
            "{{\"type\":\"FeatureCollection\",\"exchange_version\":{VERSION},\"features\":["
        )?;
        Ok(GeoJsonSink { out, first: true })
    }
}

impl<W: Write> Sink for GeoJsonSink<W> {
    fn push(&mut self, record: &Record) -> Result<(), ExportError> {
        let mut properties = serde_json::Map::new();
        for (value, (name, _)) in record.values().iter().zip(record::COLUMNS) {
            // The point is the geometry.
            if matches!(*name, "latitude" | "longitude") {
                continue;
            }
            let json = match value {
                Value::Int(n) => serde_json::json!(n),
                other => other
                    .text()
                    .map_or(serde_json::Value::Null, serde_json::Value::String),
            };
            properties.insert((*name).to_owned(), json);
        }
        for (layer, area) in &record.areas {
            properties.insert(
                format!("{}{layer}", record::AREA_PREFIX),
                area.as_deref().map_or(serde_json::Value::Null, |a| {
                    serde_json::Value::String(a.to_owned())
                }),
            );
        }
        let geometry = match (record.longitude, record.latitude) {
            (Some(long), Some(lat)) => {
                serde_json::json!({ "type": "Point", "coordinates": [long, lat] })
            }
            _ => serde_json::Value::Null,
        };
        let feature = serde_json::json!({
            "type": "Feature",
            "id": record.request_id,
            "geometry": geometry,
            "properties": properties,
        });
        if !self.first {
            self.out.write_all(b",\n")?;
        }
        self.first = false;
        serde_json::to_writer(&mut self.out, &feature).map_err(std::io::Error::from)?;
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.out.write_all(b"]}\n")?;
        self.out.flush()?;
        Ok(())
    }
}
