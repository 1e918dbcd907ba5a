//! Area layers (neighborhoods, council districts, tracts) and the areas in them.

use chrono::{DateTime, Utc};
use civic311_domain::{AreaId, AreaIndex, LayerId};

use crate::pool::dispatch;
use crate::{Result, Store};

/// A stored request placed in an area of a layer loaded after it: (its key, the area, its
/// creation time and outcome code, which the areas keep beside it).
pub(crate) type Placement = (i64, String, DateTime<Utc>, Option<i16>);

/// One area of a layer, with its GeoJSON geometry (WGS84) when known.
#[derive(Debug, Clone, PartialEq)]
pub struct Area {
    pub id: AreaId,
    pub name: Option<String>,
    pub geometry: Option<String>,
}

impl Store {
    /// Creates or updates a layer and its areas, in one transaction.
    pub async fn upsert_areas(&self, layer: &LayerId, name: &str, areas: &[Area]) -> Result<()> {
        dispatch!(self, write, upsert_areas(layer.as_str(), name, areas))
    }

    /// (layer, area, GeoJSON geometry) of every area that has a geometry.
    pub async fn area_geometries(&self) -> Result<Vec<(String, String, String)>> {
        dispatch!(self, read, area_geometries())
    }

    /// Every loaded area with a usable geometry, indexed for point-in-polygon lookups. Areas whose
    /// geometry cannot be used are left out and logged (the first few).
    pub async fn area_index(&self) -> Result<AreaIndex> {
        let geometries = self.area_geometries().await?;
        let shapes = geometries.iter().filter_map(|(layer, area, geometry)| {
            Some((
                LayerId::parse(layer.as_str()).ok()?,
                AreaId::parse(area.as_str()).ok()?,
                geometry.as_str(),
            ))
        });
        let (areas, unusable) = AreaIndex::build(shapes);
        for u in unusable.iter().take(5) {
            tracing::warn!(layer = %u.area.layer, area = %u.area.area, reason = %u.reason, "area left out of the index");
        }
        if unusable.len() > 5 {
            tracing::warn!(count = unusable.len(), "areas left out of the index in all");
        }
        Ok(areas)
    }

    /// Places the stored requests that have a point but no area in `layer`, by `index` (a layer
    /// loaded after the requests): returns how many were placed. Pages of 10,000, each in its
    /// own transaction, so a long run can be stopped and run again.
    pub async fn place_stored_requests(&self, layer: &LayerId, index: &AreaIndex) -> Result<u64> {
        let mut after = i64::MIN;
        let mut placed_total = 0;
        loop {
            let page = dispatch!(self, read, unplaced(layer.as_str(), after, 10_000))?;
            let Some(&(last, ..)) = page.last() else {
                return Ok(placed_total);
            };
            after = last;
            let placed: Vec<Placement> = page
                .iter()
                .filter_map(|&(key, lat, long, created_at, outcome)| {
                    let point = civic311_domain::LatLong::new(lat, long).ok()?;
                    let hit = index
                        .locate(point)
                        .into_iter()
                        .find(|a| &a.layer == layer)?;
                    Some((key, hit.area.to_string(), created_at, outcome))
                })
                .collect();
            if !placed.is_empty() {
                dispatch!(self, write, add_request_areas(layer.as_str(), &placed))?;
            }
            placed_total += placed.len() as u64;
        }
    }

    /// The ids of the loaded area layers.
    pub async fn area_layers(&self) -> Result<Vec<String>> {
        dispatch!(self, read, area_layers())
    }

    /// The loaded layers and those requests name without a loaded geometry (imported from a
    /// source that named its areas), in id order.
    pub async fn layers_in_use(&self) -> Result<Vec<String>> {
        dispatch!(self, read, layers_in_use())
    }

    /// The loaded areas of `layer` with their names (id order).
    pub async fn area_names(&self, layer: &LayerId) -> Result<Vec<(String, Option<String>)>> {
        dispatch!(self, read, area_names(layer.as_str()))
    }

    /// Every area of `layer` with how many requests fall in it, busiest first.
    pub async fn area_counts(&self, layer: &LayerId) -> Result<Vec<(String, Option<String>, i64)>> {
        dispatch!(self, read, area_counts(layer.as_str()))
    }
}
