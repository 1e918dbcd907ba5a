//! The budget table as a spreadsheet departments keep: one row per service,
//! `service_code, labor_minutes, hourly_rate, unit_cost` (a header row is required; unknown
//! columns are refused). Every bad cell is listed and nothing is saved (docs/METRICS.md).

use std::collections::HashSet;
use std::io::{Read, Write};

use civic311_domain::{ServiceCode, ServiceCost};

use crate::catalog_csv::CellError;

const COLUMNS: [&str; 4] = ["service_code", "labor_minutes", "hourly_rate", "unit_cost"];

/// Reads the sheet; `services` are the catalog's codes (a row for another one is refused).
pub fn read(
    input: impl Read,
    services: &HashSet<String>,
) -> Result<Vec<ServiceCost>, Vec<CellError>> {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let at = |line: u64, column: &str, reason: String| CellError {
        line,
        column: column.to_owned(),
        reason,
    };
    let headers = crate::catalog_csv::header(&mut reader, &COLUMNS, &COLUMNS)?;
    let mut errors = Vec::new();
    let column = |name: &str| headers.iter().position(|h| h == name).unwrap_or(0);
    let mut costs = Vec::new();
    let mut seen = HashSet::new();
    for (i, record) in reader.records().enumerate() {
        let line = u64::try_from(i).unwrap_or(u64::MAX).saturating_add(2);
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                errors.push(at(line, "-", e.to_string()));
                continue;
            }
        };
        let cell = |name: &str| record.get(column(name)).unwrap_or("").trim().to_owned();
        let code = cell("service_code");
        let service_code = match ServiceCode::parse(&code) {
            Ok(c) if services.contains(c.as_str()) => Some(c),
            Ok(_) => {
                errors.push(at(
                    line,
                    "service_code",
                    format!("{code:?} is not a service of the catalog"),
                ));
                None
            }
            Err(e) => {
                errors.push(at(line, "service_code", e.to_string()));
                None
            }
        };
        if service_code.is_some() && !seen.insert(code.clone()) {
            errors.push(at(
                line,
                "service_code",
                format!("{code:?} has a row already"),
            ));
        }
        let mut amount = |name: &str| {
            let text = cell(name);
            match text.parse::<f64>() {
                Ok(v) if v.is_finite() && v >= 0.0 => Some(v),
                _ => {
                    errors.push(at(
                        line,
                        name,
                        format!("{text:?} is not an amount of 0 or more"),
                    ));
                    None
                }
            }
        };
        let (labor, rate, unit) = (
            amount("labor_minutes"),
            amount("hourly_rate"),
            amount("unit_cost"),
        );
        if let (Some(service_code), Some(labor_minutes), Some(hourly_rate), Some(unit_cost)) =
            (service_code, labor, rate, unit)
        {
            costs.push(ServiceCost {
                service_code,
                labor_minutes,
                hourly_rate,
                unit_cost,
            });
        }
    }
    if errors.is_empty() {
        Ok(costs)
    } else {
        Err(errors)
    }
}

/// Writes the table as the sheet `read` takes.
pub fn write(costs: &[ServiceCost], out: impl Write) -> csv::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(COLUMNS)?;
    for c in costs {
        w.write_record([
            c.service_code.as_str(),
            &c.labor_minutes.to_string(),
            &c.hourly_rate.to_string(),
            &c.unit_cost.to_string(),
        ])?;
    }
    w.flush()?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_sheet_round_trips_and_every_bad_cell_is_named() {
        let services: HashSet<String> = ["pothole", "graffiti"].map(str::to_owned).into();
        let sheet = "service_code,labor_minutes,hourly_rate,unit_cost\npothole,45,60,18.5\ngraffiti,30,52.25,4\n";
        let costs = read(sheet.as_bytes(), &services).unwrap();
        assert_eq!(costs[0].per_request(), 63.5);
        let mut out = Vec::new();
        write(&costs, &mut out).unwrap();
        assert_eq!(read(out.as_slice(), &services).unwrap(), costs);

        let bad = "service_code,labor_minutes,hourly_rate,unit_cost\npothole,-5,60,1\nrats,1,1,1\npothole,1,x,1\n";
        let errors: Vec<String> = read(bad.as_bytes(), &services)
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(
            errors,
            [
                "line 2, column labor_minutes: \"-5\" is not an amount of 0 or more",
                "line 3, column service_code: \"rats\" is not a service of the catalog",
                "line 4, column service_code: \"pothole\" has a row already",
                "line 4, column hourly_rate: \"x\" is not an amount of 0 or more",
            ]
        );
        let unknown = read("service_code,cost\n".as_bytes(), &services).unwrap_err();
        assert!(unknown.iter().any(|e| e.column == "cost"));
    }
}
