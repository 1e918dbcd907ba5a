//! The catalog as a spreadsheet: one row per service, with its department and SLA targets, for
//! the staff who keep it in Excel. Attributes (the questions a service asks) are not in the
//! sheet: a service already in the catalog keeps its own; TOML carries them.
//!
//! Columns (a header row is required, in any order; unknown columns are refused):
//! `service_code, service_name, description, group, keywords, department_code,
//! department_name, active, sla, sla_low, sla_normal, sla_high, sla_urgent, category`. Keywords
//! are separated by `;`. `category` is a standard category (docs/EXCHANGE.md); empty means
//! guessed from the name and group. SLA cells read `7 calendar_days`, `3 business_days`, `8 business_hours`,
//! or stay empty.

use std::collections::BTreeMap;
use std::io::{Read, Write};

use civic311_domain::{
    CatalogDocument, Department, DepartmentCode, Priority, Service, ServiceCode, SlaTarget, SlaUnit,
};

const COLUMNS: [&str; 14] = [
    "service_code",
    "service_name",
    "description",
    "group",
    "keywords",
    "department_code",
    "department_name",
    "active",
    "sla",
    "sla_low",
    "sla_normal",
    "sla_high",
    "sla_urgent",
    "category",
];

/// A cell that cannot be used: the whole sheet is refused, every such cell listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellError {
    /// 1-based line in the file (the header is line 1).
    pub line: u64,
    pub column: String,
    pub reason: String,
}

impl std::fmt::Display for CellError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.reason
        )
    }
}

/// A sheet's header, trimmed: refused, with every unknown and missing column, unless every
/// column is one of `columns` and every one of `required` is there.
pub(crate) fn header<R: Read>(
    reader: &mut csv::Reader<R>,
    columns: &[&str],
    required: &[&str],
) -> Result<Vec<String>, Vec<CellError>> {
    let at = |column: &str, reason: String| CellError {
        line: 1,
        column: column.to_owned(),
        reason,
    };
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| vec![at("-", format!("cannot read the header: {e}"))])?
        .iter()
        .map(|h| h.trim().to_owned())
        .collect();
    let mut errors = Vec::new();
    for h in &headers {
        if !columns.contains(&h.as_str()) {
            errors.push(at(
                h,
                format!("unknown column (the columns are {})", columns.join(", ")),
            ));
        }
    }
    for needed in required {
        if !headers.iter().any(|h| h == needed) {
            errors.push(at(needed, "missing column".into()));
        }
    }
    if errors.is_empty() {
        Ok(headers)
    } else {
        Err(errors)
    }
}

fn parse_sla(text: &str) -> Result<Option<SlaTarget>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let (amount, unit) = text
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("{text:?}: write it as `7 calendar_days`"))?;
    let amount: u32 = amount
        .parse()
        .map_err(|_| format!("{text:?}: {amount:?} is not a whole number"))?;
    let unit = SlaUnit::parse(unit.trim()).ok_or_else(|| {
        format!("{text:?}: the unit is calendar_days, business_days or business_hours")
    })?;
    Ok(Some(SlaTarget { amount, unit }))
}

fn write_sla(sla: Option<SlaTarget>) -> String {
    sla.map(|t| format!("{} {}", t.amount, t.unit.as_str()))
        .unwrap_or_default()
}

