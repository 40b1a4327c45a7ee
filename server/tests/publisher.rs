//! The demo publisher origin, against a temporary assets directory.

#[path = "common/harness.rs"]
mod harness;

use axum::http::StatusCode;
use harness::{get, send, API_ORIGIN, PUBLISHER_ORIGIN, VAULT_ORIGIN};
use tweetbuy_server::{publisher_app, PublisherSettings, PublisherState};

fn app(dir: &std::path::Path) -> axum::Router {
    let pages = dir.join("publisher");
    std::fs::create_dir_all(&pages).unwrap();
    let page = "<script src=\"{{API_ORIGIN}}/tweetbuy/embed.js\"></script> {{VAULT_ORIGIN}} {{PUBLISHER_ORIGIN}}";
    std::fs::write(pages.join("index.html"), format!("index {page}")).unwrap();
    std::fs::write(pages.join("strict-csp.html"), format!("strict {page}")).unwrap();
    std::fs::write(pages.join("dark-theme.html"), format!("dark {page}")).unwrap();
    std::fs::write(pages.join("site.css"), "body{color:#111}").unwrap();
    std::fs::write(dir.join("secret.txt"), "outside").unwrap();
    publisher_app(PublisherState::new(PublisherSettings {
        assets_dir: dir.to_owned(),
        publisher_origin: PUBLISHER_ORIGIN.into(),
        api_origin: API_ORIGIN.into(),
        vault_origin: VAULT_ORIGIN.into(),
    }))
}

#[tokio::test]
async fn pages_have_their_placeholders_filled() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let expected =
        format!("<script src=\"{API_ORIGIN}/tweetbuy/embed.js\"></script> {VAULT_ORIGIN} {PUBLISHER_ORIGIN}");
    for (path, prefix) in
        [("/", "index"), ("/index.html", "index"), ("/dark-theme", "dark"), ("/dark-theme.html", "dark")]
    {
        let reply = send(&app, get(path)).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}");
        assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"));
        assert_eq!(reply.text(), format!("{prefix} {expected}"), "{path}");
        assert_eq!(reply.header("content-security-policy"), None, "only the strict page sets a CSP");
    }
}

#[tokio::test]
async fn the_strict_csp_page_sends_its_policy() {
    let dir = tempfile::tempdir().unwrap();
    let reply = send(&app(dir.path()), get("/strict-csp")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text().starts_with("strict "));
    assert_eq!(
        reply.header("content-security-policy").unwrap(),
        format!(
            "default-src 'self'; script-src 'self' {API_ORIGIN} 'wasm-unsafe-eval'; style-src 'self' {API_ORIGIN}; \
             img-src 'self' {API_ORIGIN}; connect-src {API_ORIGIN}; frame-src {VAULT_ORIGIN}"
        )
    );
}

#[tokio::test]
async fn other_files_are_static_and_nothing_escapes_the_folder() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let reply = send(&app, get("/site.css")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.header("content-type").unwrap().starts_with("text/css"));
    assert_eq!(reply.text(), "body{color:#111}");
    for path in ["/missing", "/missing.html", "/../secret.txt", "/%2e%2e/secret.txt", "/..%2fsecret.txt"] {
        let reply = send(&app, get(path)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!reply.text().contains("outside"), "{path}");
    }
}
