//! The widget's files: `GET /tweetbuy/embed.js` (the loader publishers include, filled in
//! with the current build's file names) and everything else Trunk built, under `/tweetbuy/`.

use super::ApiState;
use crate::error::AppError;
use crate::templates::render;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{from_fn, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::path::Path;
use tower_http::services::ServeDir;
use tweetbuy_core::ErrorCode;

pub fn router(widget_dir: &Path) -> Router<ApiState> {
    let files = Router::new().nest_service("/tweetbuy", ServeDir::new(widget_dir)).layer(from_fn(cache_headers));
    Router::new().route("/tweetbuy/embed.js", get(embed_js)).merge(files)
}

/// The names of the current build's glue module and wasm, found in the widget directory.
#[derive(Debug, PartialEq, Eq)]
pub struct Build {
    pub glue: String,
    pub wasm: String,
}

/// Finds Trunk's output: the glue module `tweetbuy-<hash>.js` (or `tweetbuy.js`) and the
/// `<name>_bg.wasm`. When several builds linger, the newest file wins.
pub fn find_build(dir: &Path) -> Option<Build> {
    let mut glue: Option<(std::time::SystemTime, String)> = None;
    let mut wasm: Option<(std::time::SystemTime, String)> = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let Ok(name) = entry.file_name().into_string() else { continue };
        let modified = entry.metadata().and_then(|m| m.modified()).unwrap_or(std::time::UNIX_EPOCH);
        let slot = if name == "tweetbuy.js" || (name.starts_with("tweetbuy-") && name.ends_with(".js")) {
            &mut glue
        } else if name.ends_with("_bg.wasm") {
            &mut wasm
        } else {
            continue;
        };
        if slot.as_ref().is_none_or(|(time, _)| modified > *time) {
            *slot = Some((modified, name));
        }
    }
    Some(Build { glue: glue?.1, wasm: wasm?.1 })
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
async fn embed_js(State(state): State<ApiState>) -> Result<Response, AppError> {
    let settings = &state.settings;
    let dir = settings.widget_dir.clone();
    let build = tokio::task::spawn_blocking(move || find_build(&dir))
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
        .ok_or_else(|| not_built(&format!("no tweetbuy-*.js and *_bg.wasm in {}", settings.widget_dir.display())))?;
    let template_path = settings.assets_dir.join("embed.js");
    let template =
        tokio::fs::read_to_string(&template_path).await.map_err(|_| not_built("the embed.js template is missing"))?;
    let script = render(
        &template,
        &[
            ("GLUE", &build.glue),
            ("WASM", &build.wasm),
            ("API_ORIGIN", &settings.api_origin),
            ("VAULT_ORIGIN", &settings.vault_origin),
        ],
    );
    // no-cache: the loader names the current build, so it must be revalidated; the files
    // it names carry a hash and are cached for good.
    Ok(([(CONTENT_TYPE, "text/javascript; charset=utf-8"), (CACHE_CONTROL, "no-cache")], script).into_response())
}

/// Whether a file name carries a content hash (`tweetbuy-3f2a9c1e0b7d6a54_bg.wasm`).
pub fn is_hashed(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or_default();
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').is_some_and(|(_, hash)| hash.len() >= 8 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn cache_headers(request: Request, next: Next) -> Response {
    let hashed = is_hashed(request.uri().path().rsplit('/').next().unwrap_or_default());
    let mut response = next.run(request).await;
    if response.status().is_success() {
        let value = if hashed { "public, max-age=31536000, immutable" } else { "no-cache" };
        response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static(value));
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
    fn finds_the_build() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(find_build(dir.path()), None);
        std::fs::write(dir.path().join("tweetbuy-0123456789abcdef.js"), "").unwrap();
        assert_eq!(find_build(dir.path()), None, "glue without wasm is no build");
        std::fs::write(dir.path().join("tweetbuy-0123456789abcdef_bg.wasm"), "").unwrap();
        std::fs::write(dir.path().join("index.html"), "").unwrap();
        assert_eq!(
            find_build(dir.path()),
            Some(Build {
                glue: "tweetbuy-0123456789abcdef.js".into(),
                wasm: "tweetbuy-0123456789abcdef_bg.wasm".into()
            })
        );
    }
}
