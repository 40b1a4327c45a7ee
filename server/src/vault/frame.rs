//! The card frame: `GET /frame` (the page the widget puts in an iframe), `/frame.js` (its
//! input rules written in: [`with_rules`]; also `/frame-rules.mjs`, for a `frame.js` that
//! imports them otherwise), the keyboard watch its head loads first `/frame-keys.js`,
//! its words in one language `/frame-words-{tag}.js` ([`LANGUAGES`]), and `/frame.css`, from
//! `assets/frame/`. Also the window a saved-info frame asks the buyer to confirm in where the
//! browser cannot say whether the frame is covered: `GET /confirm`, `/confirm.js` and
//! `/confirm.css`, and the frame's side of it, `/frame-ask.mjs`, which only such a frame loads.
//!
//! Each is read when asked for (the scripts with their names mangled and without comments
//! or spaces: [`minify_script`]; the stylesheet minified as the widget's are:
//! [`tweetbuy_core::css::minify`]) and
//! sent revalidated with an ETag, compressed ([`crate::text_asset`]): a purchase opens the frame twice (saved info, then the card), and
//! the second time the browser's copies are answered with 304s, the page's too: both frames
//! are one page, which learns which it is from the iframe's name (`frame-keys.js`).

use super::{VaultSettings, VaultState};
use crate::error::AppError;
use crate::templates::{escape_html, render};
use crate::text_asset::TextAssets;
use axum::extract::{Extension, Query, State};
use axum::http::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tweetbuy_core::ErrorCode;

/// A language of the card frame: its words, and the name its page is kept under.
struct Language {
    /// The language's subtag, as the page's `lang` has it.
    tag: &'static str,
    /// The words the page is sent with, each filling the placeholder `{{W_<NAME>}}` of
    /// `frame.html`: the card form is shown before any script has run (a slow link), so its
    /// labels must already be in the buyer's language. The script reads the ones it changes
    /// back from the page; its other sentences are in `words_file`.
    page_words: [(&'static str, &'static str); 8],
    /// Where the frame's page loads its words from.
    words_route: &'static str,
    /// The words, under `assets/frame/`.
    words_file: &'static str,
    /// The page, as [`TextAssets`] keeps it.
    page: &'static str,
    /// The words of the confirmation window's page (`confirm.html`), filled as `page_words`
    /// are; what it confirms, and its button, come from the frame that opens it.
    confirm_words: [(&'static str, &'static str); 3],
    /// The confirmation window's page, as [`TextAssets`] keeps it.
    confirm_page: &'static str,
}

/// The frame's languages; the first is the one a frame gets when its `lang` names none. A
/// buyer downloads the words of one: both would be a tenth of `frame.js`.
const LANGUAGES: [Language; 2] = [
    Language {
        tag: "en",
        page_words: [
            ("TITLE", "Payment"),
            ("NUMBER", "Card number"),
            ("EXPIRY", "Expiry (MM/YY)"),
            ("EXPIRY_PLACEHOLDER", "MM/YY"),
            ("CVC", "Security code"),
            ("SAVE", "Save my card and address for next time"),
            ("PAY", "Pay"),
            ("REMOVE", "Remove my saved info"),
        ],
        words_route: "/frame-words-en.js",
        words_file: "words/en.js",
        page: "frame-en.html",
        confirm_words: [
            ("TITLE", "Confirm"),
            ("CANCEL", "Cancel"),
            ("NOTHING", "There is nothing to confirm here. You can close this window."),
        ],
        confirm_page: "confirm-en.html",
    },
    Language {
        tag: "es",
        page_words: [
            ("TITLE", "Pago"),
            ("NUMBER", "Número de tarjeta"),
            ("EXPIRY", "Caducidad (MM/AA)"),
            ("EXPIRY_PLACEHOLDER", "MM/AA"),
            ("CVC", "Código de seguridad"),
            ("SAVE", "Guardar mi tarjeta y dirección para la próxima vez"),
            ("PAY", "Pagar"),
            ("REMOVE", "Eliminar mis datos guardados"),
        ],
        words_route: "/frame-words-es.js",
        words_file: "words/es.js",
        page: "frame-es.html",
        confirm_words: [
            ("TITLE", "Confirmar"),
            ("CANCEL", "Cancelar"),
            ("NOTHING", "No hay nada que confirmar aquí. Puedes cerrar esta ventana."),
        ],
        confirm_page: "confirm-es.html",
    },
];

