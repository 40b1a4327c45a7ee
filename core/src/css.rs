//! Strips what a browser does not need from our CSS: comments (they explain the rules to
//! people and are most of the text) and layout whitespace. The widget's build runs it
//! (`build.rs`, which includes this file as it is, so it names only `alloc`), so the modules
//! carry the small form and the sources keep their comments; the vault runs it on the card
//! frame's stylesheet as it sends it.
//!
//! Deliberately cautious: runs of whitespace become one space, and only spaces next to
//! `{`, `}`, `;` and `,` go, since elsewhere a space can mean something (`a :hover`,
//! `calc(1px + 2px)`). Strings (`content: "a  b"`, a font's name) are kept as written,
//! comment markers, separators and runs of spaces inside them included.

use alloc::string::String;

/// The CSS without comments and without whitespace that carries no meaning.
pub fn minify(css: &str) -> String {
    let mut out = String::with_capacity(css.len());
    let mut chars = css.chars();
    // Whitespace or a comment since the last character kept: one space, where it may mean
    // something.
    let mut spaced = false;
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.as_str().starts_with('*') => {
                let rest = &chars.as_str()[1..];
                chars = rest.find("*/").map_or("", |end| &rest[end + 2..]).chars();
                spaced = true;
            }
            c if c.is_whitespace() => spaced = true,
            c => {
                let glued = out.ends_with(['{', '}', ';', ',']) || matches!(c, '{' | '}' | ';' | ',');
                if spaced && !out.is_empty() && !glued {
                    out.push(' ');
                }
                spaced = false;
                if c == '}' && out.ends_with(';') {
                    out.pop();
                }
                out.push(c);
                if matches!(c, '"' | '\'') {
                    chars = copy_string(&mut out, chars.as_str(), c).chars();
                }
            }
        }
    }
    out
}

/// Copies a string's text after its opening `quote`, escapes and all, through its closing
/// quote (or to the end of an unclosed one) into `out`: what follows it.
fn copy_string<'a>(out: &mut String, text: &'a str, quote: char) -> &'a str {
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        if c == '\\' {
            chars.next();
        } else if c == quote {
            out.push_str(&text[..at + 1]);
            return &text[at + 1..];
        }
    }
    out.push_str(text);
    ""
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
    fn keeps_strings_as_written() {
        for (css, small) in [
            (".a::before { content: \"a  b ; c\" ; }", ".a::before{content: \"a  b ; c\"}"),
            (".a { content: '/* not a comment */'; }", ".a{content: '/* not a comment */'}"),
            (
                ".a { content: \"say \\\"hi ,  there\\\"\"; color: red; }",
                ".a{content: \"say \\\"hi ,  there\\\"\";color: red}",
            ),
            (".a { content: \";}\"; }", ".a{content: \";}\"}"),
            (".a { font-family: \"Open  Sans\" , serif }", ".a{font-family: \"Open  Sans\",serif}"),
            (".a { content: \"left open", ".a{content: \"left open"),
        ] {
            assert_eq!(minify(css), small, "{css}");
        }
    }

    #[test]
    fn an_unclosed_comment_ends_the_text() {
        assert_eq!(minify(".a { color: red; } /* left open"), ".a{color: red}");
    }
}
