//! Texts the server makes when they are asked for (the widget's loader, filled in with the
//! current build; the vault's card frame, read from the assets folder), sent revalidated
//! rather than cached for good, since they change with a build or a deploy.
//!
//! Each is sent `Cache-Control: no-cache` with an ETag of its content, so a browser that
//! has this version gets a 304 and no body: a page that opens the card frame twice (the
//! saved-info frame, then the card frame) downloads its files once. A browser without it
//! gets it compressed as the build's own files are (brotli at quality 11 with a 4 MB window,
//! gzip at level 9) rather than at the quality tower-http compresses on the way out; the
//! compressed bodies are made once per content and kept, since brotli at quality 11 costs
//! far more than the request.

use crate::error::AppError;
use axum::body::Bytes;
use axum::http::header::{ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, ETAG, IF_NONE_MATCH, VARY};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::Digest;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The compressed bodies of a router's texts, each kept for its latest content.
#[derive(Default)]
pub(crate) struct TextAssets {
    /// Per text's name: the ETag of the content compressed, and its bodies.
    encoded: Mutex<HashMap<&'static str, (String, Arc<Encoded>)>>,
}

impl TextAssets {
    /// `text`, the current content of the text called `name`, as the answer to a request
    /// with `request_headers`: a 304 if the browser has it, else its body in the best
    /// encoding the browser accepts. `headers` (its content type, a policy) go with either.
    pub(crate) async fn respond(
        &self,
        name: &'static str,
        request_headers: &HeaderMap,
        text: String,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Result<Response, AppError> {
        let etag = etag_of(text.as_bytes());
        let mut response = match (if_none_match(request_headers, &etag), Encoding::preferred(request_headers)) {
            (true, _) => StatusCode::NOT_MODIFIED.into_response(),
            (false, None) => text.into_response(),
            (false, Some(encoding)) => {
                let encoded = self.encoded(name, &etag, text).await?;
                let body = match encoding {
                    Encoding::Brotli => encoded.brotli.clone(),
                    Encoding::Gzip => encoded.gzip.clone(),
                };
                ([(CONTENT_ENCODING, encoding.name())], body).into_response()
            }
        };
        let out = response.headers_mut();
        for (name, value) in headers {
            out.insert(name, value.clone());
        }
        out.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        out.insert(VARY, HeaderValue::from_static("accept-encoding"));
        if let Ok(etag) = HeaderValue::from_str(&etag) {
            out.insert(ETAG, etag);
        }
        Ok(response)
    }

    /// The bodies of `name` for the content whose ETag is `etag`, compressed the first time
    /// this content is asked for.
    async fn encoded(&self, name: &'static str, etag: &str, text: String) -> Result<Arc<Encoded>, AppError> {
        let kept = self.encoded.lock().ok().and_then(|kept| kept.get(name).cloned());
        if let Some((_, encoded)) = kept.filter(|(seen, _)| seen == etag) {
            return Ok(encoded);
        }
        let encoded = tokio::task::spawn_blocking(move || Encoded::of(text.as_bytes()))
            .await
            .map_err(|e| AppError::internal(e.to_string()))?
            .map_err(|e| AppError::internal(format!("compressing {name}: {e}")))?;
        let encoded = Arc::new(encoded);
        if let Ok(mut kept) = self.encoded.lock() {
            kept.insert(name, (etag.to_owned(), encoded.clone()));
        }
        Ok(encoded)
    }
}

/// A strong ETag of a content: the first 64 bits of its SHA-256, in hex.
pub(crate) fn etag_of(content: &[u8]) -> String {
    let digest = sha2::Sha256::digest(content);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether the browser's cached copy (`If-None-Match`) is the version tagged `etag`.
pub(crate) fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|tag| tag.trim() == etag || tag.trim() == "*"))
}

/// A text, compressed.
struct Encoded {
    brotli: Bytes,
    gzip: Bytes,
}

impl Encoded {
    fn of(text: &[u8]) -> std::io::Result<Encoded> {
        use std::io::Write;
        let mut brotli = Vec::new();
        {
            // Quality 11 and a 4 MB window, as scripts/brotli.mjs compresses the build's files.
            let mut writer = brotli::CompressorWriter::new(&mut brotli, 4096, 11, 22);
            writer.write_all(text)?;
        }
        let mut gzip = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gzip.write_all(text)?;
        Ok(Encoded { brotli: brotli.into(), gzip: gzip.finish()?.into() })
    }
}

/// The encodings a text is sent in, brotli preferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Encoding {
    Brotli,
    Gzip,
}

impl Encoding {
    /// Brotli if `Accept-Encoding` allows it, else gzip if it allows that; `None`: neither.
    fn preferred(headers: &HeaderMap) -> Option<Encoding> {
        let accepted = |coding: &str| {
            headers.get_all(ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).any(|value| {
                value.split(',').any(|item| {
                    let mut parts = item.split(';').map(str::trim);
                    let name = parts.next().unwrap_or_default();
                    let refused = parts.any(|p| {
                        p.strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()).is_some_and(|q| q <= 0.0)
                    });
                    (name.eq_ignore_ascii_case(coding) || name == "*") && !refused
                })
            })
        };
        [Encoding::Brotli, Encoding::Gzip].into_iter().find(|e| accepted(e.name()))
    }

    fn name(self) -> &'static str {
        match self {
            Encoding::Brotli => "br",
            Encoding::Gzip => "gzip",
        }
    }
}
