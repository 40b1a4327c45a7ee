//! Themes for designers: light, dark or auto, the button style, the label override, and a
//! readable text colour on the accent.
//!
//! The decisions are plain functions with native tests; [`look`] reads them for an embed
//! and [`mark`] writes them onto the view's root (`data-theme`, `data-button-style`) so
//! `style/tokens.css` can switch token sets; the theme is mirrored onto the host
//! (`data-tweetbuy-theme`) so a publisher can target one theme from outside.
//! docs/theming.md is the designer's guide.

use crate::prelude::*;

/// A resolved theme: what the view's root is marked with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    Light,
    Dark,
}

impl Theme {
    /// The attribute value (`light` or `dark`).
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }
}

/// `light` or `dark` (any case, trimmed); anything else, `auto` included, is no decision.
fn explicit(value: Option<&str>) -> Option<Theme> {
    match value?.trim().to_ascii_lowercase().as_str() {
        "light" => Some(Theme::Light),
        "dark" => Some(Theme::Dark),
        _ => None,
    }
}

/// Light, dark or auto: the embed's `data-theme` first, then the script's `data-theme`,
/// then the visitor's `prefers-color-scheme`.
pub fn resolve(embed: Option<&str>, script: Option<&str>, prefers_dark: bool) -> Theme {
    explicit(embed).or_else(|| explicit(script)).unwrap_or(if prefers_dark { Theme::Dark } else { Theme::Light })
}

/// The button's look: `filled` (the default), `outline` or `compact`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ButtonStyle {
    #[default]
    Filled,
    Outline,
    Compact,
}

impl ButtonStyle {
    /// The attribute value.
    pub fn as_str(self) -> &'static str {
        match self {
            ButtonStyle::Filled => "filled",
            ButtonStyle::Outline => "outline",
            ButtonStyle::Compact => "compact",
        }
    }

    fn parse(value: Option<&str>) -> Option<ButtonStyle> {
        match value?.trim().to_ascii_lowercase().as_str() {
            "filled" => Some(ButtonStyle::Filled),
            "outline" => Some(ButtonStyle::Outline),
            "compact" => Some(ButtonStyle::Compact),
            _ => None,
        }
    }

    /// The embed's `data-button-style`, then the script's, then filled.
    pub fn resolve(embed: Option<&str>, script: Option<&str>) -> ButtonStyle {
        Self::parse(embed).or_else(|| Self::parse(script)).unwrap_or_default()
    }
}

/// Longest label override kept (characters).
pub const MAX_LABEL: usize = 40;

/// The publisher's label override (`data-label` on the embed, then on the script): trimmed,
/// control characters dropped, at most [`MAX_LABEL`] characters; empty means none.
pub fn label_override(embed: Option<&str>, script: Option<&str>) -> Option<String> {
    let clean = |v: &str| -> Option<String> {
        let s: String =
            v.chars().filter(|c| !c.is_control()).collect::<String>().trim().chars().take(MAX_LABEL).collect();
        (!s.is_empty()).then_some(s)
    };
    embed.and_then(clean).or_else(|| script.and_then(clean))
}

/// An sRGB colour, 0–255 per channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// Parses what `getComputedStyle` answers for a colour: `rgb(r, g, b)`, `rgba(r, g, b, a)`
/// or the space-separated `rgb(r g b / a)`. Alpha is ignored.
pub fn parse_computed_rgb(value: &str) -> Option<Rgb> {
    let value = value.trim();
    let inner = value.strip_prefix("rgba(").or_else(|| value.strip_prefix("rgb("))?.strip_suffix(')')?;
    let colour = inner.split('/').next()?;
    let mut parts =
        colour.split([',', ' ']).filter(|p| !p.is_empty()).map(|p| crate::shared::util::parse_number(p.trim()));
    let mut channel = || -> Option<u8> { Some(crate::shared::util::round(parts.next()??).clamp(0.0, 255.0) as u8) };
    Some(Rgb(channel()?, channel()?, channel()?))
}

/// WCAG 2.x relative luminance.
pub fn luminance(c: Rgb) -> f64 {
    let lin = |v: u8| {
        let s = f64::from(v) / 255.0;
        if s <= 0.04045 {
            s / 12.92
        } else {
            crate::shared::util::pow((s + 0.055) / 1.055, 2.4)
        }
    };
    0.2126 * lin(c.0) + 0.7152 * lin(c.1) + 0.0722 * lin(c.2)
}

/// WCAG 2.x contrast ratio, 1 to 21.
pub fn contrast(a: Rgb, b: Rgb) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

/// AA for normal text.
pub const AA: f64 = 4.5;

