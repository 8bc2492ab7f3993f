//! Checks of values serde cannot express: identifiers, ranges, and the rules of the audit
//! copies' names; each message names the key and how to write it.

use std::path::Path;

use super::load::ConfigError;
use super::schema::{AuditSinkConfig, Config, MAX_CONCURRENCY};
use crate::ids;

impl Config {
    pub(super) fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        for account in &self.allowed_accounts {
            if !ids::is_account_id(account) {
                return Err(invalid(format!(
                    "`allowed_accounts` entry `{account}` is not a 12-digit AWS account id"
                )));
            }
        }
        for region in &self.regions {
            if !ids::is_region_name(region) {
                return Err(invalid(format!(
                    "`regions` entry `{region}` is not an AWS region name like `eu-west-1`"
                )));
            }
        }
        for filter in &self.discovery.filters {
            ids::parse_tag_selector(filter)
                .map_err(|reason| invalid(format!("`discovery.filters`: {reason}")))?;
        }
        if let Some(bucket) = &self.evidence.bucket {
            if bucket.starts_with("s3://") {
                return Err(invalid(format!(
                    "`evidence.bucket` is a URL (`{bucket}`): give the bucket name, and any \
                     path in `evidence.prefix`"
                )));
            }
            ids::check_bucket(bucket)
                .map_err(|reason| invalid(format!("`evidence.bucket`: {reason}")))?;
        }
        ids::check_policy_literal(&self.evidence.prefix).map_err(|reason| {
            invalid(format!(
                "`evidence.prefix` `{}` {reason}: use a plain key prefix such as `breakglass/`",
                self.evidence.prefix
            ))
        })?;
        if let Some(arn) = &self.evidence.kms_key_arn {
            ids::kms_key_region(arn)
                .map_err(|reason| invalid(format!("`evidence.kms_key_arn` `{arn}` {reason}")))?;
        }
        if let Some(path) = &self.revoke.role_path {
            ids::check_iam_path(path).map_err(|reason| {
                invalid(format!(
                    "`revoke.role_path` `{path}` {reason}; or leave it out to scope by the \
                     discovery tags"
                ))
            })?;
        }
        for (arch, tool) in &self.evidence.memory_tool {
            if !matches!(arch.as_str(), "x86_64" | "arm64") {
                return Err(invalid(format!(
                    "`evidence.memory_tool.{arch}`: the architecture is `x86_64` or `arm64`"
                )));
            }
            if tool.bucket_key().is_none() {
                return Err(invalid(format!(
                    "`evidence.memory_tool.{arch}.s3` is `{}`, not `s3://bucket/key`",
                    tool.s3
                )));
            }
            if tool.sha256.len() != 64 || !tool.sha256.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid(format!(
                    "`evidence.memory_tool.{arch}.sha256` is not a SHA-256 in hex (64 digits)"
                )));
            }
        }
        for (vpc, group) in &self.containment.ssm_endpoint_groups {
            if !ids::is_vpc_id(vpc) || !ids::is_group_id(group) {
                return Err(invalid(format!(
                    "`containment.ssm_endpoint_groups`: `{vpc} = {group}` must map a VPC id \
                     (`vpc-…`) to a security group id (`sg-…`)"
                )));
            }
        }
        if !(1..=MAX_CONCURRENCY).contains(&self.playbooks.concurrency) {
            return Err(invalid(format!(
                "`playbooks.concurrency` must be between 1 and {MAX_CONCURRENCY}"
            )));
        }
        validate_sinks(&self.audit).map_err(invalid)?;
        if self.aws.max_attempts == 0 {
            return Err(invalid("`aws.max_attempts` must be at least 1".into()));
        }
        if self.aws.connect_timeout_secs == 0
            || self.aws.attempt_timeout_secs == 0
            || self.aws.operation_timeout_secs == 0
        {
            return Err(invalid("`aws.*_timeout_secs` must be at least 1".into()));
        }
        Ok(())
    }
}

/// Longest retention breakglass accepts (100 years): a typo must not lock objects forever.
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// Checks every `[audit.*]` value; the message names the key.
fn validate_sinks(config: &AuditSinkConfig) -> Result<(), String> {
    if let Some(cw) = &config.cloudwatch {
        ids::check_log_group(&cw.log_group)
            .map_err(|r| format!("`audit.cloudwatch.log_group` `{}` {r}", cw.log_group))?;
        ids::check_stream_prefix(&cw.log_stream_prefix).map_err(|r| {
            format!(
                "`audit.cloudwatch.log_stream_prefix` `{}` {r}",
                cw.log_stream_prefix
            )
        })?;
        check_region(cw.region.as_deref(), "audit.cloudwatch.region")?;
    }
    if let Some(s3) = &config.s3 {
        ids::check_bucket(&s3.bucket)
            .map_err(|r| format!("`audit.s3.bucket` `{}` {r}", s3.bucket))?;
        ids::check_key_prefix(&s3.prefix)
            .map_err(|r| format!("`audit.s3.prefix` `{}` {r}", s3.prefix))?;
        check_region(s3.region.as_deref(), "audit.s3.region")?;
        match s3.retention_days {
            Some(days) if days == 0 || days > MAX_RETENTION_DAYS => {
                return Err(format!(
                    "`audit.s3.retention_days` must be between 1 and {MAX_RETENTION_DAYS}"
                ));
            }
            None if s3.retention_mode.is_some() => {
                return Err(
                    "`audit.s3.retention_mode` needs `audit.s3.retention_days`; \
                            without both, the bucket's default retention applies"
                        .into(),
                );
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_region(region: Option<&str>, key: &str) -> Result<(), String> {
    match region {
        Some(region) if !ids::is_region_name(region) => Err(format!(
            "`{key}` `{region}` is not an AWS region name like `eu-west-1`"
        )),
        _ => Ok(()),
    }
}
