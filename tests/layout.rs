//! The widget's layout, read from its sources: the button module (`src/button`) and the
//! checkout module (`src/checkout`) use what they share (`src/shared`) and never each other,
//! `src/shared` uses neither, and no module of the three folders is part of an import cycle
//! (docs/architecture.md, "The crates"). A `use` that breaks it fails here, not in review.
//!
//! A module is judged as the file or folder directly under one of the three: `button::mount`,
//! `checkout::details` (its `mod.rs` and every file under it), `shared::api`. Paths are read
//! from the parsed code, macro bodies included; comments and doc links do not count.
#![cfg(not(target_arch = "wasm32"))]

use proc_macro2::{TokenStream, TokenTree};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use syn::visit_mut::VisitMut;

const FOLDERS: [&str; 3] = ["button", "checkout", "shared"];

/// Every path a file names, as its segments, with `super` and `self` resolved against the
/// file's own module path.
struct Paths {
    here: Vec<String>,
    found: Vec<Vec<String>>,
}

impl Paths {
    fn add(&mut self, segments: Vec<String>) {
        let mut resolved = match segments.first().map(String::as_str) {
            Some("crate") => Vec::new(),
            Some("super") | Some("self") => self.here.clone(),
            _ => return,
        };
        let mut rest = segments[1..].iter().peekable();
        if segments[0] == "super" {
            resolved.pop();
            while rest.peek().is_some_and(|s| *s == "super") {
                rest.next();
                resolved.pop();
            }
        }
        resolved.extend(rest.cloned());
        self.found.push(resolved);
    }

    fn add_use(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                self.add_use(prefix, &p.tree);
                prefix.pop();
            }
            syn::UseTree::Name(n) => self.add(prefix.iter().cloned().chain([n.ident.to_string()]).collect()),
            syn::UseTree::Rename(r) => self.add(prefix.iter().cloned().chain([r.ident.to_string()]).collect()),
            syn::UseTree::Glob(_) => self.add(prefix.clone()),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| self.add_use(prefix, t)),
        }
    }

    /// Paths inside a macro's tokens (`view!`, `page_local!`, `format!`), which syn leaves
    /// unparsed: every `crate`, `super` or `self` followed by `::`-separated names.
    fn add_tokens(&mut self, tokens: TokenStream) {
        let mut flat: Vec<String> = Vec::new();
        let mut groups = Vec::new();
        for token in tokens {
            match token {
                TokenTree::Ident(i) => flat.push(i.to_string()),
                TokenTree::Punct(p) => flat.push(p.as_char().to_string()),
                TokenTree::Group(g) => {
                    flat.push(String::new());
                    groups.push(g.stream());
                }
                TokenTree::Literal(_) => flat.push(String::new()),
            }
        }
        for (at, start) in flat.iter().enumerate() {
            if !matches!(start.as_str(), "crate" | "super" | "self") {
                continue;
            }
            let mut segments = vec![start.clone()];
            let mut next = at + 1;
            while flat.get(next..next + 3).is_some_and(|w| w[0] == ":" && w[1] == ":" && is_name(&w[2])) {
                segments.push(flat[next + 2].clone());
                next += 3;
            }
            if segments.len() > 1 {
                self.add(segments);
            }
        }
        groups.into_iter().for_each(|g| self.add_tokens(g));
    }
}

fn is_name(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
}

impl VisitMut for Paths {
    fn visit_path_mut(&mut self, path: &mut syn::Path) {
        self.add(path.segments.iter().map(|s| s.ident.to_string()).collect());
        syn::visit_mut::visit_path_mut(self, path);
    }

    fn visit_item_use_mut(&mut self, item: &mut syn::ItemUse) {
        self.add_use(&mut Vec::new(), &item.tree);
    }

    fn visit_macro_mut(&mut self, mac: &mut syn::Macro) {
        self.add_tokens(mac.tokens.clone());
        syn::visit_mut::visit_macro_mut(self, mac);
    }
}

/// Every `.rs` file under `dir`, with its module path (`checkout::details::fields`).
fn sources(dir: &Path, module: &[String], out: &mut Vec<(PathBuf, Vec<String>)>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let mut inner = module.to_vec();
        if path.is_dir() {
            inner.push(name);
            sources(&path, &inner, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            if name != "mod" {
                inner.push(name);
            }
            out.push((path, inner));
        }
    }
}

