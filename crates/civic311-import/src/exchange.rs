//! Imports an exchange file, CSV or Parquet (docs/EXCHANGE.md), another city's or our own export: every
//! column comes back as it went out, so exporting, importing into an empty store and exporting
//! again gives the same file. Services unknown here are created with the file's name, group and
//! standard category; areas are kept by id, and layers loaded here place the rest by point.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use civic311_domain::{
    AreaId, AreaRef, Channel, Department, DepartmentCode, HistoricalRequest, LatLong, LayerId,
    Location, Priority, RequestEvent, Service, ServiceCode, ServiceRequest, ServiceRequestId,
    Status,
};
use civic311_exchange::Record;
use civic311_exchange::read::{FileError, Reader, Records};
use civic311_store::Store;

use crate::csv_import::{Writer, ensure_service, place};
use crate::{ImportError, ImportReport};

/// The actor name events carry: `import:exchange:CITY`.
fn source(city: &str) -> String {
    if city.is_empty() {
        "exchange".to_owned()
    } else {
        format!("exchange:{city}")
    }
}

/// Imports an exchange file, Parquet or CSV (told apart by the file's first bytes).
pub async fn import_file(store: &Store, path: &Path) -> Result<ImportReport, ImportError> {
    let shown = path.display().to_string();
    let reader = civic311_exchange::read::open(path)
        .map_err(|source| ImportError::Io {
            path: shown.clone(),
            source,
        })?
        .map_err(|e| not_exchange(&shown, e))?;
    import_records(store, reader, &shown).await
}

fn not_exchange(shown: &str, e: FileError) -> ImportError {
    ImportError::Format {
        path: shown.to_owned(),
        reason: match e {
            FileError::NotExchange(reason) => reason,
            FileError::Csv(e) => e.to_string(),
        },
    }
}

/// Imports an exchange-format CSV from `input`; `shown` names it in errors.
pub async fn import_reader(
    store: &Store,
    input: impl Read,
    shown: &str,
) -> Result<ImportReport, ImportError> {
    let reader = Reader::new(input).map_err(|e| not_exchange(shown, e))?;
    import_records(store, reader, shown).await
}

async fn import_records(
    store: &Store,
    mut reader: impl Records,
    shown: &str,
) -> Result<ImportReport, ImportError> {
    let format = |reason: String| ImportError::Format {
        path: shown.to_owned(),
        reason,
    };
    let areas = store.area_index().await?;
    let mut report = ImportReport::default();
    let mut seen_services = HashSet::new();
    // Departments already here keep their names and contacts.
    let mut seen_departments: HashSet<DepartmentCode> = store
        .departments()
        .await?
        .into_iter()
        .map(|d| d.code)
        .collect();
    let mut writer = Writer::start(store, "exchange").await?;
    let mut source_name = None;
    let mut row_no = 0;
    // Duplicates and their originals, linked again at the end: an original later in the file
    // than its duplicate is not stored yet when the duplicate is written.
    let mut duplicates = Vec::new();
    let read = async {
        while let Some((line, next)) = reader.next_record() {
            row_no += 1;
            report.rows_read += 1;
            let record = match next {
                Ok(r) => r,
                Err(e) => {
                    report.reject(row_no, e.line, e.column.as_deref(), e.reason);
                    continue;
                }
            };
            // The file's city names the importing actor; its first usable row tells which.
            let source = source_name.get_or_insert_with(|| {
                let name = source(&record.city);
                writer.set_source(&name);
                name
            });
            let (mut request, events, service, department) = match convert(&record, source) {
                Ok(converted) => converted,
                Err((column, reason)) => {
                    report.reject(row_no, line, Some(column), reason);
                    continue;
                }
            };
            place(&areas, &mut request);
            if let Some(d) = department.filter(|d| seen_departments.insert(d.code.clone())) {
                store.upsert_department(&d).await?;
                report.departments += 1;
            }
            ensure_service(store, &mut seen_services, &service, &mut report).await?;
            if let Some(parent) = &request.parent_id {
                duplicates.push((request.id.clone(), parent.clone()));
            }
            writer
                .push((row_no, line), request, events, &mut report)
                .await?;
        }
        match reader.failure() {
            Some(e) => Err(format(format!(
                "reading stopped after {row_no} records: {e}"
            ))),
            None => Ok(()),
        }
    }
    .await;
    writer.finish(read, &mut report).await?;
    store.link_duplicates(&duplicates).await?;
    Ok(report)
}

type Converted = (
    ServiceRequest,
    Vec<RequestEvent>,
    Service,
    Option<Department>,
);

fn convert(r: &Record, source: &str) -> Result<Converted, (&'static str, String)> {
    let bad = |column: &'static str| move |e: civic311_domain::DomainError| (column, e.to_string());
    let service_code = ServiceCode::parse(&*r.service_code).map_err(bad("service_code"))?;
    let department = r
        .department
        .as_deref()
        .map(DepartmentCode::parse)
        .transpose()
        .map_err(bad("department"))?;
    let point = match (r.latitude, r.longitude) {
        (Some(lat), Some(long)) => Some(LatLong::new(lat, long).map_err(bad("latitude"))?),
        (None, None) => None,
        _ => return Err(("longitude", "latitude and longitude go together".to_owned())),
    };
    let mut areas = Vec::new();
    for (layer, area) in &r.areas {
        if let Some(area) = area {
            areas.push(AreaRef {
                layer: LayerId::parse(&**layer).map_err(bad("area"))?,
                area: AreaId::parse(&**area).map_err(bad("area"))?,
            });
        }
    }
    let history = HistoricalRequest {
        id: ServiceRequestId::parse(&*r.request_id).map_err(bad("request_id"))?,
        service_code: service_code.clone(),
        status: Status::parse(&r.status, r.closure_reason.as_deref()).map_err(bad("status"))?,
        priority: Priority::parse(&r.priority).map_err(bad("priority"))?,
        description: r.description.as_deref().map(str::to_owned),
        location: Location {
            point,
            address: r.address.as_deref().map(str::to_owned),
            address_id: None,
            zip: r.zip.as_deref().map(str::to_owned),
            areas,
        },
        channel: Channel::parse(&r.channel).map_err(bad("channel"))?,
        department: department.clone(),
        assignee: None,
        due_at: r.due_at,
        created_at: r.created_at,
        closed_at: r.closed_at,
    };
    let (mut request, events) =
        ServiceRequest::from_history(history, source).map_err(bad("description"))?;
    request.updated_at = r.updated_at;
    request.parent_id = r
        .duplicate_of
        .as_deref()
        .map(ServiceRequestId::parse)
        .transpose()
        .map_err(bad("duplicate_of"))?;
    let service = Service {
        code: service_code,
        name: r
            .service_name
            .as_deref()
            .unwrap_or(&r.service_code)
            .to_owned(),
        description: None,
        group: r.service_group.as_deref().map(str::to_owned),
        keywords: vec![],
        department: department.clone(),
        attributes: vec![],
        sla: None,
        sla_by_priority: Default::default(),
        category: Some(r.category),
        active: true,
    };
    let department = department.map(|code| Department {
        name: r
            .department_name
            .as_deref()
            .map_or_else(|| code.to_string(), str::to_owned),
        code,
        email: None,
        phone: None,
    });
    Ok((request, events, service, department))
}
