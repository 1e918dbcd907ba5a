//! The report as a PDF: US Letter pages, the standard Helvetica fonts (every reader has them, so
//! nothing is embedded), tables that carry their header over a page break, bar charts drawn.

use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::document::{Chart, Document, Table};

const WIDTH: f32 = 612.0;
const HEIGHT: f32 = 792.0;
const MARGIN: f32 = 48.0;
const BODY: f32 = 9.0;
const BLUE: (f32, f32, f32) = (0.114, 0.306, 0.537);
const ORANGE: (f32, f32, f32) = (0.851, 0.51, 0.169);
const GREY: (f32, f32, f32) = (0.36, 0.4, 0.45);

/// Helvetica's advance widths in thousandths of the font size, for the characters this report
/// writes (ASCII); others are taken as the widest common one.
fn advance(c: u8, bold: bool) -> f32 {
    let w = match c {
        b' ' | b'.' | b',' | b':' | b';' | b'!' | b'/' | b'\\' | b'[' | b']' | b'\'' | b'|' => {
            278.0
        }
        b'i' | b'j' | b'l' => 222.0,
        b'f' | b't' | b'I' => 278.0,
        b'r' | b'(' | b')' | b'-' => 333.0,
        b'"' => 355.0,
        b'*' => 389.0,
        b's' | b'c' | b'k' | b'v' | b'x' | b'y' | b'z' | b'J' => 500.0,
        b'+' | b'=' | b'<' | b'>' => 584.0,
        b'0'..=b'9'
        | b'a'
        | b'b'
        | b'd'
        | b'e'
        | b'g'
        | b'h'
        | b'n'
        | b'o'
        | b'p'
        | b'q'
        | b'u'
        | b'_'
        | b'$'
        | b'#'
        | b'?'
        | b'L' => 556.0,
        b'F' | b'T' | b'Z' => 611.0,
        b'A' | b'B' | b'E' | b'K' | b'P' | b'S' | b'V' | b'X' | b'Y' | b'&' => 667.0,
        b'C' | b'D' | b'H' | b'N' | b'R' | b'U' | b'w' => 722.0,
        b'G' | b'O' | b'Q' => 778.0,
        b'M' | b'm' => 833.0,
        b'%' => 889.0,
        b'W' => 944.0,
        b'@' => 1015.0,
        _ => 667.0,
    };
    if bold { w * 1.06 } else { w }
}

/// The text in the fonts' encoding (WinAnsi: Latin-1 for what matters here).
fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{2013}' | '\u{2014}' | '\u{2212}' => out.push(b'-'),
            '\u{2018}' | '\u{2019}' => out.push(b'\''),
            '\u{201c}' | '\u{201d}' => out.push(b'"'),
            '\u{2026}' => out.extend_from_slice(b"..."),
            '\u{2192}' => out.extend_from_slice(b"->"),
            c if (c as u32) < 0x7f && !c.is_control() => out.push(c as u8),
            c if (0xa0..=0xff).contains(&(c as u32)) => out.push(c as u32 as u8),
            _ => out.push(b'?'),
        }
    }
    out
}

fn width(text: &[u8], size: f32, bold: bool) -> f32 {
    text.iter().map(|&c| advance(c, bold)).sum::<f32>() * size / 1000.0
}

/// `text` cut to fit `room`, ending in "..." when cut.
fn fit(text: &[u8], size: f32, room: f32) -> Vec<u8> {
    if width(text, size, false) <= room {
        return text.to_vec();
    }
    let mut out = text.to_vec();
    while !out.is_empty() && width(&out, size, false) + width(b"...", size, false) > room {
        out.pop();
    }
    out.extend_from_slice(b"...");
    out
}

