//! The secrets of people and access, and what the server keeps of them: passwords as argon2id
//! PHC strings (slow on purpose, so hashed on the blocking pool), session cookies and API keys
//! as hex sha256 (they are 256 random bits, so a fast hash is enough and a lookup by hash is
//! one indexed read).

use std::sync::LazyLock;

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::Digest as _;

/// What API keys start with, so a key is recognised in a config file or a leak scanner.
pub const KEY_PREFIX: &str = "weft_";

/// 32 random bytes as hex.
pub fn random() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex::encode(bytes)
}

/// A new API key: `weft_` and 256 random bits.
pub fn new_key() -> String {
    format!("{KEY_PREFIX}{}", random())
}

/// What the database keeps of a cookie or a key.
pub fn digest(secret: &str) -> String {
    hex::encode(sha2::Sha256::digest(secret.as_bytes()))
}

/// Why a password could not be hashed or checked.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("hashing the password failed: {0}")]
    Hash(String),
    #[error(transparent)]
    Offload(#[from] crate::offload::Error),
}

/// The argon2id PHC string of `password`, with a random salt, computed on the blocking pool.
pub async fn hash_password(password: String) -> Result<String, Error> {
    crate::offload::run(move || hash_now(&password)).await?
}

fn hash_now(password: &str) -> Result<String, Error> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| Error::Hash(e.to_string()))
}

/// Whether `password` matches `stored`; with no stored hash (an unknown user) it is checked
/// against a dummy one, so the answer takes as long as for a wrong password.
pub async fn verify_password(password: String, stored: Option<String>) -> Result<bool, Error> {
    static DUMMY: LazyLock<String> =
        LazyLock::new(|| hash_now("not a password anyone has").expect("hashing a constant"));
    crate::offload::run(move || {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY.clone());
        let Ok(hash) = PasswordHash::new(&stored) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &hash)
            .is_ok();
        ok && known
    })
    .await
    .map_err(Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_hash_only() {
        let hash = hash_password("correct horse".into()).await.expect("hash");
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(
            verify_password("correct horse".into(), Some(hash.clone()))
                .await
                .expect("verify")
        );
        assert!(
            !verify_password("wrong".into(), Some(hash))
                .await
                .expect("verify")
        );
        assert!(
            !verify_password("correct horse".into(), None)
                .await
                .expect("verify")
        );
    }

    #[test]
    fn keys_are_prefixed_and_digests_are_hex() {
        let key = new_key();
        assert!(key.starts_with(KEY_PREFIX) && key.len() == 69, "{key}");
        assert_eq!(digest(&key).len(), 64);
        assert_ne!(new_key(), key);
    }
}
