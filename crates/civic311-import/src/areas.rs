//! Area layers from GeoJSON: each feature becomes an area with the source's own stable id
//! (a tract GEOID, the city's neighborhood number), so census tables join without guessing.

use std::path::Path;

use civic311_domain::AreaId;
use civic311_store::Area;
use serde_json::Value;

use crate::ImportError;

/// Reads the features of a GeoJSON FeatureCollection as areas, taking the id and name from the
/// named properties. Features whose id is missing, blank, or listed in `skip_ids` (e.g. Kansas
/// City's unnamed `nbhid` "0" polygons) are left out and counted in the second value.
pub fn read_geojson_file(
    path: &Path,
    id_property: &str,
    name_property: Option<&str>,
    skip_ids: &[&str],
) -> Result<(Vec<Area>, usize), ImportError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ImportError::Io {
        path: shown.clone(),
        source,
    })?;
    read_geojson(&text, &shown, id_property, name_property, skip_ids)
}

/// Like [`read_geojson_file`], from text; `shown` names the input in errors.
pub fn read_geojson(
    text: &str,
    shown: &str,
    id_property: &str,
    name_property: Option<&str>,
    skip_ids: &[&str],
) -> Result<(Vec<Area>, usize), ImportError> {
    let shown = shown.to_owned();
    let doc: Value = serde_json::from_str(text).map_err(|e| ImportError::Format {
        path: shown.clone(),
        reason: format!("not JSON: {e}"),
    })?;
    let features = doc["features"]
        .as_array()
        .ok_or_else(|| ImportError::Format {
            path: shown.clone(),
            reason: "not a GeoJSON FeatureCollection (no \"features\" array)".into(),
        })?;
    let mut areas = Vec::with_capacity(features.len());
    let mut skipped = 0;
    for f in features {
        let props = &f["properties"];
        let id = match &props[id_property] {
            Value::String(s) => s.trim().to_owned(),
            Value::Number(n) => n.to_string(),
            _ => String::new(),
        };
        let id = match AreaId::parse(id) {
            Ok(id) if !skip_ids.contains(&id.as_str()) => id,
            _ => {
                skipped += 1;
                continue;
            }
        };
        let name = name_property
            .and_then(|p| props[p].as_str())
            .map(str::to_owned);
        let geometry = Some(f["geometry"].to_string()).filter(|g| g != "null");
        areas.push(Area { id, name, geometry });
    }
    Ok((areas, skipped))
}
