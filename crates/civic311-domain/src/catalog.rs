//! The service catalog: departments, the services residents can request, the questions each
//! service asks (Open311 attributes) and the time the city promises to take (SLA target).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{DepartmentCode, DomainError, Priority, ServiceCode, StandardCategory};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Department {
    pub code: DepartmentCode,
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// How an SLA target is counted. Business units follow the department's calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaUnit {
    CalendarDays,
    BusinessDays,
    BusinessHours,
}

impl SlaUnit {
    pub fn as_str(&self) -> &'static str {
        match self {
            SlaUnit::CalendarDays => "calendar_days",
            SlaUnit::BusinessDays => "business_days",
            SlaUnit::BusinessHours => "business_hours",
        }
    }

    pub fn parse(s: &str) -> Option<SlaUnit> {
        match s {
            "calendar_days" => Some(SlaUnit::CalendarDays),
            "business_days" => Some(SlaUnit::BusinessDays),
            "business_hours" => Some(SlaUnit::BusinessHours),
            _ => None,
        }
    }
}

/// The time a department signed up to take for a service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SlaTarget {
    pub amount: u32,
    pub unit: SlaUnit,
}

/// Open311 attribute datatypes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeDatatype {
    String,
    Number,
    Datetime,
    Text,
    Singlevaluelist,
    Multivaluelist,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeOption {
    pub key: String,
    pub name: String,
}

/// A question a service asks at intake ("How large is the pothole?").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeDefinition {
    pub code: String,
    /// `false` for informational text shown to the resident, which takes no answer.
    pub variable: bool,
    pub datatype: AttributeDatatype,
    pub required: bool,
    pub order: u32,
    /// The question, as shown to the resident.
    pub description: String,
    pub datatype_description: Option<String>,
    pub values: Vec<AttributeOption>,
}

/// A resident's answer to one attribute. Lists keep every chosen key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeAnswer {
    pub code: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    pub code: ServiceCode,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Open311 `group`: the category residents browse by.
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub department: Option<DepartmentCode>,
    #[serde(default)]
    pub attributes: Vec<AttributeDefinition>,
    /// The target for requests of any priority without one of its own.
    #[serde(default)]
    pub sla: Option<SlaTarget>,
    /// Targets that differ by priority (e.g. urgent potholes in 1 business day).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sla_by_priority: BTreeMap<Priority, SlaTarget>,
    /// The standard category it is compared under (exchange format); when `None`, it is
    /// guessed from the name and group ([`StandardCategory::guess`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub category: Option<StandardCategory>,
    /// Retired services keep their history but take no new requests.
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

impl Service {
    /// The standard category it is compared under: the catalog's, else guessed from its name
    /// and group.
    pub fn standard_category(&self) -> crate::StandardCategory {
        self.category
            .unwrap_or_else(|| crate::StandardCategory::guess(&self.name, self.group.as_deref()))
    }

    /// The SLA target for a request of `priority`: its own, else the service's.
    pub fn sla_for(&self, priority: Priority) -> Option<SlaTarget> {
        self.sla_by_priority.get(&priority).copied().or(self.sla)
    }

    /// Checks a resident's answers against this service's questions and returns them in the
    /// service's order. Unknown codes, missing required answers, several values for a single
    /// value, list values outside the list and non-numbers for numbers are refused.
    pub fn check_answers(
        &self,
        answers: Vec<AttributeAnswer>,
    ) -> Result<Vec<AttributeAnswer>, DomainError> {
        for a in &answers {
            if !self
                .attributes
                .iter()
                .any(|d| d.variable && d.code == a.code)
            {
                return Err(DomainError::UnknownAttribute(a.code.clone()));
            }
        }
        let mut defs: Vec<&AttributeDefinition> =
            self.attributes.iter().filter(|d| d.variable).collect();
        defs.sort_by_key(|d| d.order);
        let mut checked = Vec::new();
        for def in defs {
            let values: Vec<String> = answers
                .iter()
                .filter(|a| a.code == def.code)
                .flat_map(|a| a.values.iter().map(|v| v.trim().to_owned()))
                .filter(|v| !v.is_empty())
                .collect();
            if values.is_empty() {
                if def.required {
                    return Err(DomainError::MissingAttribute(def.code.clone()));
                }
                continue;
            }
            check_values(def, &values)?;
            checked.push(AttributeAnswer {
                code: def.code.clone(),
                values,
            });
        }
        Ok(checked)
    }
}

