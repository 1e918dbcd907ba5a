//! Kansas City, MO "311 Call Center Service Requests" (data.kcmo.org), in its 32-column export.
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

use std::collections::HashSet;
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::America::Chicago;
use civic311_domain::{
    AreaId, AreaRef, Channel, ClosureReason, Department, DepartmentCode, HistoricalRequest,
    LatLong, LayerId, Location, Priority, RequestEvent, Service, ServiceCode, ServiceRequest,
    ServiceRequestId, Status,
};
use civic311_store::Store;

use crate::text::{non_empty, slug, strip_float_suffix};
use crate::{ImportError, ImportReport};

/// The name events carry as the importing actor (`import:kansas-city-311`).
pub const SOURCE: &str = "kansas-city-311";
pub const NEIGHBORHOOD_LAYER: &str = "kc-neighborhoods";
pub const COUNCIL_DISTRICT_LAYER: &str = "kc-council-districts";

const BATCH: usize = 2_000;

/// The columns we read, by their exact header names.
struct Columns {
    id: usize,
    source: usize,
    department: usize,
    work_group: usize,
    request_type: usize,
    category: usize,
    created_date: usize,
    created_time: usize,
    status: usize,
    closed_date: usize,
    street: usize,
    zip: usize,
    council_district: usize,
    lat: usize,
    long: usize,
    nbh_id: usize,
}

impl Columns {
    fn find(header: &csv::StringRecord, path: &str) -> Result<Columns, ImportError> {
        let col = |name: &str| {
            header
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| ImportError::Format {
                    path: path.to_owned(),
                    reason: format!(
                        "no column {name:?} in the header; is this a Kansas City 311 export?"
                    ),
                })
        };
        Ok(Columns {
            id: col("CASE ID")?,
            source: col("SOURCE")?,
            department: col("DEPARTMENT")?,
            work_group: col("WORK GROUP")?,
            request_type: col("REQUEST TYPE")?,
            category: col("CATEGORY")?,
            created_date: col("CREATION DATE")?,
            created_time: col("CREATION TIME")?,
            status: col("STATUS")?,
            closed_date: col("CLOSED DATE")?,
            street: col("STREET ADDRESS")?,
            zip: col("ZIP CODE")?,
            council_district: col("COUNCIL DISTRICT")?,
            lat: col("LATITUDE")?,
            long: col("LONGITUDE")?,
            nbh_id: col("nbh_id")?,
        })
    }
}

