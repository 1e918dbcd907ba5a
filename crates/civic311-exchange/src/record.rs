//! One request in the exchange format, version 1 (docs/EXCHANGE.md): a flat row that any city
//! can write and any other can read, with the standard category beside the city's own service.

use std::borrow::Cow;

use chrono::{DateTime, SecondsFormat, Utc};
use civic311_domain::privacy::Scrub;
use civic311_domain::{Service, ServiceRequest, StandardCategory};

/// The version this crate writes and reads. A reader refuses rows of a newer version.
pub const VERSION: i64 = 1;

/// Names of the area columns: `area:` then the layer id (`area:kc-neighborhoods`).
pub const AREA_PREFIX: &str = "area:";

/// How a column is typed in Parquet and GeoJSON (CSV holds text).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Int,
    Text,
    /// UTC, RFC 3339 in CSV and GeoJSON, TIMESTAMP(MICROS, UTC) in Parquet.
    Time,
    Float,
}

/// The fixed columns of version 1, in file order; the area columns follow.
pub const COLUMNS: &[(&str, Kind)] = &[
    ("exchange_version", Kind::Int),
    ("city", Kind::Text),
    ("request_id", Kind::Text),
    ("category", Kind::Text),
    ("service_code", Kind::Text),
    ("service_name", Kind::Text),
    ("service_group", Kind::Text),
    ("department", Kind::Text),
    ("department_name", Kind::Text),
    ("status", Kind::Text),
    ("closure_reason", Kind::Text),
    ("priority", Kind::Text),
    ("channel", Kind::Text),
    ("created_at", Kind::Time),
    ("updated_at", Kind::Time),
    ("closed_at", Kind::Time),
    ("due_at", Kind::Time),
    ("latitude", Kind::Float),
    ("longitude", Kind::Float),
    ("address", Kind::Text),
    ("zip", Kind::Text),
    ("description", Kind::Text),
    ("duplicate_of", Kind::Text),
];

/// A column's value, typed as `COLUMNS` says.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    Int(i64),
    Text(Option<&'a str>),
    Time(Option<DateTime<Utc>>),
    Float(Option<f64>),
}

impl Value<'_> {
    /// The value as CSV text; `None` is an empty cell.
    pub fn text(&self) -> Option<String> {
        match self {
            Value::Int(n) => Some(n.to_string()),
            Value::Text(s) => s.map(str::to_owned),
            Value::Time(t) => t.map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true)),
            // Rust writes the shortest text that reads back as the same f64.
            Value::Float(f) => f.map(|f| f.to_string()),
        }
    }
}

/// A request as the exchange format carries it. Personal data is not part of the format:
/// requesters are never exported, and free text is scrubbed on the way out. An export's record
/// borrows its text from the request it is made of (a copy of each, a dozen a row, was most of
/// what making a record cost); a file's is `Record<'static>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    pub version: i64,
    pub city: Cow<'a, str>,
    pub request_id: Cow<'a, str>,
    pub category: StandardCategory,
    pub service_code: Cow<'a, str>,
    pub service_name: Option<Cow<'a, str>>,
    pub service_group: Option<Cow<'a, str>>,
    pub department: Option<Cow<'a, str>>,
    pub department_name: Option<Cow<'a, str>>,
    pub status: Cow<'a, str>,
    pub closure_reason: Option<Cow<'a, str>>,
    pub priority: Cow<'a, str>,
    pub channel: Cow<'a, str>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
    pub due_at: Option<DateTime<Utc>>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub address: Option<Cow<'a, str>>,
    pub zip: Option<Cow<'a, str>>,
    pub description: Option<Cow<'a, str>>,
    pub duplicate_of: Option<Cow<'a, str>>,
    /// (layer id, area id), one per area column of the file.
    pub areas: Vec<(Cow<'a, str>, Option<Cow<'a, str>>)>,
}