/// The frame's language for the widget's language tag (`es-AR`): the one named by its first
/// subtag, in any case, else the first.
fn language(tag: Option<&str>) -> &'static Language {
    let primary = tag.unwrap_or_default().split('-').next().unwrap_or_default();
    LANGUAGES.iter().find(|l| l.tag.eq_ignore_ascii_case(primary)).unwrap_or(&LANGUAGES[0])
}

/// What a file of the frame is, which decides how it is sent.
#[derive(Clone, Copy)]
enum Kind {
    /// A module script (`import`, `export`; its own top-level names).
    Module,
    /// A classic script, whose top-level names are the page's globals.
    Script,
    Style,
}

impl Kind {
    fn content_type(self) -> &'static str {
        match self {
            Kind::Module | Kind::Script => "text/javascript; charset=utf-8",
            Kind::Style => "text/css; charset=utf-8",
        }
    }
}

/// The frame's files other than its page and words: route, file under `assets/frame/`, kind.
const FILES: [(&str, &str, Kind); 7] = [
    ("/frame-keys.js", "keys.js", Kind::Script),
    ("/frame-ask.mjs", "ask.mjs", Kind::Module),
    ("/confirm.js", "confirm.js", Kind::Script),
    ("/confirm.css", "confirm.css", Kind::Style),
    ("/frame.js", "frame.js", Kind::Module),
    ("/frame-rules.mjs", "rules.mjs", Kind::Module),
    ("/frame.css", "frame.css", Kind::Style),
];

/// Every file of the frame and its words, with its kind.
fn files() -> impl Iterator<Item = (&'static str, &'static str, Kind)> {
    let words = LANGUAGES.iter().map(|language| (language.words_route, language.words_file, Kind::Script));
    FILES.into_iter().chain(words)
}

/// The frame's texts as sent: compressed, and each file as [`prepared`] it, kept while its
/// source is unchanged (checking and minifying `frame.js` takes milliseconds, and every
/// request, a 304 too, needs the prepared text's version).
#[derive(Default)]
struct FrameTexts {
    texts: TextAssets,
    prepared: Mutex<HashMap<&'static str, (String, Arc<String>)>>,
}

impl FrameTexts {
    /// The file `name` of `kind` as sent, from its current `source`.
    fn prepare(&self, name: &'static str, source: Source, kind: Kind) -> Arc<String> {
        // Nothing panics while holding the lock (the preparing is done outside it), and the
        // map is whole between statements: a poisoned lock's map is still good to use.
        let kept = || self.prepared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let last = kept().get(name).cloned();
        if let Some((_, text)) = last.filter(|(from, _)| *from == source.text) {
            return text;
        }
        let from = source.text.clone();
        let text = Arc::new(prepared(source, kind));
        kept().insert(name, (from, text.clone()));
        text
    }
}

/// One of the frame's files as read, before it is [`prepared`].
struct Source {
    /// The file as it is meant to go out: `frame.js` with its rules written in.
    text: String,
    /// `frame.js` as written (importing its rules), sent instead of `text` if that does not
    /// compile: two files written into one may declare a name twice where each alone was fine.
    own: Option<String>,
}

/// The frame's routes. Within a runtime, its files are compressed at once, in the background
/// ([`warm`]).
pub(crate) fn router(state: &VaultState) -> Router<VaultState> {
    let texts = Arc::new(FrameTexts::default());
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(warm(texts.clone(), state.clone()));
    }
    let file = |name: &'static str, kind: Kind| {
        get(move |state, texts, headers| frame_file(state, texts, headers, name, kind))
    };
    files()
        .fold(Router::new(), |router, (route, name, kind)| router.route(route, file(name, kind)))
        .route("/frame", get(frame_page))
        .route("/confirm", get(confirm_page))
        .layer(Extension(texts))
}

