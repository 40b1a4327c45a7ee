//! Strips what a browser does not need from our CSS: comments (they explain the rules to
//! people and are most of the text) and layout whitespace. The widget's build runs it
//! (`build.rs`, which includes this file as it is, so it names only `alloc`), so the modules
//! carry the small form and the sources keep their comments; the vault runs it on the card
//! frame's stylesheet as it sends it.
//!
//! Deliberately cautious: runs of whitespace become one space, and only spaces next to
//! `{`, `}`, `;` and `,` go, since elsewhere a space can mean something (`a :hover`,
//! `calc(1px + 2px)`). Our CSS has no strings that hold comment markers.

use alloc::string::String;
use alloc::vec::Vec;

/// The CSS without comments and without whitespace that carries no meaning.
pub fn minify(css: &str) -> String {
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    while let Some(start) = rest.find("/*") {
        text.push_str(&rest[..start]);
        text.push(' ');
        rest = rest[start + 2..].find("*/").map_or("", |end| &rest[start + 2 + end + 2..]);
    }
    text.push_str(rest);
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = String::with_capacity(text.len());
    for word in words {
        let glued = out.ends_with(['{', '}', ';', ',']) || word.starts_with(['{', '}', ';', ',']);
        if !out.is_empty() && !glued {
            out.push(' ');
        }
        out.push_str(word);
    }
    out.replace(";}", "}")
}

#[cfg(test)]
mod tests {
    use super::minify;

    #[test]
    fn drops_comments_and_spare_whitespace_but_not_meaning() {
        let css =
            "/* The button. */\n.a :hover,\n.b > .c {\n  width: calc(1px + var(--x));\n  /* why */ color: red;\n}\n\
                   @media (max-width: 600px) { .d { margin: 0 auto; } }\n";
        assert_eq!(
            minify(css),
            ".a :hover,.b > .c{width: calc(1px + var(--x));color: red}@media (max-width: 600px){.d{margin: 0 auto}}"
        );
    }

    #[test]
    fn an_unclosed_comment_ends_the_text() {
        assert_eq!(minify(".a { color: red; } /* left open"), ".a{color: red}");
    }
}
