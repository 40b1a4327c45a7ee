//! The widget's files: `GET /tweetbuy/embed.js` (the loader publishers include, filled in
//! with the current build's file names and holding its button module's glue) and everything
//! else Trunk built, under `/tweetbuy/`.
//! Which files are the current build is what the build's `manifest.json` says; nothing is
//! inferred from file names.

use super::inline_module;
use super::ApiState;
use crate::error::AppError;
use crate::templates::render;
use crate::text_asset::{if_none_match, TextAssets};
use axum::extract::Extension;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG, VARY};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::from_fn_with_state;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tower_http::services::ServeDir;
use tweetbuy_core::ErrorCode;

pub(crate) fn router(widget_dir: &Path) -> Router<ApiState> {
    // The build writes a brotli and a gzip copy beside each file (scripts/precompress.mjs):
    // sent as they are, with `Content-Encoding`, to browsers that accept them.
    let files = ServeDir::new(widget_dir).precompressed_br().precompressed_gzip();
    let manifest = Arc::new(ManifestCache::new(widget_dir));
    let files =
        Router::new().nest_service("/tweetbuy", files).layer(from_fn_with_state(manifest.clone(), cache_headers));
    let loader = Arc::new(LoaderCache::default());
    Router::new()
        .route("/tweetbuy/embed.js", get(embed_js))
        .layer(Extension(manifest))
        .layer(Extension(loader))
        .merge(files)
}

/// The manifest the build writes beside the files (scripts/hash-names.sh, Trunk's
/// post-build hook): which files are the current build's two modules.
pub const MANIFEST: &str = "manifest.json";

/// The names of the current build's files: the button module (glue and wasm) every page
/// loads, and the checkout module loaded on demand, each name carrying its content's hash;
/// and the loader's template (`scripts/loader-template.mjs`), which the server fills in.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// The button module's JS glue, `tweetbuy-{hash}.js`.
    pub glue: String,
    /// The button module's wasm, `tweetbuy-{hash}_bg.wasm`.
    pub wasm: String,
    /// The checkout module's JS glue, `tweetbuy-checkout-{hash}.js`.
    pub checkout_glue: String,
    /// The checkout module's wasm, `tweetbuy-checkout-{hash}_bg.wasm`.
    pub checkout_wasm: String,
    /// The loader's template, `embed.template.js`: not hashed, since the server fills it in and
    /// serves it as `/tweetbuy/embed.js`.
    pub loader: String,
}

impl Build {
    /// The files named by their content's hash, which never change.
    fn hashed(&self) -> [&str; 4] {
        [&self.glue, &self.wasm, &self.checkout_glue, &self.checkout_wasm]
    }
}

/// Reads `manifest.json` in `dir` and checks that it names plain files that are there, so a
/// manifest left beside a half-copied build is not served.
pub fn read_manifest(dir: &Path) -> Result<Build, String> {
    let path = dir.join(MANIFEST);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let build: Build = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    for name in build.hashed().into_iter().chain([build.loader.as_str()]) {
        let plain = !name.is_empty()
            && !name.starts_with('.')
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !plain {
            return Err(format!("{} names {name:?}, which is not a file name", path.display()));
        }
        if !dir.join(name).is_file() {
            return Err(format!("{} names {name}, which is not in {}", path.display(), dir.display()));
        }
    }
    Ok(build)
}

/// The manifest as last read: each request for a widget file asks whether its name is the
/// build's, and re-checking the named files is needed only when the manifest's text changes.
pub struct ManifestCache {
    dir: PathBuf,
    last: Mutex<Option<(String, Build)>>,
}

impl ManifestCache {
    pub(crate) fn new(dir: &Path) -> ManifestCache {
        ManifestCache { dir: dir.to_owned(), last: Mutex::new(None) }
    }

