//! The one error type of every handler: what the client may know becomes an [`ApiError`]
//! body; what it may not (database failures, bugs) is logged and answered with a generic 500.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tweetbuy_core::{ApiError, ErrorCode, FieldError};

/// What a handler or a store function failed with, and what the client is told of it
/// ([`AppError::into_parts`]).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// An answer meant for the client: status and `{code, message, fields?, decline_code?}`.
    #[error("{status} {:?}: {}", .body.code, .body.message)]
    Client {
        /// The HTTP status it is sent with.
        status: StatusCode,
        /// The JSON body: `code` tells the widget what to do, `message` may be shown.
        body: Box<ApiError>,
    },
    /// A database failure, logged: answered 503 `unavailable` (with `Retry-After: 1`) while the
    /// database is out of reach for a moment (busy, restarting), else 500 `internal`.
    #[error("database: {0}")]
    Database(#[source] sqlx::Error),
    /// Anything else that is our fault; the text is logged, never sent.
    #[error("internal: {0}")]
    Internal(String),
}

/// Noted first for the connections kept apart from the pool ([`crate::db::note_error`]).
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> AppError {
        crate::db::note_error(&error);
        AppError::Database(error)
    }
}

impl AppError {
    /// An answer for the client: `status`, with a body of `code` and `message` (which the widget
    /// or the seller may show).
    pub fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError::Client { status, body: Box::new(ApiError::new(code, message)) }
    }

    pub(crate) fn from_api(status: StatusCode, body: ApiError) -> AppError {
        AppError::Client { status, body: Box::new(body) }
    }

    /// A 400 `bad_request` with `message`.
    pub fn bad_request(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::BAD_REQUEST, ErrorCode::BadRequest, message)
    }

    /// A 404 `not_found` with `message`.
    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    /// 422 with one entry per bad field.
    pub fn validation(fields: Vec<FieldError>) -> AppError {
        AppError::from_api(StatusCode::UNPROCESSABLE_ENTITY, ApiError::validation(fields))
    }

    /// Our own failure: `message` is logged, and the client gets a 500 `internal` that says
    /// nothing of it.
    pub fn internal(message: impl Into<String>) -> AppError {
        AppError::Internal(message.into())
    }

    /// Whether this is an unexpected failure (5xx of our own making) rather than an answer.
    pub fn is_internal(&self) -> bool {
        !matches!(self, AppError::Client { .. })
    }

    /// Whether SQLite answered busy or locked (see [`crate::db::retry_busy`]).
    pub fn is_busy(&self) -> bool {
        matches!(self, AppError::Database(e) if crate::db::is_busy(e))
    }

    /// The status and body this error is sent as. Internal errors are logged here, once.
    /// A database out of reach for a while (busy, restarting) is 503 `unavailable`.
    pub fn into_parts(self) -> (StatusCode, ApiError) {
        match self {
            AppError::Client { status, body } => (status, *body),
            AppError::Database(error) if crate::db::is_transient(&error) => {
                tracing::warn!(%error, "database unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    ApiError::new(ErrorCode::Unavailable, "We are busy for a moment. Please try again shortly."),
                )
            }
            other => {
                tracing::error!(error = %other, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    ApiError::new(ErrorCode::Internal, "Something went wrong on our side. Please try again."),
                )
            }
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, body) = self.into_parts();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            return (status, [(axum::http::header::RETRY_AFTER, "1")], Json(body)).into_response();
        }
        (status, Json(body)).into_response()
    }
}

/// The JSON 404 for unknown paths on the api and the vault.
pub async fn not_found() -> AppError {
    AppError::not_found("There is nothing at this address.")
}

/// The JSON 405 for a known path with the wrong method.
pub async fn method_not_allowed() -> AppError {
    AppError::new(StatusCode::METHOD_NOT_ALLOWED, ErrorCode::BadRequest, "This method is not allowed here.")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let (status, body) = AppError::internal("disk on fire at /secret/path").into_parts();
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(body.code, ErrorCode::Internal);
        assert!(!body.message.contains("secret"));
        let (status, body) = AppError::validation(vec![FieldError::new("email", "required", "x")]).into_parts();
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(body.fields[0].field, "email");
    }
}
