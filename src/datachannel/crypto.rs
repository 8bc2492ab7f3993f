//! Session encryption with KMS, when the account's Session Manager preferences require it:
//! the client asks KMS for a 64-byte data key (encryption context: session and target); the
//! client opens with its first half and seals with the second, the agent the other way
//! round. Output, stderr and exit-code payloads are AES-256-GCM: `nonce(12) ‖ ciphertext ‖
//! tag`.

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};

const NONCE: usize = 12;

/// Which end holds the keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    Client,
    Agent,
}

pub struct Cipher {
    seal: Aes256Gcm,
    open: Aes256Gcm,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(<keys>)")
    }
}

impl Cipher {
    /// From the plaintext data key (64 bytes).
    pub fn new(data_key: &[u8], side: Side) -> Result<Cipher, String> {
        if data_key.len() != 64 {
            return Err(format!(
                "the session data key is {} bytes, not 64",
                data_key.len()
            ));
        }
        let (first, second) = data_key.split_at(32);
        let key = |k: &[u8]| Aes256Gcm::new_from_slice(k).map_err(|e| e.to_string());
        let (open, seal) = match side {
            Side::Client => (key(first)?, key(second)?),
            Side::Agent => (key(second)?, key(first)?),
        };
        Ok(Cipher { seal, open })
    }

    /// `nonce ‖ ciphertext ‖ tag` with a fresh random nonce.
    pub fn seal(&self, plain: &[u8]) -> Vec<u8> {
        let nonce: [u8; NONCE] = rand::random();
        let mut out = nonce.to_vec();
        // Encrypting into a Vec cannot fail for in-memory sizes.
        out.extend(
            self.seal
                .encrypt(Nonce::from_slice(&nonce), plain)
                .unwrap_or_default(),
        );
        out
    }

    pub fn open(&self, data: &[u8]) -> Result<Vec<u8>, String> {
        if data.len() < NONCE + 16 {
            return Err("an encrypted payload is too short".into());
        }
        let (nonce, sealed) = data.split_at(NONCE);
        self.open
            .decrypt(Nonce::from_slice(nonce), sealed)
            .map_err(|_| "an encrypted payload does not authenticate (wrong key or altered)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_and_agent_open_what_the_other_seals_with_a_fixed_key() {
        let key: Vec<u8> = (0u8..64).collect();
        let client = Cipher::new(&key, Side::Client).unwrap();
        let agent = Cipher::new(&key, Side::Agent).unwrap();
        let sealed = client.seal(b"ls -la\r");
        assert_eq!(sealed.len(), 12 + 7 + 16);
        assert_eq!(agent.open(&sealed).unwrap(), b"ls -la\r");
        assert_ne!(
            client.seal(b"x")[..12],
            client.seal(b"x")[..12],
            "fresh nonces"
        );
        let reply = agent.seal(b"total 0\r\n");
        assert_eq!(client.open(&reply).unwrap(), b"total 0\r\n");
        // A client cannot open its own frames (the halves differ), nor altered ones.
        assert!(client.open(&sealed).is_err());
        let mut altered = reply.clone();
        altered[20] ^= 1;
        assert!(client.open(&altered).is_err());
        assert!(Cipher::new(&key[..32], Side::Client).is_err());
        // Known answer: AES-256-GCM with key = bytes 32..64, nonce 0, plaintext "a".
        let cipher = Aes256Gcm::new_from_slice(&key[32..]).unwrap();
        let known = cipher
            .encrypt(Nonce::from_slice(&[0; 12]), &b"a"[..])
            .unwrap();
        let mut framed = vec![0; 12];
        framed.extend(&known);
        assert_eq!(agent.open(&framed).unwrap(), b"a");
    }
}
