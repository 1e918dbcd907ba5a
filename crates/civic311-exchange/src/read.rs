//! Reads exchange files back into [`Record`]s, row by row: a bad cell rejects its row with the
//! line (CSV) or row (Parquet) and column, never the file; a file of a newer version is refused
//! as a whole. CSV and Parquet give each cell as the text CSV would hold and go through the
//! same checks ([`Columns::parse`]), so both formats accept and refuse the same things.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;

use chrono::{DateTime, Utc};

use crate::record::{AREA_PREFIX, COLUMNS, Record, VERSION};

/// A row that cannot be read: where and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based line where the record starts (the header is line 1).
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
}

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("not an exchange file: {0}")]
    NotExchange(String),
    #[error("could not read the file: {0}")]
    Csv(#[from] csv::Error),
}

/// Reads an exchange file's rows, whatever its format.
pub trait Records {
    /// The next row, with where it starts (line in CSV, row in Parquet): a record, a row error,
    /// or `None` at the end.
    fn next_record(&mut self) -> Option<(u64, Result<Record<'static>, RowError>)>;

    /// After `next_record` returned `None`: why, if the input stopped being readable before
    /// its end.
    fn failure(&mut self) -> Option<String>;
}

impl<T: Records + ?Sized> Records for Box<T> {
    fn next_record(&mut self) -> Option<(u64, Result<Record<'static>, RowError>)> {
        (**self).next_record()
    }

    fn failure(&mut self) -> Option<String> {
        (**self).failure()
    }
}

/// Opens an exchange file: Parquet when it starts as Parquet files do (`PAR1`), CSV otherwise.
pub fn open(path: &std::path::Path) -> std::io::Result<Result<Box<dyn Records + Send>, FileError>> {
    let mut file = std::fs::File::open(path)?;
    let mut magic = [0u8; 4];
    let parquet = matches!(file.read_exact(&mut magic), Ok(()) if &magic == b"PAR1");
    std::io::Seek::rewind(&mut file)?;
    if parquet {
        #[cfg(feature = "parquet")]
        return Ok(crate::read_parquet::ParquetReader::new(file)
            .map(|r| Box::new(r) as Box<dyn Records + Send>));
        #[cfg(not(feature = "parquet"))]
        return Ok(Err(FileError::NotExchange(
            "a Parquet file, and this civic311 was built without the `parquet` feature".into(),
        )));
    }
    Ok(Reader::new(std::io::BufReader::new(file)).map(|r| Box::new(r) as Box<dyn Records + Send>))
}

/// Where each column of a file is, checked against version 1 of the format.
pub(crate) struct Columns {
    index: HashMap<String, usize>,
    layers: Vec<(String, usize)>,
}

impl Columns {
    /// Refuses a header without the version 1 columns, or with columns it does not know.
    pub(crate) fn new<'a>(
        header: impl Iterator<Item = &'a str> + Clone,
    ) -> Result<Columns, FileError> {
        let index: HashMap<String, usize> = header
            .clone()
            .enumerate()
            .map(|(i, h)| (h.trim().to_owned(), i))
            .collect();
        let missing: Vec<&str> = ["exchange_version", "request_id", "service_code", "status"]
            .into_iter()
            .chain(["priority", "channel", "created_at", "updated_at"])
            .filter(|c| !index.contains_key(*c))
            .collect();
        if !missing.is_empty() {
            return Err(FileError::NotExchange(format!(
                "missing column(s) {} (docs/EXCHANGE.md lists the columns of version {VERSION})",
                missing.join(", ")
            )));
        }
        let unknown: Vec<&str> = header
            .clone()
            .filter(|h| !h.starts_with(AREA_PREFIX) && !COLUMNS.iter().any(|(c, _)| c == h))
            .collect();
        if !unknown.is_empty() {
            return Err(FileError::NotExchange(format!(
                "unknown column(s) {}: not version {VERSION} of the exchange format",
                unknown.join(", ")
            )));
        }
        let layers = header
            .enumerate()
            .filter_map(|(i, h)| Some((h.strip_prefix(AREA_PREFIX)?.to_owned(), i)))
            .collect();
        Ok(Columns { index, layers })
    }

