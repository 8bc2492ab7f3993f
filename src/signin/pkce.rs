//! PKCE (RFC 7636): a 64-character verifier from the unreserved alphabet and its S256
//! challenge, base64url without padding.

use base64::Engine;
use rand::Rng;
use sha2::{Digest, Sha256};

const UNRESERVED: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~";

pub struct Pkce {
    pub verifier: String,
    pub challenge: String,
}

impl Pkce {
    pub fn new() -> Pkce {
        let mut rng = rand::thread_rng();
        let verifier: String = (0..64)
            .map(|_| char::from(UNRESERVED[rng.gen_range(0..UNRESERVED.len())]))
            .collect();
        let challenge = challenge(&verifier);
        Pkce {
            verifier,
            challenge,
        }
    }
}

pub fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifier_and_challenge_follow_rfc_7636() {
        // RFC 7636, appendix B.
        assert_eq!(
            challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
        let pkce = Pkce::new();
        assert_eq!(pkce.verifier.len(), 64);
        assert!(pkce.verifier.bytes().all(|b| UNRESERVED.contains(&b)));
        assert_eq!(pkce.challenge, challenge(&pkce.verifier));
        assert_ne!(Pkce::new().verifier, pkce.verifier);
    }
}