/// Words into lines no wider than `room`.
fn wrap(text: &str, size: f32, room: f32) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    for word in encode(text).split(|&c| c == b' ') {
        let mut candidate = line.clone();
        if !candidate.is_empty() {
            candidate.push(b' ');
        }
        candidate.extend_from_slice(word);
        if !line.is_empty() && width(&candidate, size, false) > room {
            lines.push(std::mem::take(&mut line));
            line = word.to_vec();
        } else {
            line = candidate;
        }
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// Pages being written, top to bottom.
struct Pages {
    done: Vec<Content>,
    page: Content,
    y: f32,
}

impl Pages {
    fn new() -> Self {
        Pages {
            done: Vec::new(),
            page: Content::new(),
            y: HEIGHT - MARGIN,
        }
    }

    /// Starts a new page unless `height` fits on this one.
    fn room(&mut self, height: f32) {
        if self.y - height < MARGIN {
            let page = std::mem::replace(&mut self.page, Content::new());
            self.done.push(page);
            self.y = HEIGHT - MARGIN;
        }
    }

    fn text(&mut self, x: f32, y: f32, size: f32, bold: bool, text: &[u8], color: (f32, f32, f32)) {
        let font = if bold { Name(b"F2") } else { Name(b"F1") };
        self.page.set_fill_rgb(color.0, color.1, color.2);
        self.page.begin_text();
        self.page.set_font(font, size);
        self.page.next_line(x, y);
        self.page.show(Str(text));
        self.page.end_text();
    }

    fn line(&mut self, size: f32, bold: bool, text: &str, color: (f32, f32, f32)) {
        self.room(size * 1.5);
        self.y -= size * 1.3;
        let text = encode(text);
        self.text(MARGIN, self.y, size, bold, &text, color);
        self.y -= size * 0.3;
    }

    fn paragraph(&mut self, text: &str, color: (f32, f32, f32)) {
        for line in wrap(text, BODY, WIDTH - 2.0 * MARGIN) {
            self.room(BODY * 1.4);
            self.y -= BODY * 1.4;
            self.text(MARGIN, self.y, BODY, false, &line, color);
        }
        self.y -= BODY * 0.6;
    }

    fn rule(&mut self, color: (f32, f32, f32), thickness: f32) {
        self.page.set_stroke_rgb(color.0, color.1, color.2);
        self.page.set_line_width(thickness);
        self.page.move_to(MARGIN, self.y);
        self.page.line_to(WIDTH - MARGIN, self.y);
        self.page.stroke();
    }

    fn chart(&mut self, chart: &Chart) {
        const BARS: f32 = 110.0;
        let size = 7.0;
        self.room(BARS + 4.0 * BODY);
        self.line(BODY, true, &chart.title, (0.0, 0.0, 0.0));
        let top = self.y - size * 1.6;
        let bottom = top - BARS;
        let n = chart.bars.len().max(1) as f32;
        let slot = ((WIDTH - 2.0 * MARGIN) / n).min(60.0);
        let max = chart.bars.iter().map(|(_, v)| *v).fold(0.0, f64::max);
        for (i, (label, value)) in chart.bars.iter().enumerate() {
            let h = if max > 0.0 {
                (value / max) as f32 * BARS
            } else {
                0.0
            };
            let x = MARGIN + i as f32 * slot;
            let last = chart.highlight_last && i + 1 == chart.bars.len();
            let color = if last { ORANGE } else { BLUE };
            self.page.set_fill_rgb(color.0, color.1, color.2);
            self.page.rect(x + slot * 0.15, bottom, slot * 0.7, h);
            self.page.fill_nonzero();
            let shown = encode(&crate::document::bar_value(*value));
            let w = width(&shown, size, false);
            self.text(
                x + (slot - w) / 2.0,
                bottom + h + 2.0,
                size,
                false,
                &shown,
                GREY,
            );
            let label = fit(&encode(label), size, slot - 2.0);
            let w = width(&label, size, false);
            self.text(
                x + (slot - w) / 2.0,
                bottom - size * 1.3,
                size,
                false,
                &label,
                GREY,
            );
        }
        self.y = bottom - size * 2.4;
    }

    fn table(&mut self, table: &Table) {
        let size = if table.columns.len() > 5 { 7.5 } else { BODY };
        let row_height = size * 1.55;
        let pad = size * 0.8;
        let cells: Vec<Vec<Vec<u8>>> = table
            .rows
            .iter()
            .map(|row| row.iter().map(|c| encode(c)).collect())
            .collect();
        let header: Vec<Vec<u8>> = table.columns.iter().map(|c| encode(c)).collect();
        // Number columns as wide as their widest cell; the first column takes the rest.
        let mut widths: Vec<f32> = header
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let widest = cells
                    .iter()
                    .filter_map(|row| row.get(i))
                    .map(|c| width(c, size, false))
                    .fold(width(h, size, true), f32::max);
                widest + pad
            })
            .collect();
        let numbers: f32 = widths.iter().skip(1).sum();
        if let Some(first) = widths.first_mut() {
            *first = (WIDTH - 2.0 * MARGIN - numbers).max(80.0);
        }
        let draw_row = |pages: &mut Pages, row: &[Vec<u8>], bold: bool| {
            pages.room(row_height);
            pages.y -= row_height;
            let mut x = MARGIN;
            for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
                if i == 0 {
                    let cell = fit(cell, size, w - pad);
                    pages.text(x, pages.y + size * 0.45, size, bold, &cell, (0.0, 0.0, 0.0));
                } else {
                    let cw = width(cell, size, bold);
                    pages.text(
                        x + w - cw,
                        pages.y + size * 0.45,
                        size,
                        bold,
                        cell,
                        (0.0, 0.0, 0.0),
                    );
                }
                x += w;
            }
            pages.page.set_stroke_rgb(0.85, 0.87, 0.9);
            pages.page.set_line_width(0.4);
            pages.page.move_to(MARGIN, pages.y);
            pages.page.line_to(WIDTH - MARGIN, pages.y);
            pages.page.stroke();
        };
        self.room(row_height * 3.0);
        draw_row(self, &header, true);
        for row in &cells {
            let before = self.done.len();
            self.room(row_height);
            if self.done.len() != before {
                draw_row(self, &header, true);
            }
            draw_row(self, row, false);
        }
        self.y -= BODY;
    }

    fn finish(mut self) -> Vec<Content> {
        self.done.push(self.page);
        self.done
    }
}

