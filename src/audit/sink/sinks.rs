//! The configured set of sinks: built from `[audit.*]`, checked before a run, and turned
//! into a running shipper for one run.

use std::fmt;

use super::api::{FindingLevel, Sink, SinkFinding};
use super::cloudwatch::CloudWatchSink;
use super::s3::{Retention, S3Sink};
use super::shipper::{ShipPolicy, Shipper, ShipperHandle};
use crate::aws::AwsContext;
use crate::config::AuditSinkConfig;

/// The sinks records are copied to.
pub struct Sinks {
    sinks: Vec<Box<dyn Sink>>,
}

impl fmt::Debug for Sinks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl Sinks {
    pub fn new(sinks: Vec<Box<dyn Sink>>) -> Sinks {
        Sinks { sinks }
    }

    /// The sinks `config` names (validated at load), each in its own region or else
    /// `default_region`; `None` when no sink is configured.
    pub fn from_config(
        config: &AuditSinkConfig,
        ctx: &AwsContext,
        default_region: &str,
    ) -> Option<Sinks> {
        let mut sinks: Vec<Box<dyn Sink>> = Vec::new();
        if let Some(cw) = &config.cloudwatch {
            let region = cw.region.as_deref().unwrap_or(default_region);
            sinks.push(Box::new(CloudWatchSink::new(
                ctx.cloudwatch_logs(region),
                &cw.log_group,
                &cw.log_stream_prefix,
            )));
        }
        if let Some(s3) = &config.s3 {
            let region = s3.region.as_deref().unwrap_or(default_region);
            let retention = s3.retention_days.map(|days| Retention {
                mode: s3.retention_mode.unwrap_or_default(),
                days,
            });
            sinks.push(Box::new(S3Sink::new(
                ctx.s3(region),
                &s3.bucket,
                &s3.prefix,
                retention,
            )));
        }
        (!sinks.is_empty()).then_some(Sinks { sinks })
    }

    pub fn names(&self) -> Vec<String> {
        self.sinks.iter().map(|s| s.name()).collect()
    }

    pub fn len(&self) -> usize {
        self.sinks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sinks.is_empty()
    }

    /// Preflight: every sink's findings, checked concurrently, in configuration order.
    pub async fn check(&self) -> Vec<SinkFinding> {
        futures::future::join_all(self.sinks.iter().map(|s| s.check()))
            .await
            .into_iter()
            .flatten()
            .collect()
    }

    /// Whether any finding means copies will not be shipped.
    pub fn blocking(findings: &[SinkFinding]) -> bool {
        findings.iter().any(|f| f.level == FindingLevel::Error)
    }

    /// Starts shipping run `run_id` in the background (needs a tokio runtime).
    pub fn spawn(self, run_id: &str) -> ShipperHandle {
        Shipper::spawn(self, run_id)
    }

    /// As [`Sinks::spawn`], with another flush and retry policy.
    pub fn spawn_with(self, run_id: &str, policy: ShipPolicy) -> ShipperHandle {
        Shipper::spawn_with(self, run_id, policy)
    }

    pub(super) fn into_inner(self) -> Vec<Box<dyn Sink>> {
        self.sinks
    }
}
