//! The exchange format as Parquet (Apache Arrow's crates): typed columns, times as
//! TIMESTAMP(MICROS, UTC), Snappy-compressed row groups of [`ROWS_PER_BATCH`] rows; DuckDB,
//! pandas, Spark and Trino read it as is.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::{
    ArrayBuilder, Float64Builder, Int64Builder, StringBuilder, TimestampMicrosecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::export::{ExportError, Sink};
use crate::record::{self, COLUMNS, Kind, Record, VERSION, Value};

/// Rows buffered before they are written as one batch.
const ROWS_PER_BATCH: usize = 65_536;

enum Column {
    Int(Int64Builder),
    Text(StringBuilder),
    Time(TimestampMicrosecondBuilder),
    Float(Float64Builder),
}

impl Column {
    fn new(kind: Kind) -> Column {
        match kind {
            Kind::Int => Column::Int(Int64Builder::new()),
            Kind::Text => Column::Text(StringBuilder::new()),
            Kind::Time => Column::Time(TimestampMicrosecondBuilder::new().with_timezone("UTC")),
            Kind::Float => Column::Float(Float64Builder::new()),
        }
    }

    fn push(&mut self, value: &Value<'_>) {
        match (self, value) {
            (Column::Int(b), Value::Int(n)) => b.append_value(*n),
            (Column::Text(b), Value::Text(s)) => b.append_option(*s),
            (Column::Time(b), Value::Time(t)) => b.append_option(t.map(|t| t.timestamp_micros())),
            (Column::Float(b), Value::Float(f)) => b.append_option(*f),
            // `Record::values` follows `COLUMNS` (tested); a mismatch would be a bug here.
            (column, _) => column.push_null(),
        }
    }

    fn push_null(&mut self) {
        match self {
            Column::Int(b) => b.append_null(),
            Column::Text(b) => b.append_null(),
            Column::Time(b) => b.append_null(),
            Column::Float(b) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            Column::Int(b) => Arc::new(b.finish()),
            Column::Text(b) => Arc::new(b.finish()),
            Column::Time(b) => Arc::new(b.finish()),
            Column::Float(b) => Arc::new(b.finish()),
        }
    }

    fn len(&self) -> usize {
        match self {
            Column::Int(b) => b.len(),
            Column::Text(b) => b.len(),
            Column::Time(b) => b.len(),
            Column::Float(b) => b.len(),
        }
    }
}

fn data_type(kind: Kind) -> DataType {
    match kind {
        Kind::Int => DataType::Int64,
        Kind::Text => DataType::Utf8,
        Kind::Time => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        Kind::Float => DataType::Float64,
    }
}

pub(crate) struct ParquetSink<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    columns: Vec<Column>,
    areas: Vec<StringBuilder>,
}

impl<W: Write + Send> ParquetSink<W> {
    pub(crate) fn new(out: W, layers: &[String]) -> Result<Self, ExportError> {
        let always = [
            "exchange_version",
            "city",
            "request_id",
            "category",
            "service_code",
        ];
        let fields: Vec<Field> =
            COLUMNS
                .iter()
                .map(|(name, kind)| Field::new(*name, data_type(*kind), !always.contains(name)))
                .chain(layers.iter().map(|l| {
                    Field::new(format!("{}{l}", record::AREA_PREFIX), DataType::Utf8, true)
                }))
                .collect();
        let schema = Arc::new(Schema::new(fields));
        // The ids are written plain: each is a value of its own, and a dictionary of them was
        // hashed id by id, then given up as too large. Addresses, places and descriptions
        // repeat, and keep theirs.
        let properties = WriterProperties::builder()
            .set_column_dictionary_enabled(ColumnPath::from("request_id"), false)
            .set_compression(Compression::SNAPPY)
            .set_key_value_metadata(Some(vec![KeyValue::new(
                "civic311.exchange_version".to_owned(),
                VERSION.to_string(),
            )]))
            .build();
        let writer = ArrowWriter::try_new(out, schema.clone(), Some(properties))
            .map_err(|e| ExportError::Parquet(e.to_string()))?;
        Ok(ParquetSink {
            writer,
            schema,
            columns: COLUMNS.iter().map(|(_, kind)| Column::new(*kind)).collect(),
            areas: layers.iter().map(|_| StringBuilder::new()).collect(),
        })
    }

    fn flush(&mut self) -> Result<(), ExportError> {
        if self.columns.first().is_none_or(|c| c.len() == 0) {
            return Ok(());
        }
        let arrays: Vec<ArrayRef> = self
            .columns
            .iter_mut()
            .map(Column::finish)
            .chain(
                self.areas
                    .iter_mut()
                    .map(|b| Arc::new(b.finish()) as ArrayRef),
            )
            .collect();
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .map_err(|e| ExportError::Parquet(e.to_string()))?;
        self.writer
            .write(&batch)
            .map_err(|e| ExportError::Parquet(e.to_string()))
    }
}

impl<W: Write + Send> Sink for ParquetSink<W> {
    fn push(&mut self, record: &Record) -> Result<(), ExportError> {
        for (column, value) in self.columns.iter_mut().zip(record.values().iter()) {
            column.push(value);
        }
        for (builder, (_, area)) in self.areas.iter_mut().zip(&record.areas) {
            builder.append_option(area.as_deref());
        }
        if self
            .columns
            .first()
            .is_some_and(|c| c.len() >= ROWS_PER_BATCH)
        {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(mut self: Box<Self>) -> Result<(), ExportError> {
        self.flush()?;
        self.writer
            .close()
            .map_err(|e| ExportError::Parquet(e.to_string()))?;
        Ok(())
    }
}
