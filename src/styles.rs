//! One constructed stylesheet, adopted by every shadow root.
//!
//! Constructed stylesheets are not inline styles, so they work under a publisher's strict
//! CSP (`style-src` without `'unsafe-inline'`), never touch the page's `<head>`, and are
//! parsed once however many buttons the page has. Each component's CSS sits beside it.

use web_sys::{CssStyleSheet, ShadowRoot};

/// All widget CSS: the design tokens first, then each component's rules.
pub const WIDGET_CSS: &str = concat!(
    include_str!("../style/tokens.css"),
    include_str!("mount.css"),
    include_str!("button.css"),
    include_str!("sheet.css"),
    include_str!("product_sheet.css"),
    include_str!("checkout.css"),
    include_str!("confirmation.css"),
);

thread_local! {
    static SHEET: Option<CssStyleSheet> = CssStyleSheet::new()
        .ok()
        .filter(|sheet| sheet.replace_sync(WIDGET_CSS).is_ok());
}

/// Gives a shadow root the widget's stylesheet.
pub fn adopt(root: &ShadowRoot) {
    SHEET.with(|sheet| {
        if let Some(sheet) = sheet {
            root.set_adopted_style_sheets(&js_sys::Array::of1(sheet));
        }
    });
}