fn check_values(def: &AttributeDefinition, values: &[String]) -> Result<(), DomainError> {
    let invalid = |value: &str, reason| DomainError::InvalidAttributeValue {
        code: def.code.clone(),
        value: value.to_owned(),
        reason,
    };
    if def.datatype != AttributeDatatype::Multivaluelist && values.len() > 1 {
        return Err(invalid(&values.join(","), "takes a single value"));
    }
    for v in values {
        match def.datatype {
            AttributeDatatype::Number if v.parse::<f64>().map_or(true, |n| !n.is_finite()) => {
                return Err(invalid(v, "is not a number"));
            }
            AttributeDatatype::Datetime
                if chrono::DateTime::parse_from_rfc3339(v).is_err()
                    && chrono::NaiveDateTime::parse_from_str(v, "%Y-%m-%dT%H:%M:%S").is_err() =>
            {
                return Err(invalid(v, "is not a date and time (RFC 3339)"));
            }
            AttributeDatatype::Singlevaluelist | AttributeDatatype::Multivaluelist
                if !def.values.iter().any(|o| &o.key == v) =>
            {
                return Err(invalid(v, "is not one of the listed values"));
            }
            _ => {}
        }
    }
    Ok(())
}

/// Departments and services as a city manages them: imported from TOML or CSV, edited through
/// the staff API, saved as numbered versions. A document may hold part of the catalog (one
/// department's services): what it leaves out stays as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogDocument {
    #[serde(default)]
    pub departments: Vec<Department>,
    #[serde(default)]
    pub services: Vec<Service>,
}

/// What saving a document changes, by code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CatalogChanges {
    pub departments_added: Vec<String>,
    pub departments_changed: Vec<String>,
    pub services_added: Vec<String>,
    pub services_changed: Vec<String>,
    /// Services whose SLA targets change: new requests get the new target; requests already
    /// filed keep the due date they were given.
    pub sla_changed: Vec<String>,
    pub services_retired: Vec<String>,
}

impl CatalogChanges {
    pub fn is_empty(&self) -> bool {
        *self == CatalogChanges::default()
    }

    /// One line for the version log: "2 services added, 1 SLA changed".
    pub fn summary(&self) -> String {
        let parts = [
            (self.departments_added.len(), "department(s) added"),
            (self.departments_changed.len(), "department(s) changed"),
            (self.services_added.len(), "service(s) added"),
            (self.services_changed.len(), "service(s) changed"),
            (self.sla_changed.len(), "SLA target(s) changed"),
            (self.services_retired.len(), "service(s) retired"),
        ];
        let said: Vec<String> = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("{n} {what}"))
            .collect();
        if said.is_empty() {
            "no change".into()
        } else {
            said.join(", ")
        }
    }
}

impl CatalogDocument {
    /// Refuses codes given twice, zero SLA amounts, and services of departments that are neither
    /// in the document nor in `known_departments`.
    pub fn check(&self, known_departments: &[DepartmentCode]) -> Result<(), DomainError> {
        let bad = |why: String| Err(DomainError::InvalidCatalog(why));
        for (i, d) in self.departments.iter().enumerate() {
            if self.departments[..i].iter().any(|o| o.code == d.code) {
                return bad(format!("department {} is given twice", d.code));
            }
            if d.name.trim().is_empty() {
                return bad(format!("department {} has no name", d.code));
            }
        }
        for (i, s) in self.services.iter().enumerate() {
            if self.services[..i].iter().any(|o| o.code == s.code) {
                return bad(format!("service {} is given twice", s.code));
            }
            if s.name.trim().is_empty() {
                return bad(format!("service {} has no name", s.code));
            }
            if let Some(d) = &s.department
                && !known_departments.contains(d)
                && !self.departments.iter().any(|k| &k.code == d)
            {
                return bad(format!("service {}: unknown department {d}", s.code));
            }
            let targets = s.sla.iter().chain(s.sla_by_priority.values());
            if targets.into_iter().any(|t| t.amount == 0) {
                return bad(format!("service {}: an SLA target of 0", s.code));
            }
        }
        Ok(())
    }

