//! The CloudWatch Logs sink: one log stream per run (`<prefix>/<run_id>`) in a log group
//! that must already exist, each record one event whose message is the exact JSON line,
//! put in calls that respect the `PutLogEvents` limits.

use futures::future::BoxFuture;

use super::api::{Attempt, FindingLevel, Line, Sink, SinkFinding};
use super::cloudwatch_batches::{MAX_EVENT_BYTES, MAX_EVENTS_PER_CALL, Piece, plan_calls};
use super::names::log_stream_name;
use crate::aws::{AwsError, CloudWatchLogsApi, LogEvent};

/// Ships to one log group through a `CloudWatchLogsApi`.
pub struct CloudWatchSink<L> {
    api: L,
    group: String,
    stream_prefix: String,
    /// The stream known to exist.
    stream: Option<String>,
    /// Timestamp of the last event stored; events must not go back in time within a call.
    last_timestamp: i64,
}

impl<L: CloudWatchLogsApi> CloudWatchSink<L> {
    pub fn new(api: L, group: &str, stream_prefix: &str) -> Self {
        CloudWatchSink {
            api,
            group: group.to_owned(),
            stream_prefix: stream_prefix.to_owned(),
            stream: None,
            last_timestamp: i64::MIN,
        }
    }

    async fn ship_batch(&mut self, run_id: &str, batch: &[Line]) -> Attempt {
        let stream = log_stream_name(&self.stream_prefix, run_id);
        if self.stream.as_deref() != Some(stream.as_str()) {
            if let Err(err) = self.api.create_log_stream(&self.group, &stream).await {
                return Attempt::failed(err);
            }
            self.stream = Some(stream.clone());
        }
        // A clock step back must not fail the call: the event time never goes backwards,
        // while the record keeps its own `ts` inside the message.
        let mut last = self.last_timestamp;
        let events: Vec<(usize, i64)> = batch
            .iter()
            .map(|line| {
                last = last.max(line.timestamp_ms);
                (line.text.len(), last)
            })
            .collect();
        let mut attempt = Attempt::default();
        for piece in plan_calls(&events) {
            match piece {
                Piece::TooLarge(i) => {
                    attempt.refused.push((
                        batch[i].seq,
                        format!(
                            "the record is {} bytes, more than a CloudWatch Logs event holds \
                             ({MAX_EVENT_BYTES})",
                            events[i].0
                        ),
                    ));
                    attempt.done = i + 1;
                }
                Piece::Call(range) => {
                    let call: Vec<LogEvent> = range
                        .clone()
                        .map(|i| LogEvent {
                            timestamp_ms: events[i].1,
                            message: batch[i].text.clone(),
                        })
                        .collect();
                    match self.api.put_log_events(&self.group, &stream, call).await {
                        Ok(rejected) => {
                            for (k, i) in range.clone().enumerate() {
                                if let Some(reason) = rejected.reason(k) {
                                    attempt.refused.push((
                                        batch[i].seq,
                                        format!("CloudWatch Logs rejected the event: {reason}"),
                                    ));
                                }
                            }
                            attempt.done = range.end;
                            self.last_timestamp = events[range.end - 1].1;
                        }
                        Err(err) => {
                            // The stream may have been deleted: make sure it exists next time.
                            self.stream = None;
                            attempt.error = Some(err);
                            return attempt;
                        }
                    }
                }
            }
        }
        attempt
    }

    async fn check_group(&self) -> Vec<SinkFinding> {
        let name = self.name();
        let finding = match self.api.describe_log_group(&self.group).await {
            Ok(Some(info)) => {
                let kept = info.retention_days.map_or_else(
                    || "never expire".to_owned(),
                    |d| format!("expire after {d} days"),
                );
                let key = if info.kms_key_id.is_some() {
                    "encrypted with a KMS key"
                } else {
                    "encrypted with a CloudWatch-owned key"
                };
                SinkFinding::new(
                    name,
                    FindingLevel::Ok,
                    format!(
                        "the log group exists; its events {kept} and are {key}; write access \
                         shows with the first shipped record"
                    ),
                )
            }
            Ok(None) => SinkFinding::new(
                name,
                FindingLevel::Error,
                format!(
                    "log group `{}` does not exist in {}; breakglass creates streams, never groups",
                    self.group,
                    self.api.region()
                ),
            )
            .with_hint(format!(
                "create it: `aws logs create-log-group --log-group-name {} --region {}` (and \
                 set its retention), or fix `audit.cloudwatch.log_group`",
                self.group,
                self.api.region()
            )),
            Err(err) => SinkFinding::from_error(name, "cannot look the log group up", &err),
        };
        vec![finding]
    }
}

impl<L: CloudWatchLogsApi> Sink for CloudWatchSink<L> {
    fn name(&self) -> String {
        format!(
            "CloudWatch Logs group `{}` in {}",
            self.group,
            self.api.region()
        )
    }

    fn max_batch(&self) -> usize {
        MAX_EVENTS_PER_CALL
    }

