//! A city's CSV export described in a TOML file, not in code: which column holds what, how its
//! dates are written and in which time zone, and what its status and channel words mean. The
//! format is documented in docs/IMPORT_MAPPING.md; the mappings shipped with civic311 are in
//! `mappings/` (Kansas City, and New York's three layouts).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use civic311_domain::{
    AreaId, AreaRef, Channel, ClosureReason, Department, DepartmentCode, HistoricalRequest,
    LatLong, LayerId, Location, Priority, Service, ServiceCode, ServiceRequestId, Status,
};
use serde::Deserialize;

use crate::text::{non_empty, slug, strip_float_suffix};

/// A mapping file as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Who the history is from: events carry `import:SOURCE`.
    pub source: String,
    /// The city's IANA time zone: dates without an offset are local time there.
    pub timezone: Tz,
    /// `false` for files without a header row; then `columns` names them in order.
    #[serde(default = "yes")]
    pub header: bool,
    #[serde(default)]
    pub columns: Vec<String>,
    /// Put before the city's ids (`nyc:`) when several cities share a database.
    #[serde(default)]
    pub id_prefix: String,
    pub id: String,
    pub created: DateField,
    #[serde(default)]
    pub closed: Option<DateField>,
    /// When the city promised it done (its own SLA), where the export says.
    #[serde(default)]
    pub due: Option<DateField>,
    pub status: Vocabulary,
    pub service: ServiceColumns,
    /// The department: its code is a slug of this column (e.g. `Agency`: `hpd`)...
    #[serde(default)]
    pub department: Option<String>,
    /// ...and its name this one when given (`Agency Name`), else the same column.
    #[serde(default)]
    pub department_name: Option<String>,
    #[serde(default)]
    pub channel: Option<Vocabulary>,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub location: LocationColumns,
    #[serde(default)]
    pub areas: Vec<AreaColumn>,
}

fn yes() -> bool {
    true
}

/// A date (and time) in one column, or a date and a time in two.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DateField {
    pub column: String,
    /// chrono format, e.g. `%m/%d/%Y %I:%M:%S %p`; a date-only format reads midnight.
    pub format: String,
    #[serde(default)]
    pub time_column: Option<String>,
    #[serde(default)]
    pub time_format: Option<String>,
    /// Values that mean "no date" (e.g. `01/01/1900 12:00:00 AM`).
    #[serde(default)]
    pub placeholders: Vec<String>,
}

/// The city's words for something, and ours (`open`, `closed:resolved`, `phone`...).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Vocabulary {
    pub column: String,
    pub values: BTreeMap<String, String>,
    /// For words not in `values`; without it such a row is rejected.
    #[serde(default)]
    pub default: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceColumns {
    /// The service's name; its code is a slug of it unless `code` is given.
    pub name: String,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default)]
    pub group: Option<String>,
    /// A column that splits a service into finer ones (New York's `Descriptor`: "Street
    /// Condition" into "Street Condition - Pothole", "Street Condition - Cave-in", ...), for the
    /// services named in `detail_for` (every service when that is empty). A row whose detail is
    /// empty keeps the service whole.
    #[serde(default)]
    pub detail: Option<String>,
    #[serde(default)]
    pub detail_for: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationColumns {
    pub lat: Option<String>,
    pub long: Option<String>,
    pub address: Option<String>,
    pub zip: Option<String>,
}

/// An area named in the row itself (used where a request has no coordinates, and kept beside
/// point-in-polygon results otherwise).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AreaColumn {
    pub layer: String,
    pub column: String,
    /// Values meaning "none" (`0`, `Unspecified`).
    #[serde(default)]
    pub ignore: Vec<String>,
}

/// A mapping checked against a file's header: every column it names found.
#[derive(Debug, Clone)]
pub struct Compiled {
    m: Mapping,
    at: BTreeMap<String, usize>,
    statuses: BTreeMap<String, Status>,
    status_default: Option<Status>,
    channels: BTreeMap<String, Channel>,
    channel_default: Channel,
    layers: Vec<LayerId>,
}

/// A usable row in our terms, with the catalog entries it names.
pub struct Row {
    pub request: HistoricalRequest,
    pub service: Service,
    pub department: Option<Department>,
    /// Parts of the row that were left out or flagged (column, reason); the rest is kept.
    pub warnings: Vec<(String, String)>,
}

/// Why a row cannot be used: (column, reason).
pub type RowError = (String, String);

