//! `civic311 import csv --mapping FILE SOURCE`: any city's CSV export, read through its mapping
//! (see `mapping`), streamed in batches. A row that cannot be used is rejected with its row,
//! line, column and reason; the rest is kept. Re-importing a file is idempotent (requests are
//! upserted by id) and a newer extract records what changed as events.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use civic311_domain::{AreaIndex, Department, RequestEvent, Service, ServiceRequest};
use civic311_store::{Store, UpsertCounts};

use crate::mapping::{Compiled, Mapping};
use crate::{ImportError, ImportReport};

/// Requests written per transaction.
pub(crate) const BATCH: usize = 10_000;

/// Reads records through a mapping, turning each usable one into a request with its history and
/// the catalog entries it names; rejects and warnings go to the report.
pub struct RowReader<R> {
    reader: csv::Reader<R>,
    mapping: Compiled,
    record: csv::ByteRecord,
    /// The input could not be read any further (a disk or network error, not a bad record).
    failed: Option<csv::Error>,
}

/// A usable row: the request, its events, and the service and department it names.
pub struct ImportedRow {
    /// Where it was read (record number, line), for warnings found when it is written.
    pub at: (u64, u64),
    pub request: ServiceRequest,
    pub events: Vec<RequestEvent>,
    pub service: Service,
    pub department: Option<Department>,
}

impl<R: Read> RowReader<R> {
    /// Reads the header (when the mapping says there is one) and checks the mapping against it;
    /// `shown` names the input in errors.
    pub fn new(input: R, shown: &str, mapping: Mapping) -> Result<Self, ImportError> {
        let format = |reason: String| ImportError::Format {
            path: shown.to_owned(),
            reason,
        };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(mapping.header)
            .from_reader(input);
        let header = if mapping.header {
            let bytes = reader.byte_headers().map_err(|e| format(e.to_string()))?;
            Some(decode(bytes).0)
        } else {
            None
        };
        let mapping = mapping.compile(header.as_ref()).map_err(format)?;
        Ok(Self {
            reader,
            mapping,
            record: csv::ByteRecord::new(),
            failed: None,
        })
    }

    /// The events' source name (`import:SOURCE`).
    pub fn source(&self) -> &str {
        self.mapping.source()
    }

    /// Physical lines read so far (for progress).
    pub fn position(&self) -> u64 {
        self.reader.position().byte()
    }

    /// After the last row: an error if the input stopped being readable before its end.
    pub fn finish(&mut self, shown: &str) -> Result<(), ImportError> {
        match self.failed.take() {
            Some(e) => Err(ImportError::Format {
                path: shown.to_owned(),
                reason: format!(
                    "reading stopped after {} records: {e}",
                    self.reader.position().record()
                ),
            }),
            None => Ok(()),
        }
    }

    /// The next usable row, recording every unusable one in `report` on the way.
    pub fn next_row(&mut self, report: &mut ImportReport) -> Option<ImportedRow> {
        loop {
            let line = self.reader.position().line();
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
                // It would fail again at the same place: the import stops (see `finish`).
                Err(e) if e.is_io_error() => {
                    self.failed = Some(e);
                    return None;
                }
                Err(e) => {
                    report.rows_read += 1;
                    report.reject(
                        report.rows_read,
                        line,
                        None,
                        format!("unreadable record: {e}"),
                    );
                    continue;
                }
            }
            report.rows_read += 1;
            let row_no = report.rows_read;
            let (record, latin1) = decode(&self.record);
            if latin1 {
                report.warn(row_no, line, None, "not UTF-8; read as Latin-1".into());
            }
            let row = match self.mapping.parse(&record) {
                Ok(row) => row,
                Err((column, reason)) => {
                    report.reject(row_no, line, Some(&column), reason);
                    continue;
                }
            };
            for (column, reason) in row.warnings {
                report.warn(row_no, line, Some(&column), reason);
            }
            match ServiceRequest::from_history(row.request, self.mapping.source()) {
                Ok((request, events)) => {
                    return Some(ImportedRow {
                        at: (row_no, line),
                        request,
                        events,
                        service: row.service,
                        department: row.department,
                    });
                }
                Err(e) => report.reject(row_no, line, None, e.to_string()),
            }
        }
    }
}