    fn ship<'a>(&'a mut self, run_id: &'a str, batch: &'a [Line]) -> BoxFuture<'a, Attempt> {
        Box::pin(self.ship_batch(run_id, batch))
    }

    fn hint(&self, error: &AwsError) -> Option<String> {
        if error.code.as_deref() == Some("ResourceNotFoundException") {
            return Some(format!(
                "log group `{}` must exist in {}: create it (`aws logs create-log-group \
                 --log-group-name {} --region {}`) or fix `audit.cloudwatch.log_group`",
                self.group,
                self.api.region(),
                self.group,
                self.api.region()
            ));
        }
        error.hint()
    }

    fn check(&self) -> BoxFuture<'_, Vec<SinkFinding>> {
        Box::pin(self.check_group())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;
    use crate::aws::{AwsErrorKind, LogGroupInfo, RejectedEvents, StreamCreated};

    /// Records calls; answers from scripts (success when a script is empty).
    #[derive(Default)]
    struct FakeLogs {
        calls: Mutex<Vec<String>>,
        puts: Mutex<Vec<Vec<LogEvent>>>,
        put_results: Mutex<VecDeque<Result<RejectedEvents, AwsError>>>,
    }

    impl CloudWatchLogsApi for FakeLogs {
        fn region(&self) -> &str {
            "eu-west-1"
        }

        async fn create_log_stream(
            &self,
            group: &str,
            stream: &str,
        ) -> Result<StreamCreated, AwsError> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("create {group} {stream}"));
            Ok(StreamCreated::AlreadyExisted)
        }

        async fn put_log_events(
            &self,
            group: &str,
            stream: &str,
            events: Vec<LogEvent>,
        ) -> Result<RejectedEvents, AwsError> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("put {group} {stream}"));
            self.puts.lock().unwrap().push(events);
            self.put_results
                .lock()
                .unwrap()
                .pop_front()
                .unwrap_or(Ok(RejectedEvents::default()))
        }

        async fn describe_log_group(&self, _name: &str) -> Result<Option<LogGroupInfo>, AwsError> {
            Ok(None)
        }
    }

    fn line(seq: u64, timestamp_ms: i64, text: &str) -> Line {
        Line {
            seq,
            timestamp_ms,
            text: text.into(),
        }
    }

    fn unreachable_error() -> AwsError {
        AwsError {
            service: "logs",
            operation: "PutLogEvents",
            region: None,
            kind: AwsErrorKind::Unreachable,
            code: None,
            message: Some("timed out".into()),
            request_id: None,
            http_status: None,
            retryable: true,
            answer_lost: false,
        }
    }

    #[tokio::test]
    async fn creates_the_run_stream_once_and_puts_exact_lines_never_back_in_time() {
        let mut sink = CloudWatchSink::new(FakeLogs::default(), "/ir/audit", "bg");
        let first = [
            line(0, 5_000, r#"{"seq":0}"#),
            line(1, 3_000, r#"{"seq":1,"é":"\u0001"}"#),
        ];
        let attempt = sink.ship("run-1", &first).await;
        assert_eq!((attempt.done, attempt.error.is_none()), (2, true));
        let attempt = sink.ship("run-1", &[line(2, 4_000, "c")]).await;
        assert_eq!(attempt.done, 1);
        let api = &sink.api;
        assert_eq!(
            *api.calls.lock().unwrap(),
            [
                "create /ir/audit bg/run-1",
                "put /ir/audit bg/run-1",
                "put /ir/audit bg/run-1"
            ]
        );
        let puts = api.puts.lock().unwrap();
        let times: Vec<Vec<i64>> = puts
            .iter()
            .map(|p| p.iter().map(|e| e.timestamp_ms).collect())
            .collect();
        assert_eq!(times, [vec![5_000, 5_000], vec![5_000]]);
        assert_eq!(puts[0][1].message, first[1].text);
    }

    #[tokio::test]
    async fn rejected_and_oversized_events_are_refused_and_the_rest_counted_done() {
        let api = FakeLogs::default();
        api.put_results
            .lock()
            .unwrap()
            .push_back(Ok(RejectedEvents {
                too_old_end: Some(1),
                ..RejectedEvents::default()
            }));
        let mut sink = CloudWatchSink::new(api, "g", "");
        let huge = "x".repeat(MAX_EVENT_BYTES + 1);
        let batch = [
            line(7, 1, "a"),
            line(8, 1, "b"),
            line(9, 1, &huge),
            line(10, 1, "d"),
        ];
        let attempt = sink.ship("r", &batch).await;
        assert_eq!(attempt.done, 4);
        assert!(attempt.error.is_none());
        let refused: Vec<u64> = attempt.refused.iter().map(|(seq, _)| *seq).collect();
        assert_eq!(refused, [7, 9]);
        assert!(attempt.refused[0].1.contains("14 days"));
        assert!(attempt.refused[1].1.contains("bytes"));
        assert_eq!(
            sink.api.puts.lock().unwrap().len(),
            2,
            "the huge one is never sent"
        );
    }

    #[tokio::test]
    async fn a_failed_put_reports_progress_and_makes_sure_of_the_stream_next_time() {
        let api = FakeLogs::default();
        api.put_results
            .lock()
            .unwrap()
            .push_back(Err(unreachable_error()));
        let mut sink = CloudWatchSink::new(api, "g", "p");
        let attempt = sink.ship("r", &[line(0, 1, "a")]).await;
        assert_eq!(attempt.done, 0);
        assert!(attempt.error.is_some_and(|e| e.retryable));
        let attempt = sink.ship("r", &[line(0, 1, "a")]).await;
        assert_eq!(attempt.done, 1);
        let calls = sink.api.calls.lock().unwrap();
        assert_eq!(calls.iter().filter(|c| c.starts_with("create")).count(), 2);
    }
}