/// The text colours the widget may fall back to (`--tb-on-accent-dark` and `-light` in
/// style/tokens.css). Black and white: for every accent one of them reaches at least
/// 4.58:1, so the fallback always passes AA.
pub const ON_ACCENT_DARK: Rgb = Rgb(0, 0, 0);
pub const ON_ACCENT_LIGHT: Rgb = Rgb(0xff, 0xff, 0xff);

/// Which fallback text colour a failing pair gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccentText {
    Dark,
    Light,
}

impl AccentText {
    /// The `data-accent-text` value.
    pub fn as_str(self) -> &'static str {
        match self {
            AccentText::Dark => "dark",
            AccentText::Light => "light",
        }
    }
}

/// `None` when the designer's text colour reads at AA on the accent; otherwise whichever
/// fallback (black or white) contrasts more with the accent.
pub fn readable_text(accent: Rgb, text: Rgb) -> Option<AccentText> {
    if contrast(accent, text) >= AA {
        return None;
    }
    if contrast(accent, ON_ACCENT_DARK) >= contrast(accent, ON_ACCENT_LIGHT) {
        Some(AccentText::Dark)
    } else {
        Some(AccentText::Light)
    }
}

fn prefers_dark() -> bool {
    crate::shared::local::page_local! {
        // Asked once per page: `matches` follows the system's setting as it changes.
        static QUERY: Option<web_sys::MediaQueryList> =
            crate::shared::util::window().match_media("(prefers-color-scheme: dark)").ok().flatten();
    }
    QUERY.with(|q| q.as_ref().is_some_and(|m| m.matches()))
}

/// What [`look`] decided for one widget: its theme, its button style and the publisher's
/// label, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Look {
    pub theme: Theme,
    pub style: ButtonStyle,
    pub label: Option<String>,
}

/// The loader script's defaults, read once for a batch of new buttons instead of once for
/// each of them.
pub struct Defaults {
    theme: String,
    style: Option<String>,
    label: Option<String>,
    dark: bool,
}

impl Defaults {
    /// The script's `data-theme` (as read into `WidgetCtx::theme`), `data-button-style` and
    /// `data-label`.
    pub fn read(theme: &str, style: Option<String>, label: Option<String>) -> Defaults {
        Defaults { theme: theme.to_owned(), style, label, dark: prefers_dark() }
    }
}

/// What one embed's widget looks like, from the embed's `data-theme`, `data-button-style`
/// and `data-label`, each falling back to the script's ([`Defaults`]).
pub fn look(theme: Option<&str>, style: Option<&str>, label: Option<&str>, defaults: &Defaults) -> Look {
    Look {
        theme: resolve(theme, Some(&defaults.theme), defaults.dark),
        style: ButtonStyle::resolve(style, defaults.style.as_deref()),
        label: label_override(label, defaults.label.as_deref()),
    }
}

/// Marks a widget's view root with its theme and button style, for `style/tokens.css` and
/// the button's rules. The host gets the theme too (`data-tweetbuy-theme`, by the caller),
/// for a publisher's CSS.
pub fn mark(root: &web_sys::Element, look: &Look) {
    let _ = root.set_attribute("data-theme", look.theme.as_str());
    let _ = root.set_attribute("data-button-style", look.style.as_str());
}

/// The widget root around an element inside the shadow root.
pub fn root_of(inside: &web_sys::Element) -> Option<web_sys::Element> {
    inside.closest(".tb-root").ok().flatten()
}

/// On a view root whose accent colours fail AA: the text colour `style/tokens.css` swaps in.
pub const ACCENT_ATTR: &str = "data-accent-text";

/// Checks the button's computed accent and text colours and, when they fail AA, marks the
/// root so tokens.css swaps in a readable text colour (the sheets' primary buttons follow).
pub fn fix_accent_text(button: &web_sys::Element) {
    let Some(root) = root_of(button) else { return };
    match measure(button, &root) {
        Some(fix) => {
            let _ = root.set_attribute(ACCENT_ATTR, fix.as_str());
        }
        None => {
            let _ = root.remove_attribute(ACCENT_ATTR);
        }
    }
}

/// [`fix_accent_text`] for a batch of new buttons. Buttons of one theme and button style
/// share the page's tokens, so the first of each kind is checked and its verdict goes to
/// the rest. Asking the browser for a button's colours makes it compute styles, so the
/// check waits for the batch's first alignment (`crate::button::placement`), which runs
/// after the browser's own layout: the styles are computed by then, once for the whole
/// batch rather than once per kind. The views stay hidden until that alignment, so no
/// button shows before its fix. A designer who gives one host tokens of its own is still
/// served: every click checks that button again.
#[derive(Default)]
pub struct AccentKinds {
    /// Each kind in the batch, and the index of its first button.
    kinds: Vec<((Theme, ButtonStyle), u32)>,
    /// Each button's kind, as an index into `kinds` (there are six kinds at most).
    of: Vec<u8>,
}