/// One row turned into our terms, with the catalog entries it refers to.
struct Row {
    request: HistoricalRequest,
    service: Service,
    department: Option<Department>,
    /// A part of the row that was dropped (column, reason), the rest being kept.
    warning: Option<(&'static str, String)>,
}

type RowError = (&'static str, String);

fn channel(source: &str) -> Channel {
    match source {
        "PHONE" => Channel::Phone,
        "WEB" => Channel::Web,
        "EMAIL" => Channel::Email,
        "WALK" => Channel::WalkIn,
        "FAX" => Channel::Fax,
        "VOICE" => Channel::Voicemail,
        "TWIR" => Channel::Social,
        "BOT" => Channel::Chat,
        "SYS" | "INSPE" => Channel::SelfGenerated,
        _ => Channel::Other,
    }
}

fn status(code: &str) -> Option<Status> {
    Some(match code {
        "RESOL" => Status::Closed(ClosureReason::Resolved),
        "CANC" => Status::Closed(ClosureReason::Cancelled),
        "DUP" => Status::Closed(ClosureReason::Duplicate),
        "OPEN" => Status::Open,
        "ASSIG" => Status::InProgress,
        _ => return None,
    })
}

/// Local Kansas City time to UTC. A time skipped by the spring DST change is read one hour
/// later; a repeated autumn hour is read as its first occurrence.
fn local_to_utc(t: NaiveDateTime) -> DateTime<Utc> {
    let local = Chicago.from_local_datetime(&t).earliest().or_else(|| {
        Chicago
            .from_local_datetime(&(t + chrono::Duration::hours(1)))
            .earliest()
    });
    local.map_or_else(|| Utc.from_utc_datetime(&t), |l| l.with_timezone(&Utc))
}

fn parse_row(rec: &csv::StringRecord, c: &Columns) -> Result<Row, RowError> {
    let field = |i: usize| rec.get(i).unwrap_or("").trim();
    let id = ServiceRequestId::parse(field(c.id)).map_err(|e| ("CASE ID", e.to_string()))?;
    let type_name = non_empty(field(c.request_type)).ok_or((
        "REQUEST TYPE",
        "is empty; every request needs a service".to_owned(),
    ))?;
    let code = ServiceCode::parse(slug(type_name)).map_err(|e| ("REQUEST TYPE", e.to_string()))?;
    let department = match non_empty(field(c.department)) {
        Some(name) => Some(Department {
            code: DepartmentCode::parse(slug(name)).map_err(|e| ("DEPARTMENT", e.to_string()))?,
            name: name.to_owned(),
            email: None,
            phone: None,
        }),
        None => None,
    };
    let date = NaiveDate::parse_from_str(field(c.created_date), "%m/%d/%Y").map_err(|e| {
        (
            "CREATION DATE",
            format!("{:?} is not MM/DD/YYYY: {e}", field(c.created_date)),
        )
    })?;
    let time = NaiveTime::parse_from_str(field(c.created_time), "%I:%M %p").map_err(|e| {
        (
            "CREATION TIME",
            format!("{:?} is not hh:mm AM: {e}", field(c.created_time)),
        )
    })?;
    let created_at = local_to_utc(date.and_time(time));
    let status = status(field(c.status))
        .ok_or_else(|| ("STATUS", format!("unknown status {:?}", field(c.status))))?;
    let closed_at = match non_empty(field(c.closed_date)) {
        Some(d) => {
            let day = NaiveDate::parse_from_str(d, "%m/%d/%Y")
                .map_err(|e| ("CLOSED DATE", format!("{d:?} is not MM/DD/YYYY: {e}")))?;
            Some(local_to_utc(day.and_time(NaiveTime::MIN)).max(created_at))
        }
        None => None,
    };
    let mut warning = None;
    let point = match (non_empty(field(c.lat)), non_empty(field(c.long))) {
        (Some(lat), Some(long)) => match (lat.parse::<f64>(), long.parse::<f64>()) {
            (Ok(lat), Ok(long)) => match LatLong::new(lat, long) {
                Ok(p) => Some(p),
                Err(e) => {
                    warning = Some(("LATITUDE", format!("{e}; kept without a point")));
                    None
                }
            },
            _ => {
                warning = Some((
                    "LATITUDE",
                    format!("{lat:?},{long:?} is not a number pair; kept without a point"),
                ));
                None
            }
        },
        _ => None,
    };
    let mut areas = Vec::new();
    let mut area = |layer: &str, id: &str| -> Result<(), RowError> {
        areas.push(AreaRef {
            layer: LayerId::parse(layer).map_err(|e| ("nbh_id", e.to_string()))?,
            area: AreaId::parse(id).map_err(|e| ("nbh_id", e.to_string()))?,
        });
        Ok(())
    };
    if let Some(nbh) = non_empty(field(c.nbh_id)).filter(|n| *n != "0") {
        area(NEIGHBORHOOD_LAYER, nbh)?;
    }
    if let Some(district) = non_empty(field(c.council_district)) {
        area(COUNCIL_DISTRICT_LAYER, strip_float_suffix(district))?;
    }
    let service = Service {
        code: code.clone(),
        name: type_name.to_owned(),
        description: None,
        group: non_empty(field(c.category)).map(str::to_owned),
        keywords: Vec::new(),
        department: department.as_ref().map(|d| d.code.clone()),
        attributes: Vec::new(),
        sla: None,
        sla_by_priority: Default::default(),
        active: true,
    };
    let request = HistoricalRequest {
        id,
        service_code: code,
        status,
        priority: Priority::Normal,
        description: None,
        location: Location {
            point,
            address: non_empty(field(c.street)).map(str::to_owned),
            address_id: None,
            zip: non_empty(field(c.zip)).map(|z| strip_float_suffix(z).to_owned()),
            areas,
        },
        channel: channel(field(c.source)),
        department: service.department.clone(),
        assignee: non_empty(field(c.work_group)).map(str::to_owned),
        due_at: None,
        created_at,
        closed_at,
    };
    Ok(Row {
        request,
        service,
        department,
        warning,
    })
}

/// Imports a Kansas City 311 export file; see [`import_reader`].
pub async fn import_file(store: &Store, path: &Path) -> Result<ImportReport, ImportError> {
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|source| ImportError::Io {
        path: shown.clone(),
        source,
    })?;
    import_reader(store, std::io::BufReader::new(file), &shown).await
}

/// Reads a Kansas City 311 export record by record, turning each usable one into a request
/// with its history and the catalog entries it refers to; rejects and warnings go to a report.
pub struct RowReader<R> {
    reader: csv::Reader<R>,
    columns: Columns,
    record: csv::StringRecord,
}

/// A usable row: the request, its events, and the service and department it names.
pub struct ImportedRow {
    pub request: ServiceRequest,
    pub events: Vec<RequestEvent>,
    pub service: Service,
    pub department: Option<Department>,
}

impl<R: std::io::Read> RowReader<R> {
    /// Reads the header; `shown` names the input in errors.
    pub fn new(input: R, shown: &str) -> Result<Self, ImportError> {
        let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(input);
        let header = reader
            .headers()
            .map_err(|e| ImportError::Format {
                path: shown.to_owned(),
                reason: e.to_string(),
            })?
            .clone();
        let columns = Columns::find(&header, shown)?;
        Ok(Self {
            reader,
            columns,
            record: csv::StringRecord::new(),
        })
    }

