//! KMS for Session Manager encryption: `GenerateDataKey` of 64 bytes with the session's
//! encryption context, as the data channel's key provider.

use super::AwsError;
use crate::datachannel::client::DataKeyFuture;

/// The SDK-backed KMS client for one region.
#[derive(Debug, Clone)]
pub struct Kms {
    client: aws_sdk_kms::Client,
    region: String,
}

impl Kms {
    pub fn new(client: aws_sdk_kms::Client, region: &str) -> Kms {
        Kms {
            client,
            region: region.to_owned(),
        }
    }
}

impl crate::datachannel::client::DataKeys for Kms {
    fn generate(&self, key_id: &str, context: Vec<(String, String)>) -> DataKeyFuture<'_> {
        let key_id = key_id.to_owned();
        Box::pin(async move {
            let mut request = self
                .client
                .generate_data_key()
                .key_id(key_id)
                .number_of_bytes(64);
            for (k, v) in context {
                request = request.encryption_context(k, v);
            }
            let out = request.send().await.map_err(|e| {
                AwsError::from_sdk("kms", "GenerateDataKey", &self.region, &e).to_string()
            })?;
            let plaintext = out
                .plaintext()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default();
            let blob = out
                .ciphertext_blob()
                .map(|b| b.as_ref().to_vec())
                .unwrap_or_default();
            Ok((plaintext, blob))
        })
    }
}