impl AccentKinds {
    /// Adds the batch's next button, of `look`.
    pub fn push(&mut self, look: &Look) {
        let kind = (look.theme, look.style);
        let at = match self.kinds.iter().position(|(k, _)| *k == kind) {
            Some(at) => at,
            None => {
                self.kinds.push((kind, self.of.len() as u32));
                self.kinds.len() - 1
            }
        };
        self.of.push(at as u8);
    }

    /// Checks the first button of each kind, and marks the root of every button of a kind
    /// whose colours fail AA. `buttons` are the batch's, in the order they were added.
    pub fn check(&self, buttons: &js_sys::Array) {
        use wasm_bindgen::JsCast;
        let root = |i: u32| root_of(&buttons.get(i).unchecked_into());
        for (kind, (_, first)) in self.kinds.iter().enumerate() {
            let button = buttons.get(*first).unchecked_into();
            let Some(fix) = root(*first).and_then(|r| measure(&button, &r)) else { continue };
            for (i, of) in (0u32..).zip(&self.of) {
                if usize::from(*of) == kind {
                    if let Some(r) = root(i) {
                        let _ = r.set_attribute(ACCENT_ATTR, fix.as_str());
                    }
                }
            }
        }
    }
}

/// The fix one button's computed colours need, if any.
fn measure(button: &web_sys::Element, root: &web_sys::Element) -> Option<AccentText> {
    // Measure the designer's pair, not a previous fix.
    let _ = root.remove_attribute(ACCENT_ATTR);
    let style = crate::shared::util::window().get_computed_style(button).ok().flatten()?;
    let colour = |name: &str| style.get_property_value(name).ok().as_deref().and_then(parse_computed_rgb);
    // The accent and its text as the button's rules give them in two properties that draw
    // nothing (buy_button.css): an outline button draws neither, and the sheets' main
    // buttons draw both, in every style.
    readable_text(colour("column-rule-color")?, colour("text-emphasis-color")?)
}

