//! Area layers (neighborhoods, council districts, tracts) and the areas in them.

use civic311_domain::{AreaId, LayerId};

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

    /// The ids of the loaded area layers.
    pub async fn area_layers(&self) -> Result<Vec<String>> {
        dispatch!(self, read, area_layers())
    }

    /// Every area of `layer` with how many requests fall in it, busiest first.
    pub async fn area_counts(&self, layer: &LayerId) -> Result<Vec<(String, Option<String>, i64)>> {
        dispatch!(self, read, area_counts(layer.as_str()))
    }
}