/// The document as PDF bytes.
pub fn render(doc: &Document) -> Vec<u8> {
    let mut pages = Pages::new();
    pages.line(16.0, true, &doc.title, BLUE);
    pages.paragraph(&doc.subtitle, GREY);
    for section in &doc.sections {
        pages.room(60.0);
        pages.y -= BODY;
        pages.line(12.0, true, &section.heading, BLUE);
        pages.rule(BLUE, 1.0);
        pages.y -= BODY * 0.3;
        if let Some(text) = &section.text {
            pages.paragraph(text, (0.0, 0.0, 0.0));
        }
        if let Some(chart) = &section.chart {
            pages.chart(chart);
        }
        if let Some(table) = &section.table {
            pages.table(table);
        }
    }
    pages.y -= BODY;
    for note in &doc.notes {
        pages.paragraph(note, GREY);
    }
    let contents = pages.finish();

    let mut next = Ref::new(1);
    let catalog = next.bump();
    let tree = next.bump();
    let regular = next.bump();
    let bold = next.bump();
    let info = next.bump();
    let mut pdf = Pdf::new();
    pdf.catalog(catalog).pages(tree);
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr(&doc.title))
        .producer(TextStr("civic311"));
    let mut kids = Vec::with_capacity(contents.len());
    let total = contents.len();
    for (number, mut content) in contents.into_iter().enumerate() {
        let (page_id, content_id) = (next.bump(), next.bump());
        kids.push(page_id);
        // Page numbers at the foot.
        let foot = encode(&format!("{} - page {} of {total}", doc.title, number + 1));
        content.set_fill_rgb(GREY.0, GREY.1, GREY.2);
        content.begin_text();
        content.set_font(Name(b"F1"), 7.0);
        content.next_line(MARGIN, MARGIN / 2.0);
        content.show(Str(&foot));
        content.end_text();
        let mut page = pdf.page(page_id);
        page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        page.parent(tree);
        page.contents(content_id);
        page.resources()
            .fonts()
            .pair(Name(b"F1"), regular)
            .pair(Name(b"F2"), bold);
        page.finish();
        pdf.stream(content_id, &content.finish());
    }
    pdf.pages(tree).count(kids.len() as i32).kids(kids);
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_encoded_for_the_standard_fonts() {
        assert_eq!(encode("Café – 5%"), b"Caf\xe9 - 5%".to_vec());
        assert_eq!(encode("東京"), b"??".to_vec());
        assert_eq!(encode("routed → closed"), b"routed -> closed".to_vec());
    }

    #[test]
    fn long_text_is_cut_and_wrapped_to_fit() {
        let cut = fit(b"Neighborhood with a very long name indeed", 9.0, 60.0);
        assert!(cut.ends_with(b"..."));
        assert!(width(&cut, 9.0, false) <= 60.0);
        let lines = wrap(
            "one two three four five six seven eight nine ten",
            9.0,
            60.0,
        );
        assert!(lines.len() > 2);
        assert!(lines.iter().all(|l| width(l, 9.0, false) <= 60.0));
    }
}
