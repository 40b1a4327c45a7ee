//! The `Tweetbuy-Signature` header: `t=<unix seconds>,v1=<hex>[,v1=<hex>…]`, where each
//! `v1` is HMAC-SHA256, keyed with one of the endpoint's secrets (the secret string's UTF-8
//! bytes), over the timestamp, a `.` and the raw body. The timestamp is inside the MAC so a
//! captured request cannot be replayed later with a fresh one: receivers refuse a timestamp
//! more than [`TOLERANCE_SECS`] from their clock. Several `v1` values mean several secrets
//! are valid (a rotation); a receiver accepts the request when any one matches a secret it
//! knows. [`verify`] is the reference check, which docs/examples/verify-webhook.mjs mirrors.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The header's name.
pub const HEADER: &str = "Tweetbuy-Signature";

/// The replay window: a signature whose timestamp is further than this from now is refused.
pub const TOLERANCE_SECS: i64 = 5 * 60;

/// A fresh endpoint secret: `whsec_` and 260 random bits.
pub fn new_secret() -> String {
    format!("whsec_{}", crate::ids::random_secret())
}

/// The hex HMAC-SHA256 of `"{timestamp}.{body}"` under `secret`.
pub fn sign(secret: &str, timestamp: i64, body: &[u8]) -> String {
    hex::encode(mac(secret, timestamp, body))
}

fn mac(secret: &str, timestamp: i64, body: &[u8]) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac.finalize().into_bytes().into()
}

/// The header value for `body` sent at `timestamp`, one `v1` per secret (newest first).
pub fn header_value(secrets: &[&str], timestamp: i64, body: &[u8]) -> String {
    let mut value = format!("t={timestamp}");
    for secret in secrets {
        value.push_str(",v1=");
        value.push_str(&sign(secret, timestamp, body));
    }
    value
}

/// Why a signature was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The header has no `t=`, two of them, a `t=` that is not a number, or no well-formed `v1=`.
    #[error("the signature header is malformed")]
    Malformed,
    /// The header's `t=` is more than [`TOLERANCE_SECS`] away from the receiver's clock: an old
    /// message replayed, or a clock that is off.
    #[error("the timestamp is outside the {TOLERANCE_SECS}-second window")]
    OutsideWindow,
    /// No `v1=` signature matches the body under any of the receiver's secrets.
    #[error("no signature matches")]
    NoMatch,
}

/// Checks a received header against the raw body and the secrets the receiver holds, at
/// `now` (Unix seconds): the timestamp must be within [`TOLERANCE_SECS`] and one `v1` must
/// match one secret, compared in constant time. Unknown schemes (`v0=…`) are ignored.
pub fn verify(header: &str, body: &[u8], secrets: &[&str], now: i64) -> Result<(), VerifyError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        let (key, value) = part.trim().split_once('=').ok_or(VerifyError::Malformed)?;
        match key {
            "t" if timestamp.is_none() => {
                if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(VerifyError::Malformed);
                }
                timestamp = Some(value.parse::<i64>().map_err(|_| VerifyError::Malformed)?);
            }
            "t" => return Err(VerifyError::Malformed),
            "v1" => {
                if let Some(bytes) = hex::decode(value).ok().filter(|b| b.len() == 32) {
                    signatures.push(bytes);
                }
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed)?;
    if signatures.is_empty() {
        return Err(VerifyError::Malformed);
    }
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(VerifyError::OutsideWindow);
    }
    let mut matched = false;
    for secret in secrets {
        let expected = mac(secret, timestamp, body);
        for signature in &signatures {
            matched |= bool::from(signature.as_slice().ct_eq(&expected));
        }
    }
    if matched {
        Ok(())
    } else {
        Err(VerifyError::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"id":"evt_1","type":"order.paid"}"#;

    #[test]
    fn a_known_vector() {
        // printf '1700000000.{"id":"evt_1","type":"order.paid"}' | openssl dgst -sha256 -hmac whsec_test
        assert_eq!(
            sign("whsec_test", 1_700_000_000, BODY),
            "bd9a92a5aa31ee1da5b8176d76564bb487997bd83d82812500375b2ee9c46503"
        );
    }

    #[test]
    fn a_signed_body_verifies_and_a_changed_one_does_not() {
        let header = header_value(&["whsec_new"], 1_700_000_000, BODY);
        assert!(header.starts_with("t=1700000000,v1="));
        assert_eq!(verify(&header, BODY, &["whsec_new"], 1_700_000_010), Ok(()));
        assert_eq!(verify(&header, b"{}", &["whsec_new"], 1_700_000_010), Err(VerifyError::NoMatch));
        assert_eq!(verify(&header, BODY, &["whsec_other"], 1_700_000_010), Err(VerifyError::NoMatch));
        // The timestamp is signed: moving it breaks the signature.
        let moved = header.replace("t=1700000000", "t=1700000100");
        assert_eq!(verify(&moved, BODY, &["whsec_new"], 1_700_000_100), Err(VerifyError::NoMatch));
    }

    #[test]
    fn the_replay_window_is_five_minutes_either_way() {
        let header = header_value(&["s"], 1_700_000_000, BODY);
        assert_eq!(verify(&header, BODY, &["s"], 1_700_000_300), Ok(()));
        assert_eq!(verify(&header, BODY, &["s"], 1_699_999_700), Ok(()));
        assert_eq!(verify(&header, BODY, &["s"], 1_700_000_301), Err(VerifyError::OutsideWindow));
        assert_eq!(verify(&header, BODY, &["s"], 1_699_999_699), Err(VerifyError::OutsideWindow));
    }

    #[test]
    fn during_a_rotation_either_secret_verifies() {
        let header = header_value(&["whsec_new", "whsec_old"], 1_700_000_000, BODY);
        assert_eq!(header.matches(",v1=").count(), 2);
        for receiver_knows in [["whsec_new"], ["whsec_old"]] {
            assert_eq!(verify(&header, BODY, &receiver_knows, 1_700_000_000), Ok(()));
        }
        assert_eq!(verify(&header, BODY, &["whsec_gone"], 1_700_000_000), Err(VerifyError::NoMatch));
    }

    #[test]
    fn malformed_headers_are_refused() {
        let good = sign("s", 1_700_000_000, BODY);
        for bad in [
            String::new(),
            "t=1700000000".to_owned(),
            format!("v1={good}"),
            format!("t=abc,v1={good}"),
            format!("t=-5,v1={good}"),
            format!("t=1700000000,t=1700000000,v1={good}"),
            "t=1700000000,v1=zz".to_owned(),
            format!("t=1700000000;v1={good}"),
        ] {
            assert_eq!(verify(&bad, BODY, &["s"], 1_700_000_000), Err(VerifyError::Malformed), "{bad:?}");
        }
        // An unknown scheme beside a good v1 is ignored.
        assert_eq!(verify(&format!("t=1700000000,v0=abc,v1={good}"), BODY, &["s"], 1_700_000_000), Ok(()));
    }

    #[test]
    fn secrets_are_fresh_and_long() {
        let (a, b) = (new_secret(), new_secret());
        assert_ne!(a, b);
        assert!(a.starts_with("whsec_") && a.len() >= 50, "{a}");
    }
}
