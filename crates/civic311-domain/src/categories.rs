//! The standard service categories of the exchange format: the few dozen kinds of request that
//! every city takes under its own names ("Streets / Roadways / Alleys-Pothole-District 2" in
//! Kansas City, "Street Condition" in New York), so cities can compare the same thing.
//!
//! A service's category is set in the catalog (`category = "pothole"`); where it is not, it is
//! guessed from the service's name and group by the keyword rules below, first match wins.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::DomainError;

macro_rules! categories {
    ($($variant:ident => $slug:literal, $label:literal;)*) => {
        /// A standard category (exchange format v1). The slugs are part of the format: never
        /// rename one; add new ones at the end of a new version.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum StandardCategory {
            $($variant,)*
        }

        impl StandardCategory {
            pub const ALL: &'static [StandardCategory] = &[$(StandardCategory::$variant,)*];

            pub fn slug(self) -> &'static str {
                match self {
                    $(StandardCategory::$variant => $slug,)*
                }
            }

            /// A name for people ("Missed trash and recycling").
            pub fn label(self) -> &'static str {
                match self {
                    $(StandardCategory::$variant => $label,)*
                }
            }
        }
    };
}

categories! {
    Pothole => "pothole", "Potholes";
    Graffiti => "graffiti", "Graffiti";
    TrashRecycling => "trash_recycling", "Missed trash, recycling and bulky pickup";
    IllegalDumping => "illegal_dumping", "Illegal dumping";
    StreetLight => "street_light", "Street lights";
    TrafficSignal => "traffic_signal", "Traffic signals";
    Signs => "signs", "Street and traffic signs";
    StreetsSidewalks => "streets_sidewalks", "Streets, sidewalks and curbs";
    Rodents => "rodents", "Rats and rodents";
    DeadAnimal => "dead_animal", "Dead animal pickup";
    Animals => "animals", "Animals (stray, bites, cruelty)";
    AbandonedVehicle => "abandoned_vehicle", "Abandoned vehicles";
    Parking => "parking", "Illegal parking and blocked driveways";
    Noise => "noise", "Noise";
    Trees => "trees", "Trees";
    WaterSewer => "water_sewer", "Water, sewer and storm drains";
    SnowIce => "snow_ice", "Snow and ice";
    CodeEnforcement => "code_enforcement", "Property, nuisance and zoning violations";
    Housing => "housing", "Housing conditions (heat, hot water, repairs)";
    FoodSafety => "food_safety", "Food safety";
    PublicHealth => "public_health", "Public health (air, pests, pools)";
    Homelessness => "homelessness", "Homeless encampments and assistance";
    Parks => "parks", "Parks";
    Other => "other", "Other";
}

/// Keyword rules, in order; a keyword matches whole words of the normalized text (lower case,
/// anything but letters and digits a space), and may span several words.
const RULES: &[(StandardCategory, &[&str])] = {
    use StandardCategory::*;
    &[
        (Graffiti, &["graffiti"]),
        (Pothole, &["pothole", "potholes"]),
        (
            Rodents,
            &[
                "rat",
                "rats",
                "rodent",
                "rodents",
                "rat control",
                "rat treatment",
            ],
        ),
        (DeadAnimal, &["dead animal", "dead animals"]),
        (
            AbandonedVehicle,
            &[
                "abandoned vehicle",
                "abandoned on street",
                "derelict vehicle",
                "abandoned",
            ],
        ),
        (Noise, &["noise", "barking dog"]),
        (IllegalDumping, &["dumping", "illegal dumping"]),
        (
            CodeEnforcement,
            &[
                "property violations",
                "nuisance violations",
                "property and nuisance violations",
                "dangerous building",
                "vacant structure",
                "hazardous structure",
                "board up",
                "zoning",
                "building code",
                "mowing",
                "weeds",
                "land trust",
                "land use",
                "construction issue",
            ],
        ),
        (Trees, &["tree", "trees", "forestry"]),
        (TrafficSignal, &["traffic signal", "signal", "signals"]),
        (
            StreetLight,
            &[
                "street light",
                "streetlight",
                "streetlights",
                "street lights",
            ],
        ),
        (
            TrashRecycling,
            &[
                "trash",
                "recycling",
                "recycle",
                "bulky",
                "garbage",
                "sanitation",
                "solid waste",
                "missed collection",
                "leaf and brush",
                "residential disposal",
            ],
        ),
        (SnowIce, &["snow", "ice"]),
        (
            Housing,
            &[
                "heat",
                "hot water",
                "plumbing",
                "paint plaster",
                "unsanitary condition",
                "bedbugs",
            ],
        ),
        (
            WaterSewer,
            &[
                "water",
                "sewer",
                "stormwater",
                "storm water",
                "catch basin",
                "hydrant",
                "manhole",
                "pipeline",
                "valve",
                "curb box",
            ],
        ),
        (
            Parking,
            &[
                "parking",
                "illegally parked",
                "illegal parking",
                "blocked driveway",
                "tow services",
            ],
        ),
        (
            Animals,
            &[
                "animal", "animals", "pets", "stray", "wildlife", "dog", "bite", "pigeon",
            ],
        ),
        (Homelessness, &["homeless", "encampment"]),
        (FoodSafety, &["food"]),
        (
            PublicHealth,
            &[
                "public health",
                "health",
                "air quality",
                "smoking",
                "pool",
                "mosquito",
            ],
        ),
        (Signs, &["sign", "signs"]),
        (
            StreetsSidewalks,
            &[
                "street",
                "streets",
                "roadway",
                "roadways",
                "alley",
                "sidewalk",
                "sidewalks",
                "curb",
                "curbs",
                "bridge",
                "guard rail",
                "guardrail",
                "plate",
                "markings",
                "resurfacing",
                "sinkhole",
                "street condition",
            ],
        ),
        (Parks, &["park", "parks", "recreation"]),
    ]
};