/// A record as text: UTF-8 where it is, else each byte as its Latin-1 character (the export of
/// an older system); the flag says whether that happened.
fn decode(bytes: &csv::ByteRecord) -> (csv::StringRecord, bool) {
    let mut latin1 = false;
    let fields: Vec<String> = bytes
        .iter()
        .map(|f| match std::str::from_utf8(f) {
            Ok(s) => s.to_owned(),
            Err(_) => {
                latin1 = true;
                f.iter().map(|&b| char::from(b)).collect()
            }
        })
        .collect();
    (csv::StringRecord::from(fields), latin1)
}

/// Imports a file through a mapping; see [`import_reader`].
pub async fn import_file(
    store: &Store,
    path: &Path,
    mapping: Mapping,
) -> Result<ImportReport, ImportError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| ImportError::Io {
        path: shown.clone(),
        source,
    })?;
    import_reader(
        store,
        std::io::BufReader::new(file),
        &shown,
        mapping,
        |_| {},
    )
    .await
}

/// How far an import has come, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Rows read so far, and bytes of the input read.
    Read { rows: u64, bytes: u64 },
    /// Every row is read, and a bulk load (the first import into a store) writes its last
    /// batch, then builds the indexes it left out and counts the roll-ups: a step without rows
    /// to count, which took as long as reading and writing the rows on SQLite at 1M rows
    /// (docs/BENCHMARKS.md §6e).
    Indexing,
}

/// Imports records through a mapping, streaming: memory stays flat whatever the size. Requests
/// already stored are brought up to date (their changes become events), so a re-import changes
/// nothing. `progress` is told of each batch and of a bulk load's last step.
pub async fn import_reader(
    store: &Store,
    input: impl Read,
    shown: &str,
    mapping: Mapping,
    mut progress: impl FnMut(Progress),
) -> Result<ImportReport, ImportError> {
    let mut rows = RowReader::new(input, shown, mapping)?;
    let areas = store.area_index().await?;
    let mut report = ImportReport::default();
    let mut seen_services = HashSet::new();
    let mut seen_departments = HashSet::new();
    let mut writer = Writer::start(store, rows.source()).await?;
    let read = async {
        while let Some(mut row) = rows.next_row(&mut report) {
            place(&areas, &mut row.request);
            if let Some(d) = row
                .department
                .filter(|d| seen_departments.insert(d.code.clone()))
            {
                store.upsert_department(&d).await?;
                report.departments += 1;
            }
            ensure_service(store, &mut seen_services, &row.service, &mut report).await?;
            if writer
                .push(row.at, row.request, row.events, &mut report)
                .await?
            {
                progress(Progress::Read {
                    rows: report.rows_read,
                    bytes: rows.position(),
                });
            }
        }
        rows.finish(shown)
    }
    .await;
    if read.is_ok() {
        progress(Progress::Read {
            rows: report.rows_read,
            bytes: rows.position(),
        });
        if writer.bulk {
            progress(Progress::Indexing);
        }
    }
    writer.finish(read, &mut report).await?;
    Ok(report)
}

/// Creates `service` unless the store already has it (staff's catalog wins over a file's),
/// once per import; counts the services the file uses.
pub(crate) async fn ensure_service(
    store: &Store,
    seen: &mut HashSet<civic311_domain::ServiceCode>,
    service: &Service,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    if seen.insert(service.code.clone()) {
        if store.service(&service.code).await?.is_none() {
            store.upsert_service(service).await?;
        }
        report.services += 1;
    }
    Ok(())
}

/// Adds the areas a request's point falls in, for every loaded layer the source row did not
/// name; a row without coordinates keeps only the areas it names.
pub(crate) fn place(areas: &AreaIndex, request: &mut ServiceRequest) {
    let Some(point) = request.location.point else {
        return;
    };
    for hit in areas.locate(point) {
        if !request.location.areas.iter().any(|a| a.layer == hit.layer) {
            request.location.areas.push(hit);
        }
    }
}

/// Writes an import's requests in batches, each in its own transaction, while the caller reads
/// the next batch: a batch is written by a task of its own, so parsing (this thread) and the
/// database (SQLite's worker thread, or PostgreSQL) work at the same time. Into a store without
/// requests it is a bulk load: the secondary indexes are dropped for the load and built once at
/// the end (`Store::suspend_indexes`), whether the import succeeds or not. An id repeated in
/// the input is found by the store when the later row is written (`Store::upsert_import`), so
/// memory does not grow with the file.
pub(crate) struct Writer {
    store: Store,
    source: String,
    batch: Vec<(ServiceRequest, Vec<RequestEvent>)>,
    /// Where each request of `batch` was read (record number, line).
    read_at: Vec<(u64, u64)>,
    writing: Option<tokio::task::JoinHandle<civic311_store::Result<Written>>>,
    /// Keys from here on were written by this import.
    fresh_keys: i64,
    bulk: bool,
}

