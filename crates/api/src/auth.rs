//! Access tokens: `id:secret` pairs as the reference prints them, carried as
//! `Authorization: Bearer id:secret` or HTTP basic auth (`id` / `secret`).

use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;

use crate::error::ApiError;

#[derive(Debug)]
pub(crate) struct Tokens {
    require: bool,
    tokens: Vec<(String, String)>,
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Compares without an early exit on the first differing byte.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Tokens {
    pub(crate) fn parse(list: &[String], require: bool) -> Result<Tokens, String> {
        let mut tokens = Vec::with_capacity(list.len());
        for (i, t) in list.iter().enumerate() {
            let (id, secret) = t
                .split_once(':')
                .ok_or_else(|| format!("access token {i} is not of the form id:secret"))?;
            if !valid_id(id) || secret.is_empty() {
                return Err(format!(
                    "access token {i}: the id must be letters, digits, _ or - and the secret non-empty"
                ));
            }
            tokens.push((id.to_string(), secret.to_string()));
        }
        Ok(Tokens { require, tokens })
    }

    fn matches(&self, id: &str, secret: &str) -> bool {
        // Check every token so that timing does not reveal which IDs exist.
        self.tokens.iter().fold(false, |ok, (i, s)| {
            ok | (same(i.as_bytes(), id.as_bytes()) & same(s.as_bytes(), secret.as_bytes()))
        })
    }

    pub(crate) fn check(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        // Requests go unauthenticated only when nothing is asked for: authentication not required AND
        // no token configured. A configured token is always enforced.
        if !self.require && self.tokens.is_empty() {
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
}
