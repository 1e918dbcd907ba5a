//! Area layers (neighborhoods, council districts, tracts) and the areas in them.

use civic311_domain::{AreaId, AreaIndex, LayerId};

use crate::pool::dispatch;
use crate::{Result, Store};

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

    /// The ids of the loaded area layers.
    pub async fn area_layers(&self) -> Result<Vec<String>> {
        dispatch!(self, read, area_layers())
    }

    /// The loaded layers and those requests name without a loaded geometry (imported from a
    /// source that named its areas), in id order.
    pub async fn layers_in_use(&self) -> Result<Vec<String>> {
        dispatch!(self, read, layers_in_use())
    }

    /// Every area of `layer` with how many requests fall in it, busiest first.
    pub async fn area_counts(&self, layer: &LayerId) -> Result<Vec<(String, Option<String>, i64)>> {
        dispatch!(self, read, area_counts(layer.as_str()))
    }
}
