//! CloudWatch Logs: the `CloudWatchLogsApi` trait and its SDK implementation (the calls the
//! audit sink makes: create a stream, put events, look a log group up).

use std::future::Future;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;

use super::AwsError;

/// One event to put: milliseconds since the epoch and the message text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    pub timestamp_ms: i64,
    pub message: String,
}

/// Events of an accepted `PutLogEvents` call that CloudWatch Logs did not store, as the
/// index ranges the service reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RejectedEvents {
    /// Events from this index on were too far in the future.
    pub too_new_start: Option<usize>,
    /// Events before this index were too old.
    pub too_old_end: Option<usize>,
    /// Events before this index were older than the log group's retention.
    pub expired_end: Option<usize>,
}

impl RejectedEvents {
    /// Why the event at `index` was not stored, or `None` when it was.
    pub fn reason(&self, index: usize) -> Option<&'static str> {
        if self.expired_end.is_some_and(|end| index < end) {
            Some("older than the log group's retention")
        } else if self.too_old_end.is_some_and(|end| index < end) {
            Some("more than 14 days old")
        } else if self.too_new_start.is_some_and(|start| index >= start) {
            Some("more than 2 hours in the future")
        } else {
            None
        }
    }
}

/// What `DescribeLogGroups` says about one log group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogGroupInfo {
    pub name: String,
    pub arn: Option<String>,
    /// `None`: events never expire.
    pub retention_days: Option<i32>,
    pub kms_key_id: Option<String>,
}

/// Whether `CreateLogStream` made the stream or found it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamCreated {
    Created,
    AlreadyExisted,
}

/// The CloudWatch Logs calls breakglass makes.
pub trait CloudWatchLogsApi: Send + Sync {
    fn region(&self) -> &str;

    /// Creates `stream` in `group`; an existing stream is not an error.
    fn create_log_stream(
        &self,
        group: &str,
        stream: &str,
    ) -> impl Future<Output = Result<StreamCreated, AwsError>> + Send;

    /// Puts events (in time order, within the API's limits) into an existing stream.
    fn put_log_events(
        &self,
        group: &str,
        stream: &str,
        events: Vec<LogEvent>,
    ) -> impl Future<Output = Result<RejectedEvents, AwsError>> + Send;

    /// The log group called exactly `name`, if it exists.
    fn describe_log_group(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<LogGroupInfo>, AwsError>> + Send;
}

/// The SDK-backed CloudWatch Logs client for one region.
#[derive(Debug, Clone)]
pub struct CloudWatchLogs {
    client: aws_sdk_cloudwatchlogs::Client,
    region: String,
}

impl CloudWatchLogs {
    pub fn new(client: aws_sdk_cloudwatchlogs::Client, region: &str) -> Self {
        CloudWatchLogs {
            client,
            region: region.to_owned(),
        }
    }

    fn error<E>(&self, operation: &'static str, err: &SdkError<E, HttpResponse>) -> AwsError
    where
        E: aws_smithy_types::error::metadata::ProvideErrorMetadata + std::error::Error + 'static,
    {
        AwsError::from_sdk("logs", operation, &self.region, err)
    }
}

fn to_index(value: Option<i32>) -> Option<usize> {
    value.and_then(|v| usize::try_from(v).ok())
}

impl CloudWatchLogsApi for CloudWatchLogs {
    fn region(&self) -> &str {
        &self.region
    }

    async fn create_log_stream(
        &self,
        group: &str,
        stream: &str,
    ) -> Result<StreamCreated, AwsError> {
        match self
            .client
            .create_log_stream()
            .log_group_name(group)
            .log_stream_name(stream)
            .send()
            .await
        {
            Ok(_) => Ok(StreamCreated::Created),
            Err(err)
                if err
                    .as_service_error()
                    .is_some_and(|e| e.is_resource_already_exists_exception()) =>
            {
                Ok(StreamCreated::AlreadyExisted)
            }
            Err(err) => Err(self.error("CreateLogStream", &err)),
        }
    }

    async fn put_log_events(
        &self,
        group: &str,
        stream: &str,
        events: Vec<LogEvent>,
    ) -> Result<RejectedEvents, AwsError> {
        let events = events
            .into_iter()
            .map(|event| {
                InputLogEvent::builder()
                    .timestamp(event.timestamp_ms)
                    .message(event.message)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| {
                self.error::<aws_sdk_cloudwatchlogs::Error>(
                    "PutLogEvents",
                    &SdkError::construction_failure(e),
                )
            })?;
        let out = self
            .client
            .put_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .set_log_events(Some(events))
            .send()
            .await
            .map_err(|e| self.error("PutLogEvents", &e))?;
        Ok(out
            .rejected_log_events_info()
            .map(|info| RejectedEvents {
                too_new_start: to_index(info.too_new_log_event_start_index()),
                too_old_end: to_index(info.too_old_log_event_end_index()),
                expired_end: to_index(info.expired_log_event_end_index()),
            })
            .unwrap_or_default())
    }

    async fn describe_log_group(&self, name: &str) -> Result<Option<LogGroupInfo>, AwsError> {
        // A prefix also matches longer names; follow pages until the exact one shows up.
        let mut pages = self
            .client
            .describe_log_groups()
            .log_group_name_prefix(name)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.error("DescribeLogGroups", &e))?;
            if let Some(group) = page
                .log_groups()
                .iter()
                .find(|g| g.log_group_name() == Some(name))
            {
                return Ok(Some(LogGroupInfo {
                    name: name.to_owned(),
                    arn: group.log_group_arn().map(str::to_owned),
                    retention_days: group.retention_in_days(),
                    kms_key_id: group.kms_key_id().map(str::to_owned),
                }));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejected_ranges_name_each_event() {
        let rejected = RejectedEvents {
            too_new_start: Some(4),
            too_old_end: Some(2),
            expired_end: Some(1),
        };
        let reasons: Vec<_> = (0..6).map(|i| rejected.reason(i)).collect();
        assert_eq!(
            reasons,
            [
                Some("older than the log group's retention"),
                Some("more than 14 days old"),
                None,
                None,
                Some("more than 2 hours in the future"),
                Some("more than 2 hours in the future"),
            ]
        );
        assert_eq!(RejectedEvents::default().reason(0), None);
    }
}
