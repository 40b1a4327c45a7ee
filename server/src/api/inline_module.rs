//! An ES module's text as one JavaScript expression, for the loader to hold the button
//! module's glue itself instead of importing it.
//!
//! A module the loader imports is a request of its own and a task of its own: on the demo
//! page, with the tweets' frames loading beside it, the glue was evaluated 42–62 ms after the
//! loader started, and with it inlined at 17–30 ms (docs/performance-log.md, commit be72d1e).
//! The expression is the module's text in a function of its own, which returns what the
//! module exports, so none of its names joins the loader's.
//!
//! Only the forms a minifier writes for the glue are rewritten: `export function`, `export
//! async function`, `export class` and `export { local as name, … }`. A module with any
//! other export, or a static `import`, gets `None`, and the loader imports it as before.

/// The module as an expression whose value is an object of its exports, by exported name.
pub(crate) fn as_expression(module: &str) -> Option<String> {
    let mut body = String::with_capacity(module.len() + 64);
    let mut exports: Vec<(&str, &str)> = Vec::new();
    let mut rest = module;
    while let Some(at) = statement_keyword(rest, "export") {
        body.push_str(&rest[..at]);
        let after = &rest[at + "export".len()..];
        let declaration = after.trim_start();
        if let Some(list) = declaration.strip_prefix('{') {
            let end = list.find('}')?;
            for item in list[..end].split(',').map(str::trim).filter(|item| !item.is_empty()) {
                let (local, name) = item.split_once(" as ").map_or((item, item), |(l, n)| (l.trim(), n.trim()));
                if !is_identifier(local) || !is_identifier(name) {
                    return None;
                }
                exports.push((name, local));
            }
            rest = &list[end + 1..];
            rest = rest.strip_prefix(';').unwrap_or(rest);
        } else {
            if after.len() == declaration.len() {
                return None; // `exports…`, or `export*`: not a declaration this knows
            }
            exports.push((declared_name(declaration)?, declared_name(declaration)?));
            rest = declaration;
        }
    }
    body.push_str(rest);
    if has_static_import(&body) {
        return None;
    }
    let entries: Vec<String> = exports.iter().map(|(name, local)| format!("{name}:{local}")).collect();
    Some(format!("(()=>{{{body}\nreturn{{{}}}}})()", entries.join(",")))
}

/// Where `keyword` starts a statement in `js` (after nothing, a `;`, a `}` or a line break,
/// and spaces), as a whole word.
fn statement_keyword(js: &str, keyword: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(found) = js[from..].find(keyword) {
        let at = from + found;
        let before = js[..at].trim_end_matches([' ', '\t']);
        let starts = before.is_empty() || before.ends_with([';', '}', '\n', '\r']);
        let whole = !js[at + keyword.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$')
            && !before.ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '.');
        if starts && whole {
            return Some(at);
        }
        from = at + keyword.len();
    }
    None
}

/// The name a `function`, `async function` or `class` declaration declares.
fn declared_name(declaration: &str) -> Option<&str> {
    let rest = declaration.strip_prefix("async ").map(str::trim_start).unwrap_or(declaration);
    let rest = rest.strip_prefix("function").or_else(|| rest.strip_prefix("class "))?;
    let rest = rest.trim_start().strip_prefix('*').unwrap_or(rest).trim_start();
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '$')).unwrap_or(rest.len());
    let name = &rest[..end];
    is_identifier(name).then_some(name)
}

/// A static `import` statement: `import(` and `import.meta` are expressions, and stay.
fn has_static_import(js: &str) -> bool {
    let mut from = 0;
    while let Some(at) = statement_keyword(&js[from..], "import") {
        let next = js[from + at + "import".len()..].trim_start();
        if !next.starts_with(['(', '.']) {
            return true;
        }
        from += at + "import".len();
    }
    false
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_minified_glue_becomes_an_expression_of_its_exports() {
        let glue = "export function boot(n,e){M.boot(n,e)}const M={};function F(){}async function W(u){await u;\
                    return import.meta.url}export{F as initSync,W as default};export async function kit(){return 1}";
        assert_eq!(
            as_expression(glue).unwrap(),
            "(()=>{function boot(n,e){M.boot(n,e)}const M={};function F(){}async function W(u){await u;\
             return import.meta.url}async function kit(){return 1}\nreturn{boot:boot,initSync:F,default:W,kit:kit}})()"
        );
        let with_lines = "export function a() {}\nexport class B {}\nexport { a as c };\n//# sourceMappingURL=x.map";
        assert_eq!(
            as_expression(with_lines).unwrap(),
            "(()=>{function a() {}\nclass B {}\n\n//# sourceMappingURL=x.map\nreturn{a:a,B:B,c:a}})()",
            "a trailing line comment ends before the return"
        );
    }

    #[test]
    fn words_that_only_contain_export_or_import_stay() {
        let glue = "const exports=i.exports;const a=x.export;export function f(){return import('./y.js')}";
        assert_eq!(
            as_expression(glue).unwrap(),
            "(()=>{const exports=i.exports;const a=x.export;function f(){return import('./y.js')}\nreturn{f:f}})()"
        );
    }

    #[test]
    fn a_form_it_does_not_know_is_left_to_the_import() {
        for module in [
            "export default function init(){}",
            "export const a = 1;",
            "export * from './x.js';",
            "export { a as 'b' };",
            "import { x } from './snippets/x.js'; export function f(){ return x }",
            "import'./side-effect.js';export function f(){}",
            "export { a",
        ] {
            assert_eq!(as_expression(module), None, "{module}");
        }
    }
}
