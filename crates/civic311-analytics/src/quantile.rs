//! Quantiles as DuckDB's `quantile_cont` and R's default (type 7) compute them: the value at
//! position `q * (n - 1)` of the sorted values, interpolated between its two neighbours. The
//! median of an even count is then the mean of the middle two.

/// The `q` quantile (0 to 1) of `sorted` (ascending); `None` when it is empty.
pub fn quantile(sorted: &[i64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    let position = q.clamp(0.0, 1.0) * last as f64;
    let below = position.floor() as usize;
    let above = (below + 1).min(last);
    let (low, high) = (sorted[below] as f64, sorted[above] as f64);
    Some(low + (position - below as f64) * (high - low))
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