impl StandardCategory {
    /// The category a service of this name and group most likely belongs to, or `Other`.
    pub fn guess(name: &str, group: Option<&str>) -> StandardCategory {
        let text = normalize(&format!("{name} {}", group.unwrap_or("")));
        for (category, keywords) in RULES {
            for keyword in *keywords {
                if text.contains(&format!(" {keyword} ")) {
                    return *category;
                }
            }
        }
        StandardCategory::Other
    }
}

/// ` words separated by single spaces ` in lower case, with a space at each end.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push(' ');
    for c in text.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with(' ') {
            out.push(' ');
        }
    }
    if !out.ends_with(' ') {
        out.push(' ');
    }
    out
}

impl fmt::Display for StandardCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.slug())
    }
}

impl FromStr for StandardCategory {
    type Err = DomainError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        StandardCategory::ALL
            .iter()
            .copied()
            .find(|c| c.slug() == s)
            .ok_or_else(|| DomainError::UnknownCategory {
                value: s.to_owned(),
                known: StandardCategory::ALL
                    .iter()
                    .map(|c| c.slug())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::StandardCategory::{self, *};

    #[test]
    fn real_service_names_fall_in_their_category() {
        // Names as Kansas City and New York publish them (testdata samples).
        for (name, group, expected) in [
            (
                "Streets / Roadways / Alleys-Pothole-District 2",
                Some("Streets / Roadways / Alleys"),
                Pothole,
            ),
            (
                "Trash / Recycling-Trash Collection-Missed by City",
                Some("Trash / Recycling"),
                TrashRecycling,
            ),
            (
                "Trash / Recycling-Dumping-Right of Way",
                Some("Trash / Recycling"),
                IllegalDumping,
            ),
            ("Dead Animal Pick-up", Some("Trash"), DeadAnimal),
            (
                "Tree Trimming from Electric Wire or Street Light",
                Some("Trees"),
                Trees,
            ),
            (
                "SLG0 Streetlight Out - Single Light Out",
                Some("Street Light"),
                StreetLight,
            ),
            (
                "Lights / Signals-Traffic Signal-Signal out",
                Some("Lights / Signals"),
                TrafficSignal,
            ),
            ("Rat Control Treatment", Some("Health"), Rodents),
            ("Rodent", None, Rodents),
            ("Noise - Residential", None, Noise),
            ("Illegal Parking", None, Parking),
            ("Blocked Driveway", None, Parking),
            (
                "Vehicles / Parking-Abandoned On Street-Car",
                Some("Vehicles / Parking"),
                AbandonedVehicle,
            ),
            (
                "Water Leak or Pressure Problem",
                Some("Water Leak"),
                WaterSewer,
            ),
            (
                "Property Violations",
                Some("Trash / Recycling"),
                CodeEnforcement,
            ),
            ("HEAT/HOT WATER", None, Housing),
            ("Street Condition", None, StreetsSidewalks),
            (
                "Sign Missing or Damaged - Non-emergency",
                Some("Street Sign"),
                Signs,
            ),
            ("Encampment", None, Homelessness),
            ("Food Poisoning", None, FoodSafety),
            (
                "Parks & Recreation-Park Maintenance-Central",
                Some("Parks & Recreation"),
                Parks,
            ),
            ("Lost Property", None, Other),
            ("Graffiti on Signs", Some("Graffiti"), Graffiti),
        ] {
            assert_eq!(
                StandardCategory::guess(name, group),
                expected,
                "{name} / {group:?}"
            );
        }
    }

    #[test]
    fn words_not_parts_of_words() {
        // "rat" inside "restoration", "sign" inside "signal", "park" inside "parking".
        assert_eq!(
            StandardCategory::guess("Pipeline Restoration", None),
            WaterSewer
        );
        assert_ne!(StandardCategory::guess("Design review", None), Signs);
        assert_eq!(
            StandardCategory::guess("Parking Meter Repair", None),
            Parking
        );
    }

    #[test]
    fn slugs_round_trip_and_unknown_ones_are_refused() {
        for c in StandardCategory::ALL {
            assert_eq!(c.slug().parse::<StandardCategory>(), Ok(*c));
            assert_eq!(
                serde_json::to_value(c).ok(),
                Some(serde_json::json!(c.slug()))
            );
        }
        let err = "potholes"
            .parse::<StandardCategory>()
            .unwrap_err()
            .to_string();
        assert!(err.contains("pothole, graffiti"), "{err}");
    }
}
