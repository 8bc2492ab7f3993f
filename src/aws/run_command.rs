//! Run Command and the evidence bucket: send a shell script to an instance's SSM agent,
//! follow its invocation, and the S3 side of uploads — presigned URLs for the host (no
//! credentials in the script), then size and SHA-256 of what arrived.

use std::future::Future;
use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use aws_types::request_id::RequestId;
use sha2::{Digest, Sha256};

use super::{Answer, AwsError, AwsErrorKind, Created, S3, Ssm};

/// One command invocation on one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    /// `Pending`, `InProgress`, `Delayed`, `Success`, `Cancelled`, `TimedOut`, `Failed`,
    /// `Cancelling`, …
    pub status: String,
    pub status_details: Option<String>,
    pub exit_code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Invocation {
    pub fn is_finished(&self) -> bool {
        !matches!(
            self.status.as_str(),
            "Pending" | "InProgress" | "Delayed" | "Cancelling"
        )
    }
}

/// A command's comment as SSM keeps it (at most 100 characters).
fn command_comment(comment: &str) -> String {
    comment.chars().take(100).collect()
}

/// The Run Command calls breakglass makes.
pub trait RunCommandApi: Send + Sync {
    /// `SendCommand` of `AWS-RunShellScript` with `script` to one instance.
    fn send_shell_script(
        &self,
        instance_id: &str,
        script: &str,
        timeout: Duration,
        comment: &str,
    ) -> impl Future<Output = Result<Created, AwsError>> + Send;

    /// `DescribeInstanceInformation` of one instance; `None` when SSM does not manage it.
    fn describe_agent(
        &self,
        instance_id: &str,
    ) -> impl Future<Output = Result<Answer<Option<super::ManagedInstance>>, AwsError>> + Send;

    /// `ListCommands` of the instance: the newest command whose comment is `comment`, as
    /// `(command id, status)`.
    fn find_command(
        &self,
        instance_id: &str,
        comment: &str,
    ) -> impl Future<Output = Result<Answer<Option<(String, String)>>, AwsError>> + Send;

    /// `GetCommandInvocation`; `None` while SSM has not registered it yet.
    fn get_invocation(
        &self,
        command_id: &str,
        instance_id: &str,
    ) -> impl Future<Output = Result<Answer<Option<Invocation>>, AwsError>> + Send;
}

impl RunCommandApi for Ssm {
    async fn describe_agent(
        &self,
        instance_id: &str,
    ) -> Result<Answer<Option<super::ManagedInstance>>, AwsError> {
        let filter = aws_sdk_ssm::types::InstanceInformationStringFilter::builder()
            .key("InstanceIds")
            .values(instance_id)
            .build()
            .map_err(|e| {
                AwsError::local(
                    "ssm",
                    "DescribeInstanceInformation",
                    AwsErrorKind::Other,
                    e.to_string(),
                )
            })?;
        let out = self
            .client()
            .describe_instance_information()
            .filters(filter)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk("ssm", "DescribeInstanceInformation", self.region(), &e)
            })?;
        Ok(Answer {
            value: out
                .instance_information_list()
                .iter()
                .find(|i| i.instance_id() == Some(instance_id))
                .map(|i| super::ManagedInstance {
                    instance_id: instance_id.to_owned(),
                    ping_status: i
                        .ping_status()
                        .map_or_else(|| "unknown".to_owned(), |p| p.as_str().to_owned()),
                    agent_version: i.agent_version().map(str::to_owned),
                    platform_name: i.platform_name().map(str::to_owned),
                    platform_type: i.platform_type().map(|p| p.as_str().to_owned()),
                }),
            request_id: out.request_id().map(str::to_owned),
        })
    }

    async fn send_shell_script(
        &self,
        instance_id: &str,
        script: &str,
        timeout: Duration,
        comment: &str,
    ) -> Result<Created, AwsError> {
        let out = self
            .client()
            .send_command()
            .document_name("AWS-RunShellScript")
            .instance_ids(instance_id)
            .parameters("commands", vec![script.to_owned()])
            .parameters("executionTimeout", vec![timeout.as_secs().to_string()])
            .timeout_seconds(i32::try_from(timeout.as_secs() + 300).unwrap_or(i32::MAX))
            .comment(command_comment(comment))
            .customize()
            .config_override(super::retry::ssm_once())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ssm", "SendCommand", self.region(), &e))?;
        Ok(Created {
            applied: super::Applied::done(out.request_id()),
            id: out
                .command()
                .and_then(|c| c.command_id())
                .map(str::to_owned),
        })
    }

    async fn find_command(
        &self,
        instance_id: &str,
        comment: &str,
    ) -> Result<Answer<Option<(String, String)>>, AwsError> {
        let wanted = command_comment(comment);
        let mut pages = self
            .client()
            .list_commands()
            .instance_id(instance_id)
            .into_paginator()
            .send();
        let mut request_id = None;
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsError::from_sdk("ssm", "ListCommands", self.region(), &e))?;
            request_id = page.request_id().map(str::to_owned);
            let found = page.commands().iter().find_map(|c| {
                (c.comment() == Some(wanted.as_str())).then(|| {
                    (
                        c.command_id().unwrap_or_default().to_owned(),
                        c.status().map_or("", |s| s.as_str()).to_owned(),
                    )
                })
            });
            if found.is_some() {
                return Ok(Answer {
                    value: found,
                    request_id,
                });
            }
        }
        Ok(Answer {
            value: None,
            request_id,
        })
    }

    async fn get_invocation(
        &self,
        command_id: &str,
        instance_id: &str,
    ) -> Result<Answer<Option<Invocation>>, AwsError> {
        let result = self
            .client()
            .get_command_invocation()
            .command_id(command_id)
            .instance_id(instance_id)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Answer {
                value: Some(Invocation {
                    status: out
                        .status()
                        .map_or_else(|| "Pending".to_owned(), |s| s.as_str().to_owned()),
                    status_details: out.status_details().map(str::to_owned),
                    exit_code: Some(out.response_code()).filter(|c| *c != -1),
                    stdout: out.standard_output_content().unwrap_or_default().to_owned(),
                    stderr: out.standard_error_content().unwrap_or_default().to_owned(),
                }),
                request_id: out.request_id().map(str::to_owned),
            }),
            Err(err) => {
                let error = AwsError::from_sdk("ssm", "GetCommandInvocation", self.region(), &err);
                if error.code.as_deref() == Some("InvocationDoesNotExist") {
                    Ok(Answer {
                        value: None,
                        request_id: error.request_id,
                    })
                } else {
                    Err(error)
                }
            }
        }
    }
}

