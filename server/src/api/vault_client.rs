//! The api's client for the vault's charge and refund endpoints (server to server, bearer key).

use std::time::Duration;
use tweetbuy_core::vault::{ChargeRequest, ChargeResult, DeclineCode, RefundRequest, RefundResult, ANSWER_HEADER};
use tweetbuy_core::{ApiError, ErrorCode};

/// How a charge attempt ended, from the api's point of view.
#[derive(Debug)]
pub enum ChargeOutcome {
    /// The vault answered with a charge, approved or declined.
    Charged(ChargeResult),
    /// The token is unknown, expired or already used.
    TokenInvalid,
    /// The token was minted for another payment intent; nothing was charged.
    TokenMismatch,
    /// No charge was made: the vault could not be reached at all, or refused the request
    /// (our key, the request); the text is for logs.
    Unavailable(String),
    /// The request may have reached the vault, but no answer was read (a timeout, a dropped
    /// connection, a 5xx, an unreadable body): the card may have been charged. Asking again
    /// under the same order id is safe: the vault answers with the first charge.
    Unknown(String),
}

/// Tries per charge when its outcome is unknown (the vault answers a repeat with the first
/// charge, so a retry never charges twice).
const CHARGE_ATTEMPTS: u32 = 3;

/// How a refund attempt ended, from the api's point of view.
#[derive(Debug)]
pub enum RefundOutcome {
    /// The vault refunded (now, or earlier under the same reference).
    Refunded(RefundResult),
    /// The vault answered and refused: nothing was refunded by this ask. Nothing ever was
    /// under the reference when the refusal is the vault's last word on it
    /// ([`refused_for_good`]), or when no earlier ask under it can have gone through.
    Refused(ApiError),
    /// No answer was read (the vault out of reach, a timeout, a 5xx), or an answer was lost
    /// and a later try was refused for a reason that says nothing of the reference: the
    /// refund may or may not have been made. Asking again under the same reference is safe.
    Unknown(String),
}

/// The api's client for the vault's internal listener: charges and refunds, with the api's
/// bearer key; cheap to clone (one connection pool).
#[derive(Clone)]
pub struct VaultClient {
    http: reqwest::Client,
    charges_url: String,
    refunds_url: String,
    api_key: String,
}

impl VaultClient {
    /// A client for the vault at `base_url` (its internal listener, `http://host:port`), sending
    /// `api_key` as the bearer; 3 s to connect, 15 s per request.
    pub fn new(base_url: &str, api_key: &str) -> VaultClient {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .timeout(Duration::from_secs(15))
            .build()
            .unwrap_or_default();
        VaultClient {
            http,
            charges_url: format!("{}/v1/charges", base_url.trim_end_matches('/')),
            refunds_url: format!("{}/v1/refunds", base_url.trim_end_matches('/')),
            api_key: api_key.to_owned(),
        }
    }

    /// Asks the vault to charge a token; an unknown outcome is asked about again, with the
    /// same request, a few times before it is reported.
    ///
    /// Once a try's outcome is unknown, only a charge answers for the order: a later refusal
    /// or an unreachable vault says nothing of the try whose answer was lost, which may have
    /// charged the card, so the outcome stays unknown.
    pub async fn charge(&self, request: &ChargeRequest) -> ChargeOutcome {
        let mut lost: Option<String> = None;
        for attempt in 1..=CHARGE_ATTEMPTS {
            match self.charge_once(request).await {
                ChargeOutcome::Unknown(reason) => {
                    if attempt < CHARGE_ATTEMPTS {
                        tracing::warn!(%reason, attempt, reference = %request.reference, "charge outcome unknown; asking again");
                        tokio::time::sleep(Duration::from_millis(200 * 3u64.pow(attempt - 1))).await;
                    }
                    lost = Some(reason);
                }
                // A decline that gave the token back (a processing error) says nothing of a
                // lost try still on its way, which may claim the token next and be approved.
                ChargeOutcome::Charged(result)
                    if lost.is_some() && result.decline_code.is_some_and(DeclineCode::retryable) =>
                {
                    let reason = lost.unwrap_or_default();
                    return ChargeOutcome::Unknown(format!("{reason}; then a decline that gave the token back"));
                }
                outcome @ ChargeOutcome::Charged(_) => return outcome,
                outcome => {
                    return match lost {
                        Some(reason) => ChargeOutcome::Unknown(format!("{reason}; then {outcome:?}")),
                        None => outcome,
                    }
                }
            }
        }
        ChargeOutcome::Unknown(lost.unwrap_or_default())
    }

    /// Asks the vault to refund; an unknown outcome is asked about again, with the same
    /// reference, a few times before it is reported. Once a try's answer is lost, a refusal
    /// that is not the vault's last word on the reference leaves the outcome unknown.
    pub async fn refund(&self, request: &RefundRequest) -> RefundOutcome {
        let mut lost: Option<String> = None;
        for attempt in 1..=CHARGE_ATTEMPTS {
            match self.refund_once(request).await {
                RefundOutcome::Unknown(reason) => {
                    if attempt < CHARGE_ATTEMPTS {
                        tracing::warn!(%reason, attempt, reference = %request.reference, "refund outcome unknown; asking again");
                        tokio::time::sleep(Duration::from_millis(200 * 3u64.pow(attempt - 1))).await;
                    }
                    lost = Some(reason);
                }
                RefundOutcome::Refused(body) if !refused_for_good(body.code) && lost.is_some() => {
                    let lost = lost.unwrap_or_default();
                    return RefundOutcome::Unknown(format!("{lost}; then {:?} {}", body.code, body.message));
                }
                outcome => return outcome,
            }
        }
        RefundOutcome::Unknown(lost.unwrap_or_default())
    }

