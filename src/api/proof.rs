//! Proof of work, ALTCHA style and with no third party: a browser that wants to
//! become a guest of an upload link, or to make an account, first finds a number
//! such that SHA-256 of `salt:number` starts with a set count of zero bits (a fraction
//! of a second on a phone, each bit doubling it), then sends `X-Pujo-Proof:
//! salt:number`. A script minting guests (each with a fresh cap) or accounts pays
//! that for each one. The salt says when it expires, at most ten minutes ahead
//! (`auth::new_proof_salt`, `auth::proof_holds`), so nothing is stored until one is
//! used, and work found ahead of time is good for ten minutes at most; each salt is
//! taken once (remembered across replicas through Redis when there is one).
//!
//! - `GET /api/v1/proof?for=guest|register`: a challenge.
//! - [`check`]: the proof a request carries, for one of the two purposes.

use std::time::Duration;

use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use serde::Serialize;
use time::OffsetDateTime;

use super::views::Query;
use super::{ApiError, json, no_store};
use crate::http::Body;
use crate::state::AppState;

/// How long a salt is accepted.
const PROOF_LIFETIME: i64 = 10 * 60;
/// The longest salt a proof may name (the ones Pujo gives out are shorter).
const MAX_SALT: usize = 64;

/// What a proof is for: each has its own cost (`PUJO_GUEST_PROOF_BITS`,
/// `PUJO_REGISTER_PROOF_BITS`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Guest,
    Register,
}

impl Purpose {
    fn bits(self, state: &AppState) -> u32 {
        match self {
            Purpose::Guest => state.config.guest_proof_bits,
            Purpose::Register => state.config.register_proof_bits,
        }
    }
}

#[derive(Serialize)]
struct ProofJson {
    algorithm: &'static str,
    salt: String,
    bits: u32,
}

/// `GET /api/v1/proof`: a challenge for `for` (`guest`, the default, or `register`).
pub async fn challenge(state: &AppState, req: Request<Incoming>) -> Result<Response<Body>, ApiError> {
    let query = Query::of(&req, &["for"])?;
    let purpose = match query.get("for") {
        None | Some("guest") => Purpose::Guest,
        Some("register") => Purpose::Register,
        Some(_) => return Err(super::views::field("for", "guest or register")),
    };
    let expires = OffsetDateTime::now_utc().unix_timestamp() + PROOF_LIFETIME;
    let body =
        ProofJson { algorithm: "SHA-256", salt: crate::auth::new_proof_salt(expires), bits: purpose.bits(state) };
    Ok(no_store(json(StatusCode::OK, &body)))
}

/// `X-Pujo-Proof`'s value as `salt:number`, if it is one: a stranger's header, read
/// without allocating and bounded.
pub fn parse(header: &str) -> Option<(&str, u64)> {
    let (salt, number) = header.rsplit_once(':')?;
    if salt.is_empty() || salt.len() > MAX_SALT || number.is_empty() || number.len() > 19 {
        return None;
    }
    if !salt.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((salt, number.parse().ok()?))
}

/// The request's proof of work for `purpose`: well formed, enough zero bits, a salt
/// still live and not used before. Nothing is asked when its cost is 0. 428
/// `proof_required` (its message names the cost) otherwise.
pub async fn check<B>(state: &AppState, req: &Request<B>, purpose: Purpose) -> Result<(), ApiError> {
    let bits = purpose.bits(state);
    let header = req.headers().get("x-pujo-proof");
    if bits == 0 {
        // None asked; one sent is still a stranger's header, and a malformed one is
        // refused as any malformed input is.
        if header.is_some_and(|v| v.to_str().ok().and_then(parse).is_none()) {
            return Err(super::views::field("X-Pujo-Proof", "salt:number, as GET /api/v1/proof describes"));
        }
        return Ok(());
    }
    let given = header.and_then(|v| v.to_str().ok()).unwrap_or("");
    let (salt, number) = parse(given).ok_or(ApiError::ProofRequired(bits))?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    if !crate::auth::proof_holds(salt, number, bits, now, PROOF_LIFETIME) {
        return Err(ApiError::ProofRequired(bits));
    }
    let once = crate::ratelimit::Limit { max: 1, window: Duration::from_secs(PROOF_LIFETIME.unsigned_abs()) };
    state.limiter.hit(&format!("proof:{salt}"), once).await.map_err(|_| ApiError::ProofRequired(bits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_proof_header_is_salt_colon_number_and_nothing_else() {
        assert_eq!(parse("1700000000.abcd:42"), Some(("1700000000.abcd", 42)));
        // The salt may hold a colon; the number is what follows the last one.
        assert_eq!(parse("a:b:7"), Some(("a:b", 7)));
        for bad in [
            "",
            ":",
            "salt:",
            ":5",
            "salt",
            "salt:-1",
            "salt:+1",
            "salt: 1",
            "sa lt:1",
            "সল্ট:1",
            "salt:18446744073709551616",
        ] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        assert_eq!(parse(&format!("{}:1", "s".repeat(MAX_SALT + 1))), None);
        assert_eq!(parse(&format!("s:{}", "1".repeat(20))), None);
    }
}
