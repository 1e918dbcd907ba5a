//! The report as one HTML file: styles inline, charts as inline SVG, nothing fetched, so it can
//! be mailed, archived and printed as it is.

use askama::Template;

use crate::document::{Chart, Document};

#[derive(Template)]
#[template(path = "monthly.html")]
struct Page<'a> {
    doc: &'a Document,
}

pub fn render(doc: &Document) -> Result<String, askama::Error> {
    Page { doc }.render()
}

/// XML text: the labels are the city's own (service and area names).
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Vertical bars with their values above and labels below.
pub fn svg(chart: &Chart) -> String {
    const HEIGHT: f64 = 160.0;
    const TOP: f64 = 16.0;
    const BOTTOM: f64 = 34.0;
    let slot = if chart.bars.len() > 8 { 52.0 } else { 96.0 };
    let width = slot * chart.bars.len().max(1) as f64;
    let max = chart.bars.iter().map(|(_, v)| *v).fold(0.0, f64::max);
    let mut out = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{}" viewBox="0 0 {width} {}">"#,
        HEIGHT + TOP + BOTTOM,
        HEIGHT + TOP + BOTTOM,
    );
    out.push_str(&format!("<title>{}</title>", escape(&chart.title)));
    for (i, (label, value)) in chart.bars.iter().enumerate() {
        let h = if max > 0.0 { value / max * HEIGHT } else { 0.0 };
        let x = i as f64 * slot;
        let last = chart.highlight_last && i + 1 == chart.bars.len();
        let fill = if last { "#d9822b" } else { "#1d4e89" };
        let shown = crate::document::bar_value(*value);
        out.push_str(&format!(
            r#"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="{fill}"><title>{}: {shown}</title></rect>"#,
            x + slot * 0.15,
            TOP + HEIGHT - h,
            slot * 0.7,
            escape(label),
        ));
        out.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{shown}</text>"#,
            x + slot / 2.0,
            TOP + HEIGHT - h - 3.0,
        ));
        out.push_str(&format!(
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x + slot / 2.0,
            TOP + HEIGHT + 14.0,
            escape(label),
        ));
    }
    out.push_str("</svg>");
    out
}
