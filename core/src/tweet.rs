//! Tweet ids, and how to read one from the many link forms real embeds carry.

use crate::prelude::*;
use core::fmt;
use serde::{Deserialize, Serialize};

/// A tweet id: a decimal snowflake, 1 to 19 digits, fitting in a `u64`.
///
/// Kept as a string on the wire because JavaScript numbers lose precision above 2^53.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(value_type = String, example = "1528000000000000001"))]
#[serde(try_from = "String", into = "String")]
pub struct TweetId(String);

impl TweetId {
    /// Accepts a bare id such as `1528000000000000001`; rejects anything that is not one.
    pub fn parse(raw: &str) -> Option<TweetId> {
        let raw = raw.trim();
        // Nineteen digits are below 10^19, and every such number fits in a `u64` (whose
        // largest is about 1.8 * 10^19): no parse is needed to know it does.
        let digits_only = !raw.is_empty() && raw.len() <= 19 && raw.bytes().all(|b| b.is_ascii_digit());
        (digits_only && !raw.starts_with('0')).then(|| TweetId(raw.to_owned()))
    }

    /// Reads the id from a tweet's status link, in every form that embeds hold:
    /// `twitter.com` or `x.com`, with `www.` or `mobile.`, any letter case in the host,
    /// `/status/` or the legacy `/statuses/`, `/i/web/status/`, with query strings,
    /// fragments and trailing slashes. Links to anything else give `None`.
    pub fn from_status_url(url: &str) -> Option<TweetId> {
        let rest = url.trim();
        let rest = strip_prefix_ignore_case(rest, "https://")
            .or_else(|| strip_prefix_ignore_case(rest, "http://"))
            .or_else(|| rest.strip_prefix("//"))?;
        let (host, path) = rest.split_once('/')?;
        let host = host.to_ascii_lowercase();
        let host = host.strip_prefix("www.").or_else(|| host.strip_prefix("mobile.")).unwrap_or(&host);
        if host != "twitter.com" && host != "x.com" {
            return None;
        }
        let path = path.split(['?', '#']).next().unwrap_or_default();
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        // The id is the segment right after `status`/`statuses`, and the link must end there
        // (a trailing `/photo/1` or `/video/1` still names the same tweet).
        let at =
            segments.iter().position(|s| s.eq_ignore_ascii_case("status") || s.eq_ignore_ascii_case("statuses"))?;
        TweetId::parse(segments.get(at + 1)?)
    }

    /// Reads the `id=` query parameter of a rendered embed's iframe `src`.
    pub fn from_embed_iframe_src(src: &str) -> Option<TweetId> {
        let query = src.split_once('?')?.1;
        let query = query.split('#').next().unwrap_or_default();
        query
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(key, _)| *key == "id")
            .and_then(|(_, value)| TweetId::parse(value))
    }

    /// The id's decimal digits, as the wire carries them.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn strip_prefix_ignore_case<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix).then(|| &s[prefix.len()..])
}

impl fmt::Display for TweetId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// From the wire (JSON), where an id is exact: surrounding spaces are forgiven as in
/// [`TweetId::parse`], control characters are not.
impl TryFrom<String> for TweetId {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Some(&value)
            .filter(|v| crate::text::is_single_line(v))
            .and_then(|v| TweetId::parse(v))
            .ok_or_else(|| "not a tweet id".to_owned())
    }
}

impl From<TweetId> for String {
    fn from(id: TweetId) -> String {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "1528000000000000001";

    #[test]
    fn reads_every_status_link_form() {
        for url in [
            "https://twitter.com/RED/status/1528000000000000001?ref_src=twsrc%5Etfw",
            "https://x.com/RED/status/1528000000000000001",
            "https://www.twitter.com/RED/status/1528000000000000001/",
            "https://mobile.twitter.com/RED/status/1528000000000000001?s=20",
            "https://mobile.x.com/RED/statuses/1528000000000000001",
            "HTTPS://TWITTER.COM/RED/status/1528000000000000001",
            "https://Twitter.com/RED/Status/1528000000000000001#frag",
            "http://twitter.com/RED/status/1528000000000000001",
            "https://twitter.com/i/web/status/1528000000000000001",
            "https://x.com/RED/status/1528000000000000001/photo/1",
            "//twitter.com/RED/status/1528000000000000001",
        ] {
            assert_eq!(TweetId::from_status_url(url).as_ref().map(TweetId::as_str), Some(ID), "{url}");
        }
    }

    #[test]
    fn rejects_links_that_are_not_status_links() {
        for url in [
            "https://twitter.com/RED",
            "https://example.com/RED/status/1528000000000000001",
            "https://twitter.com.evil.test/RED/status/1528000000000000001",
            "https://twitter.com/RED/status/",
            "https://twitter.com/RED/status/abc",
            "https://twitter.com/RED/status/99999999999999999999",
            "https://twitter.com/hashtag/status",
            "status/1528000000000000001",
            "",
        ] {
            assert_eq!(TweetId::from_status_url(url), None, "{url}");
        }
    }

    #[test]
    fn bare_ids_must_be_decimal_u64_without_leading_zero() {
        assert!(TweetId::parse("20").is_some());
        assert!(TweetId::parse(" 20 ").is_some());
        assert!(TweetId::parse("18446744073709551615").is_none(), "20 digits");
        let largest = TweetId::parse("9999999999999999999").map(|id| id.as_str().parse::<u64>().is_ok());
        assert_eq!(largest, Some(true), "the largest id of 19 digits is one, and fits in a u64");
        assert!(TweetId::parse("0").is_none());
        assert!(TweetId::parse("012").is_none());
        assert!(TweetId::parse("12a").is_none());
        assert!(TweetId::parse("-12").is_none());
        assert!(TweetId::parse("").is_none());
    }

    #[test]
    fn reads_rendered_iframe_src() {
        let src = "https://platform.twitter.com/embed/Tweet.html?dnt=true&embedId=twitter-widget-0&id=1528000000000000004&lang=en";
        assert_eq!(TweetId::from_embed_iframe_src(src).unwrap().as_str(), "1528000000000000004");
        assert_eq!(TweetId::from_embed_iframe_src("https://platform.twitter.com/embed/Tweet.html?embedId=1"), None);
        assert_eq!(TweetId::from_embed_iframe_src("https://platform.twitter.com/embed/Tweet.html?id=x1"), None);
    }

    #[test]
    fn serde_rejects_malformed_ids() {
        let ok: TweetId = serde_json::from_str("\"20\"").unwrap();
        assert_eq!(ok.as_str(), "20");
        assert!(serde_json::from_str::<TweetId>("\"2x\"").is_err());
        assert!(serde_json::from_str::<TweetId>("\"20\\n\"").is_err(), "no control characters on the wire");
        assert!(TweetId::parse("20\n").is_some(), "an embed's attribute may still be trimmed");
        assert_eq!(serde_json::to_string(&ok).unwrap(), "\"20\"");
    }
}