fn parse_status(word: &str) -> Result<Status, String> {
    let (state, reason) = match word.split_once(':') {
        Some((s, r)) => (s, Some(r)),
        None => (word, None),
    };
    let closure = |r: &str| match r {
        "resolved" => Ok(ClosureReason::Resolved),
        "duplicate" => Ok(ClosureReason::Duplicate),
        "cancelled" => Ok(ClosureReason::Cancelled),
        "no_action_needed" => Ok(ClosureReason::NoActionNeeded),
        "referred" => Ok(ClosureReason::Referred),
        "unable_to_locate" => Ok(ClosureReason::UnableToLocate),
        other => Err(format!("unknown closure reason {other:?}")),
    };
    match (state, reason) {
        ("open", None) => Ok(Status::Open),
        ("in_progress", None) => Ok(Status::InProgress),
        ("on_hold", Some("waiting_on_resident")) => Ok(Status::OnHold(
            civic311_domain::HoldReason::WaitingOnResident,
        )),
        ("on_hold", Some("appointment_scheduled")) => Ok(Status::OnHold(
            civic311_domain::HoldReason::AppointmentScheduled,
        )),
        ("on_hold", _) => Ok(Status::OnHold(
            civic311_domain::HoldReason::WaitingOnThirdParty,
        )),
        ("closed", Some(r)) => Ok(Status::Closed(closure(r)?)),
        ("closed", None) => Ok(Status::Closed(ClosureReason::Resolved)),
        _ => Err(format!(
            "{word:?} is not a status (open, in_progress, on_hold[:reason], closed[:reason])"
        )),
    }
}

/// Local time in `tz` to UTC. A time skipped by a spring DST change is read one hour later; a
/// repeated autumn hour is read as its first occurrence.
pub fn local_to_utc(tz: Tz, t: NaiveDateTime) -> DateTime<Utc> {
    let local = tz.from_local_datetime(&t).earliest().or_else(|| {
        tz.from_local_datetime(&(t + chrono::Duration::hours(1)))
            .earliest()
    });
    local.map_or_else(|| Utc.from_utc_datetime(&t), |l| l.with_timezone(&Utc))
}

impl Mapping {
    pub fn from_toml(text: &str) -> Result<Mapping, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }

    /// Every column the mapping reads.
    fn named_columns(&self) -> Vec<&str> {
        let mut names = vec![
            self.id.as_str(),
            &self.created.column,
            &self.status.column,
            &self.service.name,
        ];
        let optional = [
            self.created.time_column.as_deref(),
            self.closed.as_ref().map(|c| c.column.as_str()),
            self.closed.as_ref().and_then(|c| c.time_column.as_deref()),
            self.due.as_ref().map(|c| c.column.as_str()),
            self.due.as_ref().and_then(|c| c.time_column.as_deref()),
            self.service.code.as_deref(),
            self.service.group.as_deref(),
            self.service.detail.as_deref(),
            self.department.as_deref(),
            self.department_name.as_deref(),
            self.channel.as_ref().map(|c| c.column.as_str()),
            self.assignee.as_deref(),
            self.description.as_deref(),
            self.location.lat.as_deref(),
            self.location.long.as_deref(),
            self.location.address.as_deref(),
            self.location.zip.as_deref(),
        ];
        names.extend(optional.into_iter().flatten());
        names.extend(self.areas.iter().map(|a| a.column.as_str()));
        names
    }

    /// Checks the mapping against the file's header (or its own `columns` for a file without
    /// one): a column it names and the file lacks, or a word it maps to nothing we know, is an
    /// error naming it.
    pub fn compile(self, header: Option<&csv::StringRecord>) -> Result<Compiled, String> {
        let names: Vec<String> = match (self.header, header) {
            (true, Some(h)) => h
                .iter()
                .map(|c| c.trim().trim_start_matches('\u{feff}').to_owned())
                .collect(),
            (true, None) => return Err("the file has no header row".into()),
            (false, _) if self.columns.is_empty() => {
                return Err("`header = false` needs `columns` naming the columns in order".into());
            }
            (false, _) => self.columns.clone(),
        };
        let mut at = BTreeMap::new();
        for name in self.named_columns() {
            let i = names.iter().position(|n| n == name).ok_or_else(|| {
                format!("the mapping reads column {name:?}, which the file does not have")
            })?;
            at.insert(name.to_owned(), i);
        }
        let mut statuses = BTreeMap::new();
        for (word, ours) in &self.status.values {
            statuses.insert(
                word.clone(),
                parse_status(ours).map_err(|e| format!("status.values.{word}: {e}"))?,
            );
        }
        let status_default = self
            .status
            .default
            .as_deref()
            .map(parse_status)
            .transpose()
            .map_err(|e| format!("status.default: {e}"))?;
        let mut channels = BTreeMap::new();
        let mut channel_default = Channel::Other;
        if let Some(c) = &self.channel {
            for (word, ours) in &c.values {
                channels.insert(
                    word.clone(),
                    Channel::parse(ours).map_err(|e| format!("channel.values.{word}: {e}"))?,
                );
            }
            if let Some(d) = &c.default {
                channel_default = Channel::parse(d).map_err(|e| format!("channel.default: {e}"))?;
            }
        }
        let layers = self
            .areas
            .iter()
            .map(|a| LayerId::parse(a.layer.as_str()).map_err(|e| format!("areas.layer: {e}")))
            .collect::<Result<_, _>>()?;
        if self.source.trim().is_empty() {
            return Err("`source` must not be empty".into());
        }
        Ok(Compiled {
            m: self,
            at,
            statuses,
            status_default,
            channels,
            channel_default,
            layers,
        })
    }
}

