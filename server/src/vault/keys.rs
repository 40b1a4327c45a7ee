//! The vault's master key: loaded from `TWEETBUY_MASTER_KEY` or the key file in the data
//! directory, or generated there on first start (mode 0600).
//!
//! A master key has an id that is stored with every record it wraps, so a later key can be
//! added for new records while the old one still opens old records (rotation).

use aes_gcm::aead::{KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use std::io::Write;
use std::path::Path;
use zeroize::Zeroizing;

/// The master key file's name inside the data directory.
pub const KEY_FILE: &str = "vault-master.key";

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("master key must look like keyid:base64-of-32-bytes ({0})")]
    Format(&'static str),
    #[error("master key file {path}: {source}")]
    Io { path: String, source: std::io::Error },
}

/// One AES-256 key and its id.
pub struct MasterKey {
    id: String,
    key: Zeroizing<[u8; 32]>,
}

impl MasterKey {
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(self.key.as_slice()))
    }

    /// Parses `keyid:base64-of-32-bytes`.
    pub fn parse(spec: &str) -> Result<MasterKey, KeyError> {
        let (id, encoded) = spec.trim().split_once(':').ok_or(KeyError::Format("no ':'"))?;
        let id_ok = !id.is_empty()
            && id.len() <= 64
            && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.');
        if !id_ok {
            return Err(KeyError::Format("the key id must be 1-64 of A-Z a-z 0-9 . _ -"));
        }
        let bytes = Zeroizing::new(BASE64.decode(encoded.trim()).map_err(|_| KeyError::Format("bad base64"))?);
        let key: [u8; 32] = bytes.as_slice().try_into().map_err(|_| KeyError::Format("the key must be 32 bytes"))?;
        Ok(MasterKey { id: id.to_owned(), key: Zeroizing::new(key) })
    }

    /// A fresh random key with a random id.
    pub fn generate() -> MasterKey {
        let generated = Aes256Gcm::generate_key(OsRng);
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(generated.as_slice());
        MasterKey { id: crate::ids::random_id("mk_")[..14].to_owned(), key }
    }

    fn to_spec(&self) -> Zeroizing<String> {
        Zeroizing::new(format!("{}:{}\n", self.id, BASE64.encode(self.key.as_slice())))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MasterKey({})", self.id)
    }
}

/// The master keys the vault knows. Today one; records name theirs by id.
#[derive(Debug)]
pub struct Keyring {
    current: MasterKey,
}

impl Keyring {
    pub fn new(current: MasterKey) -> Keyring {
        Keyring { current }
    }

    /// The key from `spec` if given, else the key file in `data_dir` (created when missing).
    pub fn load(spec: Option<&str>, data_dir: &Path) -> Result<Keyring, KeyError> {
        match spec {
            Some(spec) => Ok(Keyring::new(MasterKey::parse(spec)?)),
            None => Ok(Keyring::new(load_or_create_file(&data_dir.join(KEY_FILE))?)),
        }
    }

    /// The key that wraps new records.
    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// The key with this id, for opening a stored record.
    pub fn get(&self, id: &str) -> Option<&MasterKey> {
        (self.current.id == id).then_some(&self.current)
    }

    /// A keyed fingerprint of a request (HMAC-SHA256 under a key derived from the master
    /// key). A plain hash of a tokenize request could be brute-forced back to the card
    /// number, since card numbers have little entropy; a keyed one cannot without the key.
    pub fn fingerprint(&self, bytes: &[u8]) -> String {
        let mut derive =
            <Hmac<Sha256> as Mac>::new_from_slice(self.current.key.as_slice()).expect("HMAC takes any key size");
        derive.update(b"tweetbuy/vault/request-fingerprint/v1");
        let subkey = Zeroizing::new(<[u8; 32]>::from(derive.finalize().into_bytes()));
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(subkey.as_slice()).expect("HMAC takes any key size");
        mac.update(bytes);
        hex::encode(mac.finalize().into_bytes())
    }
}

fn load_or_create_file(path: &Path) -> Result<MasterKey, KeyError> {
    let io = |source| KeyError::Io { path: path.display().to_string(), source };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            MasterKey::parse(&Zeroizing::new(text))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = MasterKey::generate();
            // create_new: never overwrite a key file another process just wrote.
            let mut file = create_private(path).map_err(io)?;
            file.write_all(key.to_spec().as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            tracing::info!(key_id = key.id(), path = %path.display(), "generated vault master key");
            Ok(key)
        }
        Err(e) => Err(io(e)),
    }
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "vault master key file is readable by others; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs_and_refuses_bad_ones() {
        let spec = format!("k1:{}", BASE64.encode([7u8; 32]));
        assert_eq!(MasterKey::parse(&spec).unwrap().id(), "k1");
        assert!(MasterKey::parse("k1").is_err());
        assert!(MasterKey::parse(&format!("k1:{}", BASE64.encode([7u8; 16]))).is_err());
        assert!(MasterKey::parse("bad id:AAAA").is_err());
        assert!(!format!("{:?}", MasterKey::parse(&spec).unwrap()).contains(&BASE64.encode([7u8; 32])));
    }

    #[test]
    fn key_file_is_created_once_with_private_mode() {
        let dir = tempfile::tempdir().unwrap();
        let first = Keyring::load(None, dir.path()).unwrap();
        let second = Keyring::load(None, dir.path()).unwrap();
        assert_eq!(first.current().id(), second.current().id());
        assert_eq!(first.fingerprint(b"x"), second.fingerprint(b"x"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let other = Keyring::new(MasterKey::generate());
        assert_ne!(first.fingerprint(b"x"), other.fingerprint(b"x"), "fingerprints are keyed");
    }
}