    /// A record from its cells as CSV text (`cell(i)` of the i-th column; empty is null), or
    /// the first cell that is wrong.
    pub(crate) fn parse<'c>(
        &self,
        line: u64,
        cell_at: impl Fn(usize) -> Option<&'c str>,
    ) -> Result<Record<'static>, RowError> {
        let err = |column: &str, reason: String| RowError {
            line,
            column: Some(column.to_owned()),
            reason,
        };
        let cell = |name: &str| -> Option<&str> {
            self.index
                .get(name)
                .and_then(|&i| cell_at(i))
                .filter(|v| !v.is_empty())
        };
        let required = |name: &str| cell(name).ok_or_else(|| err(name, "is empty".to_owned()));
        let time = |name: &str| -> Result<Option<DateTime<Utc>>, RowError> {
            cell(name)
                .map(|v| {
                    DateTime::parse_from_rfc3339(v)
                        .map(|t| t.with_timezone(&Utc))
                        .map_err(|e| err(name, format!("{v:?} is not an RFC 3339 time: {e}")))
                })
                .transpose()
        };
        let float = |name: &str| -> Result<Option<f64>, RowError> {
            cell(name)
                .map(|v| {
                    v.parse::<f64>()
                        .map_err(|_| err(name, format!("{v:?} is not a number")))
                })
                .transpose()
        };
        let version: i64 = required("exchange_version")?
            .parse()
            .map_err(|_| err("exchange_version", "is not a number".to_owned()))?;
        if version != VERSION {
            return Err(err(
                "exchange_version",
                format!("version {version}: this civic311 reads version {VERSION}"),
            ));
        }
        let text = |v: &str| Cow::Owned(v.to_owned());
        let owned = |name: &str| cell(name).map(text);
        Ok(Record {
            version,
            city: text(cell("city").unwrap_or_default()),
            request_id: text(required("request_id")?),
            category: match cell("category") {
                Some(c) => c.parse().map_err(|e| err("category", format!("{e}")))?,
                None => civic311_domain::StandardCategory::Other,
            },
            service_code: text(required("service_code")?),
            service_name: owned("service_name"),
            service_group: owned("service_group"),
            department: owned("department"),
            department_name: owned("department_name"),
            status: text(required("status")?),
            closure_reason: owned("closure_reason"),
            priority: text(required("priority")?),
            channel: text(required("channel")?),
            created_at: time("created_at")?.ok_or_else(|| err("created_at", "is empty".into()))?,
            updated_at: time("updated_at")?.ok_or_else(|| err("updated_at", "is empty".into()))?,
            closed_at: time("closed_at")?,
            due_at: time("due_at")?,
            latitude: float("latitude")?,
            longitude: float("longitude")?,
            address: owned("address"),
            zip: owned("zip"),
            description: owned("description"),
            duplicate_of: owned("duplicate_of"),
            areas: self
                .layers
                .iter()
                .map(|(layer, i)| {
                    let area = cell_at(*i).filter(|v| !v.is_empty());
                    (text(layer), area.map(text))
                })
                .collect(),
        })
    }
}

pub struct Reader<R: Read> {
    csv: csv::Reader<R>,
    columns: Columns,
    record: csv::StringRecord,
    failed: Option<csv::Error>,
}

impl<R: Read> Reader<R> {
    /// Reads the header; refuses files without the version 1 columns.
    pub fn new(input: R) -> Result<Reader<R>, FileError> {
        let mut csv = csv::ReaderBuilder::new().flexible(false).from_reader(input);
        let header = csv.headers()?.clone();
        Ok(Reader {
            csv,
            columns: Columns::new(header.iter())?,
            record: csv::StringRecord::new(),
            failed: None,
        })
    }
}

impl<R: Read> Records for Reader<R> {
    fn next_record(&mut self) -> Option<(u64, Result<Record<'static>, RowError>)> {
        match self.csv.read_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                let record = &self.record;
                Some((line, self.columns.parse(line, |i| record.get(i))))
            }
            // It would fail again at the same place: reading ends here (see `failure`).
            Err(e) if e.is_io_error() => {
                self.failed = Some(e);
                None
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                let reason = e.to_string();
                // A malformed record (a field count that differs): reject it and go on.
                Some((
                    line,
                    Err(RowError {
                        line,
                        column: None,
                        reason,
                    }),
                ))
            }
        }
    }

    fn failure(&mut self) -> Option<String> {
        self.failed.take().map(|e| e.to_string())
    }
}
