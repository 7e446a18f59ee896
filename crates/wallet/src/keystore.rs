//! The keystore: chainkd root keys made from BIP39 mnemonics, encrypted at rest, one JSON file per
//! key in a directory.
//!
//! Derivation follows the reference (vapor `blockchain/pseudohsm`, `wallet/mnemonic`): 128 bits of
//! entropy make a 12-word English mnemonic; the seed is PBKDF2-HMAC-SHA512(mnemonic, "mnemonic",
//! 2048 rounds, 64 bytes) (BIP39 with an empty passphrase); the root key is chainkd's
//! `RootXPrv(seed)`. Encryption is ours: Argon2id (parameters stored in the file) derives a 32-byte
//! key that seals `xprv ‖ entropy` with ChaCha20-Poly1305, the file's id, alias and xpub bound in as
//! associated data.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use bip39::{Language, Mnemonic};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use crypto::chainkd::{XPrv, XPub};
use rand_core::{OsRng, RngCore};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::WalletError;

/// Words in a mnemonic made or accepted here (128 bits of entropy, as the reference's `EntropyLength`).
pub const MNEMONIC_WORDS: usize = 12;
const ENTROPY_LEN: usize = 16;
/// Each word is stored as its 11-bit index in the English list, two bytes little-endian.
const WORDS_LEN: usize = 2 * MNEMONIC_WORDS;
const XPRV_LEN: usize = 64;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 12;
const FILE_VERSION: u32 = 1;
/// Largest key file read; ours are under 1 KiB.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// Longest alias accepted (bytes, after normalization).
pub const MAX_ALIAS_LEN: usize = 128;
/// Longest password accepted (bytes).
pub const MAX_PASSWORD_LEN: usize = 1024;

/// Argon2id cost parameters, stored in every key file so each key decrypts with its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl KdfParams {
    /// Upper bounds on what a key file may ask for, so a hostile file cannot exhaust memory or time.
    const MAX_M_COST_KIB: u32 = 1 << 20;
    const MAX_T_COST: u32 = 64;
    const MAX_P_COST: u32 = 16;

    /// The default for real keys: 64 MiB, 3 passes, 1 lane (RFC 9106's second recommended option).
    pub const STRONG: KdfParams = KdfParams {
        m_cost_kib: 64 * 1024,
        t_cost: 3,
        p_cost: 1,
    };

    /// A setting for tests only: fast and weak.
    pub const FAST_INSECURE: KdfParams = KdfParams {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };

    fn validate(&self) -> Result<(), WalletError> {
        let bad = |reason: String| WalletError::InvalidArgument {
            what: "kdf parameters",
            reason,
        };
        if self.m_cost_kib > Self::MAX_M_COST_KIB
            || self.t_cost > Self::MAX_T_COST
            || self.p_cost > Self::MAX_P_COST
        {
            return Err(bad(format!("{self:?} exceeds the allowed maximum")));
        }
        argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map(|_| ())
            .map_err(|e| bad(format!("{self:?}: {e}")))
    }

    fn derive(&self, password: &str, salt: &[u8]) -> Result<Zeroizing<[u8; 32]>, WalletError> {
        self.validate()?;
        let params = argon2::Params::new(self.m_cost_kib, self.t_cost, self.p_cost, Some(32))
            .map_err(|e| WalletError::Internal(format!("argon2 parameters: {e}")))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(password.as_bytes(), salt, out.as_mut())
            .map_err(|e| WalletError::Internal(format!("argon2: {e}")))?;
        Ok(out)
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams::STRONG
    }
}

/// A key as listed: the reference's `{alias, xpub, file}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyInfo {
    /// The normalized alias.
    pub alias: String,
    /// The root xpub.
    pub xpub: XPub,
    /// The key file's path.
    pub file: String,
}

