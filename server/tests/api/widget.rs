use crate::harness::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};

const GLUE: &str = "tweetbuy-0123456789abcdef.js";
const WASM: &str = "tweetbuy-0123456789abcdef_bg.wasm";
const CHECKOUT_GLUE: &str = "tweetbuy-checkout-fedcba9876543210.js";
const CHECKOUT_WASM: &str = "tweetbuy-checkout-fedcba9876543210_bg.wasm";

#[tokio::test]
async fn embed_js_without_a_build_is_503_json() {
    let server = start().await;
    let reply = send(&server.api, get("/tweetbuy/embed.js")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.error_code(), "unavailable");
    assert!(reply.json()["message"].as_str().unwrap().contains("trunk build"));
}

#[tokio::test]
async fn embed_js_names_the_current_build_and_files_are_served() {
    let server = start().await;
    let dist = server.dir.path().join("dist");
    std::fs::create_dir_all(dist.join("snippets")).unwrap();
    std::fs::write(dist.join(GLUE), "export default function init() {}").unwrap();
    std::fs::write(dist.join(WASM), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dist.join(CHECKOUT_GLUE), "export default function init() {}").unwrap();
    std::fs::write(dist.join(CHECKOUT_WASM), b"\0asm\x01\0\0\0").unwrap();
    std::fs::write(dist.join("snippets/inline0.js"), "export const x = 1;").unwrap();

    let reply = send(&server.api, get("/tweetbuy/embed.js")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    assert_eq!(reply.text(), format!(
            "import init from './{GLUE}'; init('./{WASM}'); import('./{CHECKOUT_GLUE}', './{CHECKOUT_WASM}'); // {API_ORIGIN}"
        ));

    let reply = send(&server.api, get(&format!("/tweetbuy/{WASM}"))).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/wasm"));
    assert_eq!(reply.header("cache-control"), Some("public, max-age=31536000, immutable"));
    assert_eq!(reply.body, b"\0asm\x01\0\0\0");

    let request =
        Request::get(format!("/tweetbuy/{GLUE}")).header("origin", PUBLISHER_ORIGIN).body(Body::empty()).unwrap();
    let reply = send(&server.api, request).await;
    assert!(reply.header("content-type").unwrap().starts_with("text/javascript"));
    assert_eq!(reply.header("access-control-allow-origin"), Some(PUBLISHER_ORIGIN), "module scripts load in CORS mode");

    let reply = send(&server.api, get("/tweetbuy/snippets/inline0.js")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("cache-control"), Some("no-cache"), "unhashed names are revalidated");

    for path in ["/tweetbuy/missing.js", "/tweetbuy/../api.db", "/tweetbuy/%2e%2e/api.db"] {
        let reply = send(&server.api, get(path)).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!reply.text().contains("SQLite"));
    }
}
