//! Which areas a point falls in. Every polygon of every loaded layer (neighborhoods, council
//! districts, service zones, tracts) sits in one R-tree by bounding box (**rstar**); the few
//! candidates a point hits are then tested exactly (**geo**). A point on a shared border
//! belongs to the area with the smallest id, so the answer is deterministic.

use std::str::FromStr;

use geo::{Intersects, MultiPolygon, Point, Polygon};
use rstar::{AABB, RTree, RTreeObject};

use crate::{AreaId, AreaRef, LatLong, LayerId};

/// One polygon of an area (a multipolygon's parts are indexed apart, so an island's box does
/// not make the whole area a candidate).
struct Shape {
    area: AreaRef,
    polygon: Polygon<f64>,
    envelope: AABB<[f64; 2]>,
}

impl RTreeObject for Shape {
    type Envelope = AABB<[f64; 2]>;
    fn envelope(&self) -> Self::Envelope {
        self.envelope
    }
}

/// An area whose geometry could not be used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnusableArea {
    pub area: AreaRef,
    pub reason: String,
}

#[derive(Default)]
pub struct AreaIndex {
    tree: RTree<Shape>,
}

impl std::fmt::Debug for AreaIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AreaIndex({} shapes)", self.tree.size())
    }
}

/// A GeoJSON geometry (Polygon or MultiPolygon, WGS84) as polygons.
pub fn parse_polygons(geojson: &str) -> Result<MultiPolygon<f64>, String> {
    let geometry = geojson::Geometry::from_str(geojson).map_err(|e| e.to_string())?;
    match geo::Geometry::<f64>::try_from(geometry).map_err(|e| e.to_string())? {
        geo::Geometry::Polygon(p) => Ok(MultiPolygon(vec![p])),
        geo::Geometry::MultiPolygon(m) => Ok(m),
        other => Err(format!("a {} is not an area", geometry_name(&other))),
    }
}

fn geometry_name(g: &geo::Geometry<f64>) -> &'static str {
    match g {
        geo::Geometry::Point(_) | geo::Geometry::MultiPoint(_) => "point",
        geo::Geometry::Line(_)
        | geo::Geometry::LineString(_)
        | geo::Geometry::MultiLineString(_) => "line",
        _ => "geometry of another kind",
    }
}

impl AreaIndex {
    /// Builds the index from (layer, area, GeoJSON geometry); areas whose geometry is not a
    /// polygon are returned apart, never silently dropped.
    pub fn build<'a>(
        areas: impl IntoIterator<Item = (LayerId, AreaId, &'a str)>,
    ) -> (AreaIndex, Vec<UnusableArea>) {
        let mut shapes = Vec::new();
        let mut unusable = Vec::new();
        for (layer, area, geojson) in areas {
            let area = AreaRef { layer, area };
            match parse_polygons(geojson) {
                Ok(polygons) => {
                    let before = shapes.len();
                    for polygon in polygons {
                        if let Some(r) = geo::BoundingRect::bounding_rect(&polygon) {
                            shapes.push(Shape {
                                area: area.clone(),
                                envelope: AABB::from_corners(
                                    [r.min().x, r.min().y],
                                    [r.max().x, r.max().y],
                                ),
                                polygon,
                            });
                        }
                    }
                    if shapes.len() == before {
                        unusable.push(UnusableArea {
                            area,
                            reason: "empty geometry".into(),
                        });
                    }
                }
                Err(reason) => unusable.push(UnusableArea { area, reason }),
            }
        }
        (
            AreaIndex {
                tree: RTree::bulk_load(shapes),
            },
            unusable,
        )
    }

    /// Polygons indexed (an area with islands counts each).
    pub fn len(&self) -> usize {
        self.tree.size()
    }

    pub fn is_empty(&self) -> bool {
        self.tree.size() == 0
    }

    /// The ids of the areas indexed in `layer`, sorted.
    pub fn areas_of(&self, layer: &LayerId) -> Vec<AreaId> {
        let mut ids: Vec<AreaId> = self
            .tree
            .iter()
            .filter(|s| &s.area.layer == layer)
            .map(|s| s.area.area.clone())
            .collect();
        ids.sort();
        ids.dedup();
        ids
    }

    /// The areas `point` falls in: at most one per layer, sorted by layer.
    pub fn locate(&self, point: LatLong) -> Vec<AreaRef> {
        let p = Point::new(point.long(), point.lat());
        let mut hits: Vec<&AreaRef> = self
            .tree
            .locate_in_envelope_intersecting(&AABB::from_point([p.x(), p.y()]))
            .filter(|s| s.polygon.intersects(&p))
            .map(|s| &s.area)
            .collect();
        hits.sort();
        hits.dedup_by(|b, a| a.layer == b.layer);
        hits.into_iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(x0: f64, y0: f64, x1: f64, y1: f64) -> String {
        format!(
            r#"{{"type":"Polygon","coordinates":[[[{x0},{y0}],[{x1},{y0}],[{x1},{y1}],[{x0},{y1}],[{x0},{y0}]]]}}"#
        )
    }

    fn id(layer: &str, area: &str) -> (LayerId, AreaId) {
        (LayerId::parse(layer).unwrap(), AreaId::parse(area).unwrap())
    }

    #[test]
    fn one_area_per_layer_and_borders_go_to_the_smaller_id() {
        let (west, east, district, line) = (
            square(-95.0, 39.0, -94.5, 39.5),
            square(-94.5, 39.0, -94.0, 39.5),
            square(-95.0, 39.0, -94.0, 40.0),
            r#"{"type":"LineString","coordinates":[[-95,39],[-94,39]]}"#.to_owned(),
        );
        let shapes = [
            (id("hoods", "2"), west.as_str()),
            (id("hoods", "1"), east.as_str()),
            (id("districts", "4"), district.as_str()),
            (id("roads", "i70"), line.as_str()),
        ];
        let (index, unusable) =
            AreaIndex::build(shapes.iter().map(|((l, a), g)| (l.clone(), a.clone(), *g)));
        assert_eq!(index.len(), 3);
        assert_eq!(unusable.len(), 1);
        assert_eq!(unusable[0].reason, "a line is not an area");
        let names = |p: LatLong| -> Vec<String> {
            index
                .locate(p)
                .into_iter()
                .map(|a| format!("{}:{}", a.layer, a.area))
                .collect()
        };
        assert_eq!(
            names(LatLong::new(39.2, -94.8).unwrap()),
            ["districts:4", "hoods:2"]
        );
        assert_eq!(
            names(LatLong::new(39.2, -94.2).unwrap()),
            ["districts:4", "hoods:1"]
        );
        // On the border between hoods 1 and 2.
        assert_eq!(
            names(LatLong::new(39.2, -94.5).unwrap()),
            ["districts:4", "hoods:1"]
        );
        assert_eq!(names(LatLong::new(39.7, -94.2).unwrap()), ["districts:4"]);
        assert!(names(LatLong::new(41.0, -94.2).unwrap()).is_empty());
        assert!(
            AreaIndex::build([(id("x", "1").0, id("x", "1").1, "not json")])
                .1
                .len()
                == 1
        );
    }
}