/// An object as S3 holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub size: u64,
    /// SHA-256 (hex) of the bytes read back.
    pub sha256: String,
}

/// The evidence bucket's calls.
pub trait EvidenceStoreApi: Send + Sync {
    /// A presigned URL the host can `GET` the object from, for `expires`.
    fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        expires: Duration,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;

    /// A presigned URL the host can `PUT` the object to (`application/octet-stream`).
    fn presign_put(
        &self,
        bucket: &str,
        key: &str,
        expires: Duration,
    ) -> impl Future<Output = Result<String, AwsError>> + Send;

    /// Reads the object back (`GetObject`), hashing it as it streams; `None` when absent.
    fn read_back(
        &self,
        bucket: &str,
        key: &str,
    ) -> impl Future<Output = Result<Answer<Option<StoredObject>>, AwsError>> + Send;
}

fn presign_config(expires: Duration) -> Result<PresigningConfig, AwsError> {
    PresigningConfig::expires_in(expires).map_err(|e| {
        AwsError::local(
            "s3",
            "presign",
            AwsErrorKind::Other,
            format!("cannot presign: {e}"),
        )
    })
}

impl EvidenceStoreApi for S3 {
    async fn presign_get(
        &self,
        bucket: &str,
        key: &str,
        expires: Duration,
    ) -> Result<String, AwsError> {
        let request = self
            .client()
            .get_object()
            .bucket(bucket)
            .key(key)
            .presigned(presign_config(expires)?)
            .await
            .map_err(|e| AwsError::from_sdk("s3", "GetObject", self.region_name(), &e))?;
        Ok(request.uri().to_owned())
    }

    async fn presign_put(
        &self,
        bucket: &str,
        key: &str,
        expires: Duration,
    ) -> Result<String, AwsError> {
        let request = self
            .client()
            .put_object()
            .bucket(bucket)
            .key(key)
            .content_type("application/octet-stream")
            .presigned(presign_config(expires)?)
            .await
            .map_err(|e| AwsError::from_sdk("s3", "PutObject", self.region_name(), &e))?;
        Ok(request.uri().to_owned())
    }

    async fn read_back(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Answer<Option<StoredObject>>, AwsError> {
        let result = self
            .client()
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await;
        let mut out = match result {
            Ok(out) => out,
            Err(err) => {
                let error = AwsError::from_sdk("s3", "GetObject", self.region_name(), &err);
                return if error.code.as_deref() == Some("NoSuchKey") {
                    Ok(Answer {
                        value: None,
                        request_id: error.request_id,
                    })
                } else {
                    Err(error)
                };
            }
        };
        let request_id = out.request_id().map(str::to_owned);
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = out.body.try_next().await.map_err(|e| {
            AwsError::local(
                "s3",
                "GetObject",
                AwsErrorKind::Unreachable,
                format!("reading the object failed: {e}"),
            )
        })? {
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok(Answer {
            value: Some(StoredObject {
                size,
                sha256: hex::encode(hasher.finalize()),
            }),
            request_id,
        })
    }
}
