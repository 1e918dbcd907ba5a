//! The outcome of an import, row by row where rows were refused.

use std::fmt;

use serde::Serialize;

/// A source row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reject {
    /// 1-based record number, not counting the header.
    pub row: u64,
    /// The physical line the record starts on (records may span lines).
    pub line: u64,
    pub column: Option<String>,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub rows_read: u64,
    pub imported: u64,
    /// Already stored and changed in this file: brought up to date, the changes as events.
    pub updated: u64,
    /// Already stored and the same.
    pub unchanged: u64,
    pub rejected: Vec<Reject>,
    /// Usable rows kept with a part left out, e.g. a coordinate off the map.
    pub warnings: Vec<Reject>,
    pub services: u64,
    pub departments: u64,
}

impl ImportReport {
    pub(crate) fn reject(&mut self, row: u64, line: u64, column: Option<&str>, reason: String) {
        self.rejected.push(Reject {
            row,
            line,
            column: column.map(str::to_owned),
            reason,
        });
    }

    pub(crate) fn warn(&mut self, row: u64, line: u64, column: Option<&str>, reason: String) {
        self.warnings.push(Reject {
            row,
            line,
            column: column.map(str::to_owned),
            reason,
        });
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} rows read, {} imported, {} updated, {} unchanged, {} rejected, {} kept with warnings; {} services, {} departments",
            self.rows_read,
            self.imported,
            self.updated,
            self.unchanged,
            self.rejected.len(),
            self.warnings.len(),
            self.services,
            self.departments
        )
    }
}
