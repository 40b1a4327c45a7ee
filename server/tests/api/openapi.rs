//! `GET /api/openapi.json` against the real router: the document lists exactly the routes
//! `api_app` serves (`openapi::ROUTES`, which is checked against the router's source), every
//! operation in it answers on `api_app`, and the error codes are documented.

use crate::harness::*;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::Value;
use std::collections::BTreeSet;
use tower::ServiceExt;
use tweetbuy_server::api::openapi::{self, ROUTES};

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The document as the api origin serves it.
async fn served_document(server: &TestServer) -> Value {
    let reply = send(&server.api, get("/api/openapi.json")).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    reply.json()
}

/// `(METHOD, path)` of every operation in the document.
fn operations(doc: &Value) -> BTreeSet<(String, String)> {
    let mut ops = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                ops.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    ops
}

fn listed_routes() -> BTreeSet<(String, String)> {
    ROUTES.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect()
}

#[tokio::test]
async fn the_document_lists_exactly_the_routes_of_the_router() {
    let server = start().await;
    let doc = served_document(&server).await;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "an OpenAPI 3 document");
    let documented = operations(&doc);
    let listed = listed_routes();
    assert_eq!(ROUTES.len(), listed.len(), "ROUTES has duplicates");
    let undocumented: Vec<_> = listed.difference(&documented).collect();
    assert!(undocumented.is_empty(), "routes missing from the document: {undocumented:?}");
    let unserved: Vec<_> = documented.difference(&listed).collect();
    assert!(unserved.is_empty(), "documented but not in openapi::ROUTES: {unserved:?}");
}

#[tokio::test]
async fn every_documented_operation_answers_on_api_app() {
    let server = start().await;
    // A widget build, so the loader and the widget's files exist.
    let dist = server.dir.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    for name in ["tweetbuy-3f2a9c1e0b7d6a54.js", "tweetbuy-3f2a9c1e0b7d6a54_bg.wasm"] {
        std::fs::write(dist.join(name), "x").unwrap();
    }
    let doc = served_document(&server).await;
    let ops = operations(&doc);
    assert!(ops.len() >= ROUTES.len());
    for (method, template) in ops {
        let operation = &doc["paths"][&template][method.to_lowercase()];
        let uri = example_uri(&template, operation);
        let request = Request::builder().method(Method::from_bytes(method.as_bytes()).unwrap()).uri(&uri);
        let response = server.api.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
        let status = response.status();
        assert!(
            status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
            "{method} {uri} (documented as {template}) answered {status}"
        );
    }
}

/// The path with each `{param}` replaced by its documented example, and the required query
/// parameters filled in the same way.
fn example_uri(template: &str, operation: &Value) -> String {
    let mut path = template.to_owned();
    let mut query = Vec::new();
    for param in operation["parameters"].as_array().into_iter().flatten() {
        let name = param["name"].as_str().unwrap();
        let example = || {
            param["example"]
                .as_str()
                .unwrap_or_else(|| panic!("{template}: give parameter `{name}` an example"))
                .to_owned()
        };
        match param["in"].as_str().unwrap() {
            "path" => path = path.replace(&format!("{{{name}}}"), &example()),
            "query" if param["required"] == true => query.push(format!("{name}={}", example())),
            _ => {}
        }
    }
    assert!(!path.contains('{'), "{template}: a path parameter is not documented");
    if query.is_empty() {
        path
    } else {
        format!("{path}?{}", query.join("&"))
    }
}

/// `(METHOD, path)` of every `.route(…)` and `.nest_service(…)` in the api's source, so a route
/// added to the router but not to `openapi::ROUTES` fails here.
fn routes_in_source() -> BTreeSet<(String, String)> {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![src.join("api.rs")];
    let mut folders = vec![src.join("api")];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let mut routes = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let code = text.split("#[cfg(test)]").next().unwrap();
        for (at, _) in code.match_indices(".route(") {
            let rest = &code[at + ".route(".len()..];
            let (path, rest) =
                string_literal(rest).unwrap_or_else(|| panic!("{}: .route( without a path", file.display()));
            let mut rest = rest.trim_start().strip_prefix(',').unwrap().trim_start();
            // `get(a)`, or a chain such as `get(a).post(b)`.
            loop {
                let name: String = rest.chars().take_while(|c| c.is_ascii_alphabetic() || *c == '_').collect();
                assert!(METHODS.contains(&name.as_str()), "{}: .route({path:?}, {name}…)", file.display());
                routes.insert((name.to_uppercase(), path.clone()));
                rest = skip_call(&rest[name.len()..]);
                match rest.strip_prefix('.') {
                    Some(next) if METHODS.iter().any(|m| next.starts_with(&format!("{m}("))) => rest = next,
                    _ => break,
                }
            }
        }
        for (at, _) in code.match_indices(".nest_service(") {
            let (path, _) = string_literal(&code[at + ".nest_service(".len()..]).unwrap();
            routes.insert(("GET".to_owned(), format!("{path}/{{file}}")));
        }
    }
    routes
}