    /// The next usable row, recording every unusable one in `report` on the way.
    pub fn next_row(&mut self, report: &mut ImportReport) -> Option<ImportedRow> {
        loop {
            let line = self.reader.position().line();
            match self.reader.read_record(&mut self.record) {
                Ok(false) => return None,
                Ok(true) => {}
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
            let row = match parse_row(&self.record, &self.columns) {
                Ok(row) => row,
                Err((column, reason)) => {
                    report.reject(row_no, line, Some(column), reason);
                    continue;
                }
            };
            if let Some((column, reason)) = row.warning {
                report.warn(row_no, line, Some(column), reason);
            }
            match ServiceRequest::from_history(row.request, SOURCE) {
                Ok((request, events)) => {
                    return Some(ImportedRow {
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

/// Imports a Kansas City 311 export into a store without these ids, streaming: memory stays
/// flat whatever the size. `shown` names the input in errors. Returns the report of kept and
/// rejected rows.
pub async fn import_reader(
    store: &Store,
    input: impl std::io::Read,
    shown: &str,
) -> Result<ImportReport, ImportError> {
    let mut rows = RowReader::new(input, shown)?;
    let mut report = ImportReport::default();
    let mut seen_services = HashSet::new();
    let mut seen_departments = HashSet::new();
    let mut batch: Vec<(ServiceRequest, Vec<RequestEvent>)> = Vec::with_capacity(BATCH);
    while let Some(row) = rows.next_row(&mut report) {
        if let Some(d) = row
            .department
            .filter(|d| seen_departments.insert(d.code.clone()))
        {
            store.upsert_department(&d).await?;
            report.departments += 1;
        }
        if seen_services.insert(row.service.code.clone()) {
            store.upsert_service(&row.service).await?;
            report.services += 1;
        }
        batch.push((row.request, row.events));
        if batch.len() == BATCH {
            store.insert_requests(&batch).await?;
            report.imported += batch.len() as u64;
            batch.clear();
        }
    }
    store.insert_requests(&batch).await?;
    report.imported += batch.len() as u64;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kansas_city_local_time_becomes_utc() {
        let t = NaiveDate::from_ymd_opt(2019, 11, 16)
            .unwrap()
            .and_hms_opt(14, 55, 0)
            .unwrap();
        assert_eq!(local_to_utc(t).to_rfc3339(), "2019-11-16T20:55:00+00:00");
        // 2019-03-10 02:30 did not exist in Kansas City: read as 03:30 CDT.
        let skipped = NaiveDate::from_ymd_opt(2019, 3, 10)
            .unwrap()
            .and_hms_opt(2, 30, 0)
            .unwrap();
        assert_eq!(
            local_to_utc(skipped).to_rfc3339(),
            "2019-03-10T08:30:00+00:00"
        );
    }

    #[test]
    fn every_status_code_of_the_export_is_known() {
        for code in ["RESOL", "CANC", "DUP", "OPEN", "ASSIG"] {
            assert!(status(code).is_some(), "{code}");
        }
        assert_eq!(status("WHAT"), None);
    }
}