    async fn refund_once(&self, request: &RefundRequest) -> RefundOutcome {
        let sent = self.http.post(&self.refunds_url).bearer_auth(&self.api_key).json(request).send().await;
        let response = match sent {
            Ok(response) => response,
            Err(error) => return RefundOutcome::Unknown(format!("request failed: {error}")),
        };
        let status = response.status();
        if status.is_success() {
            return match response.json::<RefundResult>().await {
                Ok(result) => RefundOutcome::Refunded(result),
                Err(error) => RefundOutcome::Unknown(format!("unreadable refund result: {error}")),
            };
        }
        if status.is_server_error() {
            return RefundOutcome::Unknown(format!("vault answered {status}"));
        }
        // Only the vault's own error body is a refusal: anything else in between (a proxy)
        // says nothing about the refund.
        if !from_vault(&response) {
            return RefundOutcome::Unknown(format!("answered {status} without the vault's header"));
        }
        match response.json::<ApiError>().await {
            Ok(body) => RefundOutcome::Refused(body),
            Err(_) => RefundOutcome::Unknown(format!("vault answered {status}")),
        }
    }

    /// The charge that settled an order (by its id), if the vault made one. `Err` when the
    /// vault could not say.
    pub async fn charge_of(&self, order_id: &str) -> Result<Option<ChargeResult>, String> {
        let url = format!("{}/{order_id}", self.charges_url);
        let response = self.http.get(url).bearer_auth(&self.api_key).send().await.map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_success() {
            return response.json().await.map(Some).map_err(|e| e.to_string());
        }
        // "No charge" only from the vault's own answer: a 404 from anything in between (a
        // proxy, a wrong address) must not settle an order as never charged.
        let own = from_vault(&response);
        match response.json::<ApiError>().await {
            Ok(body) if own && status == reqwest::StatusCode::NOT_FOUND && body.code == ErrorCode::NotFound => Ok(None),
            _ => Err(format!("vault answered {status}")),
        }
    }

    async fn charge_once(&self, request: &ChargeRequest) -> ChargeOutcome {
        let sent = self.http.post(&self.charges_url).bearer_auth(&self.api_key).json(request).send().await;
        let response = match sent {
            // Refused before anything was sent: nothing can have been charged.
            Err(error) if error.is_connect() => return ChargeOutcome::Unavailable(format!("connect failed: {error}")),
            Err(error) => return ChargeOutcome::Unknown(format!("request failed: {error}")),
            Ok(response) => response,
        };
        let status = response.status();
        if status.is_success() {
            return match response.json::<ChargeResult>().await {
                Ok(result) => ChargeOutcome::Charged(result),
                Err(error) => ChargeOutcome::Unknown(format!("unreadable charge result: {error}")),
            };
        }
        if status.is_server_error() {
            return ChargeOutcome::Unknown(format!("vault answered {status}"));
        }
        match response.json::<ApiError>().await {
            Ok(body) if body.code == ErrorCode::TokenInvalid => ChargeOutcome::TokenInvalid,
            Ok(body) if body.code == ErrorCode::TokenMismatch => ChargeOutcome::TokenMismatch,
            Ok(body) => {
                ChargeOutcome::Unavailable(format!("vault answered {status}: {:?} {}", body.code, body.message))
            }
            // Not the vault's own refusal: a proxy's 4xx (a timeout, a closed client) may come
            // after it passed the charge on.
            Err(_) => ChargeOutcome::Unknown(format!("answered {status} without the vault's error")),
        }
    }
}

/// Whether `response` is the vault's charge and refund routes' own ([`ANSWER_HEADER`]).
fn from_vault(response: &reqwest::Response) -> bool {
    response.headers().contains_key(ANSWER_HEADER)
}

/// Whether a refusal of a refund is the vault's last word on its reference: no such approved
/// charge, the reference taken by another refund, nothing left of the charge, or a request it
/// cannot read. A refund asked again under the same reference gets the first refund back, so
/// none of these can come after a refund was made under it. Any other refusal (a key the vault
/// does not accept, a rate limit) can come after an ask whose answer was lost and which did
/// refund: such a refund must stay pending, not be given up and asked again under a new
/// reference, unless its reference was never asked before.
pub(crate) fn refused_for_good(code: ErrorCode) -> bool {
    matches!(
        code,
        ErrorCode::NotFound
            | ErrorCode::IdempotencyKeyReused
            | ErrorCode::RefundExceedsRemaining
            | ErrorCode::ValidationFailed
            | ErrorCode::BadRequest
    )
}

#[cfg(test)]
mod tests {
    use super::refused_for_good;
    use tweetbuy_core::ErrorCode;

    #[test]
    fn only_the_vaults_last_word_on_a_reference_refuses_a_refund() {
        let last_words = [
            ErrorCode::NotFound,
            ErrorCode::IdempotencyKeyReused,
            ErrorCode::RefundExceedsRemaining,
            ErrorCode::ValidationFailed,
            ErrorCode::BadRequest,
        ];
        for code in last_words {
            assert!(refused_for_good(code), "{code:?}");
        }
        for code in [ErrorCode::Unauthorized, ErrorCode::Forbidden, ErrorCode::RateLimited, ErrorCode::Unavailable] {
            assert!(!refused_for_good(code), "{code:?}");
        }
    }
}
