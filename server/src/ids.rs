//! Random identifiers: order ids, order numbers, card tokens, charge ids.
//!
//! All come from the operating system's CSPRNG, because card tokens and order ids are
//! bearer-like: guessing one must be infeasible.

use rand::rngs::OsRng;
use rand::Rng;

/// RFC 4648 base32, lower case: no `0`, `1`, `8`, `9`, so ids never look like card digits.
const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Crockford's base32 without look-alikes (no I, L, O, U), for ids people read aloud.
const HUMAN: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// `len` characters of a 32-letter alphabet from one read of the OS CSPRNG (a byte's low
/// five bits pick a letter, uniformly since 32 divides 256), rather than one system call per
/// character: an order used to make ~75 `getrandom` calls.
fn random_from(alphabet: &[u8; 32], len: usize) -> String {
    let mut bytes = [0u8; 64];
    let bytes = &mut bytes[..len];
    OsRng.fill(bytes);
    bytes.iter().map(|b| char::from(alphabet[usize::from(b & 31)])).collect()
}

/// `prefix` + 24 base32 characters (120 random bits), e.g. `tok_…`, `ord_…`.
pub fn random_id(prefix: &str) -> String {
    format!("{prefix}{}", random_from(BASE32, 24))
}

/// A short order number people can read out, `TB-7K3Q9X` (30 random bits; the database
/// keeps it unique and the caller retries on a clash).
pub fn order_number() -> String {
    format!("TB-{}", random_from(HUMAN, 6))
}

/// An order number as a seller typed it (`tb-7k3q9x`, spaces around), as [`order_number`]
/// writes it.
pub fn typed_order_number(typed: &str) -> String {
    typed.trim().to_ascii_uppercase()
}

/// A random secret of 32 bytes, base32 (for the per-process vault api key).
pub fn random_secret() -> String {
    random_from(BASE32, 52)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typed_order_number_is_read_in_any_case() {
        let number = order_number();
        assert_eq!(typed_order_number(&format!(" {} ", number.to_ascii_lowercase())), number);
    }

    #[test]
    fn shapes() {
        let token = random_id("tok_");
        assert_eq!(token.len(), 28);
        assert!(token[4..].bytes().all(|b| BASE32.contains(&b)));
        assert_ne!(random_id("tok_"), random_id("tok_"));
        let number = order_number();
        assert!(number.starts_with("TB-") && number.len() == 9, "{number}");
        assert!(number[3..].bytes().all(|b| HUMAN.contains(&b)));
    }
}
