//! One audit record (format version 1) and its canonical hash.
//!
//! A record's `hash` is SHA-256 over the canonical JSON of every other field, in the
//! order declared here; `body` is a JSON object whose keys are sorted (serde_json's default
//! map), so writer and verifier produce the same bytes.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The audit format version written by this build.
pub const FORMAT_VERSION: u32 = 1;

/// `prev` of the first record in a log.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What a record says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordKind {
    RunStarted,
    /// Written before an AWS call; the call is not made if this cannot be written.
    Intent,
    /// Written after an AWS call, with its result and request id.
    Outcome,
    StepFinished,
    RunFinished,
    SessionStarted,
    SessionEnded,
    /// A finding or warning worth keeping with the run.
    Note,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::RunStarted => "run_started",
            RecordKind::Intent => "intent",
            RecordKind::Outcome => "outcome",
            RecordKind::StepFinished => "step_finished",
            RecordKind::RunFinished => "run_finished",
            RecordKind::SessionStarted => "session_started",
            RecordKind::SessionEnded => "session_ended",
            RecordKind::Note => "note",
        }
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditRecord {
    pub v: u32,
    pub seq: u64,
    /// UTC, RFC 3339 with milliseconds.
    pub ts: String,
    pub run_id: String,
    pub incident: Option<String>,
    /// STS caller ARN (and SSO user where known).
    pub actor: Option<String>,
    pub dry_run: bool,
    /// A [`RecordKind`] name; kept as text so newer kinds still verify.
    pub kind: String,
    /// The event: service, operation, sanitized parameters, request id, result, …
    pub body: serde_json::Value,
    pub prev: String,
    pub hash: String,
}

/// The hashed part of a record: everything but `hash`, same order.
#[derive(Serialize)]
struct Unsigned<'a> {
    v: u32,
    seq: u64,
    ts: &'a str,
    run_id: &'a str,
    incident: &'a Option<String>,
    actor: &'a Option<String>,
    dry_run: bool,
    kind: &'a str,
    body: &'a serde_json::Value,
    prev: &'a str,
}

impl AuditRecord {
    /// SHA-256 (hex) of the canonical record without `hash`.
    pub fn compute_hash(&self) -> String {
        let unsigned = Unsigned {
            v: self.v,
            seq: self.seq,
            ts: &self.ts,
            run_id: &self.run_id,
            incident: &self.incident,
            actor: &self.actor,
            dry_run: self.dry_run,
            kind: &self.kind,
            body: &self.body,
            prev: &self.prev,
        };
        // Serializing plain strings, bools, integers and a JSON value cannot fail.
        let bytes = serde_json::to_vec(&unsigned).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }

    /// Sets `hash` from the other fields.
    pub fn seal(mut self) -> Self {
        self.hash = self.compute_hash();
        self
    }

    /// The record as one JSON line (no trailing newline).
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> AuditRecord {
        AuditRecord {
            v: FORMAT_VERSION,
            seq: 0,
            ts: "2026-11-28T03:00:00.000Z".into(),
            run_id: "run-1".into(),
            incident: Some("IR-42".into()),
            actor: Some("arn:aws:sts::111122223333:assumed-role/IR/alice".into()),
            dry_run: false,
            kind: RecordKind::RunStarted.as_str().into(),
            body: serde_json::json!({"playbook": "isolate", "targets": ["i-1"]}),
            prev: GENESIS.into(),
            hash: String::new(),
        }
        .seal()
    }

    #[test]
    fn hash_covers_every_field_but_itself() {
        let sealed = record();
        assert_eq!(sealed.hash.len(), 64);
        assert_eq!(sealed.hash, sealed.compute_hash());
        type Mutation = Box<dyn Fn(&mut AuditRecord)>;
        let mutations: Vec<Mutation> = vec![
            Box::new(|r| r.v = 2),
            Box::new(|r| r.seq = 1),
            Box::new(|r| r.ts.push('x')),
            Box::new(|r| r.run_id.push('x')),
            Box::new(|r| r.incident = None),
            Box::new(|r| r.actor = None),
            Box::new(|r| r.dry_run = true),
            Box::new(|r| r.kind = "note".into()),
            Box::new(|r| r.body["targets"][0] = "i-2".into()),
            Box::new(|r| r.prev = "1".repeat(64)),
        ];
        for mutate in mutations {
            let mut changed = sealed.clone();
            mutate(&mut changed);
            assert_ne!(changed.compute_hash(), sealed.hash);
        }
    }

    #[test]
    fn a_line_round_trips_to_the_same_hash() {
        let sealed = record();
        let parsed: AuditRecord = serde_json::from_str(&sealed.to_line()).unwrap();
        assert_eq!(parsed, sealed);
        assert_eq!(parsed.compute_hash(), sealed.hash);
    }

    #[test]
    fn version_1_records_written_earlier_still_verify() {
        // A record as written by format version 1, its hash computed independently (Python:
        // sha256 of json.dumps(record_without_hash, separators=(",", ":"))). Never change it.
        let line = r#"{"v":1,"seq":0,"ts":"2026-11-28T03:00:00.000Z","run_id":"run-1","incident":"IR-42","actor":"arn:aws:sts::111122223333:assumed-role/IR/alice","dry_run":false,"kind":"run_started","body":{"playbook":"isolate","targets":["i-1"]},"prev":"0000000000000000000000000000000000000000000000000000000000000000","hash":"HASH"}"#;
        let expected = "ee6039585e658835ff604a8a3bce760a1376a2aec9369478ea3f5579d1a2ed6c";
        assert_eq!(record().hash, expected);
        let parsed: AuditRecord = serde_json::from_str(&line.replace("HASH", expected)).unwrap();
        assert_eq!(parsed.compute_hash(), expected);
    }
}