#[cfg(feature = "checkout")]
/// The theme's values for the card frame, read from the computed custom properties of an
/// element inside the widget (the iframe). Only the frame's listed tokens; the frame and
/// [`tweetbuy_core::theme`] validate them again.
pub fn frame_theme(inside: &web_sys::Element) -> Option<tweetbuy_core::theme::FrameTheme> {
    let style = crate::shared::util::window().get_computed_style(inside).ok()??;
    let get = |name: &str| style.get_property_value(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let scheme = root_of(inside).and_then(|r| r.get_attribute("data-theme"));
    let theme = tweetbuy_core::theme::FrameTheme {
        color_scheme: scheme,
        text: get("--tb-text"),
        surface: get("--tb-surface"),
        border: get("--tb-border"),
        danger: get("--tb-danger"),
        focus: get("--tb-focus"),
        radius_small: get("--tb-radius-small"),
        space: get("--tb-space"),
        stroke: get("--tb-stroke"),
        focus_ring: get("--tb-focus-ring"),
        font: get("--tb-font"),
        font_size: get("--tb-font-size"),
        font_size_small: get("--tb-font-size-small"),
        font_weight: get("--tb-font-weight"),
        target: get("--tb-target"),
        accent: get("--tb-accent"),
        accent_text: get("--tb-accent-text"),
        radius: get("--tb-radius"),
        control: get("--tb-control"),
    };
    Some(theme.validated())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embed_then_script_then_system() {
        assert_eq!(resolve(Some("dark"), Some("light"), false), Theme::Dark, "the embed wins");
        assert_eq!(resolve(Some("light"), Some("dark"), true), Theme::Light);
        assert_eq!(resolve(None, Some("dark"), false), Theme::Dark, "then the script");
        assert_eq!(resolve(Some("auto"), Some(" Dark "), false), Theme::Dark, "auto defers");
        assert_eq!(resolve(Some("auto"), Some("auto"), true), Theme::Dark, "then the system");
        assert_eq!(resolve(None, None, false), Theme::Light);
        assert_eq!(resolve(Some("purple"), None, false), Theme::Light, "unknown values are no decision");
    }

    #[test]
    fn button_style_and_label_override() {
        assert_eq!(ButtonStyle::resolve(None, None), ButtonStyle::Filled);
        assert_eq!(ButtonStyle::resolve(Some("outline"), Some("compact")), ButtonStyle::Outline);
        assert_eq!(ButtonStyle::resolve(Some("huge"), Some("COMPACT")), ButtonStyle::Compact);
        assert_eq!(label_override(Some("  Shop the look "), Some("x")).as_deref(), Some("Shop the look"));
        assert_eq!(label_override(Some("  "), Some("Get it")).as_deref(), Some("Get it"));
        assert_eq!(label_override(None, None), None);
        assert_eq!(label_override(Some("a\u{0}b\nc"), None).as_deref(), Some("abc"));
        assert_eq!(label_override(Some(&"x".repeat(100)), None).unwrap().len(), MAX_LABEL);
    }

    #[test]
    fn a_batch_checks_the_first_button_of_each_theme_and_style() {
        let look = |theme, style| Look { theme, style, label: None };
        let mut kinds = AccentKinds::default();
        for (theme, style) in [
            (Theme::Light, ButtonStyle::Filled),
            (Theme::Light, ButtonStyle::Filled),
            (Theme::Dark, ButtonStyle::Filled),
            (Theme::Light, ButtonStyle::Compact),
            (Theme::Dark, ButtonStyle::Filled),
        ] {
            kinds.push(&look(theme, style));
        }
        let firsts: Vec<u32> = kinds.kinds.iter().map(|(_, first)| *first).collect();
        assert_eq!(firsts, [0, 2, 3], "one check per kind, on its first button");
        assert_eq!(kinds.of, [0, 0, 1, 2, 1], "every button takes its kind's verdict");
        // A label is the button's own: it does not make another kind.
        let mut labelled = AccentKinds::default();
        labelled.push(&Look { label: Some("Get it".into()), ..look(Theme::Light, ButtonStyle::Filled) });
        labelled.push(&look(Theme::Light, ButtonStyle::Filled));
        assert_eq!(labelled.kinds.len(), 1);
    }

    #[test]
    fn wcag_contrast_math() {
        let white = Rgb(255, 255, 255);
        let black = Rgb(0, 0, 0);
        assert!((contrast(white, black) - 21.0).abs() < 1e-9);
        assert!((contrast(white, white) - 1.0).abs() < 1e-9);
        // Known pairs: #1d4ed8 on white is 6.7:1; #777 on white is 4.48:1 (just fails AA).
        assert!((contrast(Rgb(0x1d, 0x4e, 0xd8), white) - 6.70).abs() < 0.01);
        assert!((contrast(Rgb(0x77, 0x77, 0x77), white) - 4.48).abs() < 0.01);
        assert!((luminance(white) - 1.0).abs() < 1e-9 && luminance(black) == 0.0);
    }

    #[test]
    fn failing_pairs_get_a_readable_text_colour() {
        let white = Rgb(255, 255, 255);
        assert_eq!(readable_text(Rgb(0x1d, 0x4e, 0xd8), white), None, "the default passes");
        // A designer's yellow with white text fails; near-black reads.
        assert_eq!(readable_text(Rgb(0xfa, 0xcc, 0x15), white), Some(AccentText::Dark));
        // A dark accent with dark text fails; white reads.
        assert_eq!(readable_text(Rgb(0x33, 0x00, 0x66), Rgb(0x22, 0x22, 0x22)), Some(AccentText::Light));
        // Every grey, the hardest case included (#767676–#777777), reaches AA after the fix.
        let greys = (0..=255).map(|v| Rgb(v, v, v));
        for accent in greys.chain([Rgb(0x00, 0xa0, 0x00), Rgb(0xe1, 0x1d, 0x48), Rgb(0xfa, 0xcc, 0x15)]) {
            let fixed = match readable_text(accent, accent) {
                Some(AccentText::Dark) => ON_ACCENT_DARK,
                Some(AccentText::Light) => ON_ACCENT_LIGHT,
                None => panic!("same colour cannot pass"),
            };
            assert!(contrast(accent, fixed) >= AA, "{accent:?}");
        }
    }

    #[test]
    fn reads_computed_colours() {
        assert_eq!(parse_computed_rgb("rgb(29, 78, 216)"), Some(Rgb(29, 78, 216)));
        assert_eq!(parse_computed_rgb("rgba(0, 0, 0, 0.5)"), Some(Rgb(0, 0, 0)));
        assert_eq!(parse_computed_rgb("rgb(255 255 255 / 0.4)"), Some(Rgb(255, 255, 255)));
        assert_eq!(parse_computed_rgb("color(srgb 1 0 0)"), None);
        assert_eq!(parse_computed_rgb("rgb(1, 2)"), None);
    }
}
