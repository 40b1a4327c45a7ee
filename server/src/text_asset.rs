//! Texts the server makes when they are asked for (the widget's loader, filled in with the
//! current build; the vault's card frame, read from the assets folder), sent revalidated
//! rather than cached for good, since they change with a build or a deploy.
//!
//! Each is sent `Cache-Control: no-cache` with an ETag of its content and encoding, so a
//! browser that has this version, in any encoding, gets a 304 and no body: a page that opens
//! the card frame twice (the saved-info frame, then the card frame) downloads its files once. A browser without it
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
    /// Per text's name: the version of the content compressed, and its bodies.
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
        let version = version_of(text.as_bytes());
        let encoding = Encoding::preferred(request_headers);
        let etag = match encoding {
            None => format!("\"{version}\""),
            Some(encoding) => format!("\"{version}-{}\"", encoding.name()),
        };
        let has_it = any_none_match(request_headers, |tag| {
            tag.strip_prefix(version.as_str()).is_some_and(|coding| ["", "-br", "-gzip"].contains(&coding))
        });
        let mut response = match (has_it, encoding) {
            (true, _) => StatusCode::NOT_MODIFIED.into_response(),
            (false, None) => text.into_response(),
            (false, Some(encoding)) => {
                let encoded = self.encoded(name, &version, text).await?;
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

    /// Compresses `text`, the content of the text called `name`, before it is first asked for:
    /// otherwise the first buyer after a start waits for brotli at quality 11 (0.4 s for the
    /// card frame's script on a small host).
    pub(crate) async fn warm(&self, name: &'static str, text: String) -> Result<(), AppError> {
        let version = version_of(text.as_bytes());
        self.encoded(name, &version, text).await.map(drop)
    }

    /// The bodies of `name` for the content `version`, compressed the first time this
    /// content is asked for.
    async fn encoded(&self, name: &'static str, version: &str, text: String) -> Result<Arc<Encoded>, AppError> {
        let kept = self.encoded.lock().ok().and_then(|kept| kept.get(name).cloned());
        if let Some((_, encoded)) = kept.filter(|(seen, _)| seen == version) {
            return Ok(encoded);
        }
        let encoded = tokio::task::spawn_blocking(move || Encoded::of(text.as_bytes()))
            .await
            .map_err(|e| AppError::internal(e.to_string()))?
            .map_err(|e| AppError::internal(format!("compressing {name}: {e}")))?;
        let encoded = Arc::new(encoded);
        if let Ok(mut kept) = self.encoded.lock() {
            kept.insert(name, (version.to_owned(), encoded.clone()));
        }
        Ok(encoded)
    }
}

/// A content's version: the first 64 bits of its SHA-256, in hex. Its ETags are this, and
/// this with `-br` or `-gzip` for a compressed body, since each encoding is a representation
/// of its own (RFC 9110, 8.8.3).
fn version_of(content: &[u8]) -> String {
    sha2::Sha256::digest(content)[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// Whether the browser's cached copy (`If-None-Match`) is the one tagged `etag`.
pub(crate) fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    any_none_match(headers, |tag| tag == etag.trim_matches('"'))
}

/// Whether `If-None-Match` is `*` or names a tag (without its quotes) that `matches`. The
/// comparison is weak, as RFC 9110 (13.1.2) asks: a `W/` that a cache put in front does not
/// count.
fn any_none_match(headers: &HeaderMap, matches: impl Fn(&str) -> bool) -> bool {
    headers.get_all(IF_NONE_MATCH).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).any(|tag| {
        let tag = tag.trim();
        tag == "*" || matches(tag.strip_prefix("W/").unwrap_or(tag).trim_matches('"'))
    })
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
    /// A coding named in the header is taken at its own weight, even beside a `*`; one not
    /// named, at `*`'s; a weight of 0 refuses it.
    fn preferred(headers: &HeaderMap) -> Option<Encoding> {
        let entries: Vec<(&str, bool)> = headers
            .get_all(ACCEPT_ENCODING)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(|item| {
                let mut parts = item.split(';').map(str::trim);
                let name = parts.next().unwrap_or_default();
                let refused = parts
                    .any(|p| p.strip_prefix("q=").and_then(|q| q.trim().parse::<f32>().ok()).is_some_and(|q| q <= 0.0));
                (name, !refused)
            })
            .collect();
        let accepted = |coding: &str| {
            let named = entries.iter().find(|(name, _)| name.eq_ignore_ascii_case(coding));
            named.or_else(|| entries.iter().find(|(name, _)| *name == "*")).is_some_and(|(_, accepted)| *accepted)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_warmed_text_is_answered_from_what_was_compressed_then() {
        let texts = TextAssets::default();
        let text = "console.log('frame');\n".repeat(50);
        texts.warm("frame.js", text.clone()).await.unwrap();
        let kept =
            texts.encoded.lock().unwrap().get("frame.js").map(|(version, encoded)| (version.clone(), encoded.clone()));
        let (version, kept) = kept.expect("compressed ahead");
        assert_eq!(version, version_of(text.as_bytes()));
        let answered = texts.encoded("frame.js", &version, text).await.unwrap();
        assert!(Arc::ptr_eq(&kept, &answered), "the request found the warmed bodies");
    }

    fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn the_encoding_is_the_best_the_browser_accepts_and_a_named_refusal_stands() {
        let preferred = |value: &str| Encoding::preferred(&headers(&[(ACCEPT_ENCODING, value)]));
        assert_eq!(preferred("gzip, deflate, br, zstd"), Some(Encoding::Brotli));
        assert_eq!(preferred("gzip"), Some(Encoding::Gzip));
        assert_eq!(preferred("BR;q=0.5"), Some(Encoding::Brotli));
        assert_eq!(preferred("*"), Some(Encoding::Brotli));
        assert_eq!(preferred("br;q=0, *"), Some(Encoding::Gzip), "named and refused, whatever `*` says");
        assert_eq!(preferred("*;q=0, gzip"), Some(Encoding::Gzip));
        assert_eq!(preferred("br;q=0, gzip;q=0"), None);
        assert_eq!(preferred("identity"), None);
        assert_eq!(Encoding::preferred(&HeaderMap::new()), None);
        let split = headers(&[(ACCEPT_ENCODING, "gzip"), (ACCEPT_ENCODING, "br")]);
        assert_eq!(Encoding::preferred(&split), Some(Encoding::Brotli), "the header given twice");
    }

    #[test]
    fn if_none_match_compares_weakly_over_a_list() {
        let has = |value: &str, etag: &str| if_none_match(&headers(&[(IF_NONE_MATCH, value)]), etag);
        assert!(has("\"abc\"", "\"abc\""));
        assert!(has("W/\"abc\"", "\"abc\""), "a cache's weak copy of it");
        assert!(has("\"x\", \"abc\"", "\"abc\""));
        assert!(has("*", "\"abc\""));
        assert!(!has("\"abcd\"", "\"abc\""));
        assert!(!if_none_match(&HeaderMap::new(), "\"abc\""));
    }

    #[tokio::test]
    async fn each_encoding_has_its_own_etag_and_any_of_them_is_current() {
        let texts = TextAssets::default();
        let answer = |pairs: Vec<(HeaderName, String)>| {
            let request = headers(&pairs.iter().map(|(n, v)| (n.clone(), v.as_str())).collect::<Vec<_>>());
            let texts = &texts;
            async move { texts.respond("t", &request, "the text".repeat(50), &[]).await.unwrap() }
        };
        let tag = |response: &Response| response.headers()[ETAG].to_str().unwrap().to_owned();
        let plain = answer(vec![]).await;
        let br = answer(vec![(ACCEPT_ENCODING, "br".into())]).await;
        let gzip = answer(vec![(ACCEPT_ENCODING, "gzip".into())]).await;
        let tags = [tag(&plain), tag(&br), tag(&gzip)];
        assert!(tags[1].ends_with("-br\"") && tags[2].ends_with("-gzip\""), "{tags:?}");
        assert_eq!(tags[1].trim_end_matches("-br\""), tags[0].trim_end_matches('"'), "one version, three encodings");
        for held in &tags {
            let again = answer(vec![(ACCEPT_ENCODING, "br".into()), (IF_NONE_MATCH, held.clone())]).await;
            assert_eq!(again.status(), StatusCode::NOT_MODIFIED, "{held}");
        }
        let other = answer(vec![(IF_NONE_MATCH, "\"0123456789abcdef-br\"".into())]).await;
        assert_eq!(other.status(), StatusCode::OK, "another version");
        let unknown = format!("{}-deflate\"", tags[0].trim_end_matches('"'));
        let unknown = answer(vec![(IF_NONE_MATCH, unknown)]).await;
        assert_eq!(unknown.status(), StatusCode::OK, "no encoding this server sends");
    }
}
