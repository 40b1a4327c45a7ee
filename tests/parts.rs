//! The parts a designer styles with `::part()` (docs/theming.md, "Parts") are the parts the
//! widget's views name, read from its sources: a part in the guide that no view has is a
//! promise the page's CSS cannot keep, and a view's part the guide leaves out is an API no
//! one was told about (the guide says part names are stable).
#![cfg(not(target_arch = "wasm32"))]

use std::collections::BTreeSet;
use std::path::Path;

/// Every name that follows `before` up to the next `"` in `text`.
fn quoted_after(text: &str, before: &str) -> Vec<String> {
    text.match_indices(before)
        .filter_map(|(at, _)| {
            let rest = &text[at + before.len()..];
            rest.find('"').map(|end| rest[..end].to_owned())
        })
        .collect()
}

/// The parts one source file names: `part="…"` in a view, `("part", "…")` in the button
/// module's attribute lists, and the frames' `(class, part)` pairs.
fn parts_in(text: &str) -> Vec<String> {
    let mut parts = quoted_after(text, "part=\"");
    parts.extend(quoted_after(text, "(\"part\", \""));
    parts.extend(quoted_after(text, "-frame\", \""));
    parts
}

fn parts_in_sources(dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            parts_in_sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.extend(parts_in(&std::fs::read_to_string(&path).expect("a source file")));
        }
    }
}

/// The first column of the guide's table of parts.
fn parts_in_guide(guide: &str) -> BTreeSet<String> {
    let section = guide.split("\n## Parts\n").nth(1).expect("docs/theming.md has a section Parts");
    section
        .lines()
        .skip_while(|line| !line.starts_with('|'))
        .take_while(|line| line.starts_with('|'))
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_designers_guide_lists_every_part_the_views_name_and_no_other() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut named = BTreeSet::new();
    parts_in_sources(&root.join("src"), &mut named);
    let guide = std::fs::read_to_string(root.join("docs/theming.md")).expect("docs/theming.md");
    let listed = parts_in_guide(&guide);
    assert!(named.len() >= 10, "too few parts found in src/: {named:?}");
    assert_eq!(listed, named, "docs/theming.md's parts (left) against the views' (right)");
}

#[test]
fn parts_are_read_in_each_way_a_view_names_them() {
    let view = r#"<p part="price" class="tb-price">{price}</p>"#;
    let attributes = r#"[("class", "tb-buy"), ("part", "button")]"#;
    let frames = r#"FrameMode::Card => ("tb-card-frame", "card-frame"),"#;
    assert_eq!(parts_in(view), ["price"]);
    assert_eq!(parts_in(attributes), ["button"]);
    assert_eq!(parts_in(frames), ["card-frame"]);
    let guide = "# T\n\n## Parts\n\n| part | element |\n|---|---|\n| `button` | b |\n| `sheet` | s |\n\ntext | `x` |\n";
    assert_eq!(parts_in_guide(guide), BTreeSet::from(["button".to_owned(), "sheet".to_owned()]));
}
