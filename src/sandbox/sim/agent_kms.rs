//! KMS session encryption on the sandbox agent's side: when the sandbox requires it, the
//! handshake asks for `KMSEncryption`, the client's data key is decrypted with the
//! emulator's KMS (as the caller's account: the emulator keys its state by access key), and
//! a challenge proves both ends hold the key before the shell starts.

use axum::body::Body;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// What the agent needs to decrypt the client's data key.
#[derive(Clone)]
pub struct AgentKms {
    pub key_id: String,
    /// The access key id of the StartSession caller (selects the emulator's account).
    pub access_key: String,
    pub region: String,
    pub moto: String,
    pub client: Client<HttpConnector, Body>,
}

impl std::fmt::Debug for AgentKms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentKms")
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

/// The handshake action asking the client for encryption.
pub fn requested_action(kms: &AgentKms) -> crate::datachannel::payload::RequestedClientAction {
    crate::datachannel::payload::RequestedClientAction {
        action_type: "KMSEncryption".into(),
        action_parameters: json!({ "KMSKeyId": kms.key_id }),
    }
}

/// The ciphertext blob from the client's handshake response, if it agreed.
pub fn cipher_text_key(response: &Value) -> Result<Vec<u8>, String> {
    let action = response["ProcessedClientActions"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["ActionType"] == "KMSEncryption"))
        .ok_or("the client did not answer the KMSEncryption request")?;
    if action["ActionStatus"] != 1 {
        return Err(format!(
            "the client could not set up KMS encryption: {}",
            action["Error"].as_str().unwrap_or_default()
        ));
    }
    let blob = action["ActionResult"]["KMSCipherTextKey"]
        .as_str()
        .ok_or("the client sent no KMSCipherTextKey")?;
    BASE64
        .decode(blob)
        .map_err(|e| format!("KMSCipherTextKey is not base64: {e}"))
}

/// `kms:Decrypt` of the data key with the session's encryption context.
pub async fn decrypt(
    kms: &AgentKms,
    blob: &[u8],
    session_id: &str,
    target: &str,
) -> Result<Vec<u8>, String> {
    let body = json!({
        "CiphertextBlob": BASE64.encode(blob),
        "EncryptionContext": { "aws:ssm:SessionId": session_id, "aws:ssm:TargetId": target },
    });
    let request = super::request::to_moto(&kms.moto, (&kms.access_key, &kms.region, "kms"))
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", "TrentService.Decrypt")
        .body(Body::from(body.to_string()))
        .map_err(|e| e.to_string())?;
    let response = kms
        .client
        .request(request)
        .await
        .map_err(|e| format!("the emulator's KMS did not answer: {e}"))?;
    let ok = response.status().is_success();
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let answer: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    if !ok {
        return Err(format!("kms:Decrypt failed: {answer}"));
    }
    BASE64
        .decode(answer["Plaintext"].as_str().unwrap_or_default())
        .map_err(|e| format!("kms:Decrypt answered no key: {e}"))
}
