//! Central copies of the audit log ("sinks"): the same records, byte for byte, shipped to
//! CloudWatch Logs and/or an S3 bucket with Object Lock, where whoever can edit the local
//! file cannot rewrite them. The local log stays the source of truth: a sink failure is
//! reported, never blocks or loses a local record, and never stops a run.
//!
//! How a run uses it:
//!
//! ```ignore
//! let shipper = Sinks::from_config(&config.audit, &ctx, region).map(|sinks| sinks.spawn(&run_id));
//! let record = log.append(entry)?;          // local, fsynced, fail-closed
//! if let Some(s) = &shipper { s.send(&record); } // never waits
//! // … at the end of the run:
//! if let Some(s) = shipper { let report = s.finish().await; /* print it; warn if !report.is_complete() */ }
//! ```
//!
//! `Sinks::check` is the preflight (log group exists; bucket exists and how Object Lock
//! protects it). Formats, permissions and how to verify a copy: docs/audit.md and
//! docs/iam.md.

mod api;
mod cloudwatch;
mod cloudwatch_batches;
mod names;
mod report;
mod s3;
mod shipper;
mod sinks;

pub use api::{Attempt, FindingLevel, Line, Sink, SinkFinding};
pub use cloudwatch::CloudWatchSink;
pub use cloudwatch_batches::{
    EVENT_OVERHEAD, MAX_BYTES_PER_CALL, MAX_EVENT_BYTES, MAX_EVENTS_PER_CALL, MAX_SPAN_MS, Piece,
    plan_calls,
};
pub use names::{log_stream_name, object_key};
pub use report::{SinkFailure, SinkOutcome, SinkReport};
pub use s3::{MAX_RECORDS_PER_OBJECT, Retention, S3Sink};
pub use shipper::{ShipPolicy, Shipper, ShipperHandle};
pub use sinks::Sinks;

#[cfg(test)]
mod tests;
