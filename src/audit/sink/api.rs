//! The contract between the shipper and a sink: the `Sink` trait, the `Line` it ships, the
//! `Attempt` it reports back, and the findings of its preflight check.

use futures::future::BoxFuture;
use serde::Serialize;

use crate::audit::AuditRecord;
use crate::aws::{AwsError, AwsErrorKind};

/// One audit record as shipped: its exact JSON line (no newline) and what sinks need to
/// order and name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub seq: u64,
    /// The record's `ts` in milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// Byte for byte what the local log holds on this record's line.
    pub text: String,
}

impl Line {
    /// The line of a record just appended to the local log.
    pub fn from_record(record: &AuditRecord) -> Line {
        let timestamp_ms = chrono::DateTime::parse_from_rfc3339(&record.ts).map_or_else(
            |_| chrono::Utc::now().timestamp_millis(),
            |t| t.timestamp_millis(),
        );
        Line {
            seq: record.seq,
            timestamp_ms,
            text: record.to_line(),
        }
    }
}

/// What one `Sink::ship` call achieved on a batch.
#[derive(Debug, Default)]
pub struct Attempt {
    /// How many leading records of the batch are dealt with: stored, or refused for good.
    pub done: usize,
    /// Records among the `done` ones the service refused individually (sequence number,
    /// why); they are reported and never retried.
    pub refused: Vec<(u64, String)>,
    /// Why the records after `done` were not shipped; they stay queued.
    pub error: Option<AwsError>,
}

impl Attempt {
    pub fn failed(error: AwsError) -> Attempt {
        Attempt {
            done: 0,
            refused: Vec::new(),
            error: Some(error),
        }
    }
}

/// A destination for copies of audit records.
pub trait Sink: Send + Sync {
    /// Names the destination in reports, e.g. "CloudWatch Logs group `x` in eu-west-1".
    fn name(&self) -> String;

    /// Most records one `ship` call accepts.
    fn max_batch(&self) -> usize;

    /// Ships records of run `run_id`, in sequence order. After a failure the records not
    /// yet done are offered again with nothing added, so a retried S3 object keeps its key
    /// and bytes (an overwrite, not a second copy).
    fn ship<'a>(&'a mut self, run_id: &'a str, batch: &'a [Line]) -> BoxFuture<'a, Attempt>;

    /// How to fix a failure of this sink; by default the AWS error's own hint.
    fn hint(&self, error: &AwsError) -> Option<String> {
        error.hint()
    }

    /// Preflight: does the destination exist, and how well does it protect the copies?
    fn check(&self) -> BoxFuture<'_, Vec<SinkFinding>>;
}

/// How serious a preflight finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingLevel {
    Ok,
    /// Copies will be shipped but are less protected than they could be.
    Warning,
    /// Copies will not be shipped.
    Error,
}

/// One result of a sink's preflight check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SinkFinding {
    pub sink: String,
    pub level: FindingLevel,
    pub message: String,
    pub hint: Option<String>,
}

impl SinkFinding {
    pub fn new(sink: String, level: FindingLevel, message: impl Into<String>) -> SinkFinding {
        SinkFinding {
            sink,
            level,
            message: message.into(),
            hint: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> SinkFinding {
        self.hint = Some(hint.into());
        self
    }

    /// A finding for a failed check call, with the AWS error's own hint. Being denied the
    /// check is only a warning: shipping needs other permissions (docs/iam.md).
    pub fn from_error(sink: String, what: &str, err: &AwsError) -> SinkFinding {
        SinkFinding {
            sink,
            level: if err.kind() == AwsErrorKind::AccessDenied {
                FindingLevel::Warning
            } else {
                FindingLevel::Error
            },
            message: format!("{what}: {err}"),
            hint: err.hint(),
        }
    }
}