    /// The current build, or why there is none.
    pub fn current(&self) -> Result<Build, String> {
        let text = std::fs::read_to_string(self.dir.join(MANIFEST)).unwrap_or_default();
        if let Ok(last) = self.last.lock() {
            if let Some((_, build)) = last.as_ref().filter(|(seen, _)| *seen == text) {
                return Ok(build.clone());
            }
        }
        let build = read_manifest(&self.dir)?;
        if let Ok(mut last) = self.last.lock() {
            *last = Some((text, build.clone()));
        }
        Ok(build)
    }
}

fn not_built(what: &str) -> AppError {
    AppError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::Unavailable,
        format!("The widget is not available: {what}. Build it with `make widget`."),
    )
}

/// The loader publishers include, naming the current build's files and holding its button
/// module's glue (`Cache-Control: no-cache`). Sent compressed as the build's own files are
/// (brotli at quality 11, gzip at level 9), once per build, rather than at the quality
/// tower-http compresses a response with on the way out.
#[utoipa::path(
    get,
    path = "/tweetbuy/embed.js",
    tag = "widget",
    responses(
        (status = 200, description = "The loader script.", content_type = "text/javascript", body = String),
        (status = 503, description = "`unavailable`: no widget build, or the loader template is missing.", body = tweetbuy_core::ApiError),
    )
)]
async fn embed_js(
    Extension(manifest): Extension<Arc<ManifestCache>>,
    Extension(loader): Extension<Arc<LoaderCache>>,
    request_headers: HeaderMap,
) -> Result<Response, AppError> {
    let dir = manifest.dir.clone();
    let build = tokio::task::spawn_blocking(move || manifest.current())
        .await
        .map_err(|e| AppError::internal(e.to_string()))?
        .map_err(|why| not_built(&format!("no usable build manifest ({why})")))?;
    let template = tokio::fs::read_to_string(dir.join(&build.loader))
        .await
        .map_err(|_| not_built(&format!("the build's loader template {} cannot be read", build.loader)))?;
    let glue = loader.button_glue(&dir, &build.glue).await?;
    let script = render(
        &template,
        &[
            ("WASM", &build.wasm),
            ("CHECKOUT_GLUE", &build.checkout_glue),
            ("CHECKOUT_WASM", &build.checkout_wasm),
            // Last: no later placeholder is looked for in the glue's text.
            ("BUTTON_GLUE", &glue),
        ],
    );
    // Revalidated: the loader names the current build, so a browser's copy is good until the
    // build changes; the files it names carry a hash and are cached for good.
    let content_type = (CONTENT_TYPE, HeaderValue::from_static("text/javascript; charset=utf-8"));
    loader.texts.respond("embed.js", &request_headers, script, &[content_type]).await
}

/// What the loader keeps between requests, for the build it was made for: the button
/// module's glue as the loader holds it, and the loader's compressed bodies.
#[derive(Default)]
struct LoaderCache {
    /// The glue file's name (which carries its content's hash) and its expression.
    glue: Mutex<Option<(String, Arc<str>)>>,
    /// The loader's compressed bodies.
    texts: TextAssets,
}

impl LoaderCache {
    /// The button module's glue as an expression of its exports ([`inline_module`]), or its
    /// `import()` when its form is not one that rewrites.
    async fn button_glue(&self, dir: &Path, name: &str) -> Result<Arc<str>, AppError> {
        if let Some((_, glue)) = self.glue.lock().ok().and_then(|last| last.clone()).filter(|(seen, _)| seen == name) {
            return Ok(glue);
        }
        let module = tokio::fs::read_to_string(dir.join(name))
            .await
            .map_err(|_| not_built(&format!("the build's glue {name} cannot be read")))?;
        let glue: Arc<str> = match inline_module::as_expression(&module) {
            Some(expression) => expression.into(),
            None => {
                tracing::warn!(glue = %name, "the button module's glue is imported: its form does not inline");
                format!("import(\"./{name}\")").into()
            }
        };
        if let Ok(mut last) = self.glue.lock() {
            *last = Some((name.to_owned(), glue.clone()));
        }
        Ok(glue)
    }
}

