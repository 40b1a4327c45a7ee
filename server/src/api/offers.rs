//! `GET /api/v1/offers?tweet_ids=ID,ID,…`: one batched lookup for every tweet on a page.

use super::{catalog, rollout, ApiState};
use crate::clock;
use crate::error::AppError;
use axum::extract::{Query, State};
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use tweetbuy_core::catalog::MAX_LOOKUP_IDS;
use tweetbuy_core::{OffersResponse, TweetId};

pub(crate) fn router() -> Router<ApiState> {
    Router::new().route("/api/v1/offers", get(lookup))
}

#[derive(Deserialize)]
struct LookupQuery {
    tweet_ids: Option<String>,
    /// A stable, anonymous visitor id for rollout bucketing; absent when the visitor asked
    /// not to be tracked.
    visitor: Option<String>,
}

/// The ids asked about: malformed ones are skipped (a page may hold odd links), duplicates
/// dropped; more than [`MAX_LOOKUP_IDS`] entries is refused so one request stays cheap.
pub fn parse_tweet_ids(raw: &str) -> Result<Vec<TweetId>, AppError> {
    let entries: Vec<&str> = raw.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    if entries.len() > MAX_LOOKUP_IDS {
        return Err(AppError::bad_request(format!("Ask about at most {MAX_LOOKUP_IDS} tweets at once.")));
    }
    let mut ids: Vec<TweetId> = Vec::with_capacity(entries.len());
    for id in entries.into_iter().filter_map(TweetId::parse) {
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Offers for the tweets on a page, in one batched lookup. Malformed ids are skipped and
/// duplicates dropped; tweets without an offer are simply absent.
#[utoipa::path(
    get,
    path = "/api/v1/offers",
    tag = "buyer",
    params(
        ("tweet_ids" = String, Query, description = "Comma-separated tweet ids, at most 100.", example = "1528000000000000001,1528000000000000002"),
        ("visitor" = Option<String>, Query, description = "A stable anonymous visitor id for rollout bucketing; without it only offers at a 100 % rollout appear."),
    ),
    responses(
        (status = 200, description = "The offers (`Cache-Control: public, max-age=15`).", body = tweetbuy_core::OffersResponse),
        (status = 400, description = "`bad_request`: no `tweet_ids`, or more than 100.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
async fn lookup(
    State(state): State<ApiState>,
    query: Result<Query<LookupQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, AppError> {
    let Ok(Query(LookupQuery { tweet_ids: Some(raw), visitor })) = query else {
        return Err(AppError::bad_request("Give the tweet ids as ?tweet_ids=ID,ID,…"));
    };
    let ids = parse_tweet_ids(&raw)?;
    let products = catalog::by_tweet_ids(&state.db, &ids, clock::now(), &state.settings.api_origin).await?;
    let visitor = visitor.as_deref().map(str::trim).filter(|v| !v.is_empty() && v.len() <= rollout::MAX_VISITOR_LEN);
    let body = OffersResponse {
        vault_origin: state.settings.vault_origin.clone(),
        offers: products
            .into_iter()
            .filter(|p| rollout::shown(p.rollout_share, visitor, &p.offer.product_id))
            .map(|p| p.offer)
            .collect(),
    };
    // Short: stock and availability change, but a page full of embeds should not refetch
    // on every scroll.
    Ok(([(CACHE_CONTROL, "public, max-age=15")], Json(body)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_filtered_and_bounded() {
        let ids = parse_tweet_ids("20, x, 1528000000000000001,,20,0123").unwrap();
        let ids: Vec<&str> = ids.iter().map(TweetId::as_str).collect();
        assert_eq!(ids, ["20", "1528000000000000001"]);
        let many = (1..=MAX_LOOKUP_IDS + 1).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        assert!(parse_tweet_ids(&many).is_err());
        let enough = (1..=MAX_LOOKUP_IDS).map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        assert_eq!(parse_tweet_ids(&enough).unwrap().len(), MAX_LOOKUP_IDS);
    }
}