/// The key file as stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    version: u32,
    id: String,
    key_type: String,
    alias: String,
    xpub: XPub,
    kdf: StoredKdf,
    cipher: StoredCipher,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredKdf {
    algorithm: String,
    #[serde(flatten)]
    params: KdfParams,
    salt: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct StoredCipher {
    algorithm: String,
    nonce: String,
    ciphertext: String,
}

const KDF_NAME: &str = "argon2id";
const CIPHER_NAME: &str = "chacha20-poly1305";
const KEY_TYPE: &str = "chainkd";

/// The associated data binding a ciphertext to its file's identity: swapping ciphertexts between files,
/// or editing the alias or xpub, makes decryption fail.
fn associated_data(id: &str, alias: &str, xpub: &XPub) -> Vec<u8> {
    let mut ad = Vec::with_capacity(32 + id.len() + alias.len() + 64);
    ad.extend_from_slice(b"tributary-wallet-key-v1\0");
    ad.extend_from_slice(id.as_bytes());
    ad.push(0);
    ad.extend_from_slice(alias.as_bytes());
    ad.push(0);
    ad.extend_from_slice(xpub.as_bytes());
    ad
}

/// A decrypted key: the root xprv and its mnemonic's words (as word-list indices). Wiped on drop,
/// never printed.
pub(crate) struct Secret {
    pub(crate) xprv: XPrv,
    words: Zeroizing<[u16; MNEMONIC_WORDS]>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Secret {
    fn from_mnemonic(mnemonic: &Mnemonic) -> Result<Secret, WalletError> {
        let mut words = Zeroizing::new([0u16; MNEMONIC_WORDS]);
        let mut n = 0;
        for (slot, index) in words.iter_mut().zip(mnemonic.word_indices()) {
            *slot =
                u16::try_from(index).map_err(|_| WalletError::Internal("word index above 2047".into()))?;
            n += 1;
        }
        if n != MNEMONIC_WORDS || mnemonic.word_count() != MNEMONIC_WORDS {
            return Err(WalletError::InvalidMnemonic {
                reason: format!("expected {MNEMONIC_WORDS} words"),
            });
        }
        Ok(Secret {
            xprv: xprv_from_mnemonic(mnemonic),
            words,
        })
    }

    fn mnemonic(&self) -> Result<Zeroizing<String>, WalletError> {
        let list = Language::English.word_list();
        let mut out = Zeroizing::new(String::with_capacity(MNEMONIC_WORDS * 9));
        for (i, &index) in self.words.iter().enumerate() {
            let word = list
                .get(usize::from(index))
                .ok_or_else(|| WalletError::Internal(format!("word index {index} out of range")))?;
            if i > 0 {
                out.push(' ');
            }
            out.push_str(word);
        }
        Ok(out)
    }

    fn plaintext(&self) -> Zeroizing<Vec<u8>> {
        let mut p = Zeroizing::new(Vec::with_capacity(XPRV_LEN + WORDS_LEN));
        p.extend_from_slice(self.xprv.expose_secret_bytes());
        for w in self.words.iter() {
            p.extend_from_slice(&w.to_le_bytes());
        }
        p
    }
}

/// The reference's seed and root key: BIP39 seed with an empty passphrase, then `RootXPrv(seed)`.
fn xprv_from_mnemonic(mnemonic: &Mnemonic) -> XPrv {
    let seed = Zeroizing::new(mnemonic.to_seed_normalized(""));
    XPrv::root(seed.as_ref())
}

/// Parses a mnemonic as the reference accepts it: exactly 12 words, each in the English list. Like the
/// reference (`IsMnemonicValid`), the BIP39 checksum is not checked. Words are separated by any
/// whitespace; the seed is computed over the words joined by single spaces.
pub fn parse_mnemonic(phrase: &str) -> Result<Mnemonic, WalletError> {
    let words: Vec<&str> = phrase.split_whitespace().collect();
    if words.len() != MNEMONIC_WORDS {
        return Err(WalletError::InvalidMnemonic {
            reason: format!("{} words, expected {MNEMONIC_WORDS}", words.len()),
        });
    }
    let joined = Zeroizing::new(words.join(" "));
    Mnemonic::parse_in_normalized_without_checksum_check(Language::English, &joined).map_err(|e| {
        // The error names the offending word; keep only its kind so no word leaks into logs.
        let reason = match e {
            bip39::Error::UnknownWord(i) => format!("word {} is not in the English word list", i + 1),
            _ => "not a BIP39 English mnemonic".to_string(),
        };
        WalletError::InvalidMnemonic { reason }
    })
}

/// The root xpub a mnemonic yields (reference `createKeyFromMnemonic`).
pub fn xpub_from_mnemonic(phrase: &str) -> Result<XPub, WalletError> {
    Ok(xprv_from_mnemonic(&parse_mnemonic(phrase)?).xpub())
}

/// Normalizes an alias as the reference does (`strings.ToLower(strings.TrimSpace(alias))`).
pub fn normalize_alias(alias: &str) -> Result<String, WalletError> {
    let a = alias.trim().to_lowercase();
    if a.is_empty() {
        return Err(WalletError::InvalidArgument {
            what: "alias",
            reason: "empty".into(),
        });
    }
    if a.len() > MAX_ALIAS_LEN {
        return Err(WalletError::InvalidArgument {
            what: "alias",
            reason: format!("{} bytes, at most {MAX_ALIAS_LEN}", a.len()),
        });
    }
    Ok(a)
}

fn check_password(password: &str) -> Result<(), WalletError> {
    if password.len() > MAX_PASSWORD_LEN {
        return Err(WalletError::InvalidArgument {
            what: "password",
            reason: format!("longer than {MAX_PASSWORD_LEN} bytes"),
        });
    }
    Ok(())
}

fn io<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> WalletError + use<'a> {
    move |source| WalletError::Io {
        op,
        path: path.display().to_string(),
        source,
    }
}

/// A random RFC 4122 version-4 UUID in its text form (the reference names keys and accounts by UUID).
pub(crate) fn random_uuid() -> String {
    let mut b = [0u8; 16];
    OsRng.fill_bytes(&mut b);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

#[derive(Debug, Clone)]
struct Entry {
    alias: String,
    file: PathBuf,
}

/// The keystore: a directory of key files and an index of them. Safe to share between threads; the
/// slow key derivation runs outside the index lock.
#[derive(Debug)]
pub struct Keystore {
    dir: PathBuf,
    kdf: KdfParams,
    keys: Mutex<BTreeMap<XPub, Entry>>,
}

impl Keystore {
    /// Opens (creating if needed) the key directory and indexes its key files. Files that are not key
    /// files of ours are left alone and not listed.
    pub fn open(dir: &Path, kdf: KdfParams) -> Result<Keystore, WalletError> {
        kdf.validate()?;
        fs::create_dir_all(dir).map_err(io("create directory", dir))?;
        // Absolute, as the reference reports key files.
        let dir = &std::path::absolute(dir).map_err(io("resolve", dir))?;
        let mut keys = BTreeMap::new();
        for entry in fs::read_dir(dir).map_err(io("read directory", dir))? {
            let path = entry.map_err(io("read directory", dir))?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            if let Ok(file) = read_key_file(&path) {
                keys.insert(
                    file.xpub,
                    Entry {
                        alias: file.alias,
                        file: path,
                    },
                );
            }
        }
        Ok(Keystore {
            dir: dir.to_path_buf(),
            kdf,
            keys: Mutex::new(keys),
        })
    }

    fn index(&self) -> Result<std::sync::MutexGuard<'_, BTreeMap<XPub, Entry>>, WalletError> {
        self.keys
            .lock()
            .map_err(|_| WalletError::Internal("keystore lock poisoned".into()))
    }

    /// Creates a key from a fresh mnemonic; returns it with the mnemonic (shown to the user once).
    pub fn create(&self, alias: &str, password: &str) -> Result<(KeyInfo, Zeroizing<String>), WalletError> {
        let mut entropy = Zeroizing::new([0u8; ENTROPY_LEN]);
        OsRng.fill_bytes(entropy.as_mut());
        let phrase = Mnemonic::from_entropy_in(Language::English, entropy.as_ref())
            .map_err(|e| WalletError::Internal(format!("mnemonic from entropy: {e}")))?;
        let secret = Secret::from_mnemonic(&phrase)?;
        let mnemonic = secret.mnemonic()?;
        let info = self.store_new(alias, password, &secret)?;
        Ok((info, mnemonic))
    }

    /// Imports a key from a 12-word mnemonic.
    pub fn import(&self, alias: &str, password: &str, phrase: &str) -> Result<KeyInfo, WalletError> {
        let mnemonic = parse_mnemonic(phrase)?;
        // The words themselves are kept (not the entropy): without a checksum check, a phrase need not
        // be the phrase of its entropy, and export must give back the words that made the key.
        let secret = Secret::from_mnemonic(&mnemonic)?;
        self.store_new(alias, password, &secret)
    }

    fn store_new(&self, alias: &str, password: &str, secret: &Secret) -> Result<KeyInfo, WalletError> {
        let alias = normalize_alias(alias)?;
        check_password(password)?;
        let xpub = secret.xprv.xpub();
        self.check_new(&alias, &xpub)?;
        let id = random_uuid();
        let file = seal(&id, &alias, xpub, secret, password, self.kdf)?;
        let path = self.dir.join(format!("{id}.json"));
        let mut keys = self.index()?;
        // Checked again under the lock: another call may have added the alias while we derived.
        check_new_in(&keys, &alias, &xpub)?;
        write_atomically(&path, &file)?;
        keys.insert(
            xpub,
            Entry {
                alias: alias.clone(),
                file: path.clone(),
            },
        );
        Ok(KeyInfo {
            alias,
            xpub,
            file: path.display().to_string(),
        })
    }

    fn check_new(&self, alias: &str, xpub: &XPub) -> Result<(), WalletError> {
        let keys = self.index()?;
        check_new_in(&keys, alias, xpub)
    }

    /// Every key, ordered by xpub.
    pub fn list(&self) -> Vec<KeyInfo> {
        match self.index() {
            Ok(keys) => keys
                .iter()
                .map(|(xpub, e)| KeyInfo {
                    alias: e.alias.clone(),
                    xpub: *xpub,
                    file: e.file.display().to_string(),
                })
                .collect(),
            Err(_) => Vec::new(),
        }
    }

    /// Whether the keystore holds the private key of `xpub`.
    pub fn has(&self, xpub: &XPub) -> bool {
        self.index().map(|k| k.contains_key(xpub)).unwrap_or(false)
    }

    fn entry(&self, xpub: &XPub) -> Result<Entry, WalletError> {
        self.index()?
            .get(xpub)
            .cloned()
            .ok_or_else(|| WalletError::KeyNotFound { xpub: xpub.to_hex() })
    }

    /// Decrypts the key of `xpub`.
    pub(crate) fn unlock(&self, xpub: &XPub, password: &str) -> Result<Secret, WalletError> {
        check_password(password)?;
        let entry = self.entry(xpub)?;
        let file = read_key_file(&entry.file)?;
        if file.xpub != *xpub {
            return Err(WalletError::BadKeyFile {
                file: entry.file.display().to_string(),
                reason: "holds a different xpub than when it was indexed".into(),
            });
        }
        open_sealed(&file, password, &entry.file)
    }

    /// Deletes the key of `xpub` after checking the password.
    pub fn delete(&self, xpub: &XPub, password: &str) -> Result<(), WalletError> {
        let _secret = self.unlock(xpub, password)?;
        let mut keys = self.index()?;
        let entry = keys
            .get(xpub)
            .cloned()
            .ok_or_else(|| WalletError::KeyNotFound { xpub: xpub.to_hex() })?;
        fs::remove_file(&entry.file).map_err(io("remove", &entry.file))?;
        keys.remove(xpub);
        Ok(())
    }

    /// Re-encrypts the key of `xpub` under a new password (fresh salt and nonce, the keystore's KDF).
    pub fn reset_password(&self, xpub: &XPub, old: &str, new: &str) -> Result<(), WalletError> {
        check_password(new)?;
        let secret = self.unlock(xpub, old)?;
        let entry = self.entry(xpub)?;
        let current = read_key_file(&entry.file)?;
        let file = seal(&current.id, &current.alias, *xpub, &secret, new, self.kdf)?;
        let keys = self.index()?;
        // The key may have been deleted while we derived: do not bring its file back.
        if keys.get(xpub).map(|e| &e.file) != Some(&entry.file) {
            return Err(WalletError::KeyNotFound { xpub: xpub.to_hex() });
        }
        write_atomically(&entry.file, &file)
    }

    /// The mnemonic of the key of `xpub`, given its password.
    pub fn export_mnemonic(&self, xpub: &XPub, password: &str) -> Result<Zeroizing<String>, WalletError> {
        self.unlock(xpub, password)?.mnemonic()
    }
}

fn check_new_in(keys: &BTreeMap<XPub, Entry>, alias: &str, xpub: &XPub) -> Result<(), WalletError> {
    if keys.values().any(|e| e.alias == alias) {
        return Err(WalletError::DuplicateKeyAlias {
            alias: alias.to_string(),
        });
    }
    if let Some(e) = keys.get(xpub) {
        return Err(WalletError::InvalidArgument {
            what: "mnemonic",
            reason: format!("its key is already in the keystore as {:?}", e.alias),
        });
    }
    Ok(())
}

fn seal(
    id: &str,
    alias: &str,
    xpub: XPub,
    secret: &Secret,
    password: &str,
    kdf: KdfParams,
) -> Result<KeyFile, WalletError> {
    let mut salt = [0u8; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let key = kdf.derive(password, &salt)?;
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    let plaintext = secret.plaintext();
    let ad = associated_data(id, alias, &xpub);
    let ciphertext = cipher
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: &plaintext,
                aad: &ad,
            },
        )
        .map_err(|_| WalletError::Internal("key encryption failed".into()))?;
    Ok(KeyFile {
        version: FILE_VERSION,
        id: id.to_string(),
        key_type: KEY_TYPE.to_string(),
        alias: alias.to_string(),
        xpub,
        kdf: StoredKdf {
            algorithm: KDF_NAME.to_string(),
            params: kdf,
            salt: hex::encode(salt),
        },
        cipher: StoredCipher {
            algorithm: CIPHER_NAME.to_string(),
            nonce: hex::encode(nonce),
            ciphertext: hex::encode(ciphertext),
        },
    })
}

