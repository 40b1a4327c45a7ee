//! The demo publisher origin: pages from `assets/publisher/` that embed tweets and load the
//! widget from the api origin, as a real publisher's site would.
//!
//! `/` is `index.html`, `/NAME` is `NAME.html`; every `.html` has `{{API_ORIGIN}}`,
//! `{{VAULT_ORIGIN}}` and `{{PUBLISHER_ORIGIN}}` filled in. Other files are served as they are.

use crate::templates::{file_in, render};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use std::path::PathBuf;
use std::sync::Arc;
use tower::ServiceExt;
use tower_http::services::ServeDir;

/// What the demo publisher site needs: where its pages are, and the origins they name.
#[derive(Clone, Debug)]
pub struct PublisherSettings {
    /// Holds `publisher/*.html` and the demo site's other files.
    pub assets_dir: PathBuf,
    /// This site's origin, filled into the pages' `{{PUBLISHER_ORIGIN}}`.
    pub publisher_origin: String,
    /// The api's origin, filled into `{{API_ORIGIN}}`: the pages load the widget from it.
    pub api_origin: String,
    /// The vault's public origin, filled into `{{VAULT_ORIGIN}}`.
    pub vault_origin: String,
}

/// The demo publisher site's shared state.
#[derive(Clone)]
pub struct PublisherState {
    /// The site's settings, shared by every request.
    pub settings: Arc<PublisherSettings>,
}

impl PublisherState {
    /// The state for these settings.
    pub fn new(settings: PublisherSettings) -> PublisherState {
        PublisherState { settings: Arc::new(settings) }
    }

    fn dir(&self) -> PathBuf {
        self.settings.assets_dir.join("publisher")
    }
}

/// The page that demonstrates the widget under a strict publisher CSP.
const STRICT_CSP_PAGE: &str = "strict-csp.html";

/// The publisher origin's router: `/` serves `publisher/index.html`, and `/name` or
/// `/name.html` serves `publisher/name.html`, placeholders filled; any other path is a plain
/// file of `publisher/`.
pub fn publisher_app(state: PublisherState) -> Router {
    Router::new().fallback(serve).layer(crate::telemetry::http_trace_layer()).with_state(state)
}

async fn serve(State(state): State<PublisherState>, request: Request) -> Response {
    let path = request.uri().path().trim_start_matches('/');
    let page = match path {
        "" => Some("index.html".to_owned()),
        name if name.ends_with(".html") => Some(name.to_owned()),
        name if !name.contains('.') && !name.contains('/') => Some(format!("{name}.html")),
        _ => None,
    };
    if let Some(page) = page {
        if let Some(response) = render_page(&state, &page).await {
            return response;
        }
    }
    // Everything else (styles, images) is a plain file; ServeDir refuses paths that climb
    // out of the directory.
    match ServeDir::new(state.dir()).oneshot(request).await {
        Ok(response) => response.map(Body::new),
        Err(never) => match never {},
    }
}

/// A page with its placeholders filled, or `None` when there is no such page.
async fn render_page(state: &PublisherState, page: &str) -> Option<Response> {
    let path = file_in(&state.dir(), page)?;
    let template = tokio::fs::read_to_string(&path).await.ok()?;
    let s = &state.settings;
    let html = render(
        &template,
        &[("API_ORIGIN", &s.api_origin), ("VAULT_ORIGIN", &s.vault_origin), ("PUBLISHER_ORIGIN", &s.publisher_origin)],
    );
    let mut response =
        (StatusCode::OK, [(CONTENT_TYPE, "text/html; charset=utf-8"), (CACHE_CONTROL, "no-cache")], html)
            .into_response();
    if page == STRICT_CSP_PAGE {
        // Origins are validated at start-up, so this only fails for a hand-built bad setting.
        if let Ok(csp) = HeaderValue::from_str(&strict_csp(&s.api_origin, &s.vault_origin)) {
            response.headers_mut().insert(CONTENT_SECURITY_POLICY, csp);
        }
    }
    Some(response)
}

/// The policy a careful publisher would set, under which the widget must still work: the
/// issue's policy plus `img-src` for the api origin, which serves the product images (without
/// it the sheet's gallery is blocked; docs/publishers.md says so).
pub fn strict_csp(api: &str, vault: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' {api} 'wasm-unsafe-eval'; style-src 'self' {api}; \
         img-src 'self' {api}; connect-src {api}; frame-src {vault}"
    )
}
