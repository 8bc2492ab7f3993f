//! The run's audit writer: every record of a run goes through here, synchronously and
//! fsynced, before the executor goes on; events for the reporter go out on a channel.

use std::sync::Mutex;

use tokio::sync::mpsc::UnboundedSender;

use serde_json::{Value, json};

use super::events::{CallResult, ExecEvent};
use crate::audit::sink::ShipperHandle;
use crate::audit::{AuditError, AuditLog, Entry, RecordKind};
use crate::aws::AwsError;

/// Who and what every record of the run is about.
#[derive(Debug, Clone)]
pub struct RunMeta {
    pub run_id: String,
    pub incident: Option<String>,
    pub actor: Option<String>,
    pub dry_run: bool,
}

/// Writes a run's records to the audit log and publishes its events.
#[derive(Debug)]
pub struct Recorder {
    log: Mutex<AuditLog>,
    meta: RunMeta,
    events: Option<UnboundedSender<ExecEvent>>,
    /// Central copies (CloudWatch Logs / S3), fed after each local append.
    sinks: Option<ShipperHandle>,
}

impl Recorder {
    pub fn new(log: AuditLog, meta: RunMeta, events: Option<UnboundedSender<ExecEvent>>) -> Self {
        Recorder {
            log: Mutex::new(log),
            meta,
            events,
            sinks: None,
        }
    }

    /// Also ships every record to the audit sinks.
    pub fn with_sinks(mut self, sinks: Option<ShipperHandle>) -> Self {
        self.sinks = sinks;
        self
    }

    /// Hands back the sinks so the caller can flush them (`finish`) at the end of the run.
    pub fn take_sinks(&mut self) -> Option<ShipperHandle> {
        self.sinks.take()
    }

    pub fn meta(&self) -> &RunMeta {
        &self.meta
    }

    /// Appends one record (fsynced). An error means: do not make the call it announces.
    pub fn record(&self, kind: RecordKind, body: serde_json::Value) -> Result<(), AuditError> {
        let entry = Entry {
            run_id: self.meta.run_id.clone(),
            incident: self.meta.incident.clone(),
            actor: self.meta.actor.clone(),
            dry_run: self.meta.dry_run,
            kind,
            body,
        };
        // A poisoned lock only means another task panicked; records are appended as whole
        // fsynced lines, so the log itself is still consistent.
        let mut log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let record = log.append(entry)?;
        if let Some(sinks) = &self.sinks {
            // Never waits; a sink failure is reported at the end, the local record stands.
            sinks.send(&record);
        }
        Ok(())
    }

    /// Announces an AWS call before it is made: `subject` (what it is about: target,
    /// service, operation, …) with its parameters. An error means: do not make the call.
    pub fn intent(&self, mut subject: Value, params: Value) -> Result<(), AuditError> {
        subject["params"] = params;
        self.record(RecordKind::Intent, subject)
    }

    /// Records how a call announced with [`Recorder::intent`] ended: its result, AWS
    /// request id and, when it failed, the AWS error.
    pub fn outcome(
        &self,
        mut subject: Value,
        result: CallResult,
        request_id: Option<&str>,
        error: Option<&AwsError>,
    ) -> Result<(), AuditError> {
        subject["result"] = json!(result);
        subject["request_id"] = json!(request_id);
        if let Some(error) = error {
            subject["error"] = json!({
                "code": error.code,
                "message": error.message,
                "http_status": error.http_status,
            });
        }
        self.record(RecordKind::Outcome, subject)
    }

    /// The hash of the last record written (to anchor the run elsewhere).
    pub fn head(&self) -> String {
        let log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        log.head().to_owned()
    }

    pub fn path(&self) -> std::path::PathBuf {
        let log = self
            .log
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        log.path().to_path_buf()
    }

    pub fn emit(&self, event: ExecEvent) {
        if let Some(events) = &self.events {
            // The reporter may have gone (e.g. the terminal closed); the audit log is what
            // counts.
            let _ = events.send(event);
        }
    }
}
