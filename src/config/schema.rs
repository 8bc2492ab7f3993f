//! The config file's types: every key, its default and its documentation
//! (docs/configuration.md). Unknown keys are errors everywhere.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// Default discovery filter: the tag X-Road Security Servers carry.
pub const DEFAULT_FILTER: &str = "tag:Role=xroad-security-server";

/// The parsed config file. Every field is optional; defaults live in the accessors.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Regions to list and act in; `--region` overrides.
    #[serde(default)]
    pub regions: Vec<String>,
    /// AWS profile to use when neither `--profile` nor `AWS_PROFILE` is set.
    pub profile: Option<String>,
    /// Accounts that live playbooks may act in; empty means any.
    #[serde(default)]
    pub allowed_accounts: Vec<String>,
    /// Audit log path; `--audit-log` and `BREAKGLASS_AUDIT_LOG` override.
    pub audit_log: Option<PathBuf>,
    /// `[audit.*]`: sinks that receive a copy of every audit record.
    #[serde(default)]
    pub audit: AuditSinkConfig,
    #[serde(default)]
    pub discovery: DiscoveryConfig,
    #[serde(default)]
    pub aws: AwsClientConfig,
    #[serde(default)]
    pub playbooks: PlaybooksConfig,
    #[serde(default)]
    pub containment: ContainmentConfig,
    #[serde(default)]
    pub evidence: EvidenceConfig,
    #[serde(default)]
    pub tui: TuiConfig,
    #[serde(default)]
    pub sessions: SessionsConfig,
    #[serde(default)]
    pub revoke: RevokeConfig,
}

/// `[revoke]`: what `revoke-sessions` may write to (docs/iam.md, "Instance roles").
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RevokeConfig {
    /// The IAM path the Security Servers' instance roles are created under (`/xroad/`):
    /// the printed policy lets `revoke-sessions` write only to roles under it. Unset, it
    /// lets it write only to roles carrying the discovery filters' tags.
    pub role_path: Option<String>,
}

/// `[sessions]`: Session Manager shells.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SessionsConfig {
    /// Record every shell as an asciicast transcript (hashed into the audit trail). Turning
    /// it off is itself recorded in the audit trail of each session.
    #[serde(default = "yes")]
    pub record: bool,
    /// Where transcripts go (default `$XDG_STATE_HOME/breakglass/transcripts`).
    pub transcripts: Option<PathBuf>,
    /// Use the AWS `session-manager-plugin` instead of the native client by default.
    #[serde(default)]
    pub plugin: bool,
}

fn yes() -> bool {
    true
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            record: true,
            transcripts: None,
            plugin: false,
        }
    }
}

/// `[tui]`: the terminal UI.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TuiConfig {
    /// Key bindings on top of the defaults: `"ctrl-r" = "refresh"` (see docs/tui.md).
    #[serde(default)]
    pub keys: std::collections::BTreeMap<String, TuiCommand>,
}

/// `[evidence]`: where memory images and volatile data go, and the pinned acquisition tool.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EvidenceConfig {
    /// The S3 evidence bucket (Object Lock recommended), in the targets' region.
    pub bucket: Option<String>,
    /// Key prefix; objects go to `<prefix><incident>/<instance>/<run>/…`.
    #[serde(default = "default_evidence_prefix")]
    pub prefix: String,
    /// The memory acquisition tool per architecture (`x86_64`, `arm64`).
    #[serde(default)]
    pub memory_tool: std::collections::BTreeMap<String, ToolLocation>,
    /// The ARN of the customer-managed KMS key the bucket encrypts with (SSE-KMS): the
    /// printed policy then lets S3 use it for the responder. Unset: SSE-S3, or an AWS
    /// managed key, which needs no permission from the caller.
    pub kms_key_arn: Option<String>,
}

impl Default for EvidenceConfig {
    /// The same values as an empty `[evidence]` table (the prefix is never empty).
    fn default() -> Self {
        EvidenceConfig {
            bucket: None,
            prefix: default_evidence_prefix(),
            memory_tool: std::collections::BTreeMap::new(),
            kms_key_arn: None,
        }
    }
}

/// A pinned tool staged in S3.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct ToolLocation {
    /// `s3://bucket/key`.
    pub s3: String,
    /// Expected SHA-256 (hex) of the object.
    pub sha256: String,
}

impl ToolLocation {
    /// `(bucket, key)` of the `s3://` location.
    pub fn bucket_key(&self) -> Option<(&str, &str)> {
        self.s3
            .strip_prefix("s3://")?
            .split_once('/')
            .filter(|(b, k)| !b.is_empty() && !k.is_empty())
    }
}

fn default_evidence_prefix() -> String {
    "breakglass/".to_owned()
}

/// `[containment]`: per-VPC settings of `isolate`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ContainmentConfig {
    /// VPC id → security group of its SSM interface endpoints: the quarantine group keeps
    /// HTTPS to it open so the SSM agent stays reachable (unless the playbook says otherwise).
    #[serde(default)]
    pub ssm_endpoint_groups: std::collections::BTreeMap<String, String>,
}

