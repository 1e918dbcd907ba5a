//! What a request costs the city, from the budget table departments keep: per service, the
//! labor minutes a request takes, the hourly rate of that labor, and the unit cost of materials
//! and equipment per request (docs/METRICS.md, "Cost per request").

use serde::{Deserialize, Serialize};

use crate::ServiceCode;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceCost {
    pub service_code: ServiceCode,
    /// Labor per request, in minutes.
    pub labor_minutes: f64,
    /// Cost of an hour of that labor (wages and benefits), in the city's currency.
    pub hourly_rate: f64,
    /// Materials, equipment and contracts per request.
    pub unit_cost: f64,
}

impl ServiceCost {
    /// The cost of one request of the service.
    pub fn per_request(&self) -> f64 {
        self.labor_minutes / 60.0 * self.hourly_rate + self.unit_cost
    }
}

#[cfg(test)]
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn labor_at_its_rate_plus_the_unit_cost() {
        let pothole = ServiceCost {
            service_code: ServiceCode::parse("pothole").expect("a code"),
            labor_minutes: 45.0,
            hourly_rate: 60.0,
            unit_cost: 18.5,
        };
        assert_eq!(pothole.per_request(), 63.5);
    }
}