/// The build's files (named by the manifest, each name carrying its content's hash) are
/// cached for good, everything else revalidated. A build file's ETag is its name and the
/// encoding it was sent in, so a revalidation costs no read of the file.
async fn cache_headers(State(manifest): State<Arc<ManifestCache>>, request: Request, next: Next) -> Response {
    let name = request.uri().path().rsplit('/').next().unwrap_or_default().to_owned();
    let cached = request.headers().clone();
    let mut response = next.run(request).await;
    if response.status() == StatusCode::NOT_FOUND {
        // Every error of the api is JSON, a missing file of the widget's too.
        return crate::error::AppError::not_found("The widget has no such file.").into_response();
    }
    if !response.status().is_success() {
        return response;
    }
    let of_build = {
        let name = name.clone();
        let manifest = manifest.clone();
        tokio::task::spawn_blocking(move || {
            manifest.current().is_ok_and(|build| build.hashed().contains(&name.as_str()))
        })
        .await
        .unwrap_or(false)
    };
    let value = if of_build { "public, max-age=31536000, immutable" } else { "no-cache" };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(value));
    headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    if !of_build {
        return response;
    }
    let encoding = headers.get(CONTENT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("identity").to_owned();
    let etag = format!("\"{name}-{encoding}\"");
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

    const MANIFEST_JSON: &str = r#"{"glue": "tweetbuy-0123456789abcdef.js", "wasm": "tweetbuy-0123456789abcdef_bg.wasm",
        "checkout_glue": "tweetbuy-checkout-fedcba9876543210.js", "checkout_wasm": "tweetbuy-checkout-fedcba9876543210_bg.wasm",
        "loader": "embed.template.js"}"#;

    #[test]
    fn reads_the_build_from_its_manifest() {
        let dir = tempfile::tempdir().unwrap();
        let touch = |name: &str| std::fs::write(dir.path().join(name), "").unwrap();
        // Files alone are no build: only the manifest says which ones are current.
        for name in ["tweetbuy-0123456789abcdef.js", "tweetbuy-0123456789abcdef_bg.wasm", "index.html"] {
            touch(name);
        }
        assert!(read_manifest(dir.path()).unwrap_err().contains("manifest.json"));
        std::fs::write(dir.path().join(MANIFEST), MANIFEST_JSON).unwrap();
        let error = read_manifest(dir.path()).unwrap_err();
        assert!(error.contains("tweetbuy-checkout-fedcba9876543210.js"), "a named file is missing: {error}");
        touch("tweetbuy-checkout-fedcba9876543210.js");
        touch("tweetbuy-checkout-fedcba9876543210_bg.wasm");
        assert!(
            read_manifest(dir.path()).unwrap_err().contains("embed.template.js"),
            "the loader's template is missing"
        );
        touch("embed.template.js");
        assert_eq!(
            read_manifest(dir.path()).unwrap(),
            Build {
                glue: "tweetbuy-0123456789abcdef.js".into(),
                wasm: "tweetbuy-0123456789abcdef_bg.wasm".into(),
                checkout_glue: "tweetbuy-checkout-fedcba9876543210.js".into(),
                checkout_wasm: "tweetbuy-checkout-fedcba9876543210_bg.wasm".into(),
                loader: "embed.template.js".into(),
            }
        );
    }

    #[test]
    fn a_manifest_naming_paths_or_unknown_fields_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("x.js"), "").unwrap();
        let manifest = |glue: &str, extra: &str| {
            format!(
                r#"{{"glue": "{glue}", "wasm": "x.js", "checkout_glue": "x.js", "checkout_wasm": "x.js", "loader": "x.js"{extra}}}"#
            )
        };
        for (glue, extra) in
            [("../api.db", ""), ("/etc/passwd", ""), (".hidden", ""), ("", ""), ("x.js", r#", "css": "x.js""#)]
        {
            std::fs::write(dir.path().join(MANIFEST), manifest(glue, extra)).unwrap();
            assert!(read_manifest(dir.path()).is_err(), "{glue} {extra}");
        }
        std::fs::write(dir.path().join(MANIFEST), manifest("x.js", "")).unwrap();
        assert!(read_manifest(dir.path()).is_ok());
    }
}
