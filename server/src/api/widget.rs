//! The widget's files: `GET /tweetbuy/embed.js` (the loader publishers include, filled in
//! with the current build's file names) and everything else Trunk built, under `/tweetbuy/`.

use super::ApiState;
use crate::error::AppError;
use crate::templates::render;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, IF_NONE_MATCH, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{from_fn, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::Digest;
use std::path::Path;
use tower_http::services::ServeDir;
use tweetbuy_core::ErrorCode;

pub fn router(widget_dir: &Path) -> Router<ApiState> {
    // The build writes a brotli and a gzip copy beside each file (scripts/precompress.mjs):
    // sent as they are, with `Content-Encoding`, to browsers that accept them.
    let files = ServeDir::new(widget_dir).precompressed_br().precompressed_gzip();
    let files = Router::new().nest_service("/tweetbuy", files).layer(from_fn(cache_headers));
    Router::new().route("/tweetbuy/embed.js", get(embed_js)).merge(files)
}

/// The names of the current build's files: the button module (glue and wasm) every page
/// loads, and the checkout module loaded on demand.
#[derive(Debug, PartialEq, Eq)]
pub struct Build {
    pub glue: String,
    pub wasm: String,
    pub checkout_glue: String,
    pub checkout_wasm: String,
}

/// Trunk's binary names for the two modules.
const BUTTON_BIN: &str = "tweetbuy";
const CHECKOUT_BIN: &str = "tweetbuy-checkout";

/// Which module and which part a file of Trunk's output is: `tweetbuy-<hash>.js` is the
/// button module's glue, `tweetbuy-checkout-<hash>_bg.wasm` the checkout module's wasm
/// (the hash is absent without `filehash`).
pub fn part_of(name: &str) -> Option<(&'static str, bool)> {
    let (stem, is_wasm) = match name.strip_suffix("_bg.wasm") {
        Some(stem) => (stem, true),
        None => (name.strip_suffix(".js")?, false),
    };
    let bin = match stem.rsplit_once('-') {
        Some((bin, hash)) if hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()) => bin,
        _ => stem,
    };
    [BUTTON_BIN, CHECKOUT_BIN].into_iter().find(|b| *b == bin).map(|b| (b, is_wasm))
}

/// Finds Trunk's output for both modules. When several builds linger, the newest file of
/// each kind wins.
pub fn find_build(dir: &Path) -> Option<Build> {
    let mut newest: std::collections::HashMap<(&str, bool), (std::time::SystemTime, String)> = Default::default();
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let Ok(name) = entry.file_name().into_string() else { continue };
        let Some(part) = part_of(&name) else { continue };
        let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
        if newest.get(&part).is_none_or(|(time, _)| modified > *time) {
            newest.insert(part, (modified, name));
        }
    }
    let mut take = |bin, wasm| newest.remove(&(bin, wasm)).map(|(_, name)| name);
    Some(Build {
        glue: take(BUTTON_BIN, false)?,
        wasm: take(BUTTON_BIN, true)?,
        checkout_glue: take(CHECKOUT_BIN, false)?,
        checkout_wasm: take(CHECKOUT_BIN, true)?,
    })
}

fn not_built(what: &str) -> AppError {
    AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Unavailable,
        format!("The widget is not available: {what}. Build it with `trunk build --release`."),
    )
}

/// The loader publishers include, naming the current build's glue module and wasm
/// (`Cache-Control: no-cache`).
#[utoipa::path(
    get,
    path = "/tweetbuy/embed.js",
    tag = "widget",
    responses(
        (status = 200, description = "The loader script.", content_type = "text/javascript", body = String),
        (status = 503, description = "`unavailable`: no widget build, or the loader template is missing.", body = tweetbuy_core::ApiError),
    )
)]
async fn embed_js(State(state): State<ApiState>, request_headers: HeaderMap) -> Result<Response, AppError> {
    let settings = &state.settings;
    let dir = settings.widget_dir.clone();
    let build = tokio::task::spawn_blocking(move || find_build(&dir))
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
        .ok_or_else(|| {
            not_built(&format!(
                "no tweetbuy-*.js, tweetbuy-checkout-*.js and their *_bg.wasm in {}",
                settings.widget_dir.display()
            ))
        })?;
    let template_path = settings.assets_dir.join("embed.js");
    let template =
        tokio::fs::read_to_string(&template_path).await.map_err(|_| not_built("the embed.js template is missing"))?;
    let script = render(
        &template,
        &[
            ("GLUE", &build.glue),
            ("WASM", &build.wasm),
            ("CHECKOUT_GLUE", &build.checkout_glue),
            ("CHECKOUT_WASM", &build.checkout_wasm),
            ("API_ORIGIN", &settings.api_origin),
            ("VAULT_ORIGIN", &settings.vault_origin),
        ],
    );
    // no-cache: the loader names the current build, so it must be revalidated (an ETag of
    // its text makes that a 304 until the build changes); the files it names carry a hash
    // and are cached for good.
    let etag = format!("\"{}\"", &hex(&sha2::Sha256::digest(script.as_bytes()))[..16]);
    let headers = [(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "no-cache"), (ETAG, &etag)];
    if if_none_match(&request_headers, &etag) {
        return Ok((StatusCode::NOT_MODIFIED, headers).into_response());
    }
    Ok((headers, script).into_response())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the browser's cached copy (`If-None-Match`) is this version.
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"))
}