/// The judged module a path names: its folder and the module under it (`shared::api`), or
/// the folder alone for an item of the folder's own `mod.rs`; `None` outside the folders.
fn judged(segments: &[String], modules: &BTreeSet<String>) -> Option<String> {
    let folder = segments.first().filter(|f| FOLDERS.contains(&f.as_str()))?;
    let module = segments.get(1).map(|m| format!("{folder}::{m}"));
    Some(module.filter(|m| modules.contains(m)).unwrap_or_else(|| folder.clone()))
}

/// Which judged module uses which, from the sources under `src`.
fn uses(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    for folder in FOLDERS {
        sources(&src.join(folder), &[folder.to_owned()], &mut files);
    }
    let modules: BTreeSet<String> =
        files.iter().filter(|(_, m)| m.len() >= 2).map(|(_, m)| format!("{}::{}", m[0], m[1])).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (path, module) in &files {
        let from = judged(module, &modules).unwrap();
        let mut file = syn::parse_file(&std::fs::read_to_string(path).unwrap()).unwrap();
        let mut paths = Paths { here: module.clone(), found: Vec::new() };
        paths.visit_file_mut(&mut file);
        let targets = graph.entry(from.clone()).or_default();
        for to in paths.found.iter().filter_map(|p| judged(p, &modules)) {
            if to != from {
                targets.insert(to);
            }
        }
    }
    graph
}

/// A cycle through `graph`, as the modules along it, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn walk<'a>(
        at: &'a str,
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        trail: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Option<Vec<String>> {
        if let Some(start) = trail.iter().position(|m| *m == at) {
            return Some(trail[start..].iter().chain([&at]).map(|m| m.to_string()).collect());
        }
        if !done.insert(at) {
            return None;
        }
        trail.push(at);
        for next in graph.get(at).into_iter().flatten() {
            if let Some(found) = walk(next, graph, trail, done) {
                return Some(found);
            }
        }
        trail.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|start| walk(start, graph, &mut Vec::new(), &mut done))
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn the_button_and_checkout_modules_use_shared_and_never_each_other() {
    let graph = uses(&src());
    let folder = |m: &str| m.split("::").next().unwrap().to_owned();
    let crossings: Vec<String> = graph
        .iter()
        .flat_map(|(from, tos)| tos.iter().map(move |to| (from, to)))
        .filter(|(from, to)| match (folder(from).as_str(), folder(to).as_str()) {
            ("button", "checkout") | ("checkout", "button") => true,
            ("shared", other) => other != "shared",
            _ => false,
        })
        .map(|(from, to)| format!("{from} uses {to}"))
        .collect();
    assert!(crossings.is_empty(), "{crossings:#?}");
    // The reading itself: the module that mounts the buttons uses the kit and the theme.
    assert!(graph["button::mount"].contains("button::kit") && graph["button::mount"].contains("shared::theme"));
}

#[test]
fn no_module_of_the_widget_is_part_of_an_import_cycle() {
    let graph = uses(&src());
    assert_eq!(cycle(&graph), None);
    // The check itself: a use back from the kit to the module that mounts the buttons is one.
    let mut looped = graph.clone();
    looped.entry("button::kit".into()).or_default().insert("button::mount".into());
    let found = cycle(&looped).expect("a cycle through button::kit");
    assert!(found.contains(&"button::kit".to_owned()) && found.contains(&"button::mount".to_owned()), "{found:?}");
}

#[test]
fn paths_are_read_from_uses_macros_and_code_with_super_resolved() {
    let mut file = syn::parse_file(
        "use crate::shared::{api::ApiClient, theme};\n\
         // crate::button::placement in a comment does not count\n\
         fn f() { crate::button::kit::with(|_| ()); super::offers::ask(); }\n\
         page_local! { static X: u8 = crate::shared::names::js(\"x\"); }",
    )
    .unwrap();
    let mut paths = Paths { here: vec!["button".into(), "mount".into()], found: Vec::new() };
    paths.visit_file_mut(&mut file);
    let found: BTreeSet<String> = paths.found.iter().map(|p| p.join("::")).collect();
    for expected in
        ["shared::api::ApiClient", "shared::theme", "button::kit::with", "button::offers::ask", "shared::names::js"]
    {
        assert!(found.contains(expected), "{expected} missing from {found:?}");
    }
    assert!(!found.iter().any(|p| p.starts_with("button::placement")), "{found:?}");
}