    /// What saving this document over `current` changes.
    pub fn changes(&self, current: &CatalogDocument) -> CatalogChanges {
        let mut c = CatalogChanges::default();
        for d in &self.departments {
            match current.departments.iter().find(|k| k.code == d.code) {
                None => c.departments_added.push(d.code.to_string()),
                Some(old) if old != d => c.departments_changed.push(d.code.to_string()),
                Some(_) => {}
            }
        }
        for s in &self.services {
            let code = s.code.to_string();
            match current.services.iter().find(|k| k.code == s.code) {
                None => c.services_added.push(code),
                Some(old) => {
                    if old.sla != s.sla || old.sla_by_priority != s.sla_by_priority {
                        c.sla_changed.push(code.clone());
                    }
                    if old.active && !s.active {
                        c.services_retired.push(code.clone());
                    }
                    if old != s {
                        c.services_changed.push(code);
                    }
                }
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pothole() -> Service {
        let def = |code: &str, datatype, required, order, values: &[&str]| AttributeDefinition {
            code: code.into(),
            variable: true,
            datatype,
            required,
            order,
            description: format!("{code}?"),
            datatype_description: None,
            values: values
                .iter()
                .map(|v| AttributeOption {
                    key: (*v).into(),
                    name: v.to_uppercase(),
                })
                .collect(),
        };
        Service {
            code: ServiceCode::parse("pothole").unwrap(),
            name: "Pothole".into(),
            description: None,
            group: Some("Streets".into()),
            keywords: vec![],
            department: None,
            attributes: vec![
                def(
                    "LANES",
                    AttributeDatatype::Multivaluelist,
                    false,
                    2,
                    &["left", "right"],
                ),
                def(
                    "SIZE",
                    AttributeDatatype::Singlevaluelist,
                    true,
                    1,
                    &["S", "M", "L"],
                ),
                def("DEPTH", AttributeDatatype::Number, false, 3, &[]),
            ],
            sla: None,
            sla_by_priority: Default::default(),
            category: None,
            active: true,
        }
    }

    fn answer(code: &str, values: &[&str]) -> AttributeAnswer {
        AttributeAnswer {
            code: code.into(),
            values: values.iter().map(|v| (*v).into()).collect(),
        }
    }

    #[test]
    fn answers_come_back_in_service_order() {
        let got = pothole()
            .check_answers(vec![
                answer("LANES", &["left", "right"]),
                answer("SIZE", &["L"]),
            ])
            .unwrap();
        assert_eq!(
            got,
            vec![answer("SIZE", &["L"]), answer("LANES", &["left", "right"])]
        );
    }

    #[test]
    fn each_bad_answer_names_the_attribute() {
        let s = pothole();
        assert_eq!(
            s.check_answers(vec![]),
            Err(DomainError::MissingAttribute("SIZE".into()))
        );
        assert_eq!(
            s.check_answers(vec![answer("SIZE", &["XL"])])
                .unwrap_err()
                .to_string(),
            r#"attribute "SIZE": "XL" is not valid: is not one of the listed values"#
        );
        assert!(s.check_answers(vec![answer("SIZE", &["S", "M"])]).is_err());
        assert!(
            s.check_answers(vec![answer("SIZE", &["S"]), answer("DEPTH", &["deep"])])
                .is_err()
        );
        assert_eq!(
            s.check_answers(vec![answer("SIZE", &["S"]), answer("COLOR", &["red"])]),
            Err(DomainError::UnknownAttribute("COLOR".into()))
        );
    }
}
