//! JSON or XML, chosen by the path's extension, from one `serde_json::Value` so both formats
//! always say the same thing. XML follows the GeoReport v2 examples: a list becomes a wrapper
//! element holding one element per item (`<services><service>...`), `null` an empty element.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Xml,
}

impl Format {
    /// Splits `requests.json` into `("requests", Some(Json))`; an unknown or missing extension
    /// gives `None` for the format.
    pub fn split(file: &str) -> (&str, Option<Format>) {
        match file.rsplit_once('.') {
            Some((name, "json")) => (name, Some(Format::Json)),
            Some((name, "xml")) => (name, Some(Format::Xml)),
            Some((name, _)) => (name, None),
            None => (file, None),
        }
    }

    /// The format a reply to this path should use, JSON unless it ends in `.xml`.
    pub fn of_path(path: &str) -> Format {
        if path.ends_with(".xml") {
            Format::Xml
        } else {
            Format::Json
        }
    }
}

/// A GeoReport reply: `root` names the XML document element (and, for a top-level list, the
/// list's wrapper).
pub struct Reply {
    pub status: StatusCode,
    pub format: Format,
    pub root: &'static str,
    pub body: Value,
}

impl Reply {
    pub fn ok(format: Format, root: &'static str, body: Value) -> Reply {
        Reply {
            status: StatusCode::OK,
            format,
            root,
            body,
        }
    }
}

impl IntoResponse for Reply {
    fn into_response(self) -> Response {
        match self.format {
            Format::Json => (
                self.status,
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                self.body.to_string(),
            )
                .into_response(),
            Format::Xml => (
                self.status,
                [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
                to_xml(self.root, &self.body),
            )
                .into_response(),
        }
    }
}

/// The element name of one item of the list called `list`.
fn item_name(list: &str) -> &'static str {
    match list {
        "services" => "service",
        "service_requests" => "request",
        "service_request_updates" => "request_update",
        "attributes" => "attribute",
        "values" => "value",
        "errors" => "error",
        "endpoints" => "endpoint",
        "formats" => "format",
        "notes" => "note",
        "areas" => "area",
        _ => "item",
    }
}

pub fn to_xml(root: &str, value: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    element(&mut out, root, value);
    out
}

fn element(out: &mut String, name: &str, value: &Value) {
    match value {
        Value::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Value::Array(items) if items.is_empty() => element(out, name, &Value::Null),
        _ => {
            out.push('<');
            out.push_str(name);
            out.push('>');
            match value {
                Value::Object(fields) => {
                    for (k, v) in fields {
                        element(out, k, v);
                    }
                }
                Value::Array(items) => {
                    let item = item_name(name);
                    for v in items {
                        element(out, item, v);
                    }
                }
                Value::String(s) => text(out, s),
                other => text(out, &other.to_string()),
            }
            out.push_str("</");
            out.push_str(name);
            out.push('>');
        }
    }
}

/// Escaped text, without the control characters XML 1.0 cannot carry (real 311 descriptions
/// contain them).
fn text(out: &mut String, s: &str) {
    let clean: std::borrow::Cow<str> = if s
        .chars()
        .any(|c| c < ' ' && !matches!(c, '\t' | '\n' | '\r'))
    {
        s.chars()
            .filter(|&c| c >= ' ' || matches!(c, '\t' | '\n' | '\r'))
            .collect::<String>()
            .into()
    } else {
        s.into()
    };
    out.push_str(&quick_xml::escape::escape(clean.as_ref()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_nulls_and_escaping() {
        let v = json!([{"service_code": "1", "keywords": null, "description": "a < b & \u{0b}c"}]);
        assert_eq!(
            to_xml("services", &v),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><services><service><service_code>1\
             </service_code><keywords/><description>a &lt; b &amp; c</description></service>\
             </services>"
        );
    }

    #[test]
    fn splits_extensions() {
        assert_eq!(
            Format::split("requests.json"),
            ("requests", Some(Format::Json))
        );
        assert_eq!(Format::split("1.2.xml"), ("1.2", Some(Format::Xml)));
        assert_eq!(Format::split("requests.html"), ("requests", None));
        assert_eq!(Format::split("requests"), ("requests", None));
    }
}
