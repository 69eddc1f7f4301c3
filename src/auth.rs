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

/// Memory one argon2 computation holds while it runs (`m` above).
pub const HASH_MEMORY_BYTES: u64 = 19 * 1024 * 1024;

/// Every password hash and check goes through here, so that their memory (19 MiB
/// each) and CPU have a ceiling however many arrive at once: at most `running` at a
/// time, at most `queued` more waiting, and anything beyond is refused at once
/// (`Busy`: the API answers 503 with Retry-After) instead of queueing without end.
#[derive(Debug)]
pub struct Passwords {
    running: tokio::sync::Semaphore,
    /// Hashes running or waiting; refused past `limit`.
    admitted: std::sync::atomic::AtomicUsize,
    limit: usize,
    concurrent: usize,
}

/// The hashing queue is full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks at once")]
pub struct Busy;

/// Gives a place in the queue back however the request ends (answered or dropped).
struct Admitted<'a>(&'a std::sync::atomic::AtomicUsize);

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
    }
}

impl Passwords {
    pub fn new(running: usize, queued: usize) -> Passwords {
        let running = running.max(1);
        Passwords {
            running: tokio::sync::Semaphore::new(running),
            admitted: std::sync::atomic::AtomicUsize::new(0),
            limit: running + queued,
            concurrent: running,
        }
    }

    /// As many at once as there are cores, and eight waiting per core.
    pub fn for_this_machine() -> Passwords {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Passwords::new(cores, 8 * cores)
    }

    /// The most memory hashing can hold at once.
    pub fn memory_ceiling(&self) -> u64 {
        HASH_MEMORY_BYTES * self.concurrent as u64
    }

    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, Busy> {
        use std::sync::atomic::Ordering;
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= self.limit {
            self.admitted.fetch_sub(1, Ordering::AcqRel);
            return Err(Busy);
        }
        let _admitted = Admitted(&self.admitted);
        let _permit = self.running.acquire().await.map_err(|_| Busy)?;
        crate::util::in_background(work).await.ok_or(Busy)
    }

    /// Hashes a password on a background thread (it takes tens of milliseconds on purpose).
    pub async fn hash(&self, password: String) -> Result<String, Busy> {
        self.run(move || hash_now(&password)).await
    }

    /// Checks a password against a stored hash, or against the dummy hash when there
    /// is no account, always doing the same work; `false` for a missing account.
    pub async fn verify(&self, password: String, stored: Option<String>) -> Result<bool, Busy> {
        self.run(move || {
            let exists = stored.is_some();
            let stored = stored.unwrap_or_else(|| DUMMY_HASH.clone());
            let ok =
                PasswordHash::new(&stored).is_ok_and(|h| hasher().verify_password(password.as_bytes(), &h).is_ok());
            ok && exists
        })
        .await
    }
}

type HmacSha256 = hmac::Hmac<Sha256>;

/// The MAC of a device token: keyed by the account's stored password hash, which
/// never leaves the server (so nothing new is stored, and a password change retires
/// every device token of the account).
fn device_mac(user_id: i64, nonce: &[u8; 16], password_hash: &str) -> HmacSha256 {
    use hmac::Mac;
    let mut mac = HmacSha256::new_from_slice(password_hash.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"pujo-device-v1");
    mac.update(&user_id.to_be_bytes());
    mac.update(nonce);
    mac
}

