//! The background task that ships a run's audit records to the sinks: fed through an
//! unbounded channel so the caller never waits, flushing when a batch is big or old,
//! retrying transient failures with backoff, and reporting per sink when finished.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::api::{Line, Sink};
use super::report::{SinkFailure, SinkOutcome, SinkReport};
use super::sinks::Sinks;
use crate::audit::AuditRecord;
use crate::aws::{AwsError, AwsErrorKind};

/// When to flush and how hard to retry.
#[derive(Debug, Clone)]
pub struct ShipPolicy {
    /// Flush once this many records are queued for a sink.
    pub batch_records: usize,
    /// Flush once the oldest queued record has waited this long; also the pause before a
    /// batch that failed transiently is tried again.
    pub max_wait: Duration,
    /// Tries per batch within one flush, for transient failures.
    pub attempts: u32,
    /// Pause after the first failed try; doubles after each further one.
    pub backoff: Duration,
}

impl Default for ShipPolicy {
    fn default() -> Self {
        ShipPolicy {
            batch_records: 50,
            max_wait: Duration::from_secs(2),
            attempts: 3,
            backoff: Duration::from_millis(250),
        }
    }
}

/// The caller's side of a running shipper.
#[derive(Debug)]
pub struct ShipperHandle {
    tx: mpsc::UnboundedSender<Line>,
    task: JoinHandle<SinkReport>,
    sent: AtomicU64,
    names: Vec<String>,
}

impl ShipperHandle {
    /// Queues a copy of a record already appended (and fsynced) to the local log. Never
    /// waits and never fails: problems show in the report of [`ShipperHandle::finish`].
    pub fn send(&self, record: &AuditRecord) {
        self.sent.fetch_add(1, Ordering::Relaxed);
        if self.tx.send(Line::from_record(record)).is_err() {
            tracing::error!(seq = record.seq, "the audit sink shipper has stopped");
        }
    }

    /// Ships what is still queued (retrying transient failures) and reports per sink.
    pub async fn finish(self) -> SinkReport {
        let ShipperHandle {
            tx,
            task,
            sent,
            names,
        } = self;
        drop(tx);
        match task.await {
            Ok(report) => report,
            Err(err) => SinkReport {
                sinks: names
                    .into_iter()
                    .map(|sink| SinkOutcome {
                        sink,
                        shipped: 0,
                        failures: vec![SinkFailure {
                            seqs: None,
                            records: sent.load(Ordering::Relaxed),
                            message: format!(
                                "the shipper stopped abnormally ({err}); some records may have \
                                 been shipped before"
                            ),
                            hint: Some(
                                "compare the copies with the local log, which is complete".into(),
                            ),
                            error: None,
                        }],
                    })
                    .collect(),
            },
        }
    }
}

/// The background task: one lane per sink.
pub struct Shipper {
    run_id: String,
    policy: ShipPolicy,
    lanes: Vec<Lane>,
    rx: mpsc::UnboundedReceiver<Line>,
}

impl Shipper {
    /// Starts shipping run `run_id` to `sinks` with the default policy. Needs a tokio
    /// runtime.
    pub fn spawn(sinks: Sinks, run_id: &str) -> ShipperHandle {
        Shipper::spawn_with(sinks, run_id, ShipPolicy::default())
    }

    pub fn spawn_with(sinks: Sinks, run_id: &str, policy: ShipPolicy) -> ShipperHandle {
        let (tx, rx) = mpsc::unbounded_channel();
        let sinks = sinks.into_inner();
        let names = sinks.iter().map(|s| s.name()).collect();
        let shipper = Shipper {
            run_id: run_id.to_owned(),
            policy,
            lanes: sinks.into_iter().map(Lane::new).collect(),
            rx,
        };
        ShipperHandle {
            tx,
            task: tokio::spawn(shipper.run()),
            sent: AtomicU64::new(0),
            names,
        }
    }

    async fn run(mut self) -> SinkReport {
        loop {
            let wake = self
                .lanes
                .iter()
                .filter_map(|l| l.due_at(&self.policy))
                .min();
            tokio::select! {
                line = self.rx.recv() => match line {
                    Some(line) => {
                        let now = Instant::now();
                        for lane in &mut self.lanes {
                            lane.push(line.clone(), now);
                        }
                    }
                    None => break,
                },
                () = tokio::time::sleep_until(wake.unwrap_or_else(Instant::now)),
                    if wake.is_some() => {}
            }
            self.flush(false).await;
        }
        self.flush(true).await;
        SinkReport {
            sinks: self.lanes.into_iter().map(Lane::finish).collect(),
        }
    }

    /// Flushes the lanes that are due (all of them at the end), concurrently.
    async fn flush(&mut self, at_end: bool) {
        let now = Instant::now();
        let (run_id, policy) = (self.run_id.as_str(), &self.policy);
        let due = self
            .lanes
            .iter_mut()
            .filter(|lane| at_end || lane.due_at(policy).is_some_and(|t| t <= now))
            .map(|lane| lane.flush(run_id, policy));
        futures::future::join_all(due).await;
    }
}

