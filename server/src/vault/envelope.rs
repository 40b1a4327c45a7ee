//! Envelope encryption of card numbers with AES-256-GCM (the `aes-gcm` crate).
//!
//! Each record gets a fresh random data key that encrypts the number; the master key wraps
//! (encrypts) that data key. Both encryptions bind the record's id and owner as associated
//! data, so a ciphertext copied into another row, or handed to another owner, fails to
//! decrypt instead of revealing a card.

use super::keys::{Keyring, MasterKey};
use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use zeroize::Zeroizing;

const NONCE_LEN: usize = 12;

/// What is stored for one encrypted value: the same five columns in `cards` and
/// `profiles`, read into their rows with `#[sqlx(flatten)]`.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Sealed {
    /// The id of the master key that wrapped the data key ([`super::keys::MasterKey::id`]).
    pub key_id: String,
    /// The record's random 32-byte data key, encrypted by that master key (AES-256-GCM, with its
    /// 16-byte tag); empty once the record is erased.
    pub wrapped_key: Vec<u8>,
    /// The 12-byte nonce of the data key's wrapping; empty once erased.
    pub key_nonce: Vec<u8>,
    /// The value encrypted by the data key, with its 16-byte GCM tag; empty once erased.
    pub ciphertext: Vec<u8>,
    /// The 12-byte nonce of the value's encryption; empty once erased.
    pub nonce: Vec<u8>,
}

/// Why [`seal`], [`open`] or [`rewrap`] failed. The vault's handlers answer each with a 500
/// (`internal`): none of them is the caller's doing.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EnvelopeError {
    /// The record names a master key id the keyring does not hold (a key file that lost a key,
    /// or the wrong one mounted).
    #[error("unknown master key id {0:?}")]
    UnknownKey(String),
    /// A nonce has the wrong length, or the wrapped key is empty or opens to the wrong length:
    /// the record was erased ([`super::card_store::ERASE_SEALED`]) or damaged.
    #[error("stored record is malformed or erased")]
    Malformed,
    /// Wrong key, wrong record, wrong owner, or tampered bytes: GCM cannot tell which.
    #[error("decryption failed")]
    Decrypt,
    /// AES-GCM refused to encrypt, which it does only for an input beyond its size limit.
    #[error("encryption failed")]
    Encrypt,
}

/// The associated data: a purpose label, then each part length-prefixed so that no two
/// different (id, owner) pairs can produce the same bytes.
fn associated_data(purpose: &str, record_id: &str, owner: &str, key_id: &str) -> Vec<u8> {
    let mut aad = Vec::new();
    for part in ["tweetbuy.vault.v1", purpose, record_id, owner, key_id] {
        aad.extend_from_slice(&(part.len() as u32).to_be_bytes());
        aad.extend_from_slice(part.as_bytes());
    }
    aad
}

/// Encrypts `plaintext` for the record `record_id` owned by `owner`.
pub fn seal(keyring: &Keyring, record_id: &str, owner: &str, plaintext: &[u8]) -> Result<Sealed, EnvelopeError> {
    let master = keyring.current();
    let mut data_key = Zeroizing::new([0u8; 32]);
    data_key.copy_from_slice(&Aes256Gcm::generate_key(OsRng));
    let nonce = Aes256Gcm::generate_nonce(OsRng);
    let aad = associated_data("data", record_id, owner, master.id());
    let ciphertext = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(data_key.as_slice()))
        .encrypt(&nonce, Payload { msg: plaintext, aad: &aad })
        .map_err(|_| EnvelopeError::Encrypt)?;
    let key_nonce = Aes256Gcm::generate_nonce(OsRng);
    let wrap_aad = associated_data("wrap", record_id, owner, master.id());
    let wrapped_key = master
        .cipher()
        .encrypt(&key_nonce, Payload { msg: data_key.as_slice(), aad: &wrap_aad })
        .map_err(|_| EnvelopeError::Encrypt)?;
    Ok(Sealed {
        key_id: master.id().to_owned(),
        wrapped_key,
        key_nonce: key_nonce.to_vec(),
        ciphertext,
        nonce: nonce.to_vec(),
    })
}

