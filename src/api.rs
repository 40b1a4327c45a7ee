//! HTTP to the tweetbuy api, with one error type for every way a request can fail.

use gloo_net::http::{Request, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tweetbuy_core::{ApiError, IDEMPOTENCY_HEADER};

/// Why a request to the api did not give the expected answer. Clone, so it can sit in a
/// signal and be awaited from a resource.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ClientError {
    /// No answer: offline, DNS, CORS, or the server is down.
    #[error("network error: {0}")]
    Network(String),
    /// The api answered with its JSON error body.
    #[error("{} ({status})", .error.message)]
    Api { status: u16, error: ApiError },
    /// The api answered with something we could not read.
    #[error("unexpected response ({status}): {detail}")]
    Decode { status: u16, detail: String },
}

/// The api's address and the requests the widget makes to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiClient {
    base: String,
}

impl ApiClient {
    pub fn new(base: impl Into<String>) -> ApiClient {
        ApiClient { base: base.into().trim_end_matches('/').to_owned() }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// `GET path` and decode the JSON answer.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        read(Request::get(&self.url(path)).send().await).await
    }

    /// `POST path` with a JSON body, and an `Idempotency-Key` when one is given.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
        idempotency_key: Option<&str>,
    ) -> Result<T, ClientError> {
        let mut builder: RequestBuilder = Request::post(&self.url(path));
        if let Some(key) = idempotency_key {
            builder = builder.header(IDEMPOTENCY_HEADER, key);
        }
        let request = builder.json(body).map_err(|e| ClientError::Decode { status: 0, detail: e.to_string() })?;
        read(request.send().await).await
    }
}

async fn read<T: DeserializeOwned>(sent: Result<Response, gloo_net::Error>) -> Result<T, ClientError> {
    let response = sent.map_err(|e| ClientError::Network(e.to_string()))?;
    let status = response.status();
    let text = response.text().await.map_err(|e| ClientError::Network(e.to_string()))?;
    decode(status, &text)
}

/// Turns a status and body into the answer or a [`ClientError`].
pub fn decode<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, ClientError> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body).map_err(|e| ClientError::Decode { status, detail: e.to_string() });
    }
    match serde_json::from_str::<ApiError>(body) {
        Ok(error) => Err(ClientError::Api { status, error }),
        Err(_) => Err(ClientError::Decode { status, detail: body.chars().take(200).collect() }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tweetbuy_core::ErrorCode;

    #[test]
    fn decodes_success_error_and_garbage() {
        let ok: Result<Vec<u32>, _> = decode(200, "[1,2]");
        assert_eq!(ok.unwrap(), vec![1, 2]);
        let err: Result<Vec<u32>, _> = decode(409, r#"{"code":"sold_out","message":"Sold out."}"#);
        match err.unwrap_err() {
            ClientError::Api { status: 409, error } => assert_eq!(error.code, ErrorCode::SoldOut),
            other => panic!("{other:?}"),
        }
        let garbage: Result<Vec<u32>, _> = decode(502, "<html>Bad gateway</html>");
        assert!(matches!(garbage.unwrap_err(), ClientError::Decode { status: 502, .. }));
        let bad_ok: Result<Vec<u32>, _> = decode(200, "{}");
        assert!(matches!(bad_ok.unwrap_err(), ClientError::Decode { status: 200, .. }));
    }

    #[test]
    fn base_url_has_no_trailing_slash() {
        assert_eq!(ApiClient::new("http://a.test/").url("/api/v1/offers"), "http://a.test/api/v1/offers");
    }
}
