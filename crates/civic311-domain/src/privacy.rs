//! Personal data in free text: what leaves the city in an export never carries a resident's
//! e-mail address or phone number, and, where the city asks for it, no house number either
//! (addresses become blocks: "938 Mulberry St" → "900 block of Mulberry St").

use std::borrow::Cow;

/// What to take out of free text besides e-mail addresses and phone numbers (always taken).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scrub {
    /// House numbers before a street name, in descriptions and addresses.
    pub street_numbers: bool,
}

pub const EMAIL_MARK: &str = "[email]";
pub const PHONE_MARK: &str = "[phone]";
pub const NUMBER_MARK: &str = "[number]";

const STREET_SUFFIXES: &[&str] = &[
    "st",
    "street",
    "ave",
    "av",
    "avenue",
    "blvd",
    "boulevard",
    "rd",
    "road",
    "dr",
    "drive",
    "ln",
    "lane",
    "ct",
    "court",
    "pl",
    "place",
    "pkwy",
    "parkway",
    "ter",
    "terrace",
    "way",
    "cir",
    "circle",
    "hwy",
    "highway",
    "trafficway",
    "plaza",
];

impl Scrub {
    /// `text` without e-mail addresses and phone numbers (and house numbers when asked).
    pub fn text<'a>(&self, text: &'a str) -> Cow<'a, str> {
        // An e-mail address has an `@`, a phone number and a house number digits: text without
        // either (most descriptions) is returned as it is, without splitting it into words.
        if !text.bytes().any(|b| b == b'@' || b.is_ascii_digit()) {
            return Cow::Borrowed(text);
        }
        let words: Vec<&str> = text.split_inclusive(char::is_whitespace).collect();
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        let mut i = 0;
        while i < words.len() {
            let word = words[i];
            let (core, tail) = split_trailing_space(word);
            if is_email(core) {
                out.push_str(EMAIL_MARK);
                out.push_str(trailing_punctuation(core));
                out.push_str(tail);
                changed = true;
                i += 1;
                continue;
            }
            if let Some(n) = phone_at(&words[i..]) {
                out.push_str(PHONE_MARK);
                let last = words[i + n - 1];
                let (last_core, last_tail) = split_trailing_space(last);
                out.push_str(trailing_punctuation(last_core));
                out.push_str(last_tail);
                changed = true;
                i += n;
                continue;
            }
            if self.street_numbers && is_house_number(core) && street_follows(&words[i + 1..]) {
                out.push_str(NUMBER_MARK);
                out.push_str(tail);
                changed = true;
                i += 1;
                continue;
            }
            out.push_str(word);
            i += 1;
        }
        if changed {
            Cow::Owned(out)
        } else {
            Cow::Borrowed(text)
        }
    }

    /// The address as published: its block ("900 block of Mulberry St") when house numbers are
    /// scrubbed, else as given (without any e-mail or phone in it).
    pub fn address<'a>(&self, address: &'a str) -> Cow<'a, str> {
        if self.street_numbers {
            let trimmed = address.trim_start();
            let digits = trimmed.bytes().take_while(u8::is_ascii_digit).count();
            if digits > 0 && trimmed[digits..].starts_with(' ') {
                let number: u64 = trimmed[..digits].parse().unwrap_or(0);
                let rest = trimmed[digits..].trim_start();
                let block = format!("{} block of {rest}", number / 100 * 100);
                // The block number is not a house number: only e-mails and phones go from here.
                return Cow::Owned(Scrub::default().text(&block).into_owned());
            }
        }
        self.text(address)
    }
}

fn split_trailing_space(word: &str) -> (&str, &str) {
    let core = word.trim_end();
    (core, &word[core.len()..])
}

/// Sentence punctuation after a word (`,` `.` `;` `)`), kept when the word is replaced.
fn trailing_punctuation(core: &str) -> &str {
    let kept = core.trim_end_matches([',', '.', ';', ':', ')', '!', '?']);
    &core[kept.len()..]
}

fn is_email(word: &str) -> bool {
    let word = word.trim_matches(|c: char| !c.is_alphanumeric());
    let Some((local, domain)) = word.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
}

/// How many words starting at `words[0]` make a phone number (7 to 15 digits, written with the
/// usual separators), if they do.
fn phone_at(words: &[&str]) -> Option<usize> {
    let mut digits = 0;
    for (n, word) in words.iter().take(4).enumerate() {
        let core = word.trim();
        let core = core.trim_end_matches([',', '.', ';', ':', '!', '?']);
        if core.is_empty()
            || !core
                .chars()
                .all(|c| c.is_ascii_digit() || "()-.+".contains(c))
        {
            break;
        }
        let here = core.chars().filter(char::is_ascii_digit).count();
        if here == 0 {
            break;
        }
        // A lone short number is a count or a house number, not the start of a phone number.
        if n == 0 && here < 3 && !core.starts_with('+') {
            return None;
        }
        digits += here;
        if (10..=15).contains(&digits) || (digits == 7 && core.contains('-')) {
            return Some(n + 1);
        }
        if digits > 15 {
            break;
        }
    }
    None
}

fn is_house_number(word: &str) -> bool {
    let digits = word.trim_end_matches(|c: char| c.is_ascii_alphabetic());
    (1..=6).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && word.len() - digits.len() <= 1
}

/// Whether a street suffix comes within the next four words ("Mulberry St", "E 31st Street").
fn street_follows(words: &[&str]) -> bool {
    words.iter().take(4).any(|w| {
        let w = w
            .trim()
            .trim_end_matches(|c: char| !c.is_alphanumeric())
            .to_ascii_lowercase();
        STREET_SUFFIXES.contains(&w.as_str())
    })
}

#[cfg(test)]
mod tests {
    use super::Scrub;

    const ALL: Scrub = Scrub {
        street_numbers: true,
    };

    #[test]
    fn emails_and_phones_always_go() {
        let plain = Scrub::default();
        assert_eq!(
            plain.text("Call me at (816) 555-0134 or mail jane.doe@example.org, thanks."),
            "Call me at [phone] or mail [email], thanks."
        );
        assert_eq!(plain.text("text 816.555.0134."), "text [phone].");
        assert_eq!(
            plain.text("cell +1 816 555 0134 after 5"),
            "cell [phone] after 5"
        );
        assert_eq!(plain.text("neighbor 555-0134"), "neighbor [phone]");
        // Counts and years are not phone numbers; ten digits are, whatever they were meant as
        // (the safe side).
        assert_eq!(plain.text("3 bags since 2019"), "3 bags since 2019");
        assert_eq!(
            plain.text("case 2019193337 reopened"),
            "case [phone] reopened"
        );
        assert_eq!(plain.text("938 Mulberry St"), "938 Mulberry St");
        assert!(matches!(
            plain.text("nothing here"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn house_numbers_go_where_asked() {
        assert_eq!(
            ALL.text("Pothole in front of 938 Mulberry St, near 12th Street."),
            "Pothole in front of [number] Mulberry St, near 12th Street."
        );
        assert_eq!(
            ALL.text("trash at 4510B E 31st Street since 3 days"),
            "trash at [number] E 31st Street since 3 days"
        );
        assert_eq!(ALL.text("3 bags left"), "3 bags left");
        assert_eq!(ALL.address("938 Mulberry St"), "900 block of Mulberry St");
        assert_eq!(ALL.address("45 W 12th St"), "0 block of W 12th St");
        assert_eq!(ALL.address("Mulberry St and 9th"), "Mulberry St and 9th");
        assert_eq!(
            Scrub::default().address("938 Mulberry St"),
            "938 Mulberry St"
        );
    }
}
