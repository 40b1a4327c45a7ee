//! `GET /api/v1/products/{product_id}/availability`: the live stock and availability of one
//! offer, for the product sheet's "N left" (read when it opens and every 15 s while open).
//! Never cached: a stale figure would be a made-up one.

use super::{catalog, ApiState};
use crate::clock;
use crate::error::AppError;
use crate::extract::Path;
use axum::extract::State;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tweetbuy_core::AvailabilityResponse;

pub(crate) fn router() -> Router<ApiState> {
    Router::new().route("/api/v1/products/{product_id}/availability", get(availability))
}

/// The live stock and availability of one offer (never cached).
#[utoipa::path(
    get,
    path = "/api/v1/products/{product_id}/availability",
    tag = "buyer",
    params(("product_id" = String, Path, description = "The product's id.", example = "red-tee")),
    responses(
        (status = 200, description = "The live figures (`Cache-Control: no-store`).", body = tweetbuy_core::AvailabilityResponse),
        (status = 404, description = "`not_found`: no such product.", body = tweetbuy_core::ApiError),
        (status = 500, description = "`internal`.", body = tweetbuy_core::ApiError),
    )
)]
async fn availability(State(state): State<ApiState>, Path(product_id): Path<String>) -> Result<Response, AppError> {
    let product = catalog::by_id(&state.db, &product_id, clock::now(), &state.settings.api_origin)
        .await?
        .ok_or_else(|| AppError::not_found("No such product."))?;
    let body = AvailabilityResponse::of(&product.offer);
    Ok(([(CACHE_CONTROL, "no-store")], Json(body)).into_response())
}

#[cfg(test)]
mod tests {
    use crate::api::seed::seed_demo_if_empty;
    use crate::{api_app, clock, db, ApiSettings, ApiState};
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    #[tokio::test]
    async fn live_stock_is_never_cached_and_unknown_products_are_404() {
        let dir = tempfile::tempdir().unwrap();
        let pool = db::open_api(&dir.path().join("api.db")).await.unwrap();
        seed_demo_if_empty(&pool, clock::now()).await.unwrap();
        sqlx::query("UPDATE variants SET stock = 3 WHERE product_id = 'red-tee' AND id = 'm'")
            .execute(&pool)
            .await
            .unwrap();
        let app = api_app(ApiState::new(
            pool,
            ApiSettings {
                api_origin: "http://api.test".into(),
                vault_origin: "http://vault.test".into(),
                allowed_origins: vec![],
                widget_dir: dir.path().join("dist"),
                vault_internal_url: "http://127.0.0.1:9".into(),
                vault_api_key: "k".into(),
            },
        ));
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let reply = app.clone().oneshot(get("/api/v1/products/red-tee/availability")).await.unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        assert_eq!(reply.headers()["cache-control"], "no-store");
        let body: serde_json::Value =
            serde_json::from_slice(&reply.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(body["availability"], "available");
        assert_eq!(body["variants"][1], serde_json::json!({"id": "m", "stock": 3}), "the stock as stored now");
        assert_eq!(body["variants"].as_array().unwrap().len(), 4);

        let sold_out = app.clone().oneshot(get("/api/v1/products/paramore-tour-tee/availability")).await.unwrap();
        let body: serde_json::Value =
            serde_json::from_slice(&sold_out.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(body["availability"], "sold_out");

        let ended = app.clone().oneshot(get("/api/v1/products/home-depot-tool-kit/availability")).await.unwrap();
        let body: serde_json::Value =
            serde_json::from_slice(&ended.into_body().collect().await.unwrap().to_bytes()).unwrap();
        assert_eq!(body["availability"], "sale_ended");

        let missing = app.oneshot(get("/api/v1/products/nope/availability")).await.unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }
}