/// Compresses every file and page of the frame as it is now, so the first buyer after a
/// start waits for none of them. A file missing now is left to its first request to report.
async fn warm(texts: Arc<FrameTexts>, state: VaultState) {
    let dir = state.settings.assets_dir.join("frame");
    for (_, name, kind) in files() {
        if let Ok(source) = source_of(&dir, name).await {
            let text = texts.prepare(name, source, kind);
            let _ = texts.texts.warm(name, String::clone(&text)).await;
        }
    }
    let Ok(template) = tokio::fs::read_to_string(dir.join("frame.html")).await else { return };
    for language in &LANGUAGES {
        let _ = texts.texts.warm(language.page, page(&template, &state.settings, language)).await;
    }
    let Ok(confirm) = tokio::fs::read_to_string(dir.join("confirm.html")).await else { return };
    for language in &LANGUAGES {
        let _ = texts.texts.warm(language.confirm_page, confirm_html(&confirm, language)).await;
    }
}

/// The confirmation window's policy: its own script and style only, no requests, and framed
/// by nobody: a window that could be framed could be covered, as the frame can.
pub const CONFIRM_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// `GET /confirm?lang=`: the window a saved-info frame opens for the buyer to confirm Pay or
/// Remove in, in the frame's language. It fetches nothing: what it shows comes from its opener.
async fn confirm_page(
    State(state): State<VaultState>,
    Extension(texts): Extension<Arc<FrameTexts>>,
    Query(query): Query<Vec<(String, String)>>,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let template = read_asset(&state.settings.assets_dir.join("frame").join("confirm.html")).await?;
    let lang = query.iter().find(|(key, _)| key == "lang").map(|(_, value)| value.as_str());
    let language = language(lang);
    let html = confirm_html(&template, language);
    let headers = [
        (CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")),
        (CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONFIRM_CSP)),
    ];
    texts.texts.respond(language.confirm_page, &request_headers, html, &headers).await
}

/// The confirmation window's page in `language`, from its template.
fn confirm_html(template: &str, language: &Language) -> String {
    fill_words(&lean_html(template), language.tag, &language.confirm_words, &[])
}

/// The frame's policy: its own script and style only, requests only to the vault and to the
/// api (for the payment intent it shows and pays), and
/// framable only by the allowed publishers (instead of `X-Frame-Options`, which cannot
/// name several origins).
pub fn frame_csp(allowed_origins: &[String], api_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' {api_origin}; \
         frame-ancestors {}; base-uri 'none'; form-action 'none'",
        allowed_origins.join(" ")
    )
}

