//! Writes the widget's stylesheets in their small form (core/src/css.rs) for src/shared/styles.rs:
//! the button module's rules, the sheets' rules the checkout module adds, and the whole
//! widget's (the button's first) for the tests.

extern crate alloc;

#[path = "core/src/css.rs"]
mod css;

const BUTTON: &[&str] = &["style/tokens.css", "style/sheet.css", "src/button/mount.css", "src/button/buy_button.css"];
const SHEETS: &[&str] = &[
    "style/checkout-tokens.css",
    "src/checkout/sheet/sheet.css",
    "src/checkout/product/product.css",
    "src/checkout/details/details.css",
    "src/checkout/discount/discount.css",
    "src/checkout/waitlist/waitlist.css",
    "src/checkout/confirmation/confirmation.css",
    "src/checkout/saved/saved.css",
];

fn minified(files: &[&str]) -> String {
    files
        .iter()
        .map(|file| {
            println!("cargo:rerun-if-changed={file}");
            let css = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{file}: {e}"));
            css::minify(&css)
        })
        .collect()
}

fn main() {
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"));
    let button = minified(BUTTON);
    let sheets = minified(SHEETS);
    let widget = button.clone() + &sheets;
    std::fs::write(out.join("sheets.min.css"), sheets).expect("write sheets.min.css");
    std::fs::write(out.join("button.min.css"), button).expect("write button.min.css");
    std::fs::write(out.join("widget.min.css"), widget).expect("write widget.min.css");
    println!("cargo:rerun-if-changed=core/src/css.rs");
}
