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
    assert!(html.contains(r#"<form id="card">"#), "the card form is shown as sent: {html}");
    // One page for the saved-info frame and the card frame (each learns which it is from its
    // iframe's name): the browser's copy from the first answers the second.
    let first = send(&server.vault, get("/frame?lang=es")).await;
    let etag = first.header("etag").expect("the page has a version").to_owned();
    let second = send(&server.vault, get_with("/frame?lang=es", &[("if-none-match", &etag)])).await;
    assert_eq!(second.status, StatusCode::NOT_MODIFIED);
    // Anything else in the address changes nothing.
    let other = send(&server.vault, get_with("/frame?lang=es&mode=saved", &[("if-none-match", &etag)])).await;
    assert_eq!(other.status, StatusCode::NOT_MODIFIED);

    let reply = send(&server.vault, get("/frame.js")).await;
    assert_eq!((reply.status, reply.header("content-type")), (StatusCode::OK, Some("text/javascript; charset=utf-8")));
    assert_eq!(reply.text(), "console.log(`frame`);");
    let reply = send(&server.vault, get("/frame-rules.mjs")).await;
    assert_eq!((reply.status, reply.header("content-type")), (StatusCode::OK, Some("text/javascript; charset=utf-8")));
    assert_eq!(reply.text(), "export const decode=()=>null;");
    let reply = send(&server.vault, get("/frame-keys.js")).await;
    assert_eq!((reply.status, reply.header("content-type")), (StatusCode::OK, Some("text/javascript; charset=utf-8")));
    assert_eq!(reply.text(), "window.tbKeyboard={};");
    let reply = send(&server.vault, get("/frame.css")).await;
    assert_eq!((reply.status, reply.header("content-type")), (StatusCode::OK, Some("text/css; charset=utf-8")));
}

/// The window a saved-info frame asks the buyer to confirm in, where the browser cannot say
/// whether the frame is covered: framable by nobody (not even the publishers that may frame
/// the frame), fetching nothing, in the frame's language.
#[tokio::test]
async fn the_confirmation_window_is_framable_by_nobody_and_speaks_the_frames_language() {
    let server = start().await;
    let reply = send(&server.vault, get("/confirm?lang=es-AR")).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(
        reply.header("content-security-policy"),
        Some(
            "default-src 'none'; script-src 'self'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'; \
             form-action 'none'"
        )
    );
    assert_eq!(reply.header("cross-origin-opener-policy"), None, "it answers the frame that opened it");
    let html = reply.text();
    assert!(html.starts_with(r#"<!doctype html><html lang="es"><title>Confirmar</title>"#), "{html}");
    assert!(html.contains(r#"data-nothing="No hay nada que confirmar aquí. Puedes cerrar esta ventana.""#), "{html}");
    assert!(html.contains("<button>Cancelar</button>") && !html.contains("{{"), "{html}");
    let english = send(&server.vault, get("/confirm?lang=fr")).await.text();
    assert!(english.contains("<title>Confirm</title><main data-nothing=\"There is nothing"), "{english}");
    let script = send(&server.vault, get("/confirm.js")).await;
    assert_eq!((script.status, script.text().as_str()), (StatusCode::OK, "window.close();"));
    assert_eq!(script.header("content-type"), Some("text/javascript; charset=utf-8"));
    // The frame's side of it, loaded only by a saved-info frame that cannot see itself covered.
    let asker = send(&server.vault, get("/frame-ask.mjs")).await;
    assert_eq!((asker.status, asker.text().as_str()), (StatusCode::OK, "export const asker=()=>null;"));
    assert_eq!(asker.header("content-type"), Some("text/javascript; charset=utf-8"));
}

#[tokio::test]
async fn missing_frame_assets_are_503_json() {
    let server = start().await;
    std::fs::remove_dir_all(server.dir.path().join("assets/frame")).unwrap();
    for path in [
        "/frame",
        "/frame.js",
        "/frame-rules.mjs",
        "/frame-keys.js",
        "/frame-words-en.js",
        "/confirm",
        "/confirm.js",
        "/confirm.css",
    ] {
        let reply = send(&server.vault, get(path)).await;
        assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(reply.error_code(), "unavailable");
    }
    let reply = send(&server.vault, get("/frame.html")).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
}

/// The frame is in the widget's language where the vault has its words, and in English
/// elsewhere; a buyer gets that language's words only.
#[tokio::test]
async fn the_frame_speaks_the_widgets_language_and_loads_its_words_only() {
    let server = start().await;
    for (query, lang) in [
        ("", "en"),
        ("?lang=es", "es"),
        ("?lang=es-AR", "es"),
        ("?lang=ES-mx", "es"),
        ("?lang=fr", "en"),
        ("?lang=esp", "en"),
        // The first `lang` decides, as the widget's own reading of its tag would.
        ("?lang=es&lang=en", "es"),
        ("?lang=es%22%3E%3Cscript%3E", "en"),
    ] {
        let html = send(&server.vault, get(&format!("/frame{query}"))).await.text();
        assert!(html.contains(&format!(r#"<html lang="{lang}""#)), "{query}: {html}");
        assert!(html.contains(&format!(r#"<script defer src="/frame-words-{lang}.js">"#)), "{query}: {html}");
        assert_eq!(html.matches("/frame-words-").count(), 1, "{query}: one language's words");
    }
    for lang in ["en", "es"] {
        let reply = send(&server.vault, get(&format!("/frame-words-{lang}.js"))).await;
        assert_eq!(
            (reply.status, reply.header("content-type")),
            (StatusCode::OK, Some("text/javascript; charset=utf-8"))
        );
        assert_eq!(reply.text(), format!("window.tbWords={{lang:`{lang}`}};"));
    }
    assert_eq!(send(&server.vault, get("/frame-words-fr.js")).await.status, StatusCode::NOT_FOUND);
}

/// A purchase opens the frame twice (saved info, then the card): the second time costs no
/// body, and the first comes compressed.
#[tokio::test]
async fn the_frames_files_come_compressed_and_are_revalidated_by_their_etag() {
    let server = start().await;
    let frame_js = server.dir.path().join("assets/frame/frame.js");
    std::fs::write(&frame_js, "console.log('the card frame');\n".repeat(200)).unwrap();
    for path in ["/frame", "/frame.js", "/frame-rules.mjs", "/frame-keys.js", "/frame.css"] {
        let plain = send(&server.vault, get(path)).await;
        assert_eq!(plain.status, StatusCode::OK, "{path}");
        assert_eq!(plain.header("content-encoding"), None, "{path}: sent as it is to a browser that asks so");
        assert_eq!(plain.header("cache-control"), Some("no-cache"), "{path}");
        assert_eq!(plain.header("vary"), Some("accept-encoding"), "{path}");
        let etag = plain.header("etag").unwrap_or_else(|| panic!("{path} has no ETag")).to_owned();

        let br = send(&server.vault, get_with(path, &[("accept-encoding", "gzip, deflate, br")])).await;
        assert_eq!((br.status, br.header("content-encoding")), (StatusCode::OK, Some("br")), "{path}");
        let br_etag = br.header("etag").unwrap_or_default().to_owned();
        assert_eq!(br_etag, format!("{}-br\"", etag.trim_end_matches('"')), "{path}: its own tag, of the same version");
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut brotli::Decompressor::new(br.body.as_slice(), 4096), &mut text).unwrap();
        assert_eq!(text, plain.body, "{path}: the brotli body is the file");
        let gz = send(&server.vault, get_with(path, &[("accept-encoding", "gzip")])).await;
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{path}");
        let mut text = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(gz.body.as_slice()), &mut text).unwrap();
        assert_eq!(text, plain.body, "{path}: the gzip body is the file");

        let again =
            send(&server.vault, get_with(path, &[("accept-encoding", "br"), ("if-none-match", &br_etag)])).await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED, "{path}: the browser's copy is current");
        assert!(again.body.is_empty(), "{path}");
        assert_eq!((again.header("etag"), again.header("cache-control")), (Some(br_etag.as_str()), Some("no-cache")));
        if path == "/frame" {
            assert!(again.header("content-security-policy").is_some_and(|csp| csp.contains("frame-ancestors")));
        }
    }
    let brotli_size = send(&server.vault, get_with("/frame.js", &[("accept-encoding", "br")])).await.body.len();
    assert!(brotli_size < 200, "6,200 B of a repeated line compress to {brotli_size} B");

    // A deploy changes the file: the browser's copy is stale, and the new one is sent.
    let etag = send(&server.vault, get_with("/frame.js", &[("accept-encoding", "br")]))
        .await
        .header("etag")
        .unwrap()
        .to_owned();
    std::fs::write(&frame_js, "console.log(`fixed`);").unwrap();
    let changed =
        send(&server.vault, get_with("/frame.js", &[("accept-encoding", "br"), ("if-none-match", &etag)])).await;
    assert_eq!(changed.status, StatusCode::OK);
    assert_ne!(changed.header("etag"), Some(etag.as_str()));
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut brotli::Decompressor::new(changed.body.as_slice(), 4096), &mut text).unwrap();
    assert_eq!(text, b"console.log(`fixed`);", "not the compressed body kept for the old content");
}

/// The frame's scripts go out with their names shortened and without the comments and
/// spaces that explain them (a module's exports and a classic script's globals keep their
/// names), `frame.js` with its rules written in, as they are when they do not parse; its
/// stylesheet minified as the widget's.
#[tokio::test]
async fn the_frames_scripts_and_stylesheet_go_out_without_their_comments() {
    let server = start().await;
    let frame_js = server.dir.path().join("assets/frame/frame.js");
    let module = "// Why the frame does this.\nimport { decode } from \"/frame-rules.mjs\";\n\nexport function pay(amountDue) {\n  // A comment line.\n  const settled = decode(amountDue);\n  return `${settled}`;\n}\n";
    std::fs::write(&frame_js, module).unwrap();
    let sent = send(&server.vault, get("/frame.js")).await.text();
    for gone in ["Why", "A comment", "amountDue", "settled", "\n  "] {
        assert!(!sent.contains(gone), "{gone:?} in {sent}");
    }
    // Its rules are written in where it imports them, with their names shortened too.
    assert!(!sent.contains("import") && !sent.contains("/frame-rules.mjs"), "{sent}");
    assert!(!sent.contains("decode") && sent.contains("=()=>null"), "{sent}");
    assert!(sent.contains("export function pay("), "the export keeps its name: {sent}");
    let renamed = module
        .replace("import { decode }", "import { decode as read }")
        .replace("decode(amountDue)", "read(amountDue)");
    std::fs::write(&frame_js, renamed).unwrap();
    let sent = send(&server.vault, get("/frame.js")).await.text();
    assert!(
        sent.starts_with("import{decode as ") && sent.contains(r#"from"/frame-rules.mjs""#),
        "left to the browser: {sent}"
    );
    let keys = server.dir.path().join("assets/frame/keys.js");
    std::fs::write(
        &keys,
        "// A global.\nwindow.tbKeyboard = 1;\nvar tbTop = (function (longName) { return longName; })(2);\n",
    )
    .unwrap();
    let sent = send(&server.vault, get("/frame-keys.js")).await.text();
    assert!(sent.contains("window.tbKeyboard=1") && sent.contains("var tbTop="), "globals keep their names: {sent}");
    assert!(!sent.contains("longName") && !sent.contains("A global"), "{sent}");
    let broken = "function pay( {\n  // not a script\n";
    std::fs::write(&frame_js, broken).unwrap();
    assert_eq!(send(&server.vault, get("/frame.js")).await.text(), broken, "sent as it is");
    let css = server.dir.path().join("assets/frame/frame.css");
    std::fs::write(&css, "/* a comment */\n  .a :hover,\n.b { color: red; }\n").unwrap();
    assert_eq!(send(&server.vault, get("/frame.css")).await.text(), ".a :hover,.b{color: red}");
}
