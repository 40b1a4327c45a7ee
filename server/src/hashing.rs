//! Plain SHA-256, for values the server keeps only as a hash and looks up by it.

use sha2::{Digest, Sha256};

/// SHA-256 of `bytes`, as 64 lower-case hex characters.
///
/// Fit for the api's order-body fingerprints (the body carries a one-time token, not a
/// card) and for the random secrets the vault hands out and finds again by their hash
/// (device credentials, save secrets): with that much entropy a fast unsalted hash cannot
/// be guessed back. Not for anything derived from a card: card numbers have little
/// entropy, so the vault fingerprints its requests with a keyed HMAC instead
/// (`vault::keys::Keyring::fingerprint`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_standard_test_vector() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
