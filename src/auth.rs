//! Passwords and session tokens. No HTTP and no SQL here: `src/api/` decides when,
//! `src/db/` stores the results.

use std::sync::LazyLock;

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// OWASP's argon2id baseline: 19 MiB of memory, 2 passes, 1 lane.
fn hasher() -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(19 * 1024, 2, 1, None).expect("valid argon2 params"))
}

/// A real hash of nothing in particular, verified against when a login names nobody,
/// so that answering "wrong login" takes as long as answering "wrong password".
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_now("pujo-timing-equaliser"));

fn hash_now(password: &str) -> String {
    let salt = SaltString::generate(&mut OsRng);
    hasher().hash_password(password.as_bytes(), &salt).expect("argon2 hashing does not fail").to_string()
}

/// Hashes a password on the blocking pool (it takes tens of milliseconds on purpose).
pub async fn hash_password(password: String) -> String {
    tokio::task::spawn_blocking(move || hash_now(&password)).await.expect("hashing task")
}

/// Checks a password against a stored hash, or against the dummy hash when there is
/// no account, always doing the same work; `false` for a missing account.
pub async fn verify_password(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let exists = stored.is_some();
        let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
        let ok = PasswordHash::new(&stored).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok());
        ok && exists
    })
    .await
    .unwrap_or(false)
}

/// A new session token (256 random bits, URL-safe) and the hash that is stored.
pub fn new_session_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The stored form of a token: a copy of the sessions table logs nobody in.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn passwords_hash_with_argon2id_and_verify() {
        let hash = hash_password("correct horse battery".into()).await;
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify_password("wrong horse battery".into(), Some(hash)).await);
        assert!(!verify_password("anything".into(), None).await);
    }

    #[test]
    fn tokens_are_random_and_stored_hashed() {
        let (a, ha) = new_session_token();
        let (b, _) = new_session_token();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert_eq!(token_hash(&a), ha);
    }
}