fn open_sealed(file: &KeyFile, password: &str, path: &Path) -> Result<Secret, WalletError> {
    let bad = |reason: &str| WalletError::BadKeyFile {
        file: path.display().to_string(),
        reason: reason.to_string(),
    };
    let salt = hex::decode(&file.kdf.salt).map_err(|_| bad("salt is not hex"))?;
    let nonce: [u8; NONCE_LEN] = hex::decode(&file.cipher.nonce)
        .ok()
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| bad("nonce is not 12 hex bytes"))?;
    let ciphertext = hex::decode(&file.cipher.ciphertext).map_err(|_| bad("ciphertext is not hex"))?;
    let key = file.kdf.params.derive(password, &salt)?;
    let cipher = ChaCha20Poly1305::new(&Key::from(*key));
    let ad = associated_data(&file.id, &file.alias, &file.xpub);
    let plaintext = Zeroizing::new(
        cipher
            .decrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &ciphertext,
                    aad: &ad,
                },
            )
            .map_err(|_| WalletError::WrongPassword {
                xpub: file.xpub.to_hex(),
            })?,
    );
    if plaintext.len() != XPRV_LEN + WORDS_LEN {
        return Err(bad("decrypted key has the wrong length"));
    }
    let (xprv_bytes, word_bytes) = plaintext.split_at(XPRV_LEN);
    let xprv = XPrv::from_slice(xprv_bytes).map_err(|_| bad("bad xprv"))?;
    let mut words = Zeroizing::new([0u16; MNEMONIC_WORDS]);
    for (slot, pair) in words.iter_mut().zip(word_bytes.chunks_exact(2)) {
        *slot = u16::from_le_bytes([pair[0], pair[1]]);
        if *slot > 2047 {
            return Err(bad("mnemonic word index out of range"));
        }
    }
    if xprv.xpub() != file.xpub {
        return Err(bad("decrypted key does not match its xpub"));
    }
    Ok(Secret { xprv, words })
}

