//! The real Kansas City sample, built into the binary so `civic311 demo` works from any
//! directory and from `cargo install`. See testdata/README.md for what it is and how it was cut.

pub const KC_REQUESTS: &str = include_str!("../../../testdata/kansas-city/kc311_sample.csv");
pub const KC_NEIGHBORHOODS: &str =
    include_str!("../../../testdata/kansas-city/neighborhoods.geojson");
