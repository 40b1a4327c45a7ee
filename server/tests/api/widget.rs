use crate::harness::*;
use axum::body::Body;
use axum::http::{Request, StatusCode};

const GLUE: &str = "tweetbuy-0123456789abcdef.js";
const WASM: &str = "tweetbuy-0123456789abcdef_bg.wasm";
const CHECKOUT_GLUE: &str = "tweetbuy-checkout-fedcba9876543210.js";
const CHECKOUT_WASM: &str = "tweetbuy-checkout-fedcba9876543210_bg.wasm";

/// A loader template of the form the build writes (scripts/loader-template.mjs).
const TEMPLATE: &str =
    "init('./{{WASM}}');import('./{{CHECKOUT_GLUE}}','./{{CHECKOUT_WASM}}');const glue={{BUTTON_GLUE}};";

/// The loader template and the manifest the build writes (scripts/hash-names.sh).
fn write_manifest(dist: &std::path::Path, glue: &str, wasm: &str) {
    std::fs::write(dist.join("embed.template.js"), TEMPLATE).unwrap();
    let manifest = serde_json::json!({"glue": glue, "wasm": wasm, "checkout_glue": CHECKOUT_GLUE,
        "checkout_wasm": CHECKOUT_WASM, "loader": "embed.template.js"});
    std::fs::write(dist.join("manifest.json"), manifest.to_string()).unwrap();
}

#[tokio::test]
async fn embed_js_without_a_build_is_503_json() {
    let server = start().await;
    let reply = send(&server.api, get("/tweetbuy/embed.js")).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.error_code(), "unavailable");
    assert!(reply.json()["message"].as_str().unwrap().contains("make widget"));
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
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "files without the build's manifest are no build");
    let reply = send(&server.api, get(&format!("/tweetbuy/{WASM}"))).await;
    assert_eq!(reply.header("cache-control"), Some("no-cache"), "only the manifest's files are immutable");
    write_manifest(&dist, GLUE, WASM);

    let reply = send(&server.api, get("/tweetbuy/embed.js")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("text/javascript; charset=utf-8"));
    assert_eq!(reply.header("cache-control"), Some("no-cache"));
    assert_eq!(
        reply.text(),
        format!("init('./{WASM}');import('./{CHECKOUT_GLUE}','./{CHECKOUT_WASM}');const glue=import(\"./{GLUE}\");"),
        "the build's template, filled in; a glue that does not inline is imported"
    );
    let reply = send(&server.api, get("/tweetbuy/embed.template.js")).await;
    assert_eq!(reply.header("cache-control"), Some("no-cache"), "the template's name carries no hash");

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
        assert_eq!(reply.error_code(), "not_found", "{path}: JSON, as every error of the api");
    }
}

