//! The tweet id rules of the offer lookup, from the one table both sides run:
//! `lookup_vectors.json` beside this file. The loader sends the first lookup itself while
//! the button module downloads (`server/assets/lookup-rules.mjs`), with the same rules in
//! JavaScript; `tests/e2e/lookup_rules.test.mjs` runs this table through them, and the
//! widget's own tests run its part (paths, do-not-track values, visitor ids, the loader's
//! script tag and the api's base URL).

use serde::Deserialize;
use tweetbuy_core::TweetId;

#[derive(Deserialize)]
struct Vectors {
    tweet_ids: Vec<RawCase>,
    status_urls: Vec<UrlCase>,
    iframe_srcs: Vec<SrcCase>,
}

#[derive(Deserialize)]
struct RawCase {
    raw: String,
    id: Option<String>,
}

#[derive(Deserialize)]
struct UrlCase {
    url: String,
    id: Option<String>,
}

#[derive(Deserialize)]
struct SrcCase {
    src: String,
    id: Option<String>,
}

fn vectors() -> Vectors {
    serde_json::from_str(include_str!("lookup_vectors.json")).expect("lookup_vectors.json parses")
}

fn id(found: Option<TweetId>) -> Option<String> {
    found.map(|id| id.as_str().to_owned())
}

#[test]
fn tweet_ids_are_read_as_the_table_says() {
    let v = vectors();
    assert!(v.tweet_ids.len() > 10 && v.status_urls.len() > 20 && v.iframe_srcs.len() > 5);
    let wrong: Vec<&str> =
        v.tweet_ids.iter().filter(|c| id(TweetId::parse(&c.raw)) != c.id).map(|c| c.raw.as_str()).collect();
    assert!(wrong.is_empty(), "{wrong:?}");
    let wrong: Vec<&str> =
        v.status_urls.iter().filter(|c| id(TweetId::from_status_url(&c.url)) != c.id).map(|c| c.url.as_str()).collect();
    assert!(wrong.is_empty(), "{wrong:?}");
    let wrong: Vec<&str> = v
        .iframe_srcs
        .iter()
        .filter(|c| id(TweetId::from_embed_iframe_src(&c.src)) != c.id)
        .map(|c| c.src.as_str())
        .collect();
    assert!(wrong.is_empty(), "{wrong:?}");
}
