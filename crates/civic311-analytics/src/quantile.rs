//! Quantiles as DuckDB's `quantile_cont` and R's default (type 7) compute them: the value at
//! position `q * (n - 1)` of the sorted values, interpolated between its two neighbours. The
//! median of an even count is then the mean of the middle two.

/// The `q` quantile (0 to 1) of `sorted` (ascending); `None` when it is empty.
pub fn quantile(sorted: &[i64], q: f64) -> Option<f64> {
    let p = Position::of(sorted.len(), q)?;
    Some(p.between(sorted[p.below], sorted[p.above]))
}

/// Where the `q` quantile of `n` sorted values lies: between the values at `below` and
/// `above` (indexes from 0), `fraction` of the way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Position {
    pub below: usize,
    pub above: usize,
    fraction: f64,
}

impl Position {
    pub fn of(n: usize, q: f64) -> Option<Position> {
        let last = n.checked_sub(1)?;
        let position = q.clamp(0.0, 1.0) * last as f64;
        let below = position.floor() as usize;
        Some(Position {
            below,
            above: (below + 1).min(last),
            fraction: position - below as f64,
        })
    }

    /// The quantile, given the values at `below` and `above`.
    pub fn between(&self, low: i64, high: i64) -> f64 {
        let (low, high) = (low as f64, high as f64);
        low + self.fraction * (high - low)
    }
}

#[cfg(test)]
mod tests {
    use super::quantile;

    #[test]
    fn interpolates_like_duckdb_quantile_cont() {
        assert_eq!(quantile(&[], 0.5), None);
        assert_eq!(quantile(&[7], 0.9), Some(7.0));
        assert_eq!(quantile(&[1, 2, 3, 4], 0.5), Some(2.5));
        // position 0.9 * 9 = 8.1: 9 + 0.1 * (100 - 9)
        let values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 100];
        let p90 = quantile(&values, 0.9).unwrap();
        assert!((p90 - 18.1).abs() < 1e-9, "{p90}");
        assert_eq!(quantile(&values, 0.0), Some(1.0));
        assert_eq!(quantile(&values, 1.0), Some(100.0));
    }
}