/// Decrypts a record sealed by [`seal`] for the same `record_id` and `owner`.
pub fn open(
    keyring: &Keyring,
    record_id: &str,
    owner: &str,
    sealed: &Sealed,
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let master = keyring.get(&sealed.key_id).ok_or_else(|| EnvelopeError::UnknownKey(sealed.key_id.clone()))?;
    // Nonce::from_slice panics on a wrong length; stored bytes are checked first.
    if sealed.key_nonce.len() != NONCE_LEN || sealed.nonce.len() != NONCE_LEN || sealed.wrapped_key.is_empty() {
        return Err(EnvelopeError::Malformed);
    }
    let data_key = unwrap_data_key(&master, record_id, owner, sealed)?;
    let aad = associated_data("data", record_id, owner, &sealed.key_id);
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(data_key.as_slice()))
        .decrypt(Nonce::from_slice(&sealed.nonce), Payload { msg: &sealed.ciphertext, aad: &aad })
        .map(Zeroizing::new)
        .map_err(|_| EnvelopeError::Decrypt)
}

/// Opens the wrapped data key of a record with its master key.
fn unwrap_data_key(
    master: &MasterKey,
    record_id: &str,
    owner: &str,
    sealed: &Sealed,
) -> Result<Zeroizing<Vec<u8>>, EnvelopeError> {
    let wrap_aad = associated_data("wrap", record_id, owner, &sealed.key_id);
    let data_key = Zeroizing::new(
        master
            .cipher()
            .decrypt(Nonce::from_slice(&sealed.key_nonce), Payload { msg: &sealed.wrapped_key, aad: &wrap_aad })
            .map_err(|_| EnvelopeError::Decrypt)?,
    );
    if data_key.len() != 32 {
        return Err(EnvelopeError::Malformed);
    }
    Ok(data_key)
}

