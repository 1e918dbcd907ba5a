//! The cohort a staff reader asks about (period, services, department, area, judged when),
//! read the same way by the metrics API and the staff dashboard.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use civic311_analytics::Options;
use civic311_domain::{AreaRef, DepartmentCode, ServiceCode};
use civic311_store::RequestFilter;

use crate::error::ApiError;

/// A cohort as written in a URL. Empty values mean "not given", as a browser's form sends them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CohortQuery {
    /// Created on or after: a date (local midnight) or a W3C time.
    pub from: Option<String>,
    /// Created before.
    pub to: Option<String>,
    /// Comma-separated service codes.
    pub service_code: Option<String>,
    pub department: Option<String>,
    /// `LAYER:AREA`.
    pub area: Option<String>,
    /// The moment open requests are judged at; the present when absent.
    pub now: Option<String>,
    pub include_self_generated: bool,
}

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn time(name: &str, v: &Option<String>, tz: Tz) -> Result<Option<DateTime<Utc>>, ApiError> {
    given(v)
        .map(|v| {
            civic311_domain::time::parse_w3c(v, tz).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "{name} {v:?}: write a date (2019-10-01) or a W3C time"
                ))
            })
        })
        .transpose()
}

impl CohortQuery {
    /// The analytics options of this cohort in the city's time zone `tz`, or a 400 naming the
    /// value that is wrong.
    pub fn options(&self, tz: Tz) -> Result<Options, ApiError> {
        let bad = |e: civic311_domain::DomainError| ApiError::bad_request(e.to_string());
        let service_codes = given(&self.service_code)
            .into_iter()
            .flat_map(|s| s.split(','))
            .filter(|c| !c.trim().is_empty())
            .map(|c| ServiceCode::parse(c.trim()).map_err(bad))
            .collect::<Result<Vec<_>, _>>()?;
        let department = given(&self.department)
            .map(|d| DepartmentCode::parse(d).map_err(bad))
            .transpose()?;
        let area = given(&self.area)
            .map(|a| AreaRef::parse(a).map_err(bad))
            .transpose()?;
        Ok(Options {
            filter: RequestFilter {
                service_codes,
                department,
                created_from: time("from", &self.from, tz)?,
                created_before: time("to", &self.to, tz)?,
                area,
                ..Default::default()
            },
            now: time("now", &self.now, tz)?.unwrap_or_else(Utc::now),
            timezone: tz,
            include_self_generated: self.include_self_generated,
        })
    }

    /// The query string of this cohort (only what is given), for links that keep it.
    pub fn to_query(&self) -> form_urlencoded::Serializer<'static, String> {
        let mut q = form_urlencoded::Serializer::new(String::new());
        for (name, v) in [
            ("from", &self.from),
            ("to", &self.to),
            ("service_code", &self.service_code),
            ("department", &self.department),
            ("area", &self.area),
            ("now", &self.now),
        ] {
            if let Some(v) = given(v) {
                q.append_pair(name, v);
            }
        }
        if self.include_self_generated {
            q.append_pair("include_self_generated", "true");
        }
        q
    }
}
