//! The vault's master key: loaded from `TWEETBUY_MASTER_KEY` or from a key file kept apart
//! from the data (generated on first start, mode 0600). Only demo mode keeps the key file in
//! the data directory, beside the records it protects.
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
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use zeroize::Zeroizing;

/// The demo key file's name inside the data directory.
pub const KEY_FILE: &str = "vault-master.key";

/// Where the master keys come from.
#[derive(Clone, PartialEq, Eq)]
pub enum KeySource {
    /// `keyid:base64[,keyid:base64…]`, newest first (from `TWEETBUY_MASTER_KEY`).
    Spec(String),
    /// A key file, created with one fresh key when missing.
    File(PathBuf),
}

impl fmt::Debug for KeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeySource::Spec(_) => f.write_str("KeySource::Spec(***)"),
            KeySource::File(path) => write!(f, "KeySource::File({})", path.display()),
        }
    }
}

/// Whether `path` (which may not exist yet) is inside `dir`, following symbolic links, so
/// neither `data/../data/key` nor a link into the data directory passes for "apart".
pub fn is_inside(path: &Path, dir: &Path) -> bool {
    let real = |p: &Path| std::fs::canonicalize(p).or_else(|_| std::path::absolute(p));
    let Ok(dir) = real(dir) else { return false };
    let file = match std::fs::canonicalize(path) {
        Ok(file) => file,
        Err(_) => {
            let parent = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
            match (real(parent), path.file_name()) {
                (Ok(parent), Some(name)) => parent.join(name),
                _ => return false,
            }
        }
    };
    file.starts_with(&dir)
}

/// Why the master keys could not be read or a key file written; `serve` stops with it
/// ([`crate::StartupError::Key`]).
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    /// A key is not `keyid:base64-of-32-bytes`: what is wrong with it, never the key itself.
    #[error("master key must look like keyid:base64-of-32-bytes ({0})")]
    Format(&'static str),
    /// A key file could not be read, created or written.
    #[error("master key file {path}: {source}")]
    Io {
        /// The key file's path.
        path: String,
        /// What the operating system said.
        source: std::io::Error,
    },
}

/// One AES-256 key and its id.
pub struct MasterKey {
    id: String,
    key: Zeroizing<[u8; 32]>,
}

impl MasterKey {
    /// The key's id, 1 to 64 of `A-Z a-z 0-9 . _ -`, stored with every record the key wraps
    /// ([`super::envelope::Sealed::key_id`]).
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

