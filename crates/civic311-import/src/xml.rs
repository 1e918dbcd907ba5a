//! XML documents as `serde_json::Value`, the way Open311 servers write them: an element with
//! child elements becomes an object (a name that repeats becomes an array), an element with only
//! text becomes a string, an empty element `null`. Attributes are ignored (GeoReport uses none).

use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Value};

struct Frame {
    name: String,
    children: Vec<(String, Value)>,
    text: String,
}

impl Frame {
    fn into_value(self) -> Value {
        if self.children.is_empty() {
            let t = self.text.trim();
            return if t.is_empty() {
                Value::Null
            } else {
                Value::String(t.to_owned())
            };
        }
        // A child's value is never an array itself, so an array here was made by repetition.
        let mut map = Map::new();
        for (k, v) in self.children {
            match map.get_mut(&k) {
                Some(Value::Array(items)) => items.push(v),
                Some(existing) => {
                    let first = existing.take();
                    *existing = Value::Array(vec![first, v]);
                }
                None => {
                    map.insert(k, v);
                }
            }
        }
        Value::Object(map)
    }
}

/// Parses a document into (root element name, value).
pub fn parse(text: &str) -> Result<(String, Value), String> {
    let mut reader = Reader::from_str(text);
    let mut stack: Vec<Frame> = Vec::new();
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => stack.push(Frame {
                name: String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                children: Vec::new(),
                text: String::new(),
            }),
            Ok(Event::Empty(e)) => {
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                match stack.last_mut() {
                    Some(parent) => parent.children.push((name, Value::Null)),
                    None => return Ok((name, Value::Null)),
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(top) = stack.last_mut() {
                    let s = t.decode().map_err(|e| e.to_string())?;
                    let s = quick_xml::escape::unescape(&s).map_err(|e| e.to_string())?;
                    top.text.push_str(&s);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(top) = stack.last_mut() {
                    top.text.push_str(&String::from_utf8_lossy(&t));
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(top) = stack.last_mut() {
                    let name = String::from_utf8_lossy(&r);
                    let entity = format!("&{name};");
                    let s = quick_xml::escape::unescape(&entity).map_err(|e| e.to_string())?;
                    top.text.push_str(&s);
                }
            }
            Ok(Event::End(_)) => {
                let frame = stack.pop().ok_or("unbalanced XML")?;
                let name = frame.name.clone();
                let value = frame.into_value();
                match stack.last_mut() {
                    Some(parent) => parent.children.push((name, value)),
                    None => return Ok((name, value)),
                }
            }
            Ok(Event::Eof) => return Err("the XML document ends early".into()),
            Ok(_) => {}
            Err(e) => {
                return Err(format!(
                    "invalid XML at byte {}: {e}",
                    reader.buffer_position()
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_singletons_nulls_and_entities() {
        let (root, v) = parse(
            "<?xml version=\"1.0\"?><service_requests><request><service_request_id>1</service_request_id>\
             <description>a &amp; b</description><media_url/></request></service_requests>",
        )
        .unwrap();
        assert_eq!(root, "service_requests");
        assert_eq!(
            v,
            json!({"request": {"service_request_id": "1", "description": "a & b", "media_url": null}})
        );
        let (_, v) = parse("<services><service><service_code>1</service_code></service><service><service_code>2</service_code></service></services>").unwrap();
        assert_eq!(v["service"].as_array().map(Vec::len), Some(2));
        let (_, v) = parse("<services></services>").unwrap();
        assert!(v.is_null());
        assert!(parse("<services><service>").is_err());
    }
}
