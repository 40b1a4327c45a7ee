use crate::harness::*;
use axum::http::StatusCode;

#[tokio::test]
async fn the_frame_is_framable_only_by_allowed_publishers() {
    let server = start().await;
    let reply = send(&server.vault, get("/frame")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"));
    let csp = reply.header("content-security-policy").unwrap();
    assert_eq!(
        csp,
        format!(
            "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self' {API_ORIGIN}; \
             frame-ancestors {PUBLISHER_ORIGIN} {OTHER_PUBLISHER_ORIGIN}; base-uri 'none'; form-action 'none'"
        )
    );
    assert_eq!(reply.header("x-frame-options"), None, "framing is governed by frame-ancestors");
    assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
    assert!(reply.header("referrer-policy").is_some());
    let html = reply.text();
    assert!(html.contains(&format!(r#"data-allowed="{PUBLISHER_ORIGIN} {OTHER_PUBLISHER_ORIGIN}""#)), "{html}");
    assert!(html.contains(&format!(r#"data-vault="{VAULT_ORIGIN}""#)));
    assert!(html.contains(&format!(r#"data-api="{API_ORIGIN}""#)), "the frame is told where intents are made");
    assert!(!html.contains("{{"));

    let reply = send(&server.vault, get("/frame.js")).await;
    assert_eq!((reply.status, reply.header("content-type")), (StatusCode::OK, Some("text/javascript; charset=utf-8")));
    assert_eq!(reply.text(), "console.log('frame');");
    let reply = send(&server.vault, get("/frame-rules.mjs")).await;
    assert_eq!((reply.status, reply.header("content-type")), (StatusCode::OK, Some("text/javascript; charset=utf-8")));
    assert_eq!(reply.text(), "export const decode = () => null;");
    let reply = send(&server.vault, get("/frame.css")).await;
    assert_eq!((reply.status, reply.header("content-type")), (StatusCode::OK, Some("text/css; charset=utf-8")));
}

#[tokio::test]
async fn missing_frame_assets_are_503_json() {
    let server = start().await;
    std::fs::remove_dir_all(server.dir.path().join("assets/frame")).unwrap();
    for path in ["/frame", "/frame.js", "/frame-rules.mjs"] {
        let reply = send(&server.vault, get(path)).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(reply.error_code(), "unavailable");
    }
    let reply = send(&server.vault, get("/frame.html")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}