impl<'a> Record<'a> {
    /// The record of a stored request; `layers` are the file's area columns, in order.
    pub fn of(
        city: &'a str,
        r: &'a ServiceRequest,
        service: Option<&'a Service>,
        department_name: Option<&'a str>,
        layers: &'a [String],
        scrub: Scrub,
    ) -> Record<'a> {
        let category = service.map_or(StandardCategory::Other, Service::standard_category);
        let point = r.location.point;
        Record {
            version: VERSION,
            city: city.into(),
            request_id: r.id.as_str().into(),
            category,
            service_code: r.service_code.as_str().into(),
            service_name: service.map(|s| s.name.as_str().into()),
            service_group: service.and_then(|s| s.group.as_deref()).map(Cow::Borrowed),
            department: r.department.as_ref().map(|d| d.as_str().into()),
            department_name: department_name.map(Cow::Borrowed),
            status: r.status.state().into(),
            closure_reason: r.status.reason().map(Cow::Borrowed),
            priority: r.priority.as_str().into(),
            channel: r.channel.as_str().into(),
            created_at: r.created_at,
            updated_at: r.updated_at,
            closed_at: r.closed_at,
            due_at: r.due_at,
            latitude: point.map(|p| p.lat()),
            longitude: point.map(|p| p.long()),
            address: r.location.address.as_deref().map(|a| scrub.address(a)),
            zip: r.location.zip.as_deref().map(Cow::Borrowed),
            description: r.description.as_deref().map(|d| scrub.text(d)),
            duplicate_of: r.parent_id.as_ref().map(|p| p.as_str().into()),
            areas: layers
                .iter()
                .map(|layer| {
                    let area = r.location.area_in(layer).map(|a| a.as_str().into());
                    (layer.as_str().into(), area)
                })
                .collect(),
        }
    }

    /// The fixed columns' values, in `COLUMNS` order.
    pub fn values(&self) -> [Value<'_>; 23] {
        use Value::{Float, Int, Text, Time};
        [
            Int(self.version),
            Text(Some(&*self.city)),
            Text(Some(&*self.request_id)),
            Text(Some(self.category.slug())),
            Text(Some(&*self.service_code)),
            Text(self.service_name.as_deref()),
            Text(self.service_group.as_deref()),
            Text(self.department.as_deref()),
            Text(self.department_name.as_deref()),
            Text(Some(&*self.status)),
            Text(self.closure_reason.as_deref()),
            Text(Some(&*self.priority)),
            Text(Some(&*self.channel)),
            Time(Some(self.created_at)),
            Time(Some(self.updated_at)),
            Time(self.closed_at),
            Time(self.due_at),
            Float(self.latitude),
            Float(self.longitude),
            Text(self.address.as_deref()),
            Text(self.zip.as_deref()),
            Text(self.description.as_deref()),
            Text(self.duplicate_of.as_deref()),
        ]
    }
}

/// The header of a file with these area layers.
pub fn header(layers: &[String]) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|(name, _)| (*name).to_owned())
        .chain(layers.iter().map(|l| format!("{AREA_PREFIX}{l}")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_follow_the_columns() {
        let r = Record {
            version: VERSION,
            city: "kc".into(),
            request_id: "1".into(),
            category: StandardCategory::Pothole,
            service_code: "pothole".into(),
            service_name: None,
            service_group: None,
            department: None,
            department_name: None,
            status: "open".into(),
            closure_reason: None,
            priority: "normal".into(),
            channel: "phone".into(),
            created_at: DateTime::UNIX_EPOCH,
            updated_at: DateTime::UNIX_EPOCH,
            closed_at: None,
            due_at: None,
            latitude: Some(39.1),
            longitude: None,
            address: None,
            zip: None,
            description: None,
            duplicate_of: None,
            areas: vec![],
        };
        let values = r.values();
        assert_eq!(values.len(), COLUMNS.len());
        for (value, (name, kind)) in values.iter().zip(COLUMNS) {
            let matches = matches!(
                (value, kind),
                (Value::Int(_), Kind::Int)
                    | (Value::Text(_), Kind::Text)
                    | (Value::Time(_), Kind::Time)
                    | (Value::Float(_), Kind::Float)
            );
            assert!(matches, "{name}: {value:?} is not {kind:?}");
        }
        assert_eq!(values[3].text().as_deref(), Some("pothole"));
        assert_eq!(values[13].text().as_deref(), Some("1970-01-01T00:00:00Z"));
        assert_eq!(values[17].text().as_deref(), Some("39.1"));
    }
}
