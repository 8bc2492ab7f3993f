//! The S3 sink: one object per batch, `<prefix>/<run_id>/<first-seq>-<last-seq>.jsonl`,
//! holding the exact lines of the local log, sent with its SHA-256 and, when configured,
//! an Object Lock retention date; otherwise the bucket's default retention applies.

use futures::future::BoxFuture;

use super::api::{Attempt, FindingLevel, Line, Sink, SinkFinding};
use super::names::object_key;
use crate::aws::{AwsError, ObjectLock, ObjectRetention, ObjectUpload, RetentionMode, S3Api};

/// Most records in one object (a backlog after an outage is split into objects this size).
pub const MAX_RECORDS_PER_OBJECT: usize = 1_000;

/// Object Lock retention breakglass sets on each object it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub mode: RetentionMode,
    pub days: u32,
}

/// Ships to one bucket through an `S3Api`.
pub struct S3Sink<S> {
    api: S,
    bucket: String,
    prefix: String,
    retention: Option<Retention>,
}

impl<S: S3Api> S3Sink<S> {
    pub fn new(api: S, bucket: &str, prefix: &str, retention: Option<Retention>) -> Self {
        S3Sink {
            api,
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            retention,
        }
    }

    /// The object a batch becomes.
    pub fn upload(&self, run_id: &str, batch: &[Line]) -> Option<ObjectUpload> {
        let (first, last) = (batch.first()?, batch.last()?);
        let mut body = Vec::with_capacity(batch.iter().map(|l| l.text.len() + 1).sum());
        for line in batch {
            body.extend_from_slice(line.text.as_bytes());
            body.push(b'\n');
        }
        Some(ObjectUpload {
            bucket: self.bucket.clone(),
            key: object_key(&self.prefix, run_id, first.seq, last.seq),
            body,
            content_type: "application/x-ndjson",
            retention: self.retention.map(|r| ObjectRetention {
                mode: r.mode,
                retain_until: chrono::Utc::now() + chrono::Duration::days(i64::from(r.days)),
            }),
        })
    }

    async fn ship_batch(&self, run_id: &str, batch: &[Line]) -> Attempt {
        let Some(upload) = self.upload(run_id, batch) else {
            return Attempt::default();
        };
        match self.api.put_object(upload).await {
            Ok(_) => Attempt {
                done: batch.len(),
                ..Attempt::default()
            },
            Err(err) => Attempt::failed(err),
        }
    }

    async fn check_bucket(&self) -> Vec<SinkFinding> {
        let name = self.name();
        let lock = match self.api.object_lock(&self.bucket).await {
            Ok(lock) => lock,
            Err(err) if err.code.as_deref() == Some("NoSuchBucket") => {
                return vec![
                    SinkFinding::new(
                        name,
                        FindingLevel::Error,
                        format!(
                            "bucket `{}` does not exist (or is in another partition)",
                            self.bucket
                        ),
                    )
                    .with_hint(
                        "create it with Object Lock enabled and a default retention, or fix \
                         `audit.s3.bucket`; see docs/audit.md",
                    ),
                ];
            }
            Err(err) => {
                return vec![SinkFinding::from_error(
                    name,
                    "cannot read the bucket's Object Lock configuration",
                    &err,
                )];
            }
        };
        let finding = match (lock, self.retention) {
            (ObjectLock::NotConfigured, Some(_)) => SinkFinding::new(
                name,
                FindingLevel::Error,
                "the bucket has no Object Lock, so S3 refuses objects with \
                     `audit.s3.retention_days`",
            )
            .with_hint(
                "use a bucket created with Object Lock, or remove `audit.s3.retention_days`",
            ),
            (ObjectLock::NotConfigured, None) => SinkFinding::new(
                name,
                FindingLevel::Warning,
                "the bucket has no Object Lock: anyone allowed to write to it can overwrite or \
                 delete the copies",
            )
            .with_hint("use a bucket created with Object Lock and a default retention"),
            (ObjectLock::Enabled { .. }, Some(r)) => SinkFinding::new(
                name,
                FindingLevel::Ok,
                format!(
                    "Object Lock is enabled; each copy is retained {} days in {} mode",
                    r.days,
                    r.mode.as_str()
                ),
            ),
            (
                ObjectLock::Enabled {
                    default_retention: Some(d),
                },
                None,
            ) => {
                let period = match (d.days, d.years) {
                    (Some(days), _) => format!("{days} days"),
                    (None, Some(years)) => format!("{years} years"),
                    (None, None) => "an unspecified period".into(),
                };
                SinkFinding::new(
                    name,
                    FindingLevel::Ok,
                    format!(
                        "Object Lock is enabled; the bucket default retains copies {period} in \
                         {} mode",
                        d.mode
                    ),
                )
            }
            (
                ObjectLock::Enabled {
                    default_retention: None,
                },
                None,
            ) => SinkFinding::new(
                name,
                FindingLevel::Warning,
                "Object Lock is enabled but nothing sets a retention: the bucket has no default \
                 retention and `audit.s3.retention_days` is not set, so copies are not locked",
            )
            .with_hint("set a default retention on the bucket, or `audit.s3.retention_days`"),
        };
        vec![finding]
    }
}

