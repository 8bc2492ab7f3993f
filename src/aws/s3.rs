//! S3: the `S3Api` trait and its SDK implementation (the calls the audit sink makes: put
//! an object with a SHA-256 checksum and optional Object Lock retention, read a bucket's
//! Object Lock configuration).

use std::future::Future;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, ObjectLockEnabled, ObjectLockMode};

use sha2::{Digest, Sha256};

use super::AwsError;

pub use crate::config::RetentionMode;

/// Retention to set on one object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectRetention {
    pub mode: RetentionMode,
    pub retain_until: chrono::DateTime<chrono::Utc>,
}

/// One object to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectUpload {
    pub bucket: String,
    pub key: String,
    pub body: Vec<u8>,
    pub content_type: &'static str,
    /// `None` lets the bucket's default retention (if any) apply.
    pub retention: Option<ObjectRetention>,
}

/// What S3 said about a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedObject {
    pub version_id: Option<String>,
    /// Base64 SHA-256 of the body, as S3 computed and checked it.
    pub checksum_sha256: Option<String>,
}

/// A bucket's Object Lock configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ObjectLock {
    /// The bucket was created without Object Lock: its objects can be overwritten or deleted.
    NotConfigured,
    Enabled {
        /// Applied to new objects that do not set their own retention.
        default_retention: Option<DefaultRetention>,
    },
}

/// A bucket's default retention rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultRetention {
    pub mode: String,
    pub days: Option<i32>,
    pub years: Option<i32>,
}

/// The S3 calls breakglass makes.
pub trait S3Api: Send + Sync {
    fn region(&self) -> &str;

    /// Writes one object, sending its SHA-256 so S3 rejects a body damaged in transit.
    fn put_object(
        &self,
        upload: ObjectUpload,
    ) -> impl Future<Output = Result<UploadedObject, AwsError>> + Send;

    /// The bucket's Object Lock configuration (`NoSuchBucket` is an error).
    fn object_lock(
        &self,
        bucket: &str,
    ) -> impl Future<Output = Result<ObjectLock, AwsError>> + Send;
}

/// The SDK-backed S3 client for one region.
#[derive(Debug, Clone)]
pub struct S3 {
    client: aws_sdk_s3::Client,
    region: String,
}

impl S3 {
    pub fn new(client: aws_sdk_s3::Client, region: &str) -> Self {
        S3 {
            client,
            region: region.to_owned(),
        }
    }

    pub(super) fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    pub(super) fn region_name(&self) -> &str {
        &self.region
    }
}

/// Base64 SHA-256, the form S3's `x-amz-checksum-sha256` takes.
pub fn sha256_base64(bytes: &[u8]) -> String {
    aws_smithy_types::base64::encode(Sha256::digest(bytes))
}

impl S3Api for S3 {
    fn region(&self) -> &str {
        &self.region
    }

    async fn put_object(&self, upload: ObjectUpload) -> Result<UploadedObject, AwsError> {
        let checksum = sha256_base64(&upload.body);
        // The algorithm header is what S3 requires for Object Lock uploads; the value is ours,
        // computed over exactly the bytes of the local records.
        let mut request = self
            .client
            .put_object()
            .bucket(upload.bucket)
            .key(upload.key)
            .content_type(upload.content_type)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .checksum_sha256(checksum)
            .body(ByteStream::from(upload.body));
        if let Some(retention) = upload.retention {
            let mode = match retention.mode {
                RetentionMode::Governance => ObjectLockMode::Governance,
                RetentionMode::Compliance => ObjectLockMode::Compliance,
            };
            request = request
                .object_lock_mode(mode)
                .object_lock_retain_until_date(aws_smithy_types::DateTime::from_millis(
                    retention.retain_until.timestamp_millis(),
                ));
        }
        let out = request
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("s3", "PutObject", &self.region, &e))?;
        Ok(UploadedObject {
            version_id: out.version_id().map(str::to_owned),
            checksum_sha256: out.checksum_sha256().map(str::to_owned),
        })
    }

    async fn object_lock(&self, bucket: &str) -> Result<ObjectLock, AwsError> {
        let out = match self
            .client
            .get_object_lock_configuration()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(out) => out,
            Err(err)
                if aws_smithy_types::error::metadata::ProvideErrorMetadata::code(&err)
                    == Some("ObjectLockConfigurationNotFoundError") =>
            {
                return Ok(ObjectLock::NotConfigured);
            }
            Err(err) => {
                return Err(AwsError::from_sdk(
                    "s3",
                    "GetObjectLockConfiguration",
                    &self.region,
                    &err,
                ));
            }
        };
        let Some(config) = out
            .object_lock_configuration()
            .filter(|c| c.object_lock_enabled() == Some(&ObjectLockEnabled::Enabled))
        else {
            return Ok(ObjectLock::NotConfigured);
        };
        let default_retention = config
            .rule()
            .and_then(|rule| rule.default_retention())
            .map(|d| DefaultRetention {
                mode: d.mode().map_or("", |m| m.as_str()).to_owned(),
                days: d.days(),
                years: d.years(),
            });
        Ok(ObjectLock::Enabled { default_retention })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checksum_is_base64_sha256() {
        // printf 'line1\nline2\n' | openssl dgst -sha256 -binary | base64
        assert_eq!(
            sha256_base64(b"line1\nline2\n"),
            "J1GjovMDrSF1IDgIXiuMX5js/2Gi5Ou9Q1BqlBclvoA="
        );
    }
}
