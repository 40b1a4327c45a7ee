//! The theme the widget sends to the card frame ([`crate::frame::ToFrame::Theme`]), so the
//! frame on the vault origin looks like the sheet around it.
//!
//! Only the listed properties travel, each checked against a narrow grammar: colours
//! (`#hex`, a named colour, or `rgb()`/`hsl()`/`oklch()`… with plain numeric arguments),
//! lengths (a number and a unit), a font family list from a safe character set, a font
//! weight. Nothing that could close a declaration or load a resource (`;`, `}`, `url(`,
//! `var(`, backslashes, `@`, `<`) passes. The frame checks again before `setProperty`.

use crate::prelude::*;
use serde::{Deserialize, Serialize};

/// Longest value accepted for any property.
pub const MAX_VALUE: usize = 200;

/// The frame's themeable properties. Each is the name of a `--tb-*` custom property in the
/// frame's CSS (`radius_small` → `--tb-radius-small`), or `color-scheme`; `target`, the
/// page's smallest touch target, sets the frame's `--tb-button-height`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FrameTheme {
    /// `light` or `dark`.
    pub color_scheme: Option<String>,
    /// Colour of the frame's text.
    pub text: Option<String>,
    /// Colour of the frame's background and of its inputs.
    pub surface: Option<String>,
    /// Colour of the inputs' borders and of the secondary buttons' outline.
    pub border: Option<String>,
    /// Colour of error messages and of an invalid input's border.
    pub danger: Option<String>,
    /// Colour of the focus ring.
    pub focus: Option<String>,
    /// Corner radius of the inputs (a length).
    pub radius_small: Option<String>,
    /// Gap between fields and rows, and the inputs' side padding (a length).
    pub space: Option<String>,
    /// Width of the inputs' and secondary buttons' borders (a length).
    pub stroke: Option<String>,
    /// Width of the focus ring, which the frame also keeps free around its content (a length).
    pub focus_ring: Option<String>,
    /// The font family list for all of the frame's text.
    pub font: Option<String>,
    /// Font size of the inputs, buttons and body text (a length).
    pub font_size: Option<String>,
    /// Font size of labels, errors and the order summary (a length).
    pub font_size_small: Option<String>,
    /// Weight of labels and buttons: `normal`, `bold` or 1 to 1000.
    pub font_weight: Option<String>,
    /// Least height of inputs and buttons, the touch target (a length): the widget's
    /// `--tb-target`, which the frame sets as `--tb-button-height`.
    pub target: Option<String>,
    /// Colour of the Pay button (and of the consent checkbox).
    pub accent: Option<String>,
    /// Colour of the Pay button's text, to read on `accent`.
    pub accent_text: Option<String>,
    /// Corner radius of the buttons (a length).
    pub radius: Option<String>,
    /// Width and height of the consent checkbox (a length), as the sheet's radios and
    /// checkboxes.
    pub control: Option<String>,
}

/// What kind of value a property holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `light` or `dark`.
    Scheme,
    /// A colour, as [`valid_colour`] accepts.
    Colour,
    /// A length, as [`valid_length`] accepts.
    Length,
    /// A font family list, as [`valid_font`] accepts.
    Font,
    /// A font weight, as [`valid_weight`] accepts.
    Weight,
}

/// Every property with its kind, in the order of [`FrameTheme`]'s fields.
pub const PROPERTIES: &[(&str, Kind)] = &[
    ("color_scheme", Kind::Scheme),
    ("text", Kind::Colour),
    ("surface", Kind::Colour),
    ("border", Kind::Colour),
    ("danger", Kind::Colour),
    ("focus", Kind::Colour),
    ("radius_small", Kind::Length),
    ("space", Kind::Length),
    ("stroke", Kind::Length),
    ("focus_ring", Kind::Length),
    ("font", Kind::Font),
    ("font_size", Kind::Length),
    ("font_size_small", Kind::Length),
    ("font_weight", Kind::Weight),
    ("target", Kind::Length),
    ("accent", Kind::Colour),
    ("accent_text", Kind::Colour),
    ("radius", Kind::Length),
    ("control", Kind::Length),
];

