//! The service catalog: departments, the services residents can request, the questions each
//! service asks (Open311 attributes) and the time the city promises to take (SLA target).

use serde::{Deserialize, Serialize};

use crate::{DepartmentCode, DomainError, ServiceCode};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Department {
    pub code: DepartmentCode,
    pub name: String,
    pub email: Option<String>,
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
pub struct Service {
    pub code: ServiceCode,
    pub name: String,
    pub description: Option<String>,
    /// Open311 `group`: the category residents browse by.
    pub group: Option<String>,
    pub keywords: Vec<String>,
    pub department: Option<DepartmentCode>,
    pub attributes: Vec<AttributeDefinition>,
    pub sla: Option<SlaTarget>,
    /// Retired services keep their history but take no new requests.
    pub active: bool,
}

impl Service {
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
