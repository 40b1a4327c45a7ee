//! A `Json` extractor whose rejections are [`AppError`]s, so a malformed body, a wrong
//! content type, an unknown field or an oversized body still gets a `{code, message}` body.

use crate::error::AppError;
use axum::extract::rejection::JsonRejection;
use axum::extract::FromRequest;
use axum::http::StatusCode;
use tweetbuy_core::ErrorCode;

/// Like [`axum::Json`], with [`AppError`] rejections.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(AppError))]
pub struct JsonBody<T>(pub T);

/// [`JsonBody`] for a body whose every field may be left out: no body at all (no bytes and no
/// `Content-Type`) is `T::default()`, so `curl -X POST …/rotate` needs no `-d '{}'`. Bytes
/// sent without a JSON `Content-Type` are refused as [`JsonBody`] refuses them.
pub struct OptionalJsonBody<T>(pub T);

impl<T, S> FromRequest<S> for OptionalJsonBody<T>
where
    T: serde::de::DeserializeOwned + Default,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: axum::extract::Request, state: &S) -> Result<Self, AppError> {
        if request.headers().contains_key(axum::http::header::CONTENT_TYPE) {
            let JsonBody(value) = JsonBody::from_request(request, state).await?;
            return Ok(OptionalJsonBody(value));
        }
        let bytes = axum::body::Bytes::from_request(request, state).await.map_err(|rejection| {
            match rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                true => payload_too_large(),
                false => {
                    AppError::new(rejection.status(), ErrorCode::BadRequest, "The request body could not be read.")
                }
            }
        })?;
        match bytes.is_empty() {
            true => Ok(OptionalJsonBody(T::default())),
            false => Err(not_json()),
        }
    }
}

impl From<JsonRejection> for AppError {
    fn from(rejection: JsonRejection) -> AppError {
        match rejection {
            JsonRejection::JsonDataError(error) => {
                // Serde's message about an unknown or missing field names only the field; its
                // other messages may quote the value (a card number sent as a JSON number), so
                // those are replaced by a sentence that names the field alone, as a field
                // error a form can mark.
                let text = error.body_text();
                let detail = text.split_once("target type: ").map_or(text.as_str(), |(_, d)| d);
                if detail.contains("unknown field") || detail.contains("missing field") {
                    let message = format!("The request body does not fit: {detail}");
                    return AppError::new(StatusCode::UNPROCESSABLE_ENTITY, ErrorCode::BadRequest, message);
                }
                match field_of(detail) {
                    Some(field) => AppError::validation(vec![tweetbuy_core::FieldError::new(
                        field,
                        "invalid_type",
                        format!("`{field}` has the wrong type or value."),
                    )]),
                    None => AppError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        ErrorCode::BadRequest,
                        "A field in the request body has the wrong type or value.",
                    ),
                }
            }
            JsonRejection::JsonSyntaxError(_) => AppError::bad_request("The request body is not valid JSON."),
            JsonRejection::MissingJsonContentType(_) => not_json(),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => payload_too_large(),
            other => AppError::new(other.status(), ErrorCode::BadRequest, "The request body could not be read."),
        }
    }
}

/// The field a data error is about, by its wire name: the last name of the path axum puts
/// before serde's message (`shipping.country: …` is `country`, as field errors name it).
fn field_of(detail: &str) -> Option<&str> {
    let (path, _) = detail.split_once(": ")?;
    let last = path.rsplit('.').next()?;
    let name = last.split('[').next()?;
    let word = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_';
    (!name.is_empty() && name.chars().all(word)).then_some(name)
}

/// The 415 answer to a body sent without a JSON `Content-Type`.
fn not_json() -> AppError {
    AppError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::UnsupportedMediaType,
        "Send the request body as application/json.",
    )
}

/// The 413 answer, shared with the body-limit layer's rewrite.
pub fn payload_too_large() -> AppError {
    AppError::new(StatusCode::PAYLOAD_TOO_LARGE, ErrorCode::PayloadTooLarge, "The request body is too large.")
}