    #[cfg(test)]
    pub(crate) fn to_base64_for_tests(&self) -> String {
        BASE64.encode(self.key.as_slice())
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

/// The master keys the vault knows: the current one, which wraps new records, and older
/// ones that still open records wrapped before a rotation.
#[derive(Debug)]
pub struct Keyring {
    current: Arc<MasterKey>,
    /// Every known key, the current one first.
    known: RwLock<Vec<Arc<MasterKey>>>,
    /// The key file this ring came from, re-read when a record names a key we do not know
    /// (`keys rotate` ran while this process was serving).
    file: Option<PathBuf>,
}

impl Keyring {
    /// A ring of one key (tests).
    pub fn new(current: MasterKey) -> Keyring {
        Keyring::from_keys(vec![current], None).expect("one key is never empty")
    }

    /// A ring from keys listed newest first: the first one is current.
    pub fn from_keys(keys: Vec<MasterKey>, file: Option<PathBuf>) -> Result<Keyring, KeyError> {
        let known: Vec<Arc<MasterKey>> = keys.into_iter().map(Arc::new).collect();
        let current = known.first().cloned().ok_or(KeyError::Format("no key given"))?;
        Ok(Keyring { current, known: RwLock::new(known), file })
    }

    /// The keys from `spec` if given (`keyid:base64[,keyid:base64…]`, newest first), else the
    /// demo key file in `dir` (created with one fresh key when missing).
    pub fn load(spec: Option<&str>, dir: &Path) -> Result<Keyring, KeyError> {
        match spec {
            Some(spec) => Keyring::open(&KeySource::Spec(spec.to_owned())),
            None => Keyring::open(&KeySource::File(dir.join(KEY_FILE))),
        }
    }

    /// The keys from their configured source.
    pub fn open(source: &KeySource) -> Result<Keyring, KeyError> {
        match source {
            KeySource::Spec(spec) => Keyring::from_keys(parse_list(spec)?, None),
            KeySource::File(path) => Keyring::from_keys(load_or_create_file(path)?, Some(path.clone())),
        }
    }

    /// The key that wraps new records.
    pub fn current(&self) -> &MasterKey {
        &self.current
    }

    /// The ids of every known key, the current one first.
    pub fn ids(&self) -> Vec<String> {
        self.known.read().map(|k| k.iter().map(|key| key.id.clone()).collect()).unwrap_or_default()
    }

    /// The key with this id, for opening a stored record. An unknown id makes a file-backed
    /// ring re-read its file once, so a rotation done by another process is picked up.
    pub fn get(&self, id: &str) -> Option<Arc<MasterKey>> {
        let find = |keys: &[Arc<MasterKey>]| keys.iter().find(|k| k.id == id).cloned();
        if let Some(key) = self.known.read().ok().and_then(|k| find(&k)) {
            return Some(key);
        }
        let path = self.file.as_ref()?;
        let text = Zeroizing::new(std::fs::read_to_string(path).ok()?);
        let fresh = parse_list(&text).ok()?;
        let mut known = self.known.write().ok()?;
        for key in fresh {
            if !known.iter().any(|k| k.id == key.id) {
                tracing::info!(key_id = key.id(), "vault master key picked up from the key file");
                known.push(Arc::new(key));
            }
        }
        find(&known)
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

/// Parses keys separated by commas or new lines, newest first; blank lines and `#` comments
/// are skipped. Two keys with one id are refused, since records name their key by id.
pub fn parse_list(text: &str) -> Result<Vec<MasterKey>, KeyError> {
    let mut keys: Vec<MasterKey> = Vec::new();
    for spec in text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty() && !s.starts_with('#')) {
        let key = MasterKey::parse(spec)?;
        if keys.iter().any(|k| k.id == key.id) {
            return Err(KeyError::Format("two keys share one id"));
        }
        keys.push(key);
    }
    if keys.is_empty() {
        return Err(KeyError::Format("no key given"));
    }
    Ok(keys)
}

/// `keys rotate` with a key file: a fresh key goes first in the file, the older keys stay
/// below it (records wrapped by them must still open until they are re-wrapped). The file is
/// replaced atomically (written beside it, synced, renamed), private to its owner.
pub fn add_key_to_file(path: &Path) -> Result<MasterKey, KeyError> {
    let io = |source| KeyError::Io { path: path.display().to_string(), source };
    let old = Zeroizing::new(std::fs::read_to_string(path).map_err(io)?);
    let existing = parse_list(&old)?;
    let mut fresh = MasterKey::generate();
    while existing.iter().any(|k| k.id == fresh.id) {
        fresh = MasterKey::generate();
    }
    let mut text = Zeroizing::new(String::new());
    text.push_str(&fresh.to_spec());
    for key in &existing {
        text.push_str(&key.to_spec());
    }
    let tmp = path.with_extension("key.new");
    let _ = std::fs::remove_file(&tmp);
    let mut file = create_private(&tmp).map_err(io)?;
    file.write_all(text.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)?;
    Ok(fresh)
}

/// Writes a new key file holding one fresh key (mode 0600); an existing file is an error.
pub fn create_key_file(path: &Path) -> Result<MasterKey, KeyError> {
    let io = |source| KeyError::Io { path: path.display().to_string(), source };
    let key = MasterKey::generate();
    // create_new: never overwrite a key file, which may be the only copy of the key.
    let mut file = create_private(path).map_err(io)?;
    file.write_all(key.to_spec().as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    Ok(key)
}

fn load_or_create_file(path: &Path) -> Result<Vec<MasterKey>, KeyError> {
    let io = |source| KeyError::Io { path: path.display().to_string(), source };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            warn_if_readable_by_others(path);
            parse_list(&Zeroizing::new(text))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = create_key_file(path)?;
            tracing::info!(key_id = key.id(), path = %path.display(), "generated vault master key");
            Ok(vec![key])
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

    #[test]
    fn a_rotated_file_keeps_old_keys_and_a_running_ring_picks_the_new_one_up() {
        let dir = tempfile::tempdir().unwrap();
        let running = Keyring::load(None, dir.path()).unwrap();
        let old_id = running.current().id().to_owned();
        let fresh = add_key_to_file(&dir.path().join(KEY_FILE)).unwrap();
        assert_ne!(fresh.id(), old_id);
        let reloaded = Keyring::load(None, dir.path()).unwrap();
        assert_eq!(reloaded.current().id(), fresh.id(), "the new key is current after a restart");
        assert_eq!(reloaded.ids(), [fresh.id().to_owned(), old_id.clone()], "the old key stays");
        // The ring of the process that was already serving learns the new key on demand.
        assert_eq!(running.ids(), std::slice::from_ref(&old_id));
        assert!(running.get(fresh.id()).is_some());
        assert_eq!(running.current().id(), old_id, "its current key does not change under it");
        assert!(running.get("mk_nope").is_none());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn key_lists_parse_newest_first_and_refuse_duplicate_ids() {
        let a = format!("a:{}", BASE64.encode([1u8; 32]));
        let b = format!("b:{}", BASE64.encode([2u8; 32]));
        let ring = Keyring::load(Some(&format!("{a},{b}")), Path::new("/nonexistent")).unwrap();
        assert_eq!(ring.current().id(), "a");
        assert_eq!(ring.ids(), ["a", "b"]);
        assert!(parse_list(&format!("{a}\n{a}")).is_err());
        assert!(parse_list("# only a comment\n").is_err());
    }
}
