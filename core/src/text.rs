//! The one rule for free text a client sends: which characters are refused; and which
//! language tags a seller may mark their texts with.
//!
//! Single-line fields (names, address lines, emails, labels, ids, references, card fields)
//! may hold no control character at all: no C0 control (tab, newline and NUL included), no
//! DEL, no C1 control. They would break receipts, CSV exports and logs, and no form can
//! produce them. Multi-line fields (a product's description) may also hold line breaks and
//! tabs, and nothing else from those ranges.

/// Whether `value` is acceptable single-line text: no control character at all.
pub fn is_single_line(value: &str) -> bool {
    !value.chars().any(char::is_control)
}

/// Whether `c` is a format character that draws nothing yet changes what is shown around it:
/// a soft hyphen, the Arabic letter mark, the Mongolian vowel separator, zero-width spaces
/// and joiners, the marks and embeddings that reorder text (bidi), the word joiner and
/// invisible operators, a byte-order mark, the interlinear annotation marks. In an address
/// the seller reads or a mailer parses, one makes a name look like another.
// Out of line: inlined into the email check's loop it compiled 74 B brotli larger in the
// checkout module (measured with `make widget`).
#[inline(never)]
pub fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{61c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

/// Whether `value` shows nothing: only whitespace, or invisible format characters
/// ([`is_invisible_format`]: zero-width spaces and joiners, direction marks, a byte-order
/// mark, a soft hyphen). A required field holding only those would print as blank on a
/// label, a receipt or an export, and is refused as empty.
// One copy for every required field that asks: inlined into each, it cost the checkout
// module 140 B brotli more (measured with the size test).
#[inline(never)]
pub fn is_blank(value: &str) -> bool {
    value.chars().all(|c| c.is_whitespace() || is_invisible_format(c))
}

/// Whether `value` is acceptable multi-line text: control characters other than `\n`, `\r`
/// and `\t` are refused.
pub fn is_multi_line(value: &str) -> bool {
    !value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

/// Whether `tag` is a language tag a page's `lang` takes (BCP 47, the form only): a primary
/// language of 2 or 3 letters, then subtags of 1 to 8 letters or digits, each after a `-`;
/// at most 35 characters (`en`, `es-419`, `pt-BR`, `zh-Hant-TW`). A seller marks their
/// product's texts with one, so that a screen reader speaks an English title in English on
/// a Spanish sheet; whether the language exists is not checked, as no table of them is
/// kept, and a browser reads an unknown one as no language.
pub fn is_language_tag(tag: &str) -> bool {
    let mut subtags = tag.split('-');
    let primary = subtags.next().unwrap_or_default();
    tag.len() <= 35
        && (2..=3).contains(&primary.len())
        && primary.bytes().all(|b| b.is_ascii_alphabetic())
        && subtags.all(|s| (1..=8).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_of_invisible_characters_alone_is_blank() {
        let marks = "\u{200e}\u{200f}\u{202e}\u{2066}\u{2069}\u{61c}";
        for blank in ["", "  ", "\u{200b}", " \u{feff}\u{200d} ", "\u{ad}", "\u{2060}\u{3000}", marks, "\u{180e}"] {
            assert!(super::is_blank(blank), "{blank:?}");
        }
        for shown in ["a", "\u{200b}a", "1", "·", "\u{fe0f}x", "\u{200e}a"] {
            assert!(!super::is_blank(shown), "{shown:?}");
        }
    }

    use super::*;

    #[test]
    fn an_invisible_format_character_is_told_apart() {
        for c in ['\u{ad}', '\u{200b}', '\u{200e}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{feff}', '\u{61c}'] {
            assert!(is_invisible_format(c), "{:x}", c as u32);
        }
        for c in ['a', 'ü', '例', '-', '\u{2010}', '\u{2070}', '\u{fe0f}'] {
            assert!(!is_invisible_format(c), "{:x}", c as u32);
        }
    }

    #[test]
    fn a_language_tag_is_a_primary_language_and_short_subtags() {
        for good in ["en", "es", "ast", "es-419", "pt-BR", "zh-Hant-TW", "EN-us", "sr-Latn-RS"] {
            assert!(is_language_tag(good), "{good}");
        }
        for bad in ["", "e", "english", "en_US", "en-", "-en", "en--us", "en-toolongsub", "1a", "en US", "é", "en-US\n"]
        {
            assert!(!is_language_tag(bad), "{bad:?}");
        }
        assert!(!is_language_tag(&format!("en{}", "-abcdefgh".repeat(4))), "over 35 characters");
    }

    #[test]
    fn single_line_text_refuses_every_control_character() {
        assert!(is_single_line("Jane Doe, 1 Main St — Zoë 東京"));
        assert!(is_single_line(""));
        for bad in ["a\u{0}b", "line\nbreak", "tab\there", "cr\r", "\u{1b}[31m", "del\u{7f}", "c1\u{85}", "\u{9f}"] {
            assert!(!is_single_line(bad), "{bad:?}");
        }
    }

    #[test]
    fn multi_line_text_allows_only_line_breaks_and_tabs() {
        assert!(is_multi_line("Line one\nLine two\r\n\tindented"));
        for bad in ["a\u{0}b", "\u{1b}[2J", "bell\u{7}", "del\u{7f}", "c1\u{85}"] {
            assert!(!is_multi_line(bad), "{bad:?}");
        }
    }
}