impl<S: S3Api> Sink for S3Sink<S> {
    fn name(&self) -> String {
        let prefix = self.prefix.trim_end_matches('/');
        let location = if prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{prefix}/", self.bucket)
        };
        format!("S3 `{location}` in {}", self.api.region())
    }

    fn max_batch(&self) -> usize {
        MAX_RECORDS_PER_OBJECT
    }

    fn ship<'a>(&'a mut self, run_id: &'a str, batch: &'a [Line]) -> BoxFuture<'a, Attempt> {
        Box::pin(self.ship_batch(run_id, batch))
    }

    fn hint(&self, error: &AwsError) -> Option<String> {
        let message = error.message.as_deref().unwrap_or_default();
        match error.code.as_deref() {
            Some("NoSuchBucket") => Some(format!(
                "bucket `{}` does not exist: create it with Object Lock enabled, or fix \
                 `audit.s3.bucket`",
                self.bucket
            )),
            Some("InvalidRequest")
                if message.contains("Object Lock") || message.contains("ObjectLock") =>
            {
                Some(
                    "the bucket has no Object Lock: use a bucket created with it, or remove \
                     `audit.s3.retention_days`"
                        .into(),
                )
            }
            _ => error.hint(),
        }
    }

    fn check(&self) -> BoxFuture<'_, Vec<SinkFinding>> {
        Box::pin(self.check_bucket())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::aws::UploadedObject;

    #[derive(Default)]
    struct FakeS3 {
        uploads: Mutex<Vec<ObjectUpload>>,
    }

    impl S3Api for FakeS3 {
        fn region(&self) -> &str {
            "eu-north-1"
        }

        async fn put_object(&self, upload: ObjectUpload) -> Result<UploadedObject, AwsError> {
            self.uploads.lock().unwrap().push(upload);
            Ok(UploadedObject {
                version_id: None,
                checksum_sha256: None,
            })
        }

        async fn object_lock(&self, _bucket: &str) -> Result<ObjectLock, AwsError> {
            Ok(ObjectLock::NotConfigured)
        }
    }

    fn line(seq: u64, text: &str) -> Line {
        Line {
            seq,
            timestamp_ms: 0,
            text: text.into(),
        }
    }

    #[tokio::test]
    async fn one_object_per_batch_holds_the_lines_named_by_their_sequence_range() {
        let retention = Retention {
            mode: RetentionMode::Compliance,
            days: 30,
        };
        let mut sink = S3Sink::new(FakeS3::default(), "ir-audit", "bg/", Some(retention));
        assert_eq!(sink.name(), "S3 `s3://ir-audit/bg/` in eu-north-1");
        let attempt = sink
            .ship("run-1", &[line(5, "a"), line(6, "{\"b\":1}")])
            .await;
        assert_eq!((attempt.done, attempt.error.is_none()), (2, true));
        let uploads = sink.api.uploads.lock().unwrap();
        let upload = &uploads[0];
        assert_eq!(upload.bucket, "ir-audit");
        assert_eq!(upload.key, "bg/run-1/000000000005-000000000006.jsonl");
        assert_eq!(upload.body, b"a\n{\"b\":1}\n");
        let until = upload.retention.unwrap();
        assert_eq!(until.mode, RetentionMode::Compliance);
        let days = (until.retain_until - chrono::Utc::now()).num_hours() as f64 / 24.0;
        assert!((29.9..=30.0).contains(&days), "{days}");
    }

    #[tokio::test]
    async fn without_retention_days_the_bucket_default_applies_and_empty_batches_ship_nothing() {
        let mut sink = S3Sink::new(FakeS3::default(), "ir-audit", "", None);
        assert_eq!(sink.name(), "S3 `s3://ir-audit` in eu-north-1");
        assert_eq!(sink.ship("r", &[]).await.done, 0);
        sink.ship("r", &[line(0, "a")]).await;
        let uploads = sink.api.uploads.lock().unwrap();
        assert_eq!(uploads.len(), 1);
        assert_eq!(uploads[0].key, "r/000000000000-000000000000.jsonl");
        assert_eq!(uploads[0].retention, None);
    }
}
