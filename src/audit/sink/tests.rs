//! The shipper against scripted fake sinks: batching, flush on age, retries that offer the
//! same batch again, permanent failures, refused records, and sinks failing independently.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;

use super::*;
use crate::audit::{AuditRecord, FORMAT_VERSION, GENESIS};
use crate::aws::{AwsError, AwsErrorKind};

/// What the fake does on its next `ship` call.
#[derive(Clone)]
enum Step {
    Store,
    Fail(AwsError),
    /// Store all, but refuse the record with this seq.
    Refuse(u64),
    /// Store this many, then fail.
    Partial(usize, AwsError),
}

#[derive(Clone, Default)]
struct Fake {
    /// Every batch offered, as sequence numbers.
    offered: Arc<Mutex<Vec<Vec<u64>>>>,
    /// Every line stored.
    stored: Arc<Mutex<Vec<String>>>,
    script: Arc<Mutex<VecDeque<Step>>>,
}

impl Fake {
    fn scripted(steps: impl IntoIterator<Item = Step>) -> Fake {
        let fake = Fake::default();
        fake.script.lock().unwrap().extend(steps);
        fake
    }

    fn offered(&self) -> Vec<Vec<u64>> {
        self.offered.lock().unwrap().clone()
    }

    fn stored(&self) -> Vec<String> {
        self.stored.lock().unwrap().clone()
    }
}

impl Sink for Fake {
    fn name(&self) -> String {
        "fake".into()
    }

    fn max_batch(&self) -> usize {
        40
    }

    fn ship<'a>(&'a mut self, _run_id: &'a str, batch: &'a [Line]) -> BoxFuture<'a, Attempt> {
        self.offered
            .lock()
            .unwrap()
            .push(batch.iter().map(|l| l.seq).collect());
        let step = self
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or(Step::Store);
        let mut stored = self.stored.lock().unwrap();
        let attempt = match step {
            Step::Store => {
                stored.extend(batch.iter().map(|l| l.text.clone()));
                Attempt {
                    done: batch.len(),
                    ..Attempt::default()
                }
            }
            Step::Refuse(seq) => {
                stored.extend(
                    batch
                        .iter()
                        .filter(|l| l.seq != seq)
                        .map(|l| l.text.clone()),
                );
                Attempt {
                    done: batch.len(),
                    refused: vec![(seq, "too big".into())],
                    error: None,
                }
            }
            Step::Fail(err) => Attempt::failed(err),
            Step::Partial(n, err) => {
                stored.extend(batch[..n].iter().map(|l| l.text.clone()));
                Attempt {
                    done: n,
                    refused: Vec::new(),
                    error: Some(err),
                }
            }
        };
        Box::pin(async move { attempt })
    }

    fn check(&self) -> BoxFuture<'_, Vec<SinkFinding>> {
        Box::pin(async { Vec::new() })
    }
}

fn error(kind: AwsErrorKind, code: &str, retryable: bool) -> AwsError {
    AwsError {
        service: "logs",
        operation: "PutLogEvents",
        region: Some("eu-west-1".into()),
        kind,
        code: Some(code.into()),
        message: None,
        request_id: None,
        http_status: Some(400),
        retryable,
        answer_lost: false,
    }
}

fn throttled() -> AwsError {
    error(AwsErrorKind::Throttled, "ThrottlingException", true)
}

fn denied() -> AwsError {
    error(AwsErrorKind::AccessDenied, "AccessDeniedException", false)
}

fn record(seq: u64) -> AuditRecord {
    AuditRecord {
        v: FORMAT_VERSION,
        seq,
        ts: format!("2026-11-28T03:00:{:02}.{:03}Z", seq / 1000 % 60, seq % 1000),
        run_id: "run-1".into(),
        incident: Some("IR-1".into()),
        actor: None,
        dry_run: false,
        kind: "note".into(),
        body: serde_json::json!({"n": seq, "text": "é\u{1}\"x\""}),
        prev: GENESIS.into(),
        hash: String::new(),
    }
    .seal()
}

fn fast() -> ShipPolicy {
    ShipPolicy {
        batch_records: 50,
        max_wait: Duration::from_millis(50),
        attempts: 3,
        backoff: Duration::from_millis(1),
    }
}

async fn ship(fakes: &[Fake], records: u64, policy: ShipPolicy) -> SinkReport {
    let sinks = fakes
        .iter()
        .map(|f| Box::new(f.clone()) as Box<dyn Sink>)
        .collect();
    let shipper = Sinks::new(sinks).spawn_with("run-1", policy);
    for seq in 0..records {
        shipper.send(&record(seq));
    }
    shipper.finish().await
}

fn seqs(range: std::ops::Range<u64>) -> Vec<u64> {
    range.collect()
}

#[test]
fn a_line_is_the_record_exactly_with_its_time() {
    let record = record(1);
    let line = Line::from_record(&record);
    assert_eq!(line.text, record.to_line());
    assert_eq!(line.seq, 1);
    assert_eq!(line.timestamp_ms, 1_795_834_800_001);
}