/// Re-wraps a record's data key with the keyring's current master key (key rotation).
///
/// The data key itself does not change. Its ciphertext is sealed again under the same data
/// key with a fresh nonce, because the associated data names the wrapping key's id (so a
/// record cannot be passed off as wrapped by another key). Returns `None` when the record is
/// already wrapped by the current key.
pub fn rewrap(
    keyring: &Keyring,
    record_id: &str,
    owner: &str,
    sealed: &Sealed,
) -> Result<Option<Sealed>, EnvelopeError> {
    let current = keyring.current();
    if sealed.key_id == current.id() {
        return Ok(None);
    }
    let plaintext = open(keyring, record_id, owner, sealed)?;
    let old = keyring.get(&sealed.key_id).ok_or_else(|| EnvelopeError::UnknownKey(sealed.key_id.clone()))?;
    let data_key = unwrap_data_key(&old, record_id, owner, sealed)?;
    let nonce = Aes256Gcm::generate_nonce(OsRng);
    let aad = associated_data("data", record_id, owner, current.id());
    let ciphertext = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(data_key.as_slice()))
        .encrypt(&nonce, Payload { msg: plaintext.as_slice(), aad: &aad })
        .map_err(|_| EnvelopeError::Encrypt)?;
    let key_nonce = Aes256Gcm::generate_nonce(OsRng);
    let wrap_aad = associated_data("wrap", record_id, owner, current.id());
    let wrapped_key = current
        .cipher()
        .encrypt(&key_nonce, Payload { msg: data_key.as_slice(), aad: &wrap_aad })
        .map_err(|_| EnvelopeError::Encrypt)?;
    Ok(Some(Sealed {
        key_id: current.id().to_owned(),
        wrapped_key,
        key_nonce: key_nonce.to_vec(),
        ciphertext,
        nonce: nonce.to_vec(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vault::keys::MasterKey;

    const CARD: &[u8] = b"4242424242424242";

    #[test]
    fn round_trip_and_fresh_data_key_per_record() {
        let keys = Keyring::new(MasterKey::generate());
        let a = seal(&keys, "card_a", "anon", CARD).unwrap();
        let b = seal(&keys, "card_a", "anon", CARD).unwrap();
        assert_eq!(open(&keys, "card_a", "anon", &a).unwrap().as_slice(), CARD);
        assert_ne!(a.ciphertext, b.ciphertext, "fresh key and nonce each time");
        assert_ne!(a.wrapped_key, b.wrapped_key);
        assert!(!a.ciphertext.windows(CARD.len()).any(|w| w == CARD));
    }

    #[test]
    fn associated_data_binds_record_and_owner() {
        let keys = Keyring::new(MasterKey::generate());
        let sealed = seal(&keys, "card_a", "anon", CARD).unwrap();
        assert_eq!(open(&keys, "card_b", "anon", &sealed), Err(EnvelopeError::Decrypt), "copied to another row");
        assert_eq!(open(&keys, "card_a", "user_1", &sealed), Err(EnvelopeError::Decrypt), "another owner");
        // A data key wrapped for one record cannot be combined with another record's ciphertext.
        let other = seal(&keys, "card_b", "anon", b"5555555555554444").unwrap();
        let mixed = Sealed { ciphertext: other.ciphertext.clone(), nonce: other.nonce.clone(), ..sealed.clone() };
        assert_eq!(open(&keys, "card_a", "anon", &mixed), Err(EnvelopeError::Decrypt));
        let mut tampered = sealed.clone();
        tampered.ciphertext[0] ^= 1;
        assert_eq!(open(&keys, "card_a", "anon", &tampered), Err(EnvelopeError::Decrypt));
    }

    #[test]
    fn wrong_master_key_or_erased_record_fails() {
        let keys = Keyring::new(MasterKey::generate());
        let sealed = seal(&keys, "card_a", "anon", CARD).unwrap();
        let other = Keyring::new(MasterKey::generate());
        assert!(matches!(open(&other, "card_a", "anon", &sealed), Err(EnvelopeError::UnknownKey(_))));
        let erased = Sealed { wrapped_key: vec![], ciphertext: vec![], ..sealed };
        assert_eq!(open(&keys, "card_a", "anon", &erased), Err(EnvelopeError::Malformed));
    }

    #[test]
    fn rewrap_moves_a_record_to_the_new_key_and_keeps_it_readable() {
        let old = MasterKey::parse(&format!("k1:{}", "A".repeat(43) + "=")).unwrap();
        let sealed = seal(&Keyring::new(old), "card_a", "prof_1", CARD).unwrap();
        assert_eq!(sealed.key_id, "k1");
        let new = MasterKey::generate();
        let new_id = new.id().to_owned();
        let old = MasterKey::parse(&format!("k1:{}", "A".repeat(43) + "=")).unwrap();
        let both = Keyring::from_keys(vec![new, old], None).unwrap();
        // Before the re-wrap the record still opens through the old key.
        assert_eq!(open(&both, "card_a", "prof_1", &sealed).unwrap().as_slice(), CARD);
        let moved = rewrap(&both, "card_a", "prof_1", &sealed).unwrap().expect("wrapped by an old key");
        assert_eq!(moved.key_id, new_id);
        assert_ne!(moved.wrapped_key, sealed.wrapped_key);
        assert!(rewrap(&both, "card_a", "prof_1", &moved).unwrap().is_none(), "already current");
        // After it, the new key alone opens the record, and the binding still holds.
        let new_only =
            Keyring::from_keys(vec![MasterKey::parse(&format!("{new_id}:{}", both_key_b64(&both))).unwrap()], None)
                .unwrap();
        assert_eq!(open(&new_only, "card_a", "prof_1", &moved).unwrap().as_slice(), CARD);
        assert_eq!(open(&new_only, "card_b", "prof_1", &moved), Err(EnvelopeError::Decrypt));
        assert!(matches!(open(&new_only, "card_a", "prof_1", &sealed), Err(EnvelopeError::UnknownKey(_))));
    }

    #[test]
    fn cipher_keys_are_wiped_on_drop() {
        fn wiped_on_drop<T: zeroize::ZeroizeOnDrop>() {}
        wiped_on_drop::<aes::Aes256>();
    }

    fn both_key_b64(ring: &Keyring) -> String {
        ring.current().to_base64_for_tests()
    }
}
