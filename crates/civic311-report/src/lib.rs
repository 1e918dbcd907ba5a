//! The monthly report to the mayor, the manager and the council, from
//! [`civic311_analytics::monthly_report`]: one document, written as HTML (inline SVG charts,
//! nothing fetched) or PDF, chosen by the output file's extension; JSON is the report itself.

pub mod compare;
pub mod document;
pub mod html;
pub mod mailing;
pub mod pdf;
pub mod process;

use civic311_analytics::MonthlyReport;

/// The formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Html,
    Pdf,
    Json,
}

impl Format {
    /// By the file's extension: `.html`/`.htm`, `.pdf`, `.json`.
    pub fn of_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "htm" => Some(Format::Html),
            name => Format::named(name),
        }
    }

    /// By its name: `html`, `pdf` or `json`.
    pub fn named(name: &str) -> Option<Format> {
        match name {
            "html" => Some(Format::Html),
            "pdf" => Some(Format::Pdf),
            "json" => Some(Format::Json),
            _ => None,
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Html => "text/html; charset=utf-8",
            Format::Pdf => "application/pdf",
            Format::Json => "application/json",
        }
    }
}

/// The monthly report of `title` (the city's 311, e.g. "Kansas City 311") in `format`.
pub fn render(report: &MonthlyReport, title: &str, format: Format) -> Result<Vec<u8>, String> {
    write(|| document::build(report, title), report, format)
}

/// Cities compared, in `format`.
pub fn render_comparison(
    comparison: &civic311_analytics::compare::Comparison,
    format: Format,
) -> Result<Vec<u8>, String> {
    write(|| compare::build(comparison), comparison, format)
}

/// Process diagnostics of `title`'s requests, in `format`.
pub fn render_process(
    report: &civic311_analytics::process::ProcessReport,
    title: &str,
    format: Format,
) -> Result<Vec<u8>, String> {
    write(|| process::build(report, title), report, format)
}

/// The document in HTML or PDF, or the data itself in JSON.
fn write<T: serde::Serialize>(
    doc: impl FnOnce() -> document::Document,
    data: &T,
    format: Format,
) -> Result<Vec<u8>, String> {
    match format {
        Format::Html => html::render(&doc())
            .map(String::into_bytes)
            .map_err(|e| format!("cannot render HTML: {e}")),
        Format::Pdf => Ok(pdf::render(&doc())),
        Format::Json => {
            serde_json::to_vec_pretty(data).map_err(|e| format!("cannot write JSON: {e}"))
        }
    }
}