/// One sink's queue and tally.
struct Lane {
    sink: Box<dyn Sink>,
    outcome: SinkOutcome,
    queue: VecDeque<Line>,
    /// Leading queued records that form the batch being tried; a retry offers exactly them.
    frozen: usize,
    /// When the oldest queued record arrived.
    oldest: Option<Instant>,
    /// No try before this, after a batch failed transiently.
    retry_at: Option<Instant>,
    last_error: Option<AwsError>,
    /// A permanent failure stopped this sink; later records are counted in that failure.
    disabled: bool,
}

/// Whether trying again later could help.
fn is_transient(err: &AwsError) -> bool {
    err.retryable
        || matches!(
            err.kind,
            AwsErrorKind::Throttled | AwsErrorKind::Unreachable
        )
}

impl Lane {
    fn new(sink: Box<dyn Sink>) -> Lane {
        Lane {
            outcome: SinkOutcome::new(sink.name()),
            sink,
            queue: VecDeque::new(),
            frozen: 0,
            oldest: None,
            retry_at: None,
            last_error: None,
            disabled: false,
        }
    }

    fn push(&mut self, line: Line, now: Instant) {
        if self.disabled {
            if let Some(failure) = self.outcome.failures.last_mut() {
                failure.extend(line.seq);
            }
            return;
        }
        self.oldest.get_or_insert(now);
        self.queue.push_back(line);
    }

    fn due_at(&self, policy: &ShipPolicy) -> Option<Instant> {
        let oldest = self.oldest.filter(|_| !self.queue.is_empty())?;
        let due = if self.queue.len() >= policy.batch_records {
            oldest
        } else {
            oldest + policy.max_wait
        };
        Some(self.retry_at.map_or(due, |retry| due.max(retry)))
    }

    async fn flush(&mut self, run_id: &str, policy: &ShipPolicy) {
        let mut tries = 0;
        while !self.queue.is_empty() && !self.disabled {
            if self.frozen == 0 {
                self.frozen = self.queue.len().min(self.sink.max_batch().max(1));
            }
            let batch = &self.queue.make_contiguous()[..self.frozen];
            let attempt = self.sink.ship(run_id, batch).await;
            let done = attempt.done.min(self.frozen);
            let refused = attempt.refused.len().min(done);
            for (seq, reason) in attempt.refused {
                tracing::error!(sink = %self.outcome.sink, seq, %reason, "audit record refused");
                self.outcome
                    .failures
                    .push(SinkFailure::refused(seq, reason));
            }
            self.outcome.shipped += (done - refused) as u64;
            self.queue.drain(..done);
            self.frozen -= done;
            let error = match attempt.error {
                None if done > 0 => {
                    tries = 0;
                    self.retry_at = None;
                    self.last_error = None;
                    continue;
                }
                None => {
                    self.disable(|seqs, records| {
                        SinkFailure::new(
                            seqs,
                            records,
                            "the sink took none of the records and gave no reason",
                        )
                    });
                    break;
                }
                Some(error) => error,
            };
            tries += 1;
            if !is_transient(&error) {
                tracing::error!(sink = %self.outcome.sink, %error, "audit sink failed; no more copies go there this run");
                let hint = self.sink.hint(&error);
                self.disable(|seqs, records| SinkFailure::from_error(seqs, records, error, hint));
            } else if tries < policy.attempts {
                tracing::warn!(sink = %self.outcome.sink, %error, "retrying audit copy");
                tokio::time::sleep(policy.backoff * 2u32.pow(tries - 1)).await;
            } else {
                tracing::warn!(sink = %self.outcome.sink, %error, "audit copy delayed");
                self.last_error = Some(error);
                self.retry_at = Some(Instant::now() + policy.max_wait);
                return;
            }
        }
        if self.queue.is_empty() {
            self.oldest = None;
        }
    }

    /// Stops this sink for the rest of the run; what is queued (and comes later) is counted
    /// in the failure `make` builds from the sequence range and count.
    fn disable(&mut self, make: impl FnOnce(Option<(u64, u64)>, u64) -> SinkFailure) {
        let seqs = self
            .queue
            .front()
            .zip(self.queue.back())
            .map(|(a, b)| (a.seq, b.seq));
        self.outcome
            .failures
            .push(make(seqs, self.queue.len() as u64));
        self.queue.clear();
        self.frozen = 0;
        self.oldest = None;
        self.disabled = true;
    }

    fn finish(mut self) -> SinkOutcome {
        if let (Some(first), Some(last)) = (self.queue.front(), self.queue.back()) {
            let seqs = Some((first.seq, last.seq));
            let records = self.queue.len() as u64;
            self.outcome.failures.push(match self.last_error.take() {
                Some(error) => {
                    let hint = self.sink.hint(&error);
                    SinkFailure::from_error(seqs, records, error, hint)
                }
                None => SinkFailure::new(seqs, records, "not shipped before the run ended"),
            });
        }
        self.outcome
    }
}