#[tokio::test]
async fn files_go_out_precompressed_with_etags_and_revalidate_to_304() {
    let server = start().await;
    let dist = server.dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    for (name, body) in [(GLUE, "export default 1"), (WASM, "wasm"), (CHECKOUT_GLUE, "c"), (CHECKOUT_WASM, "cw")] {
        std::fs::write(dist.join(name), body).unwrap();
    }
    write_manifest(&dist, GLUE, WASM);
    std::fs::write(dist.join(format!("{WASM}.br")), b"brotli bytes").unwrap();
    std::fs::write(dist.join(format!("{WASM}.gz")), b"gzip bytes").unwrap();
    let with = get_with;
    let path = format!("/tweetbuy/{WASM}");

    let br = send(&server.api, with(&path, &[("accept-encoding", "gzip, br")])).await;
    assert_eq!(br.status, StatusCode::OK);
    assert_eq!(br.header("content-encoding"), Some("br"));
    assert_eq!(br.body, b"brotli bytes", "the build's brotli copy, as it is");
    assert_eq!(br.header("etag"), Some("\"tweetbuy-0123456789abcdef_bg.wasm-br\""));
    assert_eq!(br.header("vary"), Some("accept-encoding"));
    let gz = send(&server.api, with(&path, &[("accept-encoding", "gzip")])).await;
    assert_eq!((gz.header("content-encoding"), gz.body.as_slice()), (Some("gzip"), &b"gzip bytes"[..]));
    let plain = send(&server.api, get(&path)).await;
    assert_eq!((plain.header("content-encoding"), plain.body.as_slice()), (None, &b"wasm"[..]));
    assert_eq!(plain.header("etag"), Some("\"tweetbuy-0123456789abcdef_bg.wasm-identity\""));

    let again = send(
        &server.api,
        with(&path, &[("accept-encoding", "br"), ("if-none-match", "\"tweetbuy-0123456789abcdef_bg.wasm-br\"")]),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_MODIFIED);
    assert!(again.body.is_empty());
    assert_eq!(again.header("cache-control"), Some("public, max-age=31536000, immutable"));
    let other = send(&server.api, with(&path, &[("if-none-match", "\"tweetbuy-0123456789abcdef_bg.wasm-br\"")])).await;
    assert_eq!(other.status, StatusCode::OK, "another encoding is another version");

    let loader = send(&server.api, get("/tweetbuy/embed.js")).await;
    let etag = loader.header("etag").expect("the loader has an ETag").to_owned();
    let cached = send(&server.api, with("/tweetbuy/embed.js", &[("if-none-match", &etag)])).await;
    assert_eq!(cached.status, StatusCode::NOT_MODIFIED, "revalidating an unchanged loader costs no body");
    std::fs::write(dist.join("tweetbuy-1111111111111111.js"), "new build").unwrap();
    std::fs::write(dist.join("tweetbuy-1111111111111111_bg.wasm"), "new build").unwrap();
    let unchanged = send(&server.api, with("/tweetbuy/embed.js", &[("if-none-match", &etag)])).await;
    assert_eq!(unchanged.status, StatusCode::NOT_MODIFIED, "new files are not a new build until the manifest says so");
    write_manifest(&dist, "tweetbuy-1111111111111111.js", "tweetbuy-1111111111111111_bg.wasm");
    let rebuilt = send(&server.api, with("/tweetbuy/embed.js", &[("if-none-match", &etag)])).await;
    assert_eq!(rebuilt.status, StatusCode::OK, "a new build is a new loader");
    assert_ne!(rebuilt.header("etag"), Some(etag.as_str()));

    let json =
        send(&server.api, with("/api/v1/offers?tweet_ids=1528000000000000001", &[("accept-encoding", "gzip")])).await;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(json.header("content-encoding"), Some("gzip"), "JSON answers are compressed on the way out");
}

#[tokio::test]
async fn the_loader_holds_the_button_glue_and_goes_out_compressed_once_per_build() {
    let server = start().await;
    let dist = server.dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    let glue = "export function boot(n){M.boot(n)}function W(){}export{W as default}";
    for (name, body) in [(GLUE, glue), (WASM, "wasm"), (CHECKOUT_GLUE, "c"), (CHECKOUT_WASM, "cw")] {
        std::fs::write(dist.join(name), body).unwrap();
    }
    write_manifest(&dist, GLUE, WASM);
    let with = |encodings: &str| {
        Request::get("/tweetbuy/embed.js").header("accept-encoding", encodings).body(Body::empty()).unwrap()
    };

    let plain = send(&server.api, get("/tweetbuy/embed.js")).await;
    assert_eq!(plain.status, StatusCode::OK);
    let text = plain.text();
    assert!(
        text.ends_with("const glue=(()=>{function boot(n){M.boot(n)}function W(){}\nreturn{boot:boot,default:W}})();"),
        "the glue's text in a function of its own, returning its exports: {text}"
    );
    assert!(!text.contains(&format!("import(\"./{GLUE}\")")), "nothing left to import");
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("accept-encoding"));

    let br = send(&server.api, with("gzip, deflate, br")).await;
    assert_eq!(br.header("content-encoding"), Some("br"));
    let version = plain.header("etag").unwrap().trim_end_matches('"').to_owned();
    assert_eq!(br.header("etag"), Some(format!("{version}-br\"").as_str()), "the same loader, as brotli");
    let mut unpacked = String::new();
    std::io::Read::read_to_string(&mut brotli::Decompressor::new(br.body.as_slice(), 4096), &mut unpacked).unwrap();
    assert_eq!(unpacked, text);
    for encodings in ["gzip", "br;q=0, gzip;q=0.5"] {
        let gz = send(&server.api, with(encodings)).await;
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{encodings}");
        let mut unpacked = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(gz.body.as_slice()), &mut unpacked).unwrap();
        assert_eq!(unpacked, text);
    }
    let identity = send(&server.api, with("identity")).await;
    assert_eq!((identity.header("content-encoding"), identity.text()), (None, text.clone()));

    // A new build with a glue of a form that does not inline: the loader imports it.
    let other = "tweetbuy-2222222222222222.js";
    std::fs::write(dist.join(other), "export default function init() {}").unwrap();
    write_manifest(&dist, other, WASM);
    let rebuilt = send(&server.api, with("br")).await;
    let mut unpacked = String::new();
    std::io::Read::read_to_string(&mut brotli::Decompressor::new(rebuilt.body.as_slice(), 4096), &mut unpacked)
        .unwrap();
    assert!(unpacked.ends_with(&format!("const glue=import(\"./{other}\");")), "{unpacked}");
    assert!(!rebuilt.header("etag").unwrap().starts_with(&version), "a new build is a new version");
}

