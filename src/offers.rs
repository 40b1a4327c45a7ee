//! Looks up the offers for many tweets in one request.

use crate::api::{ApiClient, ClientError};
use tweetbuy_core::catalog::MAX_LOOKUP_IDS;
use tweetbuy_core::{OffersResponse, TweetId};

/// The lookup paths for a set of ids: sorted and de-duplicated, so the same set of tweets
/// always makes the same (cacheable) URL and the same tweet embedded twice is asked once;
/// one path per `MAX_LOOKUP_IDS` ids (a single request for any ordinary page).
/// A visitor id, when there is one, lets the server apply per-offer rollout shares.
pub fn lookup_paths(ids: &[TweetId], visitor: Option<&str>) -> Vec<String> {
    let mut ids: Vec<&str> = ids.iter().map(TweetId::as_str).collect();
    ids.sort_unstable();
    ids.dedup();
    let visitor = visitor.map(|v| format!("&visitor={v}")).unwrap_or_default();
    ids.chunks(MAX_LOOKUP_IDS).map(|chunk| format!("/api/v1/offers?tweet_ids={}{visitor}", chunk.join(","))).collect()
}

/// Batched requests for every id. Tweets without an offer are absent from the answer.
pub async fn lookup(api: &ApiClient, ids: &[TweetId], visitor: Option<&str>) -> Result<OffersResponse, ClientError> {
    let mut all = OffersResponse { vault_origin: String::new(), offers: Vec::new() };
    for path in lookup_paths(ids, visitor) {
        let part: OffersResponse = api.get(&path).await?;
        all.vault_origin = part.vault_origin;
        all.offers.extend(part.offers);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_path_for_many_ids_deduplicated() {
        let id = |s: &str| TweetId::parse(s).unwrap();
        let paths = lookup_paths(&[id("3"), id("20"), id("3"), id("1")], None);
        assert_eq!(paths, ["/api/v1/offers?tweet_ids=1,20,3"]);
        assert!(lookup_paths(&[], None).is_empty());
        assert_eq!(lookup_paths(&[id("1")], Some("abcdef12")), ["/api/v1/offers?tweet_ids=1&visitor=abcdef12"]);
        let many: Vec<TweetId> = (1..=250).map(|n| id(&n.to_string())).collect();
        let paths = lookup_paths(&many, None);
        assert_eq!(paths.len(), 3);
        assert_eq!(paths[0].matches(',').count(), MAX_LOOKUP_IDS - 1);
    }
}