#[tokio::test]
async fn ships_every_record_unchanged_in_batches_of_the_policy_size() {
    let fake = Fake::default();
    let policy = ShipPolicy {
        max_wait: Duration::from_secs(30),
        ..fast()
    };
    let report = ship(std::slice::from_ref(&fake), 120, policy).await;
    assert!(report.is_complete(), "{report}");
    assert_eq!(report.sinks[0].shipped, 120);
    // 50 queued → flush; the sink takes at most 40 per call.
    assert_eq!(
        fake.offered(),
        [
            seqs(0..40),
            seqs(40..50),
            seqs(50..90),
            seqs(90..100),
            seqs(100..120)
        ]
    );
    let expected: Vec<String> = (0..120).map(|s| record(s).to_line()).collect();
    assert_eq!(fake.stored(), expected);
}

#[tokio::test]
async fn old_records_are_flushed_without_waiting_for_the_end() {
    let fake = Fake::default();
    let shipper = Sinks::new(vec![Box::new(fake.clone())]).spawn_with("run-1", fast());
    for seq in 0..3 {
        shipper.send(&record(seq));
    }
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(fake.offered(), [seqs(0..3)], "flushed after max_wait");
    shipper.send(&record(3));
    let report = shipper.finish().await;
    assert_eq!(report.sinks[0].shipped, 4);
    assert_eq!(fake.offered(), [seqs(0..3), seqs(3..4)]);
}

#[tokio::test]
async fn a_transient_failure_is_retried_with_the_same_batch() {
    let fake = Fake::scripted([Step::Fail(throttled()), Step::Fail(throttled())]);
    let report = ship(std::slice::from_ref(&fake), 10, fast()).await;
    assert!(report.is_complete(), "{report}");
    assert_eq!(fake.offered(), [seqs(0..10), seqs(0..10), seqs(0..10)]);
    assert_eq!(fake.stored().len(), 10);
}

#[tokio::test]
async fn a_failure_that_outlasts_the_retries_is_reported_with_its_cause() {
    let fake = Fake::scripted(vec![Step::Fail(throttled()); 3]);
    let policy = ShipPolicy {
        attempts: 3,
        ..fast()
    };
    let report = ship(std::slice::from_ref(&fake), 10, policy).await;
    assert!(!report.is_complete());
    let outcome = &report.sinks[0];
    assert_eq!((outcome.shipped, outcome.not_shipped()), (0, 10));
    assert_eq!(outcome.failures[0].seqs, Some((0, 9)));
    assert!(outcome.failures[0].message.contains("ThrottlingException"));
    assert!(
        outcome.failures[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("throttling")
    );
    assert!(
        report
            .to_string()
            .contains("records 0–9: logs:PutLogEvents failed")
    );
}

#[tokio::test]
async fn a_permanent_failure_stops_that_sink_only_and_counts_every_later_record() {
    let broken = Fake::scripted([Step::Fail(denied())]);
    let healthy = Fake::default();
    let report = ship(&[broken.clone(), healthy.clone()], 120, fast()).await;
    assert_eq!(broken.offered(), [seqs(0..40)], "not retried");
    let failed = &report.sinks[0];
    assert_eq!((failed.shipped, failed.not_shipped()), (0, 120));
    assert_eq!(failed.failures.len(), 1);
    assert_eq!(failed.failures[0].seqs, Some((0, 119)));
    assert!(
        failed.failures[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("docs/iam.md")
    );
    assert!(report.sinks[1].is_complete());
    assert_eq!(report.sinks[1].shipped, 120);
    assert_eq!(healthy.stored().len(), 120);
}

#[tokio::test]
async fn a_partial_success_keeps_what_was_stored_and_retries_the_rest() {
    let fake = Fake::scripted([Step::Partial(4, throttled())]);
    let report = ship(std::slice::from_ref(&fake), 10, fast()).await;
    assert!(report.is_complete(), "{report}");
    assert_eq!(fake.offered(), [seqs(0..10), seqs(4..10)]);
    let expected: Vec<String> = (0..10).map(|s| record(s).to_line()).collect();
    assert_eq!(fake.stored(), expected);
}

#[tokio::test]
async fn a_refused_record_is_reported_and_the_others_ship() {
    let fake = Fake::scripted([Step::Refuse(2)]);
    let report = ship(std::slice::from_ref(&fake), 5, fast()).await;
    let outcome = &report.sinks[0];
    assert_eq!((outcome.shipped, outcome.not_shipped()), (4, 1));
    assert_eq!(outcome.failures[0].seqs, Some((2, 2)));
    assert!(report.to_string().contains("record 2: too big"));
}

#[tokio::test]
async fn finishing_with_nothing_sent_reports_nothing_shipped() {
    let fake = Fake::default();
    let report = ship(std::slice::from_ref(&fake), 0, fast()).await;
    assert!(report.is_complete());
    assert_eq!(report.sinks[0].shipped, 0);
    assert!(fake.offered().is_empty());
}
