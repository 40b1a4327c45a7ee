//! The api's client for the vault's charge endpoint (server to server, bearer key).

use std::time::Duration;
use tweetbuy_core::saved::{SavedDetails, SavedDetailsRequest};
use tweetbuy_core::vault::{ChargeRequest, ChargeResult};
use tweetbuy_core::{ApiError, ErrorCode};

/// How a charge attempt ended, from the api's point of view.
#[derive(Debug)]
pub enum ChargeOutcome {
    /// The vault answered with a charge, approved or declined.
    Charged(ChargeResult),
    /// The token is unknown, expired or already used.
    TokenInvalid,
    /// The vault could not be reached, refused our key, or failed; the text is for logs.
    Unavailable(String),
}

#[derive(Clone)]
pub struct VaultClient {
    http: reqwest::Client,
    charges_url: String,
    details_url: String,
    api_key: String,
}

impl VaultClient {
    pub fn new(base_url: &str, api_key: &str) -> VaultClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        VaultClient {
            http,
            charges_url: format!("{}/v1/charges", base_url.trim_end_matches('/')),
            details_url: format!("{}/v1/saved/details", base_url.trim_end_matches('/')),
            api_key: api_key.to_owned(),
        }
    }

    /// Asks the vault for the saved email and address behind a saved-card token.
    pub async fn saved_details(&self, token: &str) -> Result<SavedDetails, ChargeOutcome> {
        let request = SavedDetailsRequest { token: token.to_owned() };
        let sent = self.http.post(&self.details_url).bearer_auth(&self.api_key).json(&request).send().await;
        let response = sent.map_err(|error| ChargeOutcome::Unavailable(format!("request failed: {error}")))?;
        let status = response.status();
        if status.is_success() {
            return response
                .json::<SavedDetails>()
                .await
                .map_err(|error| ChargeOutcome::Unavailable(format!("unreadable saved details: {error}")));
        }
        match response.json::<ApiError>().await {
            Ok(body) if body.code == ErrorCode::TokenInvalid => Err(ChargeOutcome::TokenInvalid),
            _ => Err(ChargeOutcome::Unavailable(format!("vault answered {status} for saved details"))),
        }
    }

    /// Asks the vault to charge a token.
    pub async fn charge(&self, request: &ChargeRequest) -> ChargeOutcome {
        let sent = self.http.post(&self.charges_url).bearer_auth(&self.api_key).json(request).send().await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => return ChargeOutcome::Unavailable(format!("request failed: {error}")),
        };
        let status = response.status();
        if status.is_success() {
            return match response.json::<ChargeResult>().await {
                Ok(result) => ChargeOutcome::Charged(result),
                Err(error) => ChargeOutcome::Unavailable(format!("unreadable charge result: {error}")),
            };
        }
        match response.json::<ApiError>().await {
            Ok(body) if body.code == ErrorCode::TokenInvalid => ChargeOutcome::TokenInvalid,
            Ok(body) => {
                ChargeOutcome::Unavailable(format!("vault answered {status}: {:?} {}", body.code, body.message))
            }
            Err(_) => ChargeOutcome::Unavailable(format!("vault answered {status}")),
        }
    }
}