/// Whether a file name carries a content hash (`tweetbuy-3f2a9c1e0b7d6a54_bg.wasm`).
pub fn is_hashed(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Hashed files are cached for good, others revalidated. A hashed file's ETag is its name's
/// hash and the encoding it was sent in, so a revalidation costs no read of the file.
async fn cache_headers(request: Request, next: Next) -> Response {
    let name = request.uri().path().rsplit('/').next().unwrap_or_default().to_owned();
    let hashed = is_hashed(&name);
    let cached = request.headers().clone();
    let mut response = next.run(request).await;
    if !response.status().is_success() {
        return response;
    }
    let value = if hashed { "public, max-age=31536000, immutable" } else { "no-cache" };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(value));
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    if !hashed {
        return response;
    }
    let encoding = headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("identity").to_owned();
    let hash = name.split(['.', '_']).next().and_then(|stem| stem.rsplit_once('-')).map(|(_, h)| h).unwrap_or_default();
    let etag = format!("\"{hash}-{encoding}\"");
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, value);
    }
    if if_none_match(&cached, &etag) {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        for name in [CACHE_CONTROL, VARY, ETAG, CONTENT_ENCODING] {
            if let Some(value) = response.headers().get(&name) {
                not_modified.headers_mut().insert(name, value.clone());
            }
        }
        return not_modified;
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_names() {
        assert!(is_hashed("tweetbuy-3f2a9c1e0b7d6a54.js"));
        assert!(is_hashed("tweetbuy-3f2a9c1e0b7d6a54_bg.wasm"));
        assert!(!is_hashed("tweetbuy.js"));
        assert!(!is_hashed("tweetbuy_bg.wasm"));
        assert!(!is_hashed("tweet-buy.css"));
    }

    #[test]
    fn names_of_the_two_modules() {
        assert_eq!(part_of("tweetbuy-0123456789abcdef.js"), Some(("tweetbuy", false)));
        assert_eq!(part_of("tweetbuy-0123456789abcdef_bg.wasm"), Some(("tweetbuy", true)));
        assert_eq!(part_of("tweetbuy-checkout-0123456789abcdef.js"), Some(("tweetbuy-checkout", false)));
        assert_eq!(part_of("tweetbuy-checkout_bg.wasm"), Some(("tweetbuy-checkout", true)));
        assert_eq!(part_of("tweetbuy.js"), Some(("tweetbuy", false)));
        assert_eq!(part_of("tweetbuy-other-0123456789abcdef.js"), None);
        assert_eq!(part_of("index.html"), None);
    }

    #[test]
    fn finds_the_build() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(find_build(dir.path()), None);
        let touch = |name: &str| std::fs::write(dir.path().join(name), "").unwrap();
        touch("tweetbuy-0123456789abcdef.js");
        touch("tweetbuy-0123456789abcdef_bg.wasm");
        touch("index.html");
        assert_eq!(find_build(dir.path()), None, "no checkout module, no build");
        touch("tweetbuy-checkout-fedcba9876543210.js");
        assert_eq!(find_build(dir.path()), None, "glue without wasm is no build");
        touch("tweetbuy-checkout-fedcba9876543210_bg.wasm");
        assert_eq!(
            find_build(dir.path()),
            Some(Build {
                glue: "tweetbuy-0123456789abcdef.js".into(),
                wasm: "tweetbuy-0123456789abcdef_bg.wasm".into(),
                checkout_glue: "tweetbuy-checkout-fedcba9876543210.js".into(),
                checkout_wasm: "tweetbuy-checkout-fedcba9876543210_bg.wasm".into(),
            })
        );
    }
}