/// The naming step of Trunk's post-build hook (scripts/hash-names.sh) on a staging folder:
/// both modules get names hashed from their bytes (Trunk's name for the button module was
/// hashed before the glue was minified), the preview page follows, and the manifest names
/// all four files and the loader's template.
#[test]
fn the_build_hook_writes_the_manifest_the_server_reads() {
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/hash-names.sh");
    let staging = tempfile::tempdir().unwrap();
    let dir = staging.path();
    std::fs::create_dir_all(dir.join("snippets")).unwrap();
    for (name, body) in [
        (GLUE, "button glue"),
        (WASM, "button wasm"),
        ("tweetbuy-checkout.js", "checkout glue"),
        ("tweetbuy-checkout_bg.wasm", "checkout wasm"),
        ("index.html", &format!("<!doctype html><link rel=modulepreload href=\"/tweetbuy/{GLUE}\">")),
        ("snippets/inline0.js", "export const x = 1;"),
        ("embed.template.js", "the loader's template"),
    ] {
        std::fs::write(dir.join(name), body).unwrap();
    }
    let run = || std::process::Command::new("sh").arg(&script).env("TRUNK_STAGING_DIR", dir).output().unwrap();
    let out = run();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    let build = tweetbuy_server::api::widget::read_manifest(dir).unwrap();
    let button = build.glue.strip_prefix("tweetbuy-").and_then(|n| n.strip_suffix(".js")).unwrap();
    assert_eq!(button.len(), 16, "{build:?}");
    assert_ne!(build.glue, GLUE, "named anew from its final bytes");
    assert_eq!(build.wasm, format!("tweetbuy-{button}_bg.wasm"));
    assert_eq!(std::fs::read_to_string(dir.join(&build.glue)).unwrap(), "button glue");
    assert_eq!(std::fs::read_to_string(dir.join(&build.wasm)).unwrap(), "button wasm");
    let preview = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert!(preview.contains(&build.glue) && !preview.contains(GLUE), "{preview}");
    let hash = build.checkout_glue.strip_prefix("tweetbuy-checkout-").and_then(|n| n.strip_suffix(".js")).unwrap();
    assert_eq!(hash.len(), 16, "{build:?}");
    assert_eq!(build.checkout_wasm, format!("tweetbuy-checkout-{hash}_bg.wasm"));
    assert_eq!(std::fs::read_to_string(dir.join(&build.checkout_wasm)).unwrap(), "checkout wasm");
    assert_eq!(build.loader, "embed.template.js");

    // Two button modules in one build is a broken build, not a guess.
    std::fs::write(dir.join("tweetbuy-1111111111111111.js"), "stale").unwrap();
    let out = run();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("more than one"));
}