/// A device token for a browser that just logged into `user_id`: the account, a
/// random nonce (the device's own rate-limit key) and their MAC, URL-safe.
pub fn new_device_token(user_id: i64, password_hash: &str) -> String {
    use hmac::Mac;
    let mut nonce = [0u8; 16];
    OsRng.fill_bytes(&mut nonce);
    let mut bytes = Vec::with_capacity(56);
    bytes.extend_from_slice(&user_id.to_be_bytes());
    bytes.extend_from_slice(&nonce);
    bytes.extend_from_slice(&device_mac(user_id, &nonce, password_hash).finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The nonce of `token` when it is a device token of `user_id` made with the
/// account's current password hash (checked in constant time), else `None`.
pub fn device_nonce(token: &str, user_id: i64, password_hash: &str) -> Option<[u8; 16]> {
    use hmac::Mac;
    if token.len() > 100 {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    if bytes.len() != 56 || bytes[..8] != user_id.to_be_bytes() {
        return None;
    }
    let nonce: [u8; 16] = bytes[8..24].try_into().ok()?;
    device_mac(user_id, &nonce, password_hash).verify_slice(&bytes[24..]).ok()?;
    Some(nonce)
}

/// The MAC of a share grant: keyed by the link's stored password hash, so a grant
/// opens only the link it was made for, and only while the link exists.
fn share_grant_mac(link_id: i64, until: i64, password_hash: &str) -> HmacSha256 {
    use hmac::Mac;
    let mut mac = HmacSha256::new_from_slice(password_hash.as_bytes()).expect("HMAC takes any key length");
    mac.update(b"pujo-share-v1");
    mac.update(&link_id.to_be_bytes());
    mac.update(&until.to_be_bytes());
    mac
}

/// A browser's proof that it gave a share link's password: the time it holds until
/// (Unix seconds) and the MAC of it with the link's id, URL-safe. Nothing is stored.
pub fn new_share_grant(link_id: i64, until: i64, password_hash: &str) -> String {
    use hmac::Mac;
    let mut bytes = Vec::with_capacity(40);
    bytes.extend_from_slice(&until.to_be_bytes());
    bytes.extend_from_slice(&share_grant_mac(link_id, until, password_hash).finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Whether `grant` was made for this link with its current password hash and holds at
/// `now` (Unix seconds); checked in constant time.
pub fn share_grant_holds(grant: &str, link_id: i64, password_hash: &str, now: i64) -> bool {
    use hmac::Mac;
    if grant.len() > 64 {
        return false;
    }
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(grant) else { return false };
    if bytes.len() != 40 {
        return false;
    }
    let until = i64::from_be_bytes(bytes[..8].try_into().expect("eight bytes"));
    until > now && share_grant_mac(link_id, until, password_hash).verify_slice(&bytes[8..]).is_ok()
}

/// A proof-of-work challenge's salt: when it stops being accepted (Unix seconds) and
/// 128 random bits. The server keeps nothing: the salt says when it expires, and a
/// salt is accepted once (the caller remembers the ones it took until they expire).
pub fn new_proof_salt(expires: i64) -> String {
    format!("{expires}.{}", random_key())
}

/// Whether `number` proves work on `salt`: SHA-256 of `salt:number` starts with at
/// least `bits` zero bits, and the salt is well formed and holds at `now` (and does
/// not claim to hold longer than `longest` seconds from now).
pub fn proof_holds(salt: &str, number: u64, bits: u32, now: i64, longest: i64) -> bool {
    let Some((expires, random)) = salt.split_once('.') else { return false };
    let Ok(expires) = expires.parse::<i64>() else { return false };
    if expires <= now || expires > now + longest || random.len() != 32 || !random.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return false;
    }
    let hash = Sha256::digest(format!("{salt}:{number}").as_bytes());
    leading_zero_bits(&hash) >= bits
}

fn leading_zero_bits(bytes: &[u8]) -> u32 {
    let mut bits = 0;
    for b in bytes {
        if *b == 0 {
            bits += 8;
        } else {
            return bits + b.leading_zeros();
        }
    }
    bits
}

/// Whether `text` has the shape of a token this module makes (256 bits, URL-safe,
/// 43 characters): anything else is no token, before any lookup.
pub fn is_token(text: &str) -> bool {
    text.len() == 43 && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A new session token (256 random bits, URL-safe) and the hash that is stored.
pub fn new_session_token() -> (String, [u8; 32]) {
    let mut bytes = [0u8; 32];
    OsRng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// 128 random bits as 32 lower-case hex digits (a URL carries them as they are): an
/// album's link key, a resumable upload's id, a process's name in upload claims.
pub fn random_key() -> String {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The stored form of a token: a copy of the sessions table logs nobody in.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn work_is_proved_only_for_a_live_salt_with_enough_zero_bits() {
        let salt = new_proof_salt(1_000);
        let number = (0u64..).find(|n| proof_holds(&salt, *n, 8, 900, 600)).expect("a number");
        assert!(proof_holds(&salt, number, 8, 900, 600));
        // The same number proves nothing once the salt expired, or for more bits than it has.
        assert!(!proof_holds(&salt, number, 8, 1_000, 600));
        let zeros = leading_zero_bits(&Sha256::digest(format!("{salt}:{number}").as_bytes()));
        assert!(!proof_holds(&salt, number, zeros + 1, 900, 600));
        // A salt that claims to live longer than the server gives, or is not one.
        assert!(!proof_holds(&new_proof_salt(100_000), 0, 0, 900, 600));
        assert!(!proof_holds("1000.xyz", 0, 0, 900, 600));
        assert!(!proof_holds("soon", 0, 0, 900, 600));
        assert_eq!(leading_zero_bits(&[0, 0x10, 0xff]), 11);
    }

    #[test]
    fn a_share_grant_opens_its_own_link_until_its_time_and_no_other() {
        let hash = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA";
        let grant = new_share_grant(7, 1_000, hash);
        assert!(share_grant_holds(&grant, 7, hash, 999));
        assert!(!share_grant_holds(&grant, 7, hash, 1_000), "expired at its time");
        assert!(!share_grant_holds(&grant, 8, hash, 999), "another link");
        assert!(!share_grant_holds(&grant, 7, &format!("{hash}x"), 999), "the password changed");
        // A later time written into the grant breaks its MAC.
        let mut bytes = URL_SAFE_NO_PAD.decode(&grant).expect("base64");
        bytes[7] = 0xff;
        let forged = URL_SAFE_NO_PAD.encode(&bytes);
        assert!(!share_grant_holds(&forged, 7, hash, 999));
        assert!(!share_grant_holds("", 7, hash, 0));
        assert!(!share_grant_holds(&"A".repeat(100), 7, hash, 0));
    }

    use super::*;

    #[tokio::test]
    async fn passwords_hash_with_argon2id_and_verify() {
        let passwords = Passwords::new(2, 2);
        let hash = passwords.hash("correct horse battery".into()).await.expect("hash");
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{hash}");
        assert_eq!(passwords.verify("correct horse battery".into(), Some(hash.clone())).await, Ok(true));
        assert_eq!(passwords.verify("wrong horse battery".into(), Some(hash)).await, Ok(false));
        assert_eq!(passwords.verify("anything".into(), None).await, Ok(false));
    }

    /// 64 at once against room for 1 running and 3 waiting: 4 are hashed, the rest
    /// refused at once, and the queue is whole again afterwards (also when requests
    /// are dropped while they wait).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashing_past_the_queue_is_refused_not_queued() {
        let passwords = std::sync::Arc::new(Passwords::new(1, 3));
        let tasks: Vec<_> = (0..64)
            .map(|i| {
                let p = passwords.clone();
                tokio::spawn(async move { p.hash(format!("password number {i}")).await })
            })
            .collect();
        let mut done = 0;
        let mut busy = 0;
        for task in tasks {
            match task.await.expect("task") {
                Ok(_) => done += 1,
                Err(Busy) => busy += 1,
            }
        }
        assert!((1..=4).contains(&done), "hashed {done}");
        assert_eq!(done + busy, 64);
        assert_eq!(passwords.admitted.load(std::sync::atomic::Ordering::Acquire), 0);
        let waiting = tokio::spawn({
            let p = passwords.clone();
            async move { p.hash("dropped while it waits".into()).await }
        });
        waiting.abort();
        let _ = waiting.await;
        assert!(passwords.hash("and the next one runs".into()).await.is_ok());
    }

    #[test]
    fn device_tokens_prove_the_account_and_the_password_they_were_made_under() {
        let token = new_device_token(7, "$argon2id$stored-hash-one");
        let nonce = device_nonce(&token, 7, "$argon2id$stored-hash-one").expect("valid");
        assert_ne!(new_device_token(7, "$argon2id$stored-hash-one"), token, "each browser its own");
        assert_eq!(device_nonce(&token, 8, "$argon2id$stored-hash-one"), None, "another account");
        assert_eq!(device_nonce(&token, 7, "$argon2id$stored-hash-two"), None, "after a password change");
        let mut forged = URL_SAFE_NO_PAD.decode(&token).expect("b64");
        forged[10] ^= 1;
        assert_eq!(device_nonce(&URL_SAFE_NO_PAD.encode(forged), 7, "$argon2id$stored-hash-one"), None);
        assert_eq!(device_nonce("junk", 7, "x"), None);
        assert_eq!(nonce.len(), 16);
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
