//! One constructed stylesheet, adopted by every shadow root.
//!
//! Constructed stylesheets are not inline styles, so they work under a publisher's strict
//! CSP (`style-src` without `'unsafe-inline'`), never touch the page's `<head>`, and are
//! parsed once however many buttons the page has. Each component's CSS sits beside it.
//!
//! The button module adopts only the button's rules; the checkout module adds the sheets'
//! rules beside them when it mounts a sheet (it does not carry the button's rules again).

use web_sys::CssStyleSheet;

/// What the button module needs: the design tokens its rules use, the host's root, the
/// stand-in sheet and the button, with comments and spare whitespace stripped at build time
/// (`build.rs`, `core/src/css.rs`).
pub(crate) const BUTTON_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/button.min.css"));

/// What the checkout module adds: the tokens only the sheets use, and the sheets' rules
/// (stripped the same way), which come after [`BUTTON_CSS`] and use its tokens too.
#[cfg(any(feature = "checkout", test))]
pub(crate) const SHEETS_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/sheets.min.css"));

/// All widget CSS: the design tokens first, then each component's rules; [`CSS_FILES`]
/// lists the sources.
#[cfg(test)]
pub(crate) const WIDGET_CSS: &str = include_str!(concat!(env!("OUT_DIR"), "/widget.min.css"));

fn sheet(css: &str) -> Option<CssStyleSheet> {
    CssStyleSheet::new().ok().filter(|sheet| sheet.replace_sync(css).is_ok())
}

crate::shared::local::page_local! {
    // Each kept in a one-element array: the setter copies it, so one array serves every root.
    static BUTTON_SHEET: Option<js_sys::Array> = sheet(BUTTON_CSS).map(|s| js_sys::Array::of1(&s));
}

#[cfg(feature = "checkout")]
thread_local! {
    static SHEETS_SHEET: Option<CssStyleSheet> = sheet(SHEETS_CSS);
}

/// The button's stylesheet in an array, as a shadow root adopts it (empty where the
/// browser cannot construct stylesheets).
pub(crate) fn button_sheets() -> js_sys::Array {
    BUTTON_SHEET.with(|sheets| sheets.clone().unwrap_or_default())
}

#[cfg(feature = "checkout")]
/// Parses the sheets' stylesheet now, while the visitor is only pointing at a button, so the
/// first sheet does not wait for it.
pub fn warm() {
    SHEETS_SHEET.with(|_| ());
}

#[cfg(feature = "checkout")]
/// Adds the sheets' stylesheet after the button's, which the button module adopted in this
/// root; once.
pub(crate) fn adopt(root: &web_sys::ShadowRoot) {
    SHEETS_SHEET.with(|sheet| {
        let Some(sheet) = sheet else { return };
        let adopted = js_sys::Array::from(&root.adopted_style_sheets());
        if !adopted.includes(sheet, 0) {
            adopted.push(sheet);
            root.set_adopted_style_sheets(&adopted);
        }
    });
}

/// Every CSS file of the widget, by name, for the token audit.
#[cfg(test)]
const CSS_FILES: &[(&str, &str)] = &[
    ("style/tokens.css", include_str!("../../style/tokens.css")),
    ("style/sheet.css", include_str!("../../style/sheet.css")),
    ("src/button/mount.css", include_str!("../button/mount.css")),
    ("src/button/buy_button.css", include_str!("../button/buy_button.css")),
    ("style/checkout-tokens.css", include_str!("../../style/checkout-tokens.css")),
    ("src/checkout/sheet/sheet.css", include_str!("../checkout/sheet/sheet.css")),
    ("src/checkout/product/product.css", include_str!("../checkout/product/product.css")),
    ("src/checkout/details/details.css", include_str!("../checkout/details/details.css")),
    ("src/checkout/discount/discount.css", include_str!("../checkout/discount/discount.css")),
    ("src/checkout/waitlist/waitlist.css", include_str!("../checkout/waitlist/waitlist.css")),
    ("src/checkout/confirmation/confirmation.css", include_str!("../checkout/confirmation/confirmation.css")),
    ("src/checkout/saved/saved.css", include_str!("../checkout/saved/saved.css")),
];