fn read_key_file(path: &Path) -> Result<KeyFile, WalletError> {
    let bad = |reason: String| WalletError::BadKeyFile {
        file: path.display().to_string(),
        reason,
    };
    let meta = fs::metadata(path).map_err(io("stat", path))?;
    if meta.len() > MAX_KEY_FILE_BYTES {
        return Err(bad(format!(
            "{} bytes, larger than {MAX_KEY_FILE_BYTES}",
            meta.len()
        )));
    }
    let bytes = fs::read(path).map_err(io("read", path))?;
    let file: KeyFile = serde_json::from_slice(&bytes).map_err(|e| bad(format!("not a key file: {e}")))?;
    if file.version != FILE_VERSION
        || file.key_type != KEY_TYPE
        || file.kdf.algorithm != KDF_NAME
        || file.cipher.algorithm != CIPHER_NAME
    {
        return Err(bad("unknown version, key type or algorithm".into()));
    }
    file.kdf.params.validate()?;
    Ok(file)
}

/// Writes a file so that a crash leaves either the old or the new content: a temporary file in the
/// same directory, flushed, then renamed over the target.
fn write_atomically(path: &Path, file: &KeyFile) -> Result<(), WalletError> {
    let bytes =
        serde_json::to_vec_pretty(file).map_err(|e| WalletError::Internal(format!("key file: {e}")))?;
    let tmp = path.with_extension("json.tmp");
    {
        let mut options = fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        // Readable by the owner only: the file is encrypted, but its KDF parameters and salt invite
        // offline guessing.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp).map_err(io("create", &tmp))?;
        f.write_all(&bytes).map_err(io("write", &tmp))?;
        f.sync_all().map_err(io("sync", &tmp))?;
    }
    fs::rename(&tmp, path).map_err(io("rename", &tmp))?;
    if let Some(dir) = path.parent() {
        // Persist the rename itself; not every platform can open a directory, so this is best effort.
        if let Ok(d) = fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}
