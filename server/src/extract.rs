//! `Path`, `Query` and `Form` extractors whose rejections are [`AppError`]s, as
//! [`crate::json::JsonBody`] is for bodies: a malformed address, query string or form still
//! gets a `{code, message}` JSON body, never axum's plain text. Messages name what is wrong
//! but never echo a value (a query string may carry a token).

use crate::error::AppError;
use axum::extract::rejection::{FormRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts};
use axum::http::StatusCode;
use tweetbuy_core::ErrorCode;

/// Like [`axum::extract::Path`], with [`AppError`] rejections.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(AppError))]
pub struct Path<T>(pub T);

/// Like [`axum::extract::Query`], with [`AppError`] rejections.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(AppError))]
pub struct Query<T>(pub T);

/// Like [`axum::extract::Form`], with [`AppError`] rejections.
#[derive(FromRequest)]
#[from_request(via(axum::extract::Form), rejection(AppError))]
pub struct Form<T>(pub T);

/// Serde's "missing field `x`", which names a field and no value; `None` for anything else.
fn missing_field(text: &str) -> Option<&str> {
    let at = text.find("missing field `")?;
    Some(&text[at..])
}

impl From<PathRejection> for AppError {
    fn from(rejection: PathRejection) -> AppError {
        if rejection.status().is_server_error() {
            return AppError::internal(rejection.body_text());
        }
        AppError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, "A part of the address is not valid.")
    }
}

impl From<QueryRejection> for AppError {
    fn from(rejection: QueryRejection) -> AppError {
        let message = match missing_field(&rejection.body_text()) {
            Some(missing) => format!("The query string lacks a value: {missing}."),
            None => "The query string is not valid.".to_owned(),
        };
        AppError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }
}

impl From<FormRejection> for AppError {
    fn from(rejection: FormRejection) -> AppError {
        match rejection {
            FormRejection::InvalidFormContentType(_) => AppError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                ErrorCode::UnsupportedMediaType,
                "Send the form as application/x-www-form-urlencoded.",
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => crate::json::payload_too_large(),
            other => {
                let message = match missing_field(&other.body_text()) {
                    Some(missing) => format!("The form lacks a value: {missing}."),
                    None => "The form is not valid.".to_owned(),
                };
                AppError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::BadRequest, message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::{get, post};
    use axum::Router;
    use tower::ServiceExt;

    #[derive(serde::Deserialize)]
    struct Token {
        #[allow(dead_code)]
        token: String,
    }

    #[derive(serde::Deserialize)]
    struct Count {
        #[allow(dead_code)]
        count: u32,
    }

    async fn answer(app: Router, request: Request<Body>) -> (StatusCode, String, serde_json::Value) {
        let response = app.oneshot(request).await.unwrap();
        let status = response.status();
        let kind = response.headers()["content-type"].to_str().unwrap().to_owned();
        let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        (status, kind, serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null))
    }

    #[tokio::test]
    async fn rejections_are_json_errors_that_echo_no_value() {
        let app = Router::new()
            .route("/orders/{number}", get(|Path(n): Path<u32>| async move { n.to_string() }))
            .route("/q", get(|Query(_): Query<Token>| async { "ok" }))
            .route("/n", get(|Query(_): Query<Count>| async { "ok" }))
            .route("/f", post(|Form(_): Form<Token>| async { "ok" }));
        let get_ = |uri: &str| Request::builder().uri(uri).body(Body::empty()).unwrap();
        let form = |kind: &str, body: &str| {
            Request::builder().method("POST").uri("/f").header("content-type", kind).body(Body::from(body.to_owned()))
        };
        for (request, status, message) in [
            (get_("/orders/%FF"), 400, "A part of the address is not valid."),
            (get_("/orders/4242424242424242"), 400, "A part of the address is not valid."),
            (get_("/q"), 400, "The query string lacks a value: missing field `token`."),
            (get_("/n?count=4242424242424242"), 400, "The query string is not valid."),
            (
                form("application/x-www-form-urlencoded", "x=1").unwrap(),
                422,
                "The form lacks a value: missing field `token`.",
            ),
            (form("text/plain", "token=1").unwrap(), 415, "Send the form as application/x-www-form-urlencoded."),
        ] {
            let (got, kind, body) = answer(app.clone(), request).await;
            assert_eq!((got.as_u16(), kind.as_str()), (status, "application/json"), "{body}");
            assert_eq!(body["message"], message);
            assert!(!body.to_string().contains("4242"), "no value echoed: {body}");
        }
    }
}