/// `[playbooks]`: where user playbooks live and how runs behave.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlaybooksConfig {
    /// Directory of user playbooks (`*.yml`, `*.yaml`); a user playbook with the name of a
    /// built-in one replaces it. Default: `$XDG_CONFIG_HOME/breakglass/playbooks`.
    pub dir: Option<PathBuf>,
    /// Targets worked on at the same time; `--concurrency` overrides.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
}

impl Default for PlaybooksConfig {
    fn default() -> Self {
        Self {
            dir: None,
            concurrency: default_concurrency(),
        }
    }
}

/// Most targets worked on at once by default.
pub const DEFAULT_CONCURRENCY: usize = 10;
/// Upper bound for `concurrency`, to stay clear of API rate limits.
pub const MAX_CONCURRENCY: usize = 100;

fn default_concurrency() -> usize {
    DEFAULT_CONCURRENCY
}

/// `[discovery]`: how Security Servers are found.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DiscoveryConfig {
    /// Selectors ANDed together, each `tag:Key=Value[,Value2]`.
    #[serde(default = "default_filters")]
    pub filters: Vec<String>,
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        Self {
            filters: default_filters(),
        }
    }
}

fn default_filters() -> Vec<String> {
    vec![DEFAULT_FILTER.to_owned()]
}

/// `[audit]`: optional central copies of the audit log (docs/audit.md, "Central copies").
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AuditSinkConfig {
    pub cloudwatch: Option<CloudWatchSinkConfig>,
    pub s3: Option<S3SinkConfig>,
}

impl AuditSinkConfig {
    pub fn is_empty(&self) -> bool {
        self.cloudwatch.is_none() && self.s3.is_none()
    }
}

/// `[audit.cloudwatch]`: one log stream per run, `<log_stream_prefix>/<run_id>`, in an
/// existing log group.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CloudWatchSinkConfig {
    /// Must exist; breakglass creates streams, never groups.
    pub log_group: String,
    #[serde(default = "default_log_stream_prefix")]
    pub log_stream_prefix: String,
    /// Default: the region breakglass acts in.
    pub region: Option<String>,
}

fn default_log_stream_prefix() -> String {
    "breakglass".into()
}

/// `[audit.s3]`: one object per batch, `<prefix>/<run_id>/<first-seq>-<last-seq>.jsonl`.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct S3SinkConfig {
    pub bucket: String,
    /// Key prefix; a trailing `/` is implied.
    #[serde(default = "default_s3_prefix")]
    pub prefix: String,
    /// The bucket's region. Default: the region breakglass acts in.
    pub region: Option<String>,
    /// Object Lock retention set on each object; unset lets the bucket default apply.
    pub retention_days: Option<u32>,
    /// `governance` (default) or `compliance`; only with `retention_days`.
    pub retention_mode: Option<RetentionMode>,
}

fn default_s3_prefix() -> String {
    "breakglass/".into()
}

/// `[aws]`: client behaviour, configured once for every service client.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AwsClientConfig {
    /// Seconds to wait for a TCP/TLS connection.
    #[serde(default = "default_connect_timeout")]
    pub connect_timeout_secs: u64,
    /// Seconds one attempt of one call may take.
    #[serde(default = "default_attempt_timeout")]
    pub attempt_timeout_secs: u64,
    /// Seconds one call may take including retries.
    #[serde(default = "default_operation_timeout")]
    pub operation_timeout_secs: u64,
    /// Attempts per call under the SDK's adaptive retry (1 disables retries).
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
}

impl Default for AwsClientConfig {
    fn default() -> Self {
        Self {
            connect_timeout_secs: default_connect_timeout(),
            attempt_timeout_secs: default_attempt_timeout(),
            operation_timeout_secs: default_operation_timeout(),
            max_attempts: default_max_attempts(),
        }
    }
}

fn default_connect_timeout() -> u64 {
    5
}
fn default_attempt_timeout() -> u64 {
    30
}
fn default_operation_timeout() -> u64 {
    120
}
fn default_max_attempts() -> u32 {
    3
}

/// An Object Lock retention mode (`[audit.s3] retention_mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RetentionMode {
    /// Removable early only by principals with `s3:BypassGovernanceRetention`.
    #[default]
    #[serde(alias = "GOVERNANCE")]
    Governance,
    /// Nobody, not even the account root, can remove the object before the date.
    #[serde(alias = "COMPLIANCE")]
    Compliance,
}

impl RetentionMode {
    /// The mode as S3 names it.
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Governance => "GOVERNANCE",
            RetentionMode::Compliance => "COMPLIANCE",
        }
    }
}

/// What a key can be bound to (`[tui.keys]` in the config names these in kebab-case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TuiCommand {
    Quit,
    Up,
    Down,
    Top,
    Bottom,
    PageUp,
    PageDown,
    /// Enter: open, choose, confirm.
    Open,
    /// Esc: back, cancel.
    Back,
    /// Mark or unmark the server under the cursor.
    Mark,
    MarkAll,
    Filter,
    Refresh,
    Sort,
    Help,
    Palette,
    ToggleDryRun,
    Playbooks,
    Audit,
    Servers,
    Session,
    /// Run the plan on screen as a dry run.
    DryRun,
    /// Stop a running playbook between calls (Ctrl-C).
    Interrupt,
}