async fn frame_page(
    State(state): State<VaultState>,
    Extension(texts): Extension<Arc<FrameTexts>>,
    // Pairs, read leniently as the frame's `URLSearchParams` reads them: the first `lang`
    // decides, so the page and its script never disagree on the buyer's language.
    Query(query): Query<Vec<(String, String)>>,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let path = state.settings.assets_dir.join("frame").join("frame.html");
    let template = read_asset(&path).await?;
    let settings = &state.settings;
    let lang = query.iter().find(|(key, _)| key == "lang").map(|(_, value)| value.as_str());
    let language = language(lang);
    let html = page(&template, settings, language);
    let csp = HeaderValue::from_str(&frame_csp(&settings.allowed_origins, &settings.api_origin))
        .map_err(|e| AppError::internal(format!("the frame's policy is not a header value: {e}")))?;
    let headers =
        [(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8")), (CONTENT_SECURITY_POLICY, csp)];
    texts.texts.respond(language.page, &request_headers, html, &headers).await
}

/// The frame's page in `language`. The card form is in the page as sent, not shown later by
/// the frame's script: a keyboard user who tabs in before the script has run lands on the
/// card number, not past it (the saved-info frame's stylesheet hides it).
fn page(template: &str, settings: &VaultSettings, language: &Language) -> String {
    let origins = [&settings.allowed_origins.join(" "), &settings.vault_origin, &settings.api_origin];
    fill_page(&lean_html(template), origins, language)
}

/// The page's template without its indentation and line breaks: each line trimmed and the
/// lines joined by a space, which goes where only tags meet (`> <`). Every text of
/// frame.html is on one line, none is preformatted (no `<pre>`, `<textarea>` or inline
/// script), and its blocks are laid out by grid and flex, where a space between tags shows
/// nothing: 53 B brotli of each page.
fn lean_html(template: &str) -> String {
    template.lines().map(str::trim).filter(|line| !line.is_empty()).collect::<Vec<_>>().join(" ").replace("> <", "><")
}

/// The frame's page from its template: the allowed publishers, the vault's and the api's
/// origins (`origins`, in that order), and the page's language and words.
fn fill_page(template: &str, origins: [&String; 3], language: &Language) -> String {
    let [allowed, vault, api] = origins.map(|origin| escape_html(origin));
    let values =
        [("ALLOWED_ORIGINS", allowed.as_str()), ("VAULT_ORIGIN", vault.as_str()), ("API_ORIGIN", api.as_str())];
    fill_words(template, language.tag, &language.page_words, &values)
}

/// A page of the vault from its template: `values`, the language's tag (`LANG`) and its
/// `words`, each filling `{{W_<NAME>}}`, escaped.
fn fill_words(template: &str, tag: &str, words: &[(&str, &str)], values: &[(&str, &str)]) -> String {
    let words: Vec<(String, String)> =
        words.iter().map(|(name, text)| (format!("W_{name}"), escape_html(text))).collect();
    let mut all = values.to_vec();
    all.push(("LANG", tag));
    all.extend(words.iter().map(|(name, text)| (name.as_str(), text.as_str())));
    render(template, &all)
}

async fn frame_file(
    State(state): State<VaultState>,
    Extension(texts): Extension<Arc<FrameTexts>>,
    request_headers: HeaderMap,
    name: &'static str,
    kind: Kind,
) -> Result<Response, AppError> {
    let source = source_of(&state.settings.assets_dir.join("frame"), name).await?;
    let text = String::clone(&texts.prepare(name, source, kind));
    let headers = [(CONTENT_TYPE, HeaderValue::from_static(kind.content_type()))];
    texts.texts.respond(name, &request_headers, text, &headers).await
}

/// A file of the frame as it is sent: a script minified ([`minify_script`]), the stylesheet
/// minified as the widget's are. A script that does not compile goes out as written (its
/// own text, for `frame.js`), with a warning: the browser's console then says where.
fn prepared(source: Source, kind: Kind) -> String {
    let module = match kind {
        Kind::Style => return tweetbuy_core::css::minify(&source.text),
        Kind::Module => true,
        Kind::Script => false,
    };
    let as_it_is = |error: String, text: String| {
        tracing::warn!(%error, "a card frame script does not compile: sent as it is");
        text
    };
    match (minify_script(&source.text, module), source.own) {
        (Ok(minified), _) => minified,
        (Err(error), None) => as_it_is(error, source.text),
        (Err(error), Some(own)) => {
            tracing::warn!(%error, "the card frame's rules do not compile written into frame.js: sent importing them");
            minify_script(&own, module).unwrap_or_else(|error| as_it_is(error, own))
        }
    }
}

/// A script with its local names shortened and without its comments and spaces (oxc's
/// mangler and printer), which explain it to people: `frame.js` 7.4 → 5.0 KB brotli. Its
/// code is not rewritten otherwise (no compressor: the frame holds the rules of Pay's
/// consent, sent as written). A `module` keeps its exports' names, a classic script its
/// top-level names, which are the page's globals (`window.tbKeyboard`). A script a browser
/// would refuse is an error, with the first reason.
fn minify_script(source: &str, module: bool) -> Result<String, String> {
    use oxc_codegen::{Codegen, CodegenOptions};
    use oxc_minifier::{MangleOptions, Minifier, MinifierOptions};
    let allocator = oxc_allocator::Allocator::default();
    let source_type = if module { oxc_span::SourceType::mjs() } else { oxc_span::SourceType::script() };
    let parsed = oxc_parser::Parser::new(&allocator, source, source_type).parse();
    if let Some(error) = parsed.diagnostics.first() {
        return Err(error.to_string());
    }
    if parsed.panicked {
        return Err("the parser gave up".into());
    }
    // What the parser leaves to a browser's later checks (a name declared twice): the
    // mangler would give both one name, and the browser refuse the whole script.
    let checked = oxc_semantic::SemanticBuilder::new().with_check_syntax_error(true).build(&parsed.program);
    if let Some(error) = checked.diagnostics.first() {
        return Err(error.to_string());
    }
    let mut program = parsed.program;
    let options = MinifierOptions { mangle: Some(MangleOptions::default()), mangle_properties: None, compress: None };
    let minified = Minifier::new(options).minify(&allocator, &mut program);
    Ok(Codegen::new().with_options(CodegenOptions::minify()).with_scoping(minified.scoping).build(&program).code)
}

/// The source of the frame's file `name` in `dir`: `frame.js` with its input rules written in
/// ([`with_rules`]). Whether that compiles is checked once per change, when it is
/// [`prepared`].
async fn source_of(dir: &std::path::Path, name: &str) -> Result<Source, AppError> {
    let text = read_asset(&dir.join(name)).await?;
    if name != "frame.js" {
        return Ok(Source { text, own: None });
    }
    let rules = read_asset(&dir.join("rules.mjs")).await?;
    Ok(match with_rules(&text, &rules) {
        Some(bundled) => Source { text: bundled, own: Some(text) },
        None => Source { text, own: None },
    })
}

/// `frame.js` with its input rules (`rules.mjs`) written in where it imports them: one
/// request and one compressed text where there were two, and the rules' names shortened
/// too, since nothing else imports them (160 B brotli). The import must name the rules as
/// they are declared (`import { decode, THEME } from "/frame-rules.mjs";`, on one line);
/// `None` for any other, which the browser then follows to `/frame-rules.mjs`.
fn with_rules(frame: &str, rules: &str) -> Option<String> {
    let line =
        frame.lines().find(|line| line.starts_with("import ") && line.contains(r#" from "/frame-rules.mjs""#))?;
    let names = line.strip_prefix("import {")?.split_once('}')?.0;
    if names.contains(" as ") {
        return None;
    }
    let rules: Vec<&str> = rules.lines().map(|line| line.strip_prefix("export ").unwrap_or(line)).collect();
    Some(frame.replacen(line, &rules.join("\n"), 1))
}

async fn read_asset(path: &std::path::Path) -> Result<String, AppError> {
    tokio::fs::read_to_string(path).await.map_err(|error| {
        tracing::warn!(path = %path.display(), %error, "frame asset missing");
        AppError::new(StatusCode::SERVICE_UNAVAILABLE, ErrorCode::Unavailable, "The card form is not installed.")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every placeholder of the frame's page is filled in every language and mode, and the
    /// card form is labelled in the page's language before any script runs.
    #[test]
    fn the_frames_page_is_whole_in_every_language() {
        let template = include_str!("../../assets/frame/frame.html");
        let origin = String::from("http://x.test");
        let names = |language: &Language| language.page_words.map(|(name, _)| name);
        for name in names(&LANGUAGES[0]) {
            // A word written into the page instead of its placeholder would pass the checks
            // below wherever it is part of another ("Pay" of "Payment").
            assert!(template.contains(&format!("{{{{W_{name}}}}}")), "the page has no place for {name}");
        }
        for language in &LANGUAGES {
            assert_eq!(names(language), names(&LANGUAGES[0]), "{}: the same words as the first", language.tag);
            let html = fill_page(template, [&origin, &origin, &origin], language);
            assert!(!html.contains("{{"), "{}: {html}", language.tag);
            for (_, text) in language.page_words {
                assert!(html.contains(&escape_html(text)), "{}: {text}", language.tag);
            }
        }
        let spanish = fill_page(template, [&origin, &origin, &origin], language(Some("es")));
        assert!(spanish.contains(r#"<label for="number">Número de tarjeta</label>"#), "{spanish}");
        assert!(spanish.contains(r#"placeholder="MM/AA""#) && spanish.contains(">Pagar</button>"), "{spanish}");
        assert!(!spanish.contains("Card number"));
    }

    /// The confirmation window's page is whole in every language, and its own words are in
    /// the buyer's language before its script runs.
    #[test]
    fn the_confirmation_window_is_whole_in_every_language() {
        let template = include_str!("../../assets/frame/confirm.html");
        for (name, _) in LANGUAGES[0].confirm_words {
            assert!(template.contains(&format!("{{{{W_{name}}}}}")), "the window has no place for {name}");
        }
        for language in &LANGUAGES {
            let html = confirm_html(template, language);
            assert!(!html.contains("{{"), "{}: {html}", language.tag);
            assert!(html.contains(&format!(r#"<html lang="{}">"#, language.tag)), "{html}");
            for (_, text) in language.confirm_words {
                assert!(html.contains(&escape_html(text)), "{}: {text}", language.tag);
            }
        }
        let spanish = confirm_html(template, language(Some("es-AR")));
        assert!(spanish.contains(r#"class="secondary">Cancelar</button>"#), "{spanish}");
        assert!(CONFIRM_CSP.contains("frame-ancestors 'none'") && !CONFIRM_CSP.contains("connect-src"));
    }

    #[test]
    fn the_frames_script_goes_out_with_its_rules_written_in() {
        let (frame, rules) =
            (include_str!("../../assets/frame/frame.js"), include_str!("../../assets/frame/rules.mjs"));
        let bundled = with_rules(frame, rules).expect("frame.js imports its rules by their own names");
        assert!(!bundled.contains("/frame-rules.mjs") && !bundled.contains("export function decode("), "{bundled}");
        assert!(bundled.contains("function decode(") && bundled.contains("export function formatMoney("));
        // It parses as one module (a script that does not is sent as it is), and keeps
        // frame.js's own exports.
        let minify = |source: &str| minify_script(source, true).expect("it compiles");
        let sent = prepared(Source { text: bundled.clone(), own: Some(frame.into()) }, Kind::Module);
        assert_eq!(sent, minify(&bundled));
        assert!(sent.contains("formatMoney") && sent.contains("addressLine"), "{sent}");
        assert!(sent.len() < minify(frame).len() + minify(rules).len());
        // Rules that declare a name frame.js declares too would make one broken module: it
        // is not sent so, but frame.js as written, importing them.
        let clashing = format!("{rules}\nexport const LANG = 1;\n");
        let bundled = with_rules(frame, &clashing).unwrap();
        let error = minify_script(&bundled, true).expect_err("the clash is seen");
        assert!(frame.contains("const LANG") && error.contains("LANG"), "{error}");
        let sent = prepared(Source { text: bundled, own: Some(frame.into()) }, Kind::Module);
        assert_eq!(sent, minify(frame));
        assert!(sent.contains("/frame-rules.mjs"), "{sent}");
        // A script that does not parse goes out as written.
        let broken = String::from("const x = ;");
        assert!(minify_script(&broken, false).is_err());
        assert_eq!(prepared(Source { text: broken.clone(), own: None }, Kind::Script), broken);
        // An import the vault cannot follow is left to the browser.
        let renamed = frame.replacen("import { decode,", "import { decode as read,", 1);
        assert_ne!(renamed, frame);
        assert_eq!(with_rules(&renamed, rules), None);
        assert_eq!(with_rules("const x = 1;", rules), None);
    }

    #[test]
    fn the_page_goes_out_without_its_indentation() {
        let template = include_str!("../../assets/frame/frame.html");
        let lean = lean_html(template);
        assert!(!lean.contains('\n') && !lean.contains("> <") && !lean.contains("  "), "{lean}");
        assert!(lean.starts_with("<!doctype html><html lang=\"{{LANG}}\""), "{lean}");
        // A tag that spans lines keeps a space between its attributes.
        assert!(lean.contains(r#"autocomplete="cc-number" maxlength="23""#), "{lean}");
        assert!(lean.contains(r#"<label for="number">{{W_NUMBER}}</label><input id="number""#), "{lean}");
        // What lies between one tag's end and the next tag's start, where it is more than spaces.
        let texts = |html: &str| -> Vec<String> {
            html.split('>')
                .filter_map(|after| after.split('<').next())
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(String::from)
                .collect()
        };
        assert!(texts(template).len() > 5);
        assert_eq!(texts(&lean), texts(template), "every text of the page is still there");
        let tags = |html: &str| html.matches('<').count();
        assert_eq!(tags(&lean), tags(template));
    }
}
