//! Verification of an audit log: every record's hash, the chain of `prev` hashes and the
//! sequence numbers, naming the first bad record. What it proves is in docs/audit.md.

use std::collections::BTreeSet;
use std::io::BufRead;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::record::{FORMAT_VERSION, GENESIS, RecordKind};

/// One line as read for verification: borrowed, with the body kept as its raw JSON text,
/// so a record is parsed once and hashed without being rebuilt (the hashed form — every
/// field but `hash`, in order — is what `AuditRecord::compute_hash` produces for the
/// records breakglass writes; a body re-formatted after writing no longer verifies).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Line<'a> {
    v: u32,
    seq: u64,
    #[serde(borrow)]
    ts: Cow<'a, str>,
    #[serde(borrow)]
    run_id: Cow<'a, str>,
    #[serde(borrow)]
    incident: Option<Cow<'a, str>>,
    #[serde(borrow)]
    actor: Option<Cow<'a, str>>,
    dry_run: bool,
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    body: &'a RawValue,
    #[serde(borrow)]
    prev: Cow<'a, str>,
    #[serde(borrow)]
    hash: Cow<'a, str>,
}

/// The hashed part of a [`Line`].
#[derive(Serialize)]
struct Unsigned<'a> {
    v: u32,
    seq: u64,
    ts: &'a str,
    run_id: &'a str,
    incident: Option<&'a str>,
    actor: Option<&'a str>,
    dry_run: bool,
    kind: &'a str,
    body: &'a RawValue,
    prev: &'a str,
}

impl Line<'_> {
    fn compute_hash(&self) -> String {
        let unsigned = Unsigned {
            v: self.v,
            seq: self.seq,
            ts: &self.ts,
            run_id: &self.run_id,
            incident: self.incident.as_deref(),
            actor: self.actor.as_deref(),
            dry_run: self.dry_run,
            kind: &self.kind,
            body: self.body,
            prev: &self.prev,
        };
        let bytes = serde_json::to_vec(&unsigned).unwrap_or_default();
        hex::encode(Sha256::digest(&bytes))
    }
}

/// The first problem found, with the 1-based line it is on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub line: u64,
    pub reason: String,
}

/// The result of verifying one log.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Records that verified before the first problem (all of them when it is clean).
    pub records: u64,
    pub runs: u64,
    /// Hash of the last good record; anchor it elsewhere to detect truncation later.
    pub head: Option<String>,
    /// Runs with no `run_finished` record: in progress, crashed, or truncated.
    pub unfinished_runs: Vec<String>,
    /// Whether `anchor` (when given) was found among the records.
    pub anchor_found: Option<bool>,
    pub problem: Option<Problem>,
    /// For a segment ([`verify_segment`]): the first record's `seq` …
    pub first_seq: Option<u64>,
    /// … and its `prev`, the hash of the record before the segment (64 zeros when the
    /// segment starts the log). Match it against that record in the local log.
    pub continues_from: Option<String>,
}

impl VerifyReport {
    pub fn is_intact(&self) -> bool {
        self.problem.is_none() && self.anchor_found != Some(false)
    }
}

/// Verifies a log read line by line. `anchor` is a record hash published earlier (e.g. the
/// head printed at the end of a run) that must still be in the log.
pub fn verify(reader: impl BufRead, anchor: Option<&str>) -> std::io::Result<VerifyReport> {
    verify_from(reader, anchor, false)
}

/// Verifies a piece of a log, such as one run's copy from an audit sink: as [`verify`], but
/// the first record may continue an earlier chain. Its `seq` and `prev` are taken as given
/// and reported (`first_seq`, `continues_from`), so records missing *before* the segment
/// are only detected by matching `continues_from` against the full log.
pub fn verify_segment(reader: impl BufRead, anchor: Option<&str>) -> std::io::Result<VerifyReport> {
    verify_from(reader, anchor, true)
}

fn verify_from(
    reader: impl BufRead,
    anchor: Option<&str>,
    segment: bool,
) -> std::io::Result<VerifyReport> {
    let mut report = VerifyReport {
        anchor_found: anchor.map(|_| false),
        ..VerifyReport::default()
    };
    let mut prev = GENESIS.to_owned();
    let mut started = BTreeSet::new();
    let mut finished = BTreeSet::new();
    let mut reader = reader;
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        let fail = |reason: String| Problem {
            line: line_no,
            reason,
        };
        if buf.last() != Some(&b'\n') {
            report.problem = Some(fail(
                "the last line is incomplete: the log was truncated or a write was cut short"
                    .into(),
            ));
            break;
        }
        let record: Line = match serde_json::from_slice(&buf[..buf.len() - 1]) {
            Ok(record) => record,
            Err(err) => {
                report.problem = Some(fail(format!("not a valid audit record ({err})")));
                break;
            }
        };
        if segment && report.records == 0 {
            prev = record.prev.to_string();
            report.first_seq = Some(record.seq);
            report.continues_from = Some(record.prev.to_string());
        }
        let expected_seq = report.first_seq.unwrap_or(0) + report.records;
        if let Some(problem) = check(&record, line_no, expected_seq, &prev) {
            report.problem = Some(problem);
            break;
        }
        if Some(record.hash.as_ref()) == anchor {
            report.anchor_found = Some(true);
        }
        if record.kind == RecordKind::RunStarted.as_str() {
            started.insert(record.run_id.to_string());
        } else if record.kind == RecordKind::RunFinished.as_str() {
            finished.insert(record.run_id.to_string());
        }
        report.records += 1;
        prev = record.hash.to_string();
    }
    if report.records > 0 {
        report.head = Some(prev.clone());
    }
    report.runs = started.len() as u64;
    report.unfinished_runs = started.difference(&finished).cloned().collect();
    Ok(report)
}

fn check(record: &Line, line: u64, expected_seq: u64, prev: &str) -> Option<Problem> {
    let reason = if record.v > FORMAT_VERSION {
        format!(
            "written in audit format {} by a newer breakglass; this one reads up to {FORMAT_VERSION}",
            record.v
        )
    } else if record.compute_hash() != record.hash {
        "the record was modified: its hash does not match its content".into()
    } else if record.seq != expected_seq {
        format!(
            "sequence number {} where {expected_seq} was expected: a record was deleted, \
             inserted or moved before this line",
            record.seq
        )
    } else if record.prev != prev {
        "the chain is broken: `prev` is not the hash of the record before it (a record was \
         deleted, inserted or reordered)"
            .into()
    } else {
        return None;
    };
    Some(Problem { line, reason })
}