/// Reads a sheet into a document. Services already in `current` keep their attributes.
pub fn read(
    input: impl Read,
    current: &CatalogDocument,
) -> Result<CatalogDocument, Vec<CellError>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let at = |line: u64, column: &str, reason: String| CellError {
        line,
        column: column.to_owned(),
        reason,
    };
    let headers = header(&mut reader, &COLUMNS, &["service_code", "service_name"])?;
    let mut errors = Vec::new();
    let mut doc = CatalogDocument::default();
    let mut departments: BTreeMap<String, String> = BTreeMap::new();
    for (i, record) in reader.records().enumerate() {
        let line = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(2);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(at(line, "-", e.to_string()));
                continue;
            }
        };
        let cell = |name: &str| -> &str {
            headers
                .iter()
                .position(|h| h == name)
                .and_then(|i| record.get(i))
                .map(str::trim)
                .unwrap_or("")
        };
        let code = match ServiceCode::parse(cell("service_code")) {
            Ok(c) => c,
            Err(e) => {
                errors.push(at(line, "service_code", e.to_string()));
                continue;
            }
        };
        let department = match cell("department_code") {
            "" => None,
            d => match DepartmentCode::parse(d) {
                Ok(d) => {
                    let name = cell("department_name");
                    if !name.is_empty() {
                        departments.insert(d.to_string(), name.to_owned());
                    }
                    Some(d)
                }
                Err(e) => {
                    errors.push(at(line, "department_code", e.to_string()));
                    None
                }
            },
        };
        let active = match cell("active").to_ascii_lowercase().as_str() {
            "" | "true" | "yes" | "1" => true,
            "false" | "no" | "0" => false,
            other => {
                errors.push(at(
                    line,
                    "active",
                    format!("{other:?} is not true or false"),
                ));
                true
            }
        };
        let mut sla_by_priority = BTreeMap::new();
        let mut sla = None;
        for (column, priority) in [
            ("sla", None),
            ("sla_low", Some(Priority::Low)),
            ("sla_normal", Some(Priority::Normal)),
            ("sla_high", Some(Priority::High)),
            ("sla_urgent", Some(Priority::Urgent)),
        ] {
            match (parse_sla(cell(column)), priority) {
                (Err(reason), _) => errors.push(at(line, column, reason)),
                (Ok(target), None) => sla = target,
                (Ok(Some(target)), Some(p)) => {
                    sla_by_priority.insert(p, target);
                }
                (Ok(None), Some(_)) => {}
            }
        }
        let optional = |name: &str| Some(cell(name).to_owned()).filter(|v| !v.is_empty());
        let category = match optional("category")
            .map(|c| c.parse::<civic311_domain::StandardCategory>())
            .transpose()
        {
            Ok(c) => c,
            Err(e) => {
                errors.push(at(line, "category", e.to_string()));
                None
            }
        };
        let attributes = current
            .services
            .iter()
            .find(|s| s.code == code)
            .map(|s| s.attributes.clone())
            .unwrap_or_default();
        doc.services.push(Service {
            code,
            name: cell("service_name").to_owned(),
            description: optional("description"),
            group: optional("group"),
            keywords: cell("keywords")
                .split(';')
                .map(str::trim)
                .filter(|k| !k.is_empty())
                .map(str::to_owned)
                .collect(),
            department,
            attributes,
            sla,
            sla_by_priority,
            category,
            active,
        });
    }
    for (code, name) in departments {
        let Ok(code) = DepartmentCode::parse(code) else {
            continue;
        };
        let existing = current.departments.iter().find(|d| d.code == code);
        doc.departments.push(Department {
            code,
            name,
            email: existing.and_then(|d| d.email.clone()),
            phone: existing.and_then(|d| d.phone.clone()),
        });
    }
    if errors.is_empty() {
        Ok(doc)
    } else {
        Err(errors)
    }
}

/// Writes the catalog as a sheet, one row per service, by code.
pub fn write(doc: &CatalogDocument, output: impl Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(output);
    w.write_record(COLUMNS)?;
    let mut services: Vec<&Service> = doc.services.iter().collect();
    services.sort_by(|a, b| a.code.cmp(&b.code));
    for s in services {
        let department_name = s
            .department
            .as_ref()
            .and_then(|d| doc.departments.iter().find(|k| &k.code == d))
            .map(|d| d.name.clone())
            .unwrap_or_default();
        let by = |p| write_sla(s.sla_by_priority.get(&p).copied());
        w.write_record([
            s.code.to_string(),
            s.name.clone(),
            s.description.clone().unwrap_or_default(),
            s.group.clone().unwrap_or_default(),
            s.keywords.join(";"),
            s.department
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            department_name,
            s.active.to_string(),
            write_sla(s.sla),
            by(Priority::Low),
            by(Priority::Normal),
            by(Priority::High),
            by(Priority::Urgent),
            s.category.map(|c| c.slug().to_owned()).unwrap_or_default(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sheet_round_trips_and_bad_cells_are_named() {
        let sheet = "service_code,service_name,department_code,department_name,keywords,sla,sla_urgent,active\n\
                     pothole,Streets - Pothole,public-works,Public Works,street;road,7 calendar_days,8 business_hours,yes\n\
                     graffiti,Graffiti Removal,public-works,Public Works,,10 business_days,,no\n";
        let doc = read(sheet.as_bytes(), &CatalogDocument::default()).unwrap();
        assert_eq!(doc.services.len(), 2);
        assert_eq!(doc.departments.len(), 1);
        let pothole = &doc.services[0];
        assert_eq!(pothole.keywords, vec!["street", "road"]);
        assert_eq!(pothole.sla_for(Priority::Normal).map(|t| t.amount), Some(7));
        assert_eq!(
            pothole.sla_for(Priority::Urgent),
            Some(SlaTarget {
                amount: 8,
                unit: SlaUnit::BusinessHours
            })
        );
        assert!(!doc.services[1].active);
        let mut out = Vec::new();
        write(&doc, &mut out).unwrap();
        let again = read(out.as_slice(), &doc).unwrap();
        let mut sorted = doc.clone();
        sorted.services.sort_by(|a, b| a.code.cmp(&b.code));
        assert_eq!(again, sorted, "written by code, read back the same");

        let bad = "service_code,service_name,sla,colour\nPot Hole!,x,7 weeks,red\n";
        let errors = read(bad.as_bytes(), &CatalogDocument::default()).unwrap_err();
        assert_eq!(errors[0].column, "colour");
        let bad = "service_code,service_name,sla,active\npothole,x,7 weeks,maybe\n";
        let errors = read(bad.as_bytes(), &CatalogDocument::default()).unwrap_err();
        let said: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(said.len(), 2, "{said:?}");
        assert!(
            said.iter().any(|e| e.starts_with("line 2, column sla:")),
            "{said:?}"
        );
        assert!(
            said.iter().any(|e| e.starts_with("line 2, column active:")),
            "{said:?}"
        );
    }
}
