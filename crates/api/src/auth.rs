//! Access tokens: `id:secret` pairs as the reference prints them, carried as
//! `Authorization: Bearer id:secret` or HTTP basic auth (`id` / `secret`).
//!
//! Two kinds: tokens from the node's configuration (kept as given) and tokens created at runtime with
//! `create-access-token`. Runtime tokens are persisted in `access_tokens.json` in the node's data
//! directory with only the SHA3-256 of their secret; the secret itself is returned once, on creation.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;

/// The file of runtime tokens inside the data directory.
pub(crate) const TOKENS_FILE: &str = "access_tokens.json";

/// Most runtime tokens kept: creating more is refused (bounded file and memory).
const MAX_RUNTIME_TOKENS: usize = 1024;

/// Longest token ID accepted.
const MAX_ID_LEN: usize = 64;

/// A runtime token as stored: its secret only as a hash.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
struct StoredToken {
    id: String,
    #[serde(rename = "type", default, skip_serializing_if = "String::is_empty")]
    kind: String,
    /// Unix seconds.
    created_at: u64,
    /// Hex SHA3-256 of the secret.
    secret_sha3: String,
}

/// A token as `list-access-tokens` shows it (never with its secret).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct TokenInfo {
    pub(crate) id: String,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub(crate) kind: String,
    /// RFC 3339, as the reference prints it; empty for configured tokens.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub(crate) created_at: String,
}

/// A token just created: the only time its secret is shown.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct NewToken {
    pub(crate) id: String,
    pub(crate) token: String,
    #[serde(rename = "type", skip_serializing_if = "String::is_empty")]
    pub(crate) kind: String,
    pub(crate) created_at: String,
}

pub(crate) struct Tokens {
    require: bool,
    configured: Vec<(String, String)>,
    runtime: Mutex<Vec<StoredToken>>,
    file: Option<PathBuf>,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print secrets.
        f.debug_struct("Tokens")
            .field("require", &self.require)
            .field("configured", &self.configured.len())
            .field("file", &self.file)
            .finish()
    }
}

pub(crate) fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_ID_LEN
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Compares without an early exit on the first differing byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn secret_hash(secret: &str) -> String {
    hex::encode(crypto::hash::sha3_256(secret.as_bytes()))
}

/// 32 bytes from the operating system's random source.
fn random_bytes() -> Result<[u8; 32], ApiError> {
    use std::io::Read as _;
    let mut out = [0u8; 32];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut out))
        .map_err(|e| ApiError::internal(format!("no randomness for a token secret: {e}")))?;
    Ok(out)
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Unix seconds as RFC 3339 UTC (`2026-11-21T22:40:00Z`).
pub(crate) fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Days to civil date (proleptic Gregorian), after Howard Hinnant's algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

