//! The one rule for free text a client sends: which characters are refused.
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

/// Whether `value` is acceptable multi-line text: control characters other than `\n`, `\r`
/// and `\t` are refused.
pub fn is_multi_line(value: &str) -> bool {
    !value.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

#[cfg(test)]
mod tests {
    use super::*;

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
