//! Reading GeoReport parameters: query strings and form bodies as ordered key/value pairs (keys
//! may repeat), dates in the forms real clients send, and `attribute[...]` answers.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use civic311_domain::AttributeAnswer;
use civic311_domain::time::parse_w3c;

use super::error::Open311Error;

/// Parameters in the order they came. Empty values count as absent (clients send `lat=&long=`).
#[derive(Debug, Default, Clone)]
pub struct Params(pub Vec<(String, String)>);

impl Params {
    pub fn parse(encoded: &[u8]) -> Params {
        Params(
            form_urlencoded::parse(encoded)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first non-empty value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, v)| k == key && !v.trim().is_empty())
            .map(|(_, v)| v.trim())
    }

    pub fn owned(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_owned)
    }

    pub fn require(&self, key: &str) -> Result<&str, Open311Error> {
        self.get(key)
            .ok_or_else(|| Open311Error::bad_request(format!("{key} is required")))
    }

    /// A comma-separated list, trimmed, without empty items.
    pub fn list(&self, key: &str) -> Vec<&str> {
        self.get(key)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn float(&self, key: &str) -> Result<Option<f64>, Open311Error> {
        self.get(key)
            .map(|v| {
                v.parse::<f64>()
                    .map_err(|_| Open311Error::bad_request(format!("{key} {v:?} is not a number")))
            })
            .transpose()
    }

    /// A whole number in `range`, or `default` when absent.
    pub fn number(
        &self,
        key: &str,
        default: u32,
        range: std::ops::RangeInclusive<u32>,
    ) -> Result<u32, Open311Error> {
        let Some(v) = self.get(key) else {
            return Ok(default);
        };
        match v.parse::<u32>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(Open311Error::bad_request(format!(
                "{key} {v:?} must be a whole number from {} to {}",
                range.start(),
                range.end()
            ))),
        }
    }

    pub fn bool(&self, key: &str) -> Result<bool, Open311Error> {
        match self.get(key).map(str::to_ascii_lowercase).as_deref() {
            None | Some("false" | "0" | "no") => Ok(false),
            Some("true" | "1" | "yes") => Ok(true),
            Some(other) => Err(Open311Error::bad_request(format!(
                "{key} {other:?} must be true or false"
            ))),
        }
    }

    pub fn datetime(&self, key: &str, tz: Tz) -> Result<Option<DateTime<Utc>>, Open311Error> {
        self.get(key)
            .map(|v| {
                parse_w3c(v, tz).ok_or_else(|| {
                    Open311Error::bad_request(format!(
                        "{key} {v:?} is not a W3C datetime (e.g. 2019-10-01T08:30:00-05:00)"
                    ))
                })
            })
            .transpose()
    }

    /// Attribute answers: `attribute[CODE]=v` (repeatable) and `attribute[CODE][]=v`, in order
    /// of first appearance.
    pub fn attributes(&self) -> Vec<AttributeAnswer> {
        let mut order: Vec<String> = Vec::new();
        let mut values: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (k, v) in &self.0 {
            let Some(inner) = k.strip_prefix("attribute[") else {
                continue;
            };
            let code = inner
                .strip_suffix("][]")
                .or_else(|| inner.strip_suffix(']'))
                .unwrap_or(inner);
            if code.is_empty() || v.trim().is_empty() {
                continue;
            }
            if !values.contains_key(code) {
                order.push(code.to_owned());
            }
            values
                .entry(code.to_owned())
                .or_default()
                .push(v.trim().to_owned());
        }
        order
            .into_iter()
            .map(|code| AttributeAnswer {
                values: values.remove(&code).unwrap_or_default(),
                code,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_single_multi_and_repeated() {
        let p = Params::parse(
            b"attribute[SIZE]=L&attribute[LANES][]=left&attribute[LANES][]=bike\
              &attribute[WHERE]=curb&attribute[WHERE]=alley&attribute[EMPTY]=&other=1",
        );
        let a = p.attributes();
        let got: Vec<(&str, Vec<&str>)> = a
            .iter()
            .map(|a| {
                (
                    a.code.as_str(),
                    a.values.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("SIZE", vec!["L"]),
                ("LANES", vec!["left", "bike"]),
                ("WHERE", vec!["curb", "alley"]),
            ]
        );
    }
}