impl Tokens {
    /// Configured tokens from `list`; runtime tokens loaded from `data_dir` if given.
    pub(crate) fn open(list: &[String], require: bool, data_dir: Option<&Path>) -> Result<Tokens, String> {
        let mut configured = Vec::with_capacity(list.len());
        for (i, t) in list.iter().enumerate() {
            let (id, secret) = t
                .split_once(':')
                .ok_or_else(|| format!("access token {i} is not of the form id:secret"))?;
            if !valid_id(id) || secret.is_empty() {
                return Err(format!(
                    "access token {i}: the id must be 1 to {MAX_ID_LEN} letters, digits, _ or - and the secret non-empty"
                ));
            }
            configured.push((id.to_string(), secret.to_string()));
        }
        let file = data_dir.map(|d| d.join(TOKENS_FILE));
        let runtime = match &file {
            Some(path) if path.exists() => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
                serde_json::from_str::<Vec<StoredToken>>(&text)
                    .map_err(|e| format!("bad access token file {}: {e}", path.display()))?
            }
            _ => Vec::new(),
        };
        Ok(Tokens {
            require,
            configured,
            runtime: Mutex::new(runtime),
            file,
        })
    }

    #[cfg(test)]
    pub(crate) fn parse(list: &[String], require: bool) -> Result<Tokens, String> {
        Tokens::open(list, require, None)
    }

    fn runtime(&self) -> MutexGuard<'_, Vec<StoredToken>> {
        // The list is replaced whole on every change, so a poisoned lock still holds a consistent list.
        self.runtime
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn matches(&self, id: &str, secret: &str) -> bool {
        // Check every token so that timing does not reveal which IDs exist.
        let configured = self.configured.iter().fold(false, |ok, (i, s)| {
            ok | (same(i.as_bytes(), id.as_bytes()) & same(s.as_bytes(), secret.as_bytes()))
        });
        let hash = secret_hash(secret);
        let runtime = self.runtime().iter().fold(false, |ok, t| {
            ok | (same(t.id.as_bytes(), id.as_bytes()) & same(t.secret_sha3.as_bytes(), hash.as_bytes()))
        });
        configured | runtime
    }

    /// Whether requests must carry a token: when asked to, or as soon as any token exists.
    fn enforced(&self) -> bool {
        self.require || !self.configured.is_empty() || !self.runtime().is_empty()
    }

    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if !self.enforced() {
            return Ok(());
        }
        let value = headers
            .get(AUTHORIZATION)
            .ok_or_else(|| {
                ApiError::unauthenticated("no Authorization header (use Bearer id:secret or basic auth)")
            })?
            .to_str()
            .map_err(|_| ApiError::unauthenticated("the Authorization header is not text"))?;
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
        let pair = if scheme.eq_ignore_ascii_case("bearer") {
            rest.trim().to_string()
        } else if scheme.eq_ignore_ascii_case("basic") {
            let bytes = base64_decode(rest.trim())
                .ok_or_else(|| ApiError::unauthenticated("basic credentials are not base64"))?;
            String::from_utf8(bytes)
                .map_err(|_| ApiError::unauthenticated("basic credentials are not text"))?
        } else {
            return Err(ApiError::unauthenticated("unsupported authorization scheme"));
        };
        let (id, secret) = pair
            .split_once(':')
            .ok_or_else(|| ApiError::unauthenticated("credentials are not of the form id:secret"))?;
        if self.matches(id, secret) {
            Ok(())
        } else {
            Err(ApiError::unauthenticated("invalid access token"))
        }
    }

    fn save(&self, list: &[StoredToken]) -> Result<(), ApiError> {
        let Some(path) = &self.file else {
            return Ok(());
        };
        let text = serde_json::to_vec_pretty(list)
            .map_err(|e| ApiError::internal(format!("encoding the token file: {e}")))?;
        // Write a sibling file and rename it over the old one, so a crash never leaves half a file.
        let tmp = path.with_extension("json.tmp");
        let write = || -> std::io::Result<()> {
            let mut opts = std::fs::OpenOptions::new();
            opts.write(true).create(true).truncate(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
            let mut f = opts.open(&tmp)?;
            std::io::Write::write_all(&mut f, &text)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)
        };
        write().map_err(|e| ApiError::internal(format!("writing {}: {e}", path.display())))
    }

    /// `create-access-token`: a new runtime token; its secret is in the answer and nowhere else.
    pub(crate) fn create(&self, id: &str, kind: &str) -> Result<NewToken, ApiError> {
        if !valid_id(id) {
            return Err(ApiError::bad_request(format!(
                "invalid id {id:?}: 1 to {MAX_ID_LEN} letters, digits, _ or -"
            )));
        }
        if !kind.is_empty() && kind != "client" && kind != "network" {
            return Err(ApiError::bad_request("type must be client or network"));
        }
        let mut list = self.runtime();
        if self.configured.iter().any(|(i, _)| i == id) || list.iter().any(|t| t.id == id) {
            return Err(ApiError::conflict(format!(
                "access token id {id:?} is already in use"
            )));
        }
        if list.len() >= MAX_RUNTIME_TOKENS {
            return Err(ApiError::bad_request(format!(
                "at most {MAX_RUNTIME_TOKENS} access tokens; delete one first"
            )));
        }
        let secret = hex::encode(crypto::hash::sha3_256(&random_bytes()?));
        let created_at = now_secs();
        let mut next = list.clone();
        next.push(StoredToken {
            id: id.to_string(),
            kind: kind.to_string(),
            created_at,
            secret_sha3: secret_hash(&secret),
        });
        self.save(&next)?;
        *list = next;
        Ok(NewToken {
            id: id.to_string(),
            token: format!("{id}:{secret}"),
            kind: kind.to_string(),
            created_at: rfc3339(created_at),
        })
    }

    /// `list-access-tokens`: configured tokens (type `configured`) then runtime ones; never secrets.
    pub(crate) fn list(&self) -> Vec<TokenInfo> {
        let mut out: Vec<TokenInfo> = self
            .configured
            .iter()
            .map(|(id, _)| TokenInfo {
                id: id.clone(),
                kind: "configured".to_string(),
                created_at: String::new(),
            })
            .collect();
        out.extend(self.runtime().iter().map(|t| TokenInfo {
            id: t.id.clone(),
            kind: t.kind.clone(),
            created_at: rfc3339(t.created_at),
        }));
        out
    }

    /// `delete-access-token`: runtime tokens only (configured ones live in the node's file).
    pub(crate) fn delete(&self, id: &str) -> Result<(), ApiError> {
        if !valid_id(id) {
            return Err(ApiError::bad_request(format!("invalid id {id:?}")));
        }
        if self.configured.iter().any(|(i, _)| i == id) {
            return Err(ApiError::bad_request(format!(
                "access token {id:?} is configured in the node's configuration file; remove it there"
            )));
        }
        let mut list = self.runtime();
        if !list.iter().any(|t| t.id == id) {
            return Err(ApiError::not_found(format!("no access token {id:?}")));
        }
        let next: Vec<StoredToken> = list.iter().filter(|t| t.id != id).cloned().collect();
        self.save(&next)?;
        *list = next;
        Ok(())
    }

    /// `check-access-token`: whether `secret` is the secret of token `id`.
    pub(crate) fn check_pair(&self, id: &str, secret: &str) -> Result<(), ApiError> {
        if !valid_id(id) {
            return Err(ApiError::bad_request(format!("invalid id {id:?}")));
        }
        let known = self.configured.iter().any(|(i, _)| i == id) || self.runtime().iter().any(|t| t.id == id);
        if !known {
            return Err(ApiError::not_found(format!("no access token {id:?}")));
        }
        if self.matches(id, secret) {
            Ok(())
        } else {
            Err(ApiError::bad_request(format!(
                "the secret is not the secret of access token {id:?}"
            )))
        }
    }
}