impl Compiled {
    pub fn source(&self) -> &str {
        &self.m.source
    }

    pub fn has_header(&self) -> bool {
        self.m.header
    }

    fn field<'r>(&self, rec: &'r csv::StringRecord, column: &str) -> &'r str {
        self.at
            .get(column)
            .and_then(|i| rec.get(*i))
            .map(str::trim)
            .unwrap_or("")
    }

    fn date(
        &self,
        rec: &csv::StringRecord,
        d: &DateField,
    ) -> Result<Option<DateTime<Utc>>, RowError> {
        let text = self.field(rec, &d.column);
        if text.is_empty() || d.placeholders.iter().any(|p| p == text) {
            return Ok(None);
        }
        let bad = |e: chrono::ParseError| {
            (
                d.column.clone(),
                format!("{text:?} is not {}: {e}", d.format),
            )
        };
        let local = match (&d.time_column, &d.time_format) {
            (Some(tc), Some(tf)) => {
                let day = NaiveDate::parse_from_str(text, &d.format).map_err(bad)?;
                let t = self.field(rec, tc);
                let time = NaiveTime::parse_from_str(t, tf)
                    .map_err(|e| (tc.clone(), format!("{t:?} is not {tf}: {e}")))?;
                day.and_time(time)
            }
            _ => match NaiveDateTime::parse_from_str(text, &d.format) {
                Ok(t) => t,
                // A date-only format reads midnight.
                Err(_) => NaiveDate::parse_from_str(text, &d.format)
                    .map_err(bad)?
                    .and_time(NaiveTime::MIN),
            },
        };
        Ok(Some(local_to_utc(self.m.timezone, local)))
    }

    /// Turns one record into a request, or says which column makes it unusable.
    pub fn parse(&self, rec: &csv::StringRecord) -> Result<Row, RowError> {
        let m = &self.m;
        let col = |c: &str| c.to_owned();
        let mut warnings = Vec::new();
        let raw_id = self.field(rec, &m.id);
        let id = ServiceRequestId::parse(format!("{}{raw_id}", m.id_prefix))
            .map_err(|e| (col(&m.id), e.to_string()))?;
        let whole = non_empty(self.field(rec, &m.service.name)).ok_or((
            col(&m.service.name),
            "is empty; every request needs a service".to_owned(),
        ))?;
        let detail = m
            .service
            .detail
            .as_deref()
            .and_then(|c| non_empty(self.field(rec, c)))
            .filter(|_| {
                m.service.detail_for.is_empty() || m.service.detail_for.iter().any(|s| s == whole)
            });
        let name = match detail {
            Some(d) => format!("{whole} - {d}"),
            None => whole.to_owned(),
        };
        let name = name.as_str();
        let code_text = match (&m.service.code, detail) {
            (Some(c), Some(d)) => non_empty(self.field(rec, c))
                .map_or_else(|| slug(name), |c| format!("{c}-{}", slug(d))),
            (Some(c), None) => {
                non_empty(self.field(rec, c)).map_or_else(|| slug(name), str::to_owned)
            }
            (None, _) => slug(name),
        };
        let code =
            ServiceCode::parse(code_text).map_err(|e| (col(&m.service.name), e.to_string()))?;
        let department = match m
            .department
            .as_deref()
            .and_then(|c| non_empty(self.field(rec, c)))
        {
            Some(dcode) => Some(Department {
                code: DepartmentCode::parse(slug(dcode))
                    .map_err(|e| (col(m.department.as_deref().unwrap_or("")), e.to_string()))?,
                name: m
                    .department_name
                    .as_deref()
                    .and_then(|c| non_empty(self.field(rec, c)))
                    .unwrap_or(dcode)
                    .to_owned(),
                email: None,
                phone: None,
            }),
            None => None,
        };
        let created_at = self.date(rec, &m.created)?.ok_or_else(|| {
            (
                col(&m.created.column),
                "is empty; every request has a creation date".to_owned(),
            )
        })?;
        let word = self.field(rec, &m.status.column);
        let status = match self.statuses.get(word).copied().or(self.status_default) {
            Some(s) => s,
            None => return Err((col(&m.status.column), format!("unknown status {word:?}"))),
        };
        let mut closed_at = match &m.closed {
            Some(c) => self.date(rec, c)?,
            None => None,
        };
        if let Some(closed) = closed_at
            && closed < created_at
        {
            let column = m
                .closed
                .as_ref()
                .map_or_else(String::new, |c| c.column.clone());
            // A close less than a day before creation is a close dated without a time (or on the
            // creation day): it is taken as at creation, not as before it.
            if closed + chrono::Duration::days(1) > created_at {
                closed_at = Some(created_at);
            } else {
                warnings.push((
                    column,
                    format!("closed {closed} before it was created; kept without a close date (not used in time to close)"),
                ));
                closed_at = None;
            }
        }
        let due_at = match &m.due {
            Some(d) => self.date(rec, d)?,
            None => None,
        };
        let mut point = None;
        if let (Some(lc), Some(gc)) = (&m.location.lat, &m.location.long)
            && let (Some(lat), Some(long)) = (
                non_empty(self.field(rec, lc)),
                non_empty(self.field(rec, gc)),
            )
        {
            match (lat.parse::<f64>(), long.parse::<f64>()) {
                (Ok(lat), Ok(long)) => match LatLong::new(lat, long) {
                    Ok(p) => point = Some(p),
                    Err(e) => warnings.push((lc.clone(), format!("{e}; kept without a point"))),
                },
                _ => warnings.push((
                    lc.clone(),
                    format!("{lat:?},{long:?} is not a number pair; kept without a point"),
                )),
            }
        }
        let mut areas = Vec::new();
        for (a, layer) in m.areas.iter().zip(&self.layers) {
            let value = strip_float_suffix(self.field(rec, &a.column));
            if value.is_empty() || a.ignore.iter().any(|i| i == value) {
                continue;
            }
            match AreaId::parse(value) {
                Ok(area) => areas.push(AreaRef {
                    layer: layer.clone(),
                    area,
                }),
                Err(e) => warnings.push((a.column.clone(), format!("{e}; kept without this area"))),
            }
        }
        let opt = |c: &Option<String>| {
            c.as_deref()
                .and_then(|c| non_empty(self.field(rec, c)))
                .map(str::to_owned)
        };
        let channel = match &m.channel {
            Some(c) => self
                .channels
                .get(self.field(rec, &c.column))
                .copied()
                .unwrap_or(self.channel_default),
            None => Channel::Other,
        };
        let service = Service {
            code: code.clone(),
            name: name.to_owned(),
            description: None,
            group: opt(&m.service.group),
            keywords: Vec::new(),
            department: department.as_ref().map(|d| d.code.clone()),
            attributes: Vec::new(),
            sla: None,
            sla_by_priority: Default::default(),
            category: None,
            active: true,
        };
        let request = HistoricalRequest {
            id,
            service_code: code,
            status,
            priority: Priority::Normal,
            description: opt(&m.description),
            location: Location {
                point,
                address: opt(&m.location.address),
                address_id: None,
                zip: opt(&m.location.zip).map(|z| strip_float_suffix(&z).to_owned()),
                areas,
            },
            channel,
            department: service.department.clone(),
            assignee: opt(&m.assignee),
            due_at,
            created_at,
            closed_at,
        };
        Ok(Row {
            request,
            service,
            department,
            warnings,
        })
    }
}
