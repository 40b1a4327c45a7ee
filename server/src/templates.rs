//! Filling `{{PLACEHOLDER}}`s in the asset templates, and reading asset files safely.

use std::path::{Path, PathBuf};

/// Replaces each `{{NAME}}` with its value. Values are inserted as given: callers escape for
/// the context (origins are already validated to contain no markup characters).
pub fn render(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_owned(), |text, (name, value)| text.replace(&format!("{{{{{name}}}}}"), value))
}

/// Escapes text for an HTML attribute value or element content.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

/// A file name that cannot leave its directory: letters, digits, `.`, `_`, `-`, not starting
/// with a dot (so no `..`, no hidden files, no separators).
pub fn safe_file_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

/// `dir/name` when `name` is a safe file name.
pub fn file_in(dir: &Path, name: &str) -> Option<PathBuf> {
    safe_file_name(name).then(|| dir.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_and_escaping() {
        let out = render("a {{X}} b {{Y}} {{X}} {{Z}}", &[("X", "1"), ("Y", "2")]);
        assert_eq!(out, "a 1 b 2 1 {{Z}}");
        assert_eq!(escape_html(r#"<a href="x">'&'</a>"#), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert!(safe_file_name("index.html"));
        assert!(!safe_file_name("../etc/passwd"));
        assert!(!safe_file_name(".env"));
        assert!(!safe_file_name("a/b"));
    }
}