/// Standard base64 (with or without padding); `None` on any other character.
fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let s = s.trim_end_matches('=');
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in s.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(((acc >> bits) & 0xff).to_be_bytes()[3]);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_known_values() {
        assert_eq!(base64_decode("ZGV2bmV0OnNlY3JldA==").unwrap(), b"devnet:secret");
        assert_eq!(base64_decode("YQ").unwrap(), b"a");
        assert_eq!(base64_decode("").unwrap(), b"");
        assert!(base64_decode("a*b").is_none());
    }

    #[test]
    fn rfc3339_known_values() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000), "2023-11-14T22:13:20Z");
    }

    #[test]
    fn bearer_and_basic() {
        let t = Tokens::parse(&["devnet:secret".to_string()], true).unwrap();
        let mut h = HeaderMap::new();
        assert!(t.check(&h).is_err());
        h.insert(AUTHORIZATION, "Bearer devnet:secret".parse().unwrap());
        assert!(t.check(&h).is_ok());
        h.insert(AUTHORIZATION, "Bearer devnet:secreT".parse().unwrap());
        assert!(t.check(&h).is_err());
        h.insert(AUTHORIZATION, "Basic ZGV2bmV0OnNlY3JldA==".parse().unwrap());
        assert!(t.check(&h).is_ok());
        h.insert(AUTHORIZATION, "Token devnet:secret".parse().unwrap());
        assert!(t.check(&h).is_err());
        assert!(Tokens::parse(&["nocolon".to_string()], true).is_err());
        assert!(Tokens::parse(&["bad id:x".to_string()], true).is_err());
        // Required with no token: everything refused; not required: everything passes.
        assert!(Tokens::parse(&[], true).unwrap().check(&h).is_err());
        assert!(
            Tokens::parse(&[], false)
                .unwrap()
                .check(&HeaderMap::new())
                .is_ok()
        );
        // A configured token is enforced even when authentication is not required.
        let optional = Tokens::parse(&["devnet:secret".to_string()], false).unwrap();
        assert!(optional.check(&HeaderMap::new()).is_err());
        let mut good = HeaderMap::new();
        good.insert(AUTHORIZATION, "Bearer devnet:secret".parse().unwrap());
        assert!(optional.check(&good).is_ok());
    }

    #[test]
    fn runtime_tokens_persist_hashed_and_can_be_deleted() {
        let dir = std::env::temp_dir().join(format!("tributary-api-tokens-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::fs::remove_file(dir.join(TOKENS_FILE));
        let t = Tokens::open(&["admin:pw".to_string()], true, Some(&dir)).unwrap();
        let created = t.create("ops", "client").unwrap();
        let (id, secret) = created.token.split_once(':').unwrap();
        assert_eq!(id, "ops");
        assert_eq!(secret.len(), 64);
        assert!(t.create("ops", "client").is_err(), "duplicate id");
        assert!(t.create("admin", "").is_err(), "configured id");
        assert!(t.create("bad id", "").is_err());
        assert!(t.create("x", "root").is_err());
        let file = std::fs::read_to_string(dir.join(TOKENS_FILE)).unwrap();
        assert!(!file.contains(secret), "the secret itself is never stored");
        assert!(file.contains(&secret_hash(secret)));
        // Reopened: the token still works, a wrong secret does not.
        let again = Tokens::open(&[], true, Some(&dir)).unwrap();
        let mut h = HeaderMap::new();
        h.insert(AUTHORIZATION, format!("Bearer ops:{secret}").parse().unwrap());
        assert!(again.check(&h).is_ok());
        assert!(again.check_pair("ops", secret).is_ok());
        assert!(again.check_pair("ops", "nope").is_err());
        assert!(again.check_pair("nobody", "nope").is_err());
        assert_eq!(again.list().len(), 1);
        assert!(again.delete("nobody").is_err());
        again.delete("ops").unwrap();
        assert!(again.check(&h).is_err());
        let reopened = Tokens::open(&[], true, Some(&dir)).unwrap();
        assert!(reopened.list().is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