/// A written batch: its counts, and a warning (record, line, reason) per repeated id.
struct Written {
    counts: UpsertCounts,
    repeated: Vec<(u64, u64, String)>,
}

impl Writer {
    pub(crate) async fn start(store: &Store, source: &str) -> Result<Self, ImportError> {
        // An empty key range: the store has no requests (MIN/MAX of the key, not a count).
        let keys = store.request_keys().await?;
        let bulk = keys.is_none();
        if bulk {
            store.suspend_indexes().await?;
        }
        Ok(Self {
            store: store.clone(),
            source: source.to_owned(),
            batch: Vec::with_capacity(BATCH),
            read_at: Vec::with_capacity(BATCH),
            writing: None,
            fresh_keys: keys.map_or(i64::MIN, |k| k.end),
            bulk,
        })
    }

    /// Events carry `import:SOURCE`; an importer that learns its source from the first row sets
    /// it before the first batch is written.
    pub(crate) fn set_source(&mut self, source: &str) {
        source.clone_into(&mut self.source);
    }

    /// Adds a request; when the batch is full, waits for the previous one and starts writing
    /// this one. Returns whether a batch was started (a moment to report progress).
    pub(crate) async fn push(
        &mut self,
        read_at: (u64, u64),
        request: ServiceRequest,
        events: Vec<RequestEvent>,
        report: &mut ImportReport,
    ) -> Result<bool, ImportError> {
        self.batch.push((request, events));
        self.read_at.push(read_at);
        if self.batch.len() < BATCH {
            return Ok(false);
        }
        self.flush(report).await?;
        Ok(true)
    }

    async fn flush(&mut self, report: &mut ImportReport) -> Result<(), ImportError> {
        self.wait(report).await?;
        if self.batch.is_empty() {
            return Ok(());
        }
        let batch = std::mem::replace(&mut self.batch, Vec::with_capacity(BATCH));
        let read_at = std::mem::replace(&mut self.read_at, Vec::with_capacity(BATCH));
        let (store, source, fresh) = (self.store.clone(), self.source.clone(), self.fresh_keys);
        self.writing = Some(tokio::spawn(async move {
            let done = store.upsert_import(&batch, &source, fresh).await?;
            let repeated = done
                .repeated
                .into_iter()
                .map(|i| {
                    let (row, line) = read_at[i];
                    let id = batch[i].0.id.as_str();
                    let reason = format!(
                        "id {id} appears again in this file; this row updates the earlier one"
                    );
                    (row, line, reason)
                })
                .collect();
            Ok(Written {
                counts: done.counts,
                repeated,
            })
        }));
        Ok(())
    }

    async fn wait(&mut self, report: &mut ImportReport) -> Result<(), ImportError> {
        let Some(writing) = self.writing.take() else {
            return Ok(());
        };
        let Written { counts, repeated } = match writing.await {
            Ok(written) => written?,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        };
        for (row, line, reason) in repeated {
            report.warn(row, line, None, reason);
        }
        report.imported += counts.inserted as u64;
        report.updated += counts.updated as u64;
        report.unchanged += counts.unchanged as u64;
        Ok(())
    }

    /// Writes what is left (unless reading failed), waits for every write, and builds the
    /// suspended indexes again. A reading error wins over a writing one.
    pub(crate) async fn finish(
        mut self,
        read: Result<(), ImportError>,
        report: &mut ImportReport,
    ) -> Result<(), ImportError> {
        let flushed = match read {
            Ok(()) => self.flush(report).await,
            Err(e) => Err(e),
        };
        // Waited for even when reading failed: no write is left running.
        let waited = self.wait(report).await;
        let written = flushed.and(waited);
        let restored = if self.bulk {
            self.store.restore_indexes().await.map(drop)
        } else {
            Ok(())
        };
        // Repeated ids are warned about as their batch is written: back in reading order.
        report.warnings.sort_by_key(|w| w.row);
        written?;
        Ok(restored?)
    }
}