/// A leading `"…"` (no escapes), and what follows it.
fn string_literal(text: &str) -> Option<(String, &str)> {
    let text = text.trim_start().strip_prefix('"')?;
    let end = text.find('"')?;
    Some((text[..end].to_owned(), &text[end + 1..]))
}

/// Skips a balanced `( … )` at the start of `text`.
fn skip_call(text: &str) -> &str {
    let mut depth = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth == 0 {
                    return &text[i + 1..];
                }
            }
            _ => {}
        }
    }
    panic!("unbalanced parentheses")
}

#[test]
fn the_route_list_matches_the_router_source() {
    let in_source = routes_in_source();
    let listed = listed_routes();
    let unlisted: Vec<_> = in_source.difference(&listed).collect();
    assert!(unlisted.is_empty(), "routes in the router but not in openapi::ROUTES: {unlisted:?}");
    let stale: Vec<_> = listed.difference(&in_source).collect();
    assert!(stale.is_empty(), "openapi::ROUTES entries the router does not declare: {stale:?}");
}

#[tokio::test]
async fn errors_share_one_schema_and_the_codes_are_documented() {
    let doc = served_document(&start().await).await;
    let codes = &doc["components"]["schemas"]["ErrorCode"];
    let table = codes["description"].as_str().expect("ErrorCode has a description");
    let values: Vec<&str> = codes["enum"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(!values.contains(&"unknown"), "no server sends `unknown`");
    assert_eq!(values.len(), openapi::ERROR_CODES.len(), "one table row per code");
    for code in values {
        assert!(table.contains(&format!("| `{code}` |")), "`{code}` is not in the table");
    }

    // Every JSON error response is the ApiError body.
    for (method, path) in operations(&doc) {
        let operation = &doc["paths"][&path][method.to_lowercase()];
        for (status, response) in operation["responses"].as_object().unwrap() {
            let Some(schema) = response.pointer("/content/application~1json/schema") else { continue };
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(schema["$ref"], "#/components/schemas/ApiError", "{method} {path} {status}");
            }
        }
    }

    let orders = &doc["paths"]["/api/v1/orders"]["post"];
    let key = orders["parameters"].as_array().unwrap().iter().find(|p| p["name"] == "Idempotency-Key").unwrap();
    assert_eq!((key["in"].as_str(), key["required"].as_bool()), (Some("header"), Some(true)));
    let statuses: Vec<&str> = orders["responses"].as_object().unwrap().keys().map(String::as_str).collect();
    for status in ["201", "400", "402", "404", "409", "413", "415", "422", "429", "500", "502"] {
        assert!(statuses.contains(&status), "orders documents {status}");
    }

    // Orders pay an intent: the body is a PayRequest, and its refusals are documented.
    let body = orders["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str().unwrap();
    assert_eq!(body, "#/components/schemas/PayRequest");
    let pay = &doc["components"]["schemas"]["PayRequest"];
    let mut fields: Vec<&str> = pay["properties"].as_object().unwrap().keys().map(String::as_str).collect();
    fields.sort();
    assert_eq!(
        fields,
        ["card_token", "client_secret", "intent_id", "lang"],
        "nothing in an order but its intent, its token and the language of its receipt"
    );
    let required: Vec<&str> = pay["required"].as_array().unwrap().iter().map(|f| f.as_str().unwrap()).collect();
    assert!(!required.contains(&"lang"), "an order without a language is written to in English: {required:?}");
    let text = |status: &str| orders["responses"][status]["description"].as_str().unwrap().to_owned();
    assert!(text("422").contains("`token_mismatch`") && text("422").contains("`intent_invalid`"), "{}", text("422"));
    assert!(text("409").contains("`intent_invalid`"), "{}", text("409"));
    for code in ["token_mismatch", "intent_invalid"] {
        assert!(table.contains(&format!("| `{code}` |")), "`{code}` is not in the table");
    }

    // Intents: documented, priced by the server, refused the same ways as a quote.
    let intents = &doc["paths"]["/api/v1/intents"]["post"];
    assert!(intents.is_object(), "POST /api/v1/intents is documented");
    let body = intents["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str().unwrap();
    assert_eq!(body, "#/components/schemas/IntentRequest");
    let created = intents["responses"]["201"]["content"]["application/json"]["schema"]["$ref"].as_str().unwrap();
    assert_eq!(created, "#/components/schemas/PaymentIntent");
    let statuses: Vec<&str> = intents["responses"].as_object().unwrap().keys().map(String::as_str).collect();
    for status in ["201", "400", "404", "409", "413", "415", "422", "429"] {
        assert!(statuses.contains(&status), "intents documents {status}");
    }
    let intent = &doc["components"]["schemas"]["PaymentIntent"]["properties"];
    for field in ["intent_id", "client_secret", "quote", "seller", "expires_at"] {
        assert!(intent.get(field).is_some(), "PaymentIntent.{field}");
    }

    assert_eq!(doc["components"]["securitySchemes"]["admin_key"]["scheme"], "bearer");
    for (method, path) in operations(&doc) {
        let security = &doc["paths"][&path][method.to_lowercase()]["security"];
        assert_eq!(path.starts_with("/admin/"), security == &serde_json::json!([{"admin_key": []}]), "{method} {path}");
    }
}