/// Digits, then optionally a `.` and more digits (at least one when
/// `digits_after_dot_required`), or a `.` and digits. Never a sign.
fn unsigned_number(s: &str, digits_after_dot_required: bool) -> bool {
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    match s.split_once('.') {
        None => !s.is_empty() && digits(s),
        Some(("", frac)) => !frac.is_empty() && digits(frac),
        Some((int, frac)) => digits(int) && digits(frac) && !(digits_after_dot_required && frac.is_empty()),
    }
}

/// A colour: `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, a named colour (up to 30 letters), or
/// one of the colour functions whose arguments, split on spaces, commas and `/`, are each
/// `none` or a number (optionally negative) with at most one `%` or `deg`. Exact: no
/// surrounding spaces.
pub fn valid_colour(v: &str) -> bool {
    if v.is_empty() || v.len() > MAX_VALUE {
        return false;
    }
    if let Some(hex) = v.strip_prefix('#') {
        return matches!(hex.len(), 3 | 4 | 6 | 8) && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    if v.bytes().all(|b| b.is_ascii_alphabetic()) {
        return v.len() <= 30;
    }
    const FUNCTIONS: &[&str] = &["rgb", "rgba", "hsl", "hsla", "hwb", "lab", "lch", "oklab", "oklch"];
    let Some((name, rest)) = v.split_once('(') else { return false };
    let Some(args) = rest.strip_suffix(')') else { return false };
    FUNCTIONS.contains(&name.to_ascii_lowercase().as_str())
        && args.split([' ', ',', '/']).filter(|w| !w.is_empty()).all(|word| {
            let number = ["%", "deg"].into_iter().find_map(|u| word.strip_suffix(u)).unwrap_or(word);
            word.eq_ignore_ascii_case("none") || unsigned_number(number.strip_prefix('-').unwrap_or(number), false)
        })
}

/// A length: `0`, or a non-negative number of at most 10 characters (`8`, `1.5`, `.5`; not
/// `1.`) followed by `px`, `rem`, `em`, `%`, `vh` or `vw`. Exact: no surrounding spaces.
pub fn valid_length(v: &str) -> bool {
    if v == "0" {
        return true;
    }
    // Stripped, not sliced: slicing a `str` links the panic that formats a char, some 1.5 KB
    // of the checkout module.
    let Some(number) = ["px", "rem", "em", "%", "vh", "vw"].into_iter().find_map(|u| v.strip_suffix(u)) else {
        return false;
    };
    number.len() <= 10 && unsigned_number(number, true)
}

/// A font family list: letters, digits, spaces, commas, hyphens, underscores and quotes,
/// with balanced quotes.
pub fn valid_font(v: &str) -> bool {
    !v.is_empty()
        && v.len() <= MAX_VALUE
        && v.bytes().all(|b| b.is_ascii_alphanumeric() || b" ,-_\"'".contains(&b))
        && v.bytes().filter(|b| *b == b'"').count() % 2 == 0
        && v.bytes().filter(|b| *b == b'\'').count() % 2 == 0
}

/// A font weight: `normal`, `bold`, or 1 to 1000 written without a sign or leading zero.
pub fn valid_weight(v: &str) -> bool {
    v == "normal"
        || v == "bold"
        || (!v.starts_with('0')
            && v.len() <= 4
            && v.bytes().all(|b| b.is_ascii_digit())
            && v.parse::<u16>().is_ok_and(|w| (1..=1000).contains(&w)))
}

/// Whether `value` is acceptable for a property of `kind`.
pub fn valid(kind: Kind, value: &str) -> bool {
    match kind {
        Kind::Scheme => matches!(value, "light" | "dark"),
        Kind::Colour => valid_colour(value),
        Kind::Length => valid_length(value),
        Kind::Font => valid_font(value),
        Kind::Weight => valid_weight(value),
    }
}

impl FrameTheme {
    fn fields_mut(&mut self) -> [&mut Option<String>; 19] {
        [
            &mut self.color_scheme,
            &mut self.text,
            &mut self.surface,
            &mut self.border,
            &mut self.danger,
            &mut self.focus,
            &mut self.radius_small,
            &mut self.space,
            &mut self.stroke,
            &mut self.focus_ring,
            &mut self.font,
            &mut self.font_size,
            &mut self.font_size_small,
            &mut self.font_weight,
            &mut self.target,
            &mut self.accent,
            &mut self.accent_text,
            &mut self.radius,
            &mut self.control,
        ]
    }

    /// The same theme with every value trimmed (computed styles may carry spaces), and every
    /// value that then fails its check dropped: the frame keeps its own default for it.
    pub fn validated(mut self) -> FrameTheme {
        for (field, (_, kind)) in self.fields_mut().into_iter().zip(PROPERTIES) {
            *field = field.take().map(|v| v.trim().to_owned()).filter(|v| valid(*kind, v));
        }
        self
    }

    /// True when every value present passes its check as it is, untrimmed.
    pub fn is_valid(&self) -> bool {
        self.clone().validated() == *self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours() {
        for ok in [
            "#fff",
            "#1d4ed8",
            "#1d4ed8cc",
            "rebeccapurple",
            "rgb(29, 78, 216)",
            "rgb(15 20 25 / 0.5)",
            "hsl(210deg 40% 20%)",
            "oklch(0.7 0.1 250)",
        ] {
            assert!(valid_colour(ok), "{ok}");
        }
        for bad in [
            "",
            "#12",
            "#ggg",
            "url(https://evil.test/x.png)",
            "red; background: url(x)",
            "red}body{",
            "var(--x)",
            "rgb(1,2,3);",
            "rgb(calc(1),2,3)",
            "expression(alert(1))",
            "image(red)",
            "red\\3b",
            "\"red\"",
            "rgb(1 2 3) url(x)",
        ] {
            assert!(!valid_colour(bad), "{bad}");
        }
    }

    #[test]
    fn lengths_fonts_weights() {
        for ok in ["0", "8px", "1.5rem", "12.5px", "100%", "2em"] {
            assert!(valid_length(ok), "{ok}");
        }
        for bad in ["", "px", "8", "-8px", "8px;", "8px}", "calc(8px)", "1.2.3px", "url(x)", "8 px", "var(--s)"] {
            assert!(!valid_length(bad), "{bad}");
        }
        assert!(valid_font(r#"system-ui, -apple-system, "Segoe UI", Roboto, sans-serif"#));
        assert!(valid_font("Georgia, serif"));
        for bad in ["x; color: red", "a}b", "url(x)", "\"unbalanced", "a\\62", "a/*c*/", "@import x", "<b>"] {
            assert!(!valid_font(bad), "{bad}");
        }
        assert!(valid_weight("600") && valid_weight("bold"));
        assert!(!valid_weight("0") && !valid_weight("1001") && !valid_weight("600;"));
    }

    #[test]
    fn validated_drops_only_what_fails() {
        let theme = FrameTheme {
            color_scheme: Some("dark".into()),
            text: Some(" #f7f9f9 ".into()),
            surface: Some("url(https://evil.test/)".into()),
            radius_small: Some("0".into()),
            font: Some("Georgia; } body { display:none".into()),
            font_weight: Some("700".into()),
            ..FrameTheme::default()
        };
        assert!(!theme.is_valid());
        let clean = theme.validated();
        assert_eq!(clean.text.as_deref(), Some("#f7f9f9"));
        assert_eq!(clean.surface, None);
        assert_eq!(clean.font, None);
        assert_eq!(clean.radius_small.as_deref(), Some("0"));
        assert_eq!(clean.color_scheme.as_deref(), Some("dark"));
        assert!(clean.is_valid());
        assert_eq!(PROPERTIES.len(), FrameTheme::default().fields_mut().len());
        let mut scheme = FrameTheme { color_scheme: Some("purple".into()), ..FrameTheme::default() };
        scheme = scheme.validated();
        assert_eq!(scheme.color_scheme, None);
    }
}
