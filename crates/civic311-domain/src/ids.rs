//! Identifiers. On the wire every id is a string (Open311 says so, and real cities use numbers,
//! hashes and prefixed codes alike); inside, each kind of id is its own type so a service code can
//! never be passed where a request id is expected.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::DomainError;

/// Longest id we accept. Real ids seen: NYC 8 digits, Kansas City 10 digits, Open311 servers up
/// to 24-character hashes; codes derived from service names can be longer.
const MAX_ID_LEN: usize = 128;

fn check(kind: &'static str, value: &str) -> Result<(), DomainError> {
    let invalid = |reason| DomainError::InvalidId {
        kind,
        value: value.to_owned(),
        reason,
    };
    // Each test stops at the first character that settles it: ids are checked on every read of
    // a stored request (millions in an export).
    if value.chars().all(char::is_whitespace) {
        return Err(invalid("must not be empty"));
    }
    if value.starts_with(char::is_whitespace) || value.ends_with(char::is_whitespace) {
        return Err(invalid("must not start or end with white space"));
    }
    // No more characters than bytes.
    if value.len() > MAX_ID_LEN && value.chars().count() > MAX_ID_LEN {
        return Err(invalid("is longer than 128 characters"));
    }
    if value
        .chars()
        .any(|c| c.is_control() || matches!(c, '/' | '?' | '#'))
    {
        return Err(invalid(
            "must not contain control characters, '/', '?' or '#'",
        ));
    }
    Ok(())
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses an id, refusing empty, over-long or URL-breaking values.
            pub fn parse(value: impl Into<String>) -> Result<Self, DomainError> {
                let value = value.into();
                check($kind, &value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

string_id!(
    /// The public id of a service request, as residents and Open311 clients see it.
    ServiceRequestId,
    "service request id"
);
string_id!(
    /// The code of a service in the catalog (Open311 `service_code`).
    ServiceCode,
    "service code"
);
string_id!(
    /// The code of a city department (e.g. `public-works`).
    DepartmentCode,
    "department code"
);
string_id!(
    /// The id of an area layer: `neighborhoods`, `council-districts`, `tracts`.
    LayerId,
    "layer id"
);
string_id!(
    /// The stable id of an area inside its layer: a tract GEOID, a city's neighborhood number.
    /// Census and survey tables join on it, so it is the source's own id, never a row number.
    AreaId,
    "area id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_ids_parse() {
        for id in [
            "2019193337",
            "59270413",
            "4fd3b167e750846744000005",
            "SR20-00123456",
        ] {
            assert_eq!(
                ServiceRequestId::parse(id).map(String::from),
                Ok(id.to_owned())
            );
        }
    }

    #[test]
    fn bad_ids_are_refused_with_the_value() {
        for bad in [
            "",
            "  ",
            " 12",
            "12 ",
            "\u{a0}",
            "a/b",
            "a?b",
            "line\nbreak",
            &"x".repeat(129),
        ] {
            let err = ServiceCode::parse(bad).unwrap_err();
            assert!(
                matches!(&err, DomainError::InvalidId { kind: "service code", value, .. } if value == bad),
                "{bad:?} gave {err:?}"
            );
        }
    }

    #[test]
    fn ids_are_strings_on_the_wire() {
        let id = ServiceRequestId::parse("0042").unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""0042""#);
        assert!(serde_json::from_str::<ServiceRequestId>(r#""""#).is_err());
    }
}
