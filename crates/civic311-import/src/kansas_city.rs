//! Kansas City, MO "311 Call Center Service Requests" (data.kcmo.org), in its 32-column export,
//! read through the shipped mapping `mappings/kansas-city.toml`.
//!
//! How the city's columns become ours (see docs/DECISIONS.md for the reasoning):
//! - `CASE ID` is the request id; `REQUEST TYPE` is the service (its code a slug of the name),
//!   `CATEGORY` the service group, `DEPARTMENT` the department, `WORK GROUP` the assignee.
//! - `CREATION DATE` + `CREATION TIME` are local time in America/Chicago. `CLOSED DATE` has no
//!   time: it is placed at local midnight of that day, but never before creation (a same-day
//!   close then lasts zero, not minus some hours).
//! - `STATUS`: RESOL → closed (resolved), CANC → closed (cancelled), DUP → closed (duplicate;
//!   the export keeps no parent), OPEN → open, ASSIG → in progress.
//! - `SOURCE` → channel: PHONE, WEB, EMAIL, WALK, FAX as named; VOICE → voicemail; TWIR
//!   (Twitter) → social; BOT → chat; SYS and INSPE (entered by staff and inspectors) →
//!   self-generated; the rest (MAIL, EDC, EIP, KCEPD, CMO, …) → other.
//! - Areas: `nbh_id` (0 means none) in layer `kc-neighborhoods`; `COUNCIL DISTRICT` ("4.0")
//!   in layer `kc-council-districts`.

use std::path::Path;

use civic311_store::Store;

use crate::csv_import::{self, RowReader};
use crate::mapping::Mapping;
use crate::{ImportError, ImportReport};

/// The name events carry as the importing actor (`import:kansas-city-311`).
pub const SOURCE: &str = "kansas-city-311";
pub const NEIGHBORHOOD_LAYER: &str = "kc-neighborhoods";

/// The mapping shipped in `mappings/kansas-city.toml`.
pub const MAPPING: &str = include_str!("../../../mappings/kansas-city.toml");

pub fn mapping() -> Mapping {
    // Parsed in a test; shipped with the binary.
    Mapping::from_toml(MAPPING).unwrap_or_else(|e| unreachable!("mappings/kansas-city.toml: {e}"))
}

/// Imports a Kansas City 311 export file; see [`import_reader`].
pub async fn import_file(store: &Store, path: &Path) -> Result<ImportReport, ImportError> {
    csv_import::import_file(store, path, mapping()).await
}

/// The rows of a Kansas City 311 export, one by one (for benchmarks and tools).
pub fn rows<R: std::io::Read>(input: R, shown: &str) -> Result<RowReader<R>, ImportError> {
    RowReader::new(input, shown, mapping())
}

/// Imports a Kansas City 311 export, streaming; `shown` names the input in errors.
pub async fn import_reader(
    store: &Store,
    input: impl std::io::Read,
    shown: &str,
) -> Result<ImportReport, ImportError> {
    csv_import::import_reader(store, input, shown, mapping(), |_| {}).await
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use crate::mapping::local_to_utc;

    #[test]
    fn the_shipped_mapping_parses() {
        let m = super::mapping();
        assert_eq!(m.source, super::SOURCE);
        assert_eq!(
            m.status.values.len(),
            5,
            "every status code of the export is mapped"
        );
    }

    #[test]
    fn kansas_city_local_time_becomes_utc() {
        let kc = chrono_tz::America::Chicago;
        let t = NaiveDate::from_ymd_opt(2019, 11, 16)
            .unwrap()
            .and_hms_opt(14, 55, 0)
            .unwrap();
        assert_eq!(
            local_to_utc(kc, t).to_rfc3339(),
            "2019-11-16T20:55:00+00:00"
        );
        // 2019-03-10 02:30 did not exist in Kansas City: read as 03:30 CDT.
        let skipped = NaiveDate::from_ymd_opt(2019, 3, 10)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(
            local_to_utc(kc, skipped).to_rfc3339(),
            "2019-03-10T08:30:00+00:00"
        );
    }
}