/// Raw visual values in one CSS file outside token definitions (`--tb-…: …` lines) and
/// media conditions (where `var()` cannot go): colour literals, lengths and durations other
/// than `0`/`100%`/`100vw`/`100vh`, and weights, line heights, opacity, filters or font
/// families that are not a token. Each finding is `file:line: text`.
#[cfg(test)]
fn raw_values(file: &str, css: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut in_comment = false;
    for (n, line) in css.lines().enumerate() {
        // Drop comments (they may span lines).
        let mut code = String::new();
        let mut rest = line;
        loop {
            if in_comment {
                match rest.find("*/") {
                    Some(i) => {
                        in_comment = false;
                        rest = &rest[i + 2..];
                    }
                    None => break,
                }
            } else {
                match rest.find("/*") {
                    Some(i) => {
                        code.push_str(&rest[..i]);
                        in_comment = true;
                        rest = &rest[i + 2..];
                    }
                    None => {
                        code.push_str(rest);
                        break;
                    }
                }
            }
        }
        let code = code.trim();
        if code.starts_with("--tb-") || code.starts_with("@media") {
            continue;
        }
        let lower = code.to_ascii_lowercase();
        let colour = ["#", "rgb(", "rgba(", "hsl(", "hsla(", "oklch(", "white", "black"].iter().any(|p| {
            lower.match_indices(p).any(|(i, _)| {
                // `#` also starts no selector in our files except ids we never use; a hex
                // digit after it is a colour.
                *p != "#" || lower[i + 1..].starts_with(|c: char| c.is_ascii_hexdigit())
            })
        });
        let length = lower
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '%'))
            .filter(|w| w.starts_with(|c: char| c.is_ascii_digit() || c == '.'))
            .filter(|w| w.chars().any(|c| c.is_ascii_digit() && c != '0'))
            // Unitless multipliers inside calc() are fine; weights, line heights and
            // opacity are caught below by property.
            .filter(|w| w.ends_with(|c: char| c.is_ascii_alphabetic() || c == '%'))
            .any(|w| !matches!(w, "100%" | "100vw" | "100vh"));
        let bare = ["font-weight:", "line-height:", "opacity:", "filter:", "font-family:"]
            .iter()
            .any(|p| lower.contains(p) && !lower[lower.find(p).unwrap_or(0)..].contains("var(--tb-"));
        if colour || length || bare {
            found.push(format!("{file}:{}: {code}", n + 1));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_visual_value_is_a_token() {
        let found: Vec<String> = CSS_FILES.iter().flat_map(|(file, css)| raw_values(file, css)).collect();
        assert!(found.is_empty(), "raw values outside style/tokens.css definitions:\n{}", found.join("\n"));
        let all: String = CSS_FILES.iter().map(|(_, css)| tweetbuy_core::css::minify(css)).collect();
        assert_eq!(all, WIDGET_CSS, "CSS_FILES lists every file of WIDGET_CSS, in order");
        assert_eq!(format!("{BUTTON_CSS}{SHEETS_CSS}"), WIDGET_CSS, "the button's rules, then the sheets'");
    }

    /// The tokens a stylesheet defines (`--tb-name:`) and those it reads (`var(--tb-name`),
    /// without a fallback of its own.
    fn tokens(css: &str) -> (Vec<&str>, Vec<&str>) {
        // The token's name where `at` starts it: `--tb-` and what follows of `[a-z0-9-]`.
        let name_at = |at: usize| {
            let rest = &css[at..];
            &rest[..rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(rest.len())]
        };
        let defined = css
            .match_indices("--tb-")
            .map(|(at, _)| name_at(at))
            .filter(|name| css.contains(&format!("{name}:")))
            .collect();
        let read = css
            .match_indices("var(--tb-")
            .map(|(at, _)| &css[at..])
            // A read with its own fallback (`var(--tb-float-gap, 0px)`) needs no definition.
            .filter(|read| !read[..read.find(')').unwrap_or(read.len())].contains(','))
            .map(|read| name_at(css.len() - read.len() + "var(".len()))
            .collect();
        (defined, read)
    }

    #[test]
    fn the_buttons_stylesheet_defines_every_token_its_rules_read_and_the_sheets_only_theirs() {
        // Until a visitor is about to buy, the buttons' stylesheet is the only one: a token it
        // reads but only the sheets' stylesheet defined would be unset on every page view.
        let (defined, read) = tokens(BUTTON_CSS);
        let missing: Vec<&&str> = read.iter().filter(|n| !defined.contains(n)).collect();
        assert!(missing.is_empty(), "the buttons' rules read tokens they do not define: {missing:?}");
        let (sheets_defined, _) = tokens(SHEETS_CSS);
        let (_, all_read) = tokens(WIDGET_CSS);
        for name in &sheets_defined {
            assert!(!defined.contains(name), "{name} is defined twice");
            assert!(!read.contains(name), "the buttons' rules read {name}, which only the sheets define");
            assert!(all_read.contains(name), "{name} is defined and read nowhere");
        }
        let unused: Vec<&&str> = defined.iter().filter(|n| !read.contains(n)).collect();
        assert!(
            unused.iter().all(|n| all_read.contains(n)),
            "every token the buttons' stylesheet defines is read somewhere: {unused:?}"
        );
        let (every_defined, _) = tokens(WIDGET_CSS);
        let undefined: Vec<&&str> = all_read.iter().filter(|n| !every_defined.contains(n)).collect();
        assert!(undefined.is_empty(), "read but never defined: {undefined:?}");
    }

    /// Every `--tweetbuy-` name in `text` that follows `before` (`var(` in a stylesheet, a
    /// table row's "| `" in the guide), each once, sorted.
    fn public_names(text: &str, before: &str) -> Vec<String> {
        let mut names: Vec<String> = text
            .match_indices(&format!("{before}--tweetbuy-"))
            .map(|(at, _)| {
                let rest = &text[at + before.len()..];
                rest[..rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-')).unwrap_or(rest.len())].to_owned()
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    #[test]
    fn the_designers_guide_lists_every_token_a_page_can_set_and_no_other() {
        // A token in the guide that no rule reads would be a promise the widget ignores.
        let guide = include_str!("../../docs/theming.md");
        assert_eq!(public_names(guide, "| `"), public_names(WIDGET_CSS, "var("), "docs/theming.md's tables");
    }

    #[test]
    fn the_audit_finds_raw_values() {
        let css = ".a { color: #fff; }\n.b { padding: 12px; }\n.c { font-weight: 600; }\n\
                   .d { margin: calc(var(--tb-space) * 2); }\n--tb-x: 4px;\n@media (max-width: 600px) {}\n\
                   .e { background: rgb(0 0 0); }\n/* 12px in a comment */\n.f { transition: opacity 200ms; }";
        let found = raw_values("x.css", css);
        assert_eq!(found.len(), 5, "{found:?}");
        assert!(found[0].starts_with("x.css:1:") && found[1].starts_with("x.css:2:"));
        assert!(found[4].contains("200ms"));
    }
}
