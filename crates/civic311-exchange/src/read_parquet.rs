//! Reads exchange files in Parquet: ours, or one another tool (DuckDB, pandas, Spark) wrote with
//! the same columns. Streams one batch of rows at a time. Each cell is turned into the text the
//! CSV form holds (times as RFC 3339 in UTC, numbers as the shortest text that reads back the same
//! value) and checked by the same code as CSV, so both formats accept and refuse the same rows.

use std::borrow::Cow;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float32Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType,
};
use arrow_array::{Array, RecordBatch};
use arrow_schema::{DataType, TimeUnit};
use chrono::{DateTime, SecondsFormat, Utc};
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};

use crate::read::{Columns, FileError, Records, RowError};
use crate::record::Record;

/// Rows decoded at a time.
const BATCH_ROWS: usize = 8_192;

pub struct ParquetReader {
    batches: ParquetRecordBatchReader,
    columns: Columns,
    batch: Option<RecordBatch>,
    /// Next row of `batch`.
    next: usize,
    /// Rows handed out so far.
    row: u64,
    failed: Option<String>,
}

impl ParquetReader {
    /// Reads the file's schema; refuses files without the version 1 columns, or with a column of
    /// a type the format does not have.
    pub fn new(file: std::fs::File) -> Result<ParquetReader, FileError> {
        let not_exchange = |e: parquet::errors::ParquetError| {
            FileError::NotExchange(format!("not a readable Parquet file: {e}"))
        };
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(not_exchange)?;
        let schema = builder.schema().clone();
        let columns = Columns::new(schema.fields().iter().map(|f| f.name().as_str()))?;
        let odd: Vec<String> = schema
            .fields()
            .iter()
            .filter(|f| !readable(f.data_type()))
            .map(|f| format!("{} ({})", f.name(), f.data_type()))
            .collect();
        if !odd.is_empty() {
            return Err(FileError::NotExchange(format!(
                "column(s) of a type the exchange format does not use: {}",
                odd.join(", ")
            )));
        }
        let batches = builder
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(not_exchange)?;
        Ok(ParquetReader {
            batches,
            columns,
            batch: None,
            next: 0,
            row: 0,
            failed: None,
        })
    }
}

/// Text, whole numbers, floating point numbers and timestamps (any unit; UTC when the file
/// names no zone).
fn readable(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
            | DataType::Timestamp(_, _)
    )
}

/// The cell as CSV would hold it; `None` for null. Types are checked in `ParquetReader::new`.
fn cell(column: &dyn Array, i: usize) -> Option<Cow<'_, str>> {
    if column.is_null(i) {
        return None;
    }
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true));
    let text = match column.data_type() {
        DataType::Utf8 => return Some(Cow::Borrowed(column.as_string::<i32>().value(i))),
        DataType::LargeUtf8 => return Some(Cow::Borrowed(column.as_string::<i64>().value(i))),
        DataType::Utf8View => return Some(Cow::Borrowed(column.as_string_view().value(i))),
        DataType::Int32 => column.as_primitive::<Int32Type>().value(i).to_string(),
        DataType::Int64 => column.as_primitive::<Int64Type>().value(i).to_string(),
        DataType::Float32 => column.as_primitive::<Float32Type>().value(i).to_string(),
        DataType::Float64 => column.as_primitive::<Float64Type>().value(i).to_string(),
        DataType::Timestamp(unit, _) => {
            let at = match unit {
                TimeUnit::Second => DateTime::from_timestamp(
                    column.as_primitive::<TimestampSecondType>().value(i),
                    0,
                ),
                TimeUnit::Millisecond => DateTime::from_timestamp_millis(
                    column.as_primitive::<TimestampMillisecondType>().value(i),
                ),
                TimeUnit::Microsecond => DateTime::from_timestamp_micros(
                    column.as_primitive::<TimestampMicrosecondType>().value(i),
                ),
                TimeUnit::Nanosecond => Some(DateTime::from_timestamp_nanos(
                    column.as_primitive::<TimestampNanosecondType>().value(i),
                )),
            };
            // Out of chrono's range: an empty cell would hide it; the time check names it.
            time(at).unwrap_or_else(|| "out of range".to_owned())
        }
        _ => return None,
    };
    Some(Cow::Owned(text))
}

impl Records for ParquetReader {
    fn next_record(&mut self) -> Option<(u64, Result<Record<'static>, RowError>)> {
        loop {
            if let Some(batch) = &self.batch
                && self.next < batch.num_rows()
            {
                let i = self.next;
                self.next += 1;
                self.row += 1;
                let cells: Vec<Option<Cow<'_, str>>> =
                    batch.columns().iter().map(|c| cell(c, i)).collect();
                let record = self.columns.parse(self.row, |c| cells.get(c)?.as_deref());
                return Some((self.row, record));
            }
            match self.batches.next()? {
                Ok(batch) => {
                    self.batch = Some(batch);
                    self.next = 0;
                }
                // A damaged page: what follows cannot be found again, so reading ends here.
                Err(e) => {
                    self.failed = Some(e.to_string());
                    return None;
                }
            }
        }
    }

    fn failure(&mut self) -> Option<String> {
        self.failed.take()
    }
}
