//! Routing: which department (and which of its queues) a new request goes to.
//!
//! A city's routing table is an ordered list of rules; the first rule that matches a request
//! decides. A rule can look at the service (by code or by group), at where the request is (an
//! area of an imported layer: a council district, a neighborhood, a service zone) and at the
//! local time of day (after-hours crews). A request no rule takes goes to its service's own
//! department; one whose service has none goes to the fallback queue, where a 311 supervisor
//! picks it up: no request is left without an owner ("no wrong door").
//!
//! Tables are versioned in the store; each request's `routed` event names the rule that decided,
//! so a later change of the table never rewrites how past requests were routed.

use chrono::{DateTime, NaiveTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::{AreaRef, DepartmentCode, DomainError, Service, ServiceCode};

/// A local time-of-day window `[from, to)`; `from` after `to` wraps midnight (17:00–07:00).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Hours {
    pub from: NaiveTime,
    pub to: NaiveTime,
    pub timezone: Tz,
}

impl Hours {
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        let t = at.with_timezone(&self.timezone).time();
        if self.from <= self.to {
            self.from <= t && t < self.to
        } else {
            t >= self.from || t < self.to
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingRule {
    /// Shown in the request's history: why it went where it went.
    pub name: String,
    /// The services the rule takes; empty: any service (of `groups`, if given).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceCode>,
    /// The service groups the rule takes; empty: any group.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Only requests placed in this area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<AreaRef>,
    /// Only requests received in these hours.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<Hours>,
    pub department: DepartmentCode,
    /// The team or work queue in the department (becomes the request's assignee).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queue: Option<String>,
}

/// Where requests go that no rule takes and whose service has no department.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fallback {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<DepartmentCode>,
    pub queue: String,
}

impl Default for Fallback {
    fn default() -> Self {
        Fallback {
            department: None,
            queue: "311-triage".into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoutingTable {
    #[serde(default)]
    pub fallback: Fallback,
    #[serde(default, rename = "rule")]
    pub rules: Vec<RoutingRule>,
}

/// The decision for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    pub department: Option<DepartmentCode>,
    pub queue: Option<String>,
    /// The rule's name, `service default department` or `fallback queue`.
    pub rule: String,
}

impl Route {
    /// The service's own department, or nothing when it has none.
    pub fn service_default(service: &Service) -> Option<Route> {
        service.department.clone().map(|d| Route {
            department: Some(d),
            queue: None,
            rule: "service default department".into(),
        })
    }
}

impl RoutingRule {
    pub fn matches(&self, service: &Service, areas: &[AreaRef], at: DateTime<Utc>) -> bool {
        (self.services.is_empty() || self.services.contains(&service.code))
            && (self.groups.is_empty()
                || service
                    .group
                    .as_ref()
                    .is_some_and(|g| self.groups.contains(g)))
            && self.area.as_ref().is_none_or(|a| areas.contains(a))
            && self.hours.is_none_or(|h| h.contains(at))
    }
}

impl RoutingTable {
    /// Refuses rules that can never be told apart: unnamed or twice the same name.
    pub fn check(&self) -> Result<(), DomainError> {
        let mut names = std::collections::HashSet::new();
        for r in &self.rules {
            if r.name.trim().is_empty() {
                return Err(DomainError::Empty {
                    field: "routing rule name",
                });
            }
            if !names.insert(r.name.trim()) {
                return Err(DomainError::InvalidRouting(format!(
                    "two rules are named {:?}",
                    r.name
                )));
            }
        }
        if self.fallback.queue.trim().is_empty() {
            return Err(DomainError::Empty {
                field: "fallback queue",
            });
        }
        Ok(())
    }

    /// Where a request for `service`, placed in `areas`, received at `at`, goes.
    pub fn route(&self, service: &Service, areas: &[AreaRef], at: DateTime<Utc>) -> Route {
        if let Some(r) = self.rules.iter().find(|r| r.matches(service, areas, at)) {
            return Route {
                department: Some(r.department.clone()),
                queue: r.queue.clone(),
                rule: r.name.clone(),
            };
        }
        Route::service_default(service).unwrap_or_else(|| Route {
            department: self.fallback.department.clone(),
            queue: Some(self.fallback.queue.clone()),
            rule: "fallback queue".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AreaId, LayerId};
    use chrono::TimeZone;

    fn service(code: &str, group: Option<&str>, department: Option<&str>) -> Service {
        Service {
            code: ServiceCode::parse(code).unwrap(),
            name: code.into(),
            description: None,
            group: group.map(Into::into),
            keywords: vec![],
            department: department.map(|d| DepartmentCode::parse(d).unwrap()),
            attributes: vec![],
            sla: None,
            sla_by_priority: Default::default(),
            category: None,
            active: true,
        }
    }

    fn district(n: &str) -> AreaRef {
        AreaRef {
            layer: LayerId::parse("council-districts").unwrap(),
            area: AreaId::parse(n).unwrap(),
        }
    }

    /// Kansas City time, July (UTC-5).
    fn kc(hour: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 7, 10, 5, 0, 0).unwrap()
            + chrono::Duration::minutes(i64::from(hour * 60 + min))
    }

    fn table() -> RoutingTable {
        toml::from_str(
            r#"
            [fallback]
            queue = "311-triage"

            [[rule]]
            name = "water leaks after hours: on-call crew"
            services = ["water-leak-in-street"]
            hours = { from = "17:00:00", to = "07:00:00", timezone = "America/Chicago" }
            department = "water-services"
            queue = "on-call"

            [[rule]]
            name = "district 3 streets: east yard"
            groups = ["Streets"]
            area = { layer = "council-districts", area = "3" }
            department = "public-works"
            queue = "east-yard"
            "#,
        )
        .unwrap()
    }

    #[test]
    fn first_matching_rule_then_service_department_then_fallback() {
        let t = table();
        t.check().unwrap();
        let leak = service(
            "water-leak-in-street",
            Some("Water"),
            Some("water-services"),
        );
        let pothole = service("pothole", Some("Streets"), Some("public-works"));
        let orphan = service("unsorted", None, None);
        let at = |s: &Service, areas: &[AreaRef], when| {
            let r = t.route(s, areas, when);
            (r.rule, r.queue)
        };
        let on_call = (
            "water leaks after hours: on-call crew".to_owned(),
            Some("on-call".to_owned()),
        );
        assert_eq!(at(&leak, &[], kc(22, 0)), on_call);
        assert_eq!(at(&leak, &[], kc(6, 59)), on_call);
        assert_eq!(
            at(&leak, &[], kc(7, 0)),
            ("service default department".to_owned(), None)
        );
        assert_eq!(
            at(&pothole, &[district("3")], kc(12, 0)).1.as_deref(),
            Some("east-yard")
        );
        assert_eq!(
            at(&pothole, &[district("4")], kc(12, 0)).0,
            "service default department"
        );
        let fallback = t.route(&orphan, &[district("3")], kc(12, 0));
        assert_eq!(
            (
                fallback.rule.as_str(),
                fallback.queue.as_deref(),
                fallback.department
            ),
            ("fallback queue", Some("311-triage"), None)
        );
    }

    #[test]
    fn tables_round_trip_through_toml_and_refuse_twin_names() {
        let t = table();
        let text = toml::to_string(&t).unwrap();
        assert_eq!(toml::from_str::<RoutingTable>(&text).unwrap(), t);
        let mut twins = t.clone();
        twins.rules[1].name = twins.rules[0].name.clone();
        assert!(twins.check().unwrap_err().to_string().contains("two rules"));
        let bad = toml::from_str::<RoutingTable>(
            "[[rule]]\nname = \"x\"\ndepartment = \"pw\"\nzone = 3\n",
        );
        assert!(bad.unwrap_err().to_string().contains("zone"));
    }
}
