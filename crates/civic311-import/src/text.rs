//! Small text helpers shared by importers.

/// A stable code from a display name: `"Trash / Recycling-Missed by City"` →
/// `"trash-recycling-missed-by-city"`.
pub(crate) fn slug(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

/// Trims a field and turns an empty one into `None`.
pub(crate) fn non_empty(s: &str) -> Option<&str> {
    Some(s.trim()).filter(|s| !s.is_empty())
}

/// `"64101.0"` → `"64101"`: numbers exported through a float column.
pub(crate) fn strip_float_suffix(s: &str) -> &str {
    s.strip_suffix(".0").unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_stable_codes() {
        assert_eq!(
            slug("Trash / Recycling-Trash Collection-Missed by City"),
            "trash-recycling-trash-collection-missed-by-city"
        );
        assert_eq!(slug("  Parks & Rec "), "parks-rec");
        assert_eq!(slug("///"), "");
    }
}
