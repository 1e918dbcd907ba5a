//! Where a request is: a checked coordinate, an address, and the areas it falls in.

use serde::{Deserialize, Serialize};

use crate::{AreaId, DomainError, LayerId};

/// A WGS84 coordinate that is known to be on Earth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "RawLatLong")]
pub struct LatLong {
    lat: f64,
    long: f64,
}

#[derive(Deserialize)]
struct RawLatLong {
    lat: f64,
    long: f64,
}

impl TryFrom<RawLatLong> for LatLong {
    type Error = DomainError;
    fn try_from(raw: RawLatLong) -> Result<Self, Self::Error> {
        LatLong::new(raw.lat, raw.long)
    }
}

impl LatLong {
    /// Refuses NaN, infinities and values off the globe.
    pub fn new(lat: f64, long: f64) -> Result<Self, DomainError> {
        if !lat.is_finite() || !(-90.0..=90.0).contains(&lat) {
            return Err(DomainError::LatitudeOutOfRange(lat));
        }
        if !long.is_finite() || !(-180.0..=180.0).contains(&long) {
            return Err(DomainError::LongitudeOutOfRange(long));
        }
        Ok(Self { lat, long })
    }

    pub fn lat(&self) -> f64 {
        self.lat
    }

    pub fn long(&self) -> f64 {
        self.long
    }
}

/// An area a request falls in, in one layer: neighborhood 76, council district 4, tract
/// 36061000100.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AreaRef {
    pub layer: LayerId,
    pub area: AreaId,
}

impl AreaRef {
    /// `LAYER:AREA` as people write it in a filter (`kc-neighborhoods:42`).
    pub fn parse(s: &str) -> Result<AreaRef, crate::DomainError> {
        let (layer, area) = s
            .split_once(':')
            .ok_or_else(|| crate::DomainError::InvalidId {
                kind: "area",
                value: s.to_owned(),
                reason: "write LAYER:AREA",
            })?;
        Ok(AreaRef {
            layer: LayerId::parse(layer)?,
            area: AreaId::parse(area)?,
        })
    }
}

/// A request's location. Any part may be missing: a phone caller may give only a street, a
/// mobile app only a point, and an imported row may have neither.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Location {
    pub point: Option<LatLong>,
    pub address: Option<String>,
    /// The city's own address or parcel id, when the caller picked one.
    pub address_id: Option<String>,
    pub zip: Option<String>,
    pub areas: Vec<AreaRef>,
}

impl Location {
    /// The area this location falls in within `layer`, if known.
    pub fn area_in(&self, layer: &str) -> Option<&AreaId> {
        self.areas
            .iter()
            .find(|a| a.layer.as_str() == layer)
            .map(|a| &a.area)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn kansas_city_point_is_valid() {
        let p = LatLong::new(39.102738, -94.600134).unwrap();
        assert_eq!((p.lat(), p.long()), (39.102738, -94.600134));
    }

    #[test]
    fn out_of_range_is_a_typed_error() {
        assert_eq!(
            LatLong::new(91.0, 0.0),
            Err(DomainError::LatitudeOutOfRange(91.0))
        );
        assert_eq!(
            LatLong::new(0.0, -180.5),
            Err(DomainError::LongitudeOutOfRange(-180.5))
        );
        assert!(LatLong::new(f64::NAN, 0.0).is_err());
        assert!(LatLong::new(0.0, f64::INFINITY).is_err());
    }

    #[test]
    fn deserializing_checks_the_range() {
        assert!(serde_json::from_str::<LatLong>(r#"{"lat":39.1,"long":-94.6}"#).is_ok());
        assert!(serde_json::from_str::<LatLong>(r#"{"lat":139.1,"long":-94.6}"#).is_err());
    }

    proptest! {
        #[test]
        fn accepts_exactly_the_globe(lat in -200.0f64..200.0, long in -400.0f64..400.0) {
            let ok = (-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&long);
            prop_assert_eq!(LatLong::new(lat, long).is_ok(), ok);
        }
    }
}
