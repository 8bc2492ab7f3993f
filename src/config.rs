//! The breakglass config file (TOML at `$XDG_CONFIG_HOME/breakglass/config.toml`, or
//! `--config PATH`): regions, discovery filter, allowed accounts, audit log and its central
//! copies, AWS client tuning. Unknown keys are errors so a typo never silently weakens a guard rail.

use std::path::{Path, PathBuf};

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
    pub keys: std::collections::BTreeMap<String, crate::tui::action::Command>,
}

/// `[evidence]`: where memory images and volatile data go, and the pinned acquisition tool.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
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
    pub retention_mode: Option<crate::aws::RetentionMode>,
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

/// Why the config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to read config file `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config file `{}`: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("invalid value in config file `{}`: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

impl ConfigError {
    pub fn hint(&self) -> String {
        match self {
            ConfigError::Read { .. } => {
                "check the path given with `--config` or `BREAKGLASS_CONFIG`".into()
            }
            ConfigError::Parse { .. } | ConfigError::Invalid { .. } => {
                "fix the file as described above; docs/configuration.md lists every key".into()
            }
        }
    }
}

/// Where the config came from, for messages.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: Option<PathBuf>,
}

impl Config {
    /// Loads `explicit` (must exist) or the default path (may be absent).
    pub fn load(explicit: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
        let (path, required) = match explicit {
            Some(path) => (Some(path.to_path_buf()), true),
            None => (
                crate::paths::config_dir().map(|d| d.join("config.toml")),
                false,
            ),
        };
        let Some(path) = path else {
            return Ok(LoadedConfig {
                config: Config::default(),
                path: None,
            });
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(LoadedConfig {
                config: Config::parse(&text, &path)?,
                path: Some(path),
            }),
            Err(err) if !required && err.kind() == std::io::ErrorKind::NotFound => {
                Ok(LoadedConfig {
                    config: Config::default(),
                    path: None,
                })
            }
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// Parses and validates config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|err| ConfigError::Parse {
            path: path.to_path_buf(),
            message: err.to_string().trim_end().to_owned(),
        })?;
        config.validate(path)?;
        Ok(config)
    }

    fn validate(&self, path: &Path) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            path: path.to_path_buf(),
            message,
        };
        for account in &self.allowed_accounts {
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(format!(
                    "`allowed_accounts` entry `{account}` is not a 12-digit AWS account id"
                )));
            }
        }
        for region in &self.regions {
            if !crate::cli::is_region_name(region) {
                return Err(invalid(format!(
                    "`regions` entry `{region}` is not an AWS region name like `eu-west-1`"
                )));
            }
        }
        for filter in &self.discovery.filters {
            crate::inventory::TagFilter::parse(filter)
                .map_err(|reason| invalid(format!("`discovery.filters`: {reason}")))?;
        }
        if let Some(bucket) = &self.evidence.bucket {
            if bucket.starts_with("s3://") {
                return Err(invalid(format!(
                    "`evidence.bucket` is a URL (`{bucket}`): give the bucket name, and any \
                     path in `evidence.prefix`"
                )));
            }
            crate::audit::sink::check_bucket(bucket)
                .map_err(|reason| invalid(format!("`evidence.bucket`: {reason}")))?;
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
            let hex = |s: &str, prefix: &str| {
                s.strip_prefix(prefix).is_some_and(|h| {
                    matches!(h.len(), 8 | 17) && h.bytes().all(|b| b.is_ascii_hexdigit())
                })
            };
            if !hex(vpc, "vpc-") || !hex(group, "sg-") {
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
        crate::audit::sink::validate_config(&self.audit).map_err(invalid)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(text, Path::new("/etc/bg.toml")).map_err(|e| e.to_string())
    }

    #[test]
    fn empty_file_gives_defaults() {
        let config = parse("").unwrap();
        assert_eq!(config, Config::default());
        assert_eq!(config.discovery.filters, vec![DEFAULT_FILTER.to_owned()]);
        assert_eq!(config.aws.max_attempts, 3);
    }

    #[test]
    fn full_file_parses() {
        let config = parse(
            r#"
regions = ["eu-west-1", "eu-north-1"]
profile = "xroad-ir"
allowed_accounts = ["111122223333"]
audit_log = "/var/log/bg.jsonl"
[discovery]
filters = ["tag:Role=xroad-security-server", "tag:Env=prod,staging"]
[aws]
max_attempts = 1
connect_timeout_secs = 2
"#,
        )
        .unwrap();
        assert_eq!(config.regions, ["eu-west-1", "eu-north-1"]);
        assert_eq!(config.profile.as_deref(), Some("xroad-ir"));
        assert_eq!(config.discovery.filters.len(), 2);
        assert_eq!(config.aws.max_attempts, 1);
        assert_eq!(config.aws.attempt_timeout_secs, 30);
    }

    #[test]
    fn tui_keys_name_commands_and_unknown_commands_are_errors() {
        let config = parse("[tui.keys]\n\"ctrl-r\" = \"refresh\"\nx = \"quit\"\n").unwrap();
        assert_eq!(
            config.tui.keys.get("x"),
            Some(&crate::tui::action::Command::Quit)
        );
        let err = parse("[tui.keys]\nx = \"launch-missiles\"\n").unwrap_err();
        assert!(err.contains("launch-missiles"), "{err}");
    }

    #[test]
    fn audit_sinks_parse_with_defaults_next_to_the_audit_log_key() {
        let config = parse(
            r#"
audit_log = "/var/log/bg.jsonl"
[audit.cloudwatch]
log_group = "/xroad/breakglass"
[audit.s3]
bucket = "ir-audit-111122223333"
region = "eu-north-1"
retention_days = 365
retention_mode = "COMPLIANCE"
"#,
        )
        .unwrap();
        assert_eq!(
            config.audit_log.as_deref(),
            Some(Path::new("/var/log/bg.jsonl"))
        );
        let cw = config.audit.cloudwatch.unwrap();
        assert_eq!(cw.log_group, "/xroad/breakglass");
        assert_eq!(cw.log_stream_prefix, "breakglass");
        assert_eq!(cw.region, None);
        let s3 = config.audit.s3.unwrap();
        assert_eq!(s3.prefix, "breakglass/");
        assert_eq!(s3.region.as_deref(), Some("eu-north-1"));
        assert_eq!(s3.retention_days, Some(365));
        assert_eq!(
            s3.retention_mode,
            Some(crate::aws::RetentionMode::Compliance)
        );
        assert!(parse("").unwrap().audit.is_empty());
    }

    #[test]
    fn rejects_bad_input_with_the_key_and_file() {
        let cases = [
            ("regionz = []", "unknown field `regionz`"),
            ("[aws]\nretries = 3", "unknown field `retries`"),
            ("regions = \"eu-west-1\"", "invalid type"),
            (
                "allowed_accounts = [\"12345\"]",
                "not a 12-digit AWS account id",
            ),
            ("regions = [\"Europe\"]", "not an AWS region name"),
            ("[discovery]\nfilters = [\"Role=x\"]", "tag:Key=Value"),
            ("[aws]\nmax_attempts = 0", "at least 1"),
            ("regions = [", "invalid config file"),
            (
                "[audit.cloudwatch]\nlog_group = \"a b\"",
                "audit.cloudwatch.log_group",
            ),
            (
                "[audit.cloudwatch]\nlog_stream_prefix = \"x\"",
                "missing field `log_group`",
            ),
            (
                "[audit.cloudwatch]\nlog_group = \"g\"\nstream = \"x\"",
                "unknown field `stream`",
            ),
            (
                "[audit.cloudwatch]\nlog_group = \"g\"\nregion = \"eu\"",
                "`audit.cloudwatch.region` `eu` is not an AWS region",
            ),
            (
                "[audit.s3]\nbucket = \"s3://ir/audit\"",
                "give the bucket name (`ir`)",
            ),
            (
                "[audit.s3]\nbucket = \"ir-audit\"\nprefix = \"/x\"",
                "no leading slash",
            ),
            (
                "[audit.s3]\nbucket = \"ir-audit\"\nretention_days = 0",
                "between 1 and 36500",
            ),
            (
                "[audit.s3]\nbucket = \"ir-audit\"\nretention_mode = \"compliance\"",
                "needs `audit.s3.retention_days`",
            ),
            (
                "[audit.s3]\nbucket = \"ir-audit\"\nretention_days = 1\nretention_mode = \"legal\"",
                "unknown variant `legal`",
            ),
            ("[audit.syslog]\nhost = \"x\"", "unknown field `syslog`"),
            (
                "[evidence]\nbucket = \"s3://ir/mem\"",
                "`evidence.bucket` is a URL",
            ),
            (
                "[evidence.memory_tool.x86]\ns3 = \"s3://t/avml\"\nsha256 = \"00\"",
                "`x86_64` or `arm64`",
            ),
            (
                "[evidence.memory_tool.x86_64]\ns3 = \"t/avml\"\nsha256 = \"00\"",
                "not `s3://bucket/key`",
            ),
            (
                "[evidence.memory_tool.x86_64]\ns3 = \"s3://t/avml\"\nsha256 = \"00\"",
                "not a SHA-256",
            ),
            (
                "[containment]\nssm_endpoint_groups = { \"vpc-1\" = \"sg-1\" }",
                "containment.ssm_endpoint_groups",
            ),
            ("[playbooks]\nconcurrency = 0", "between 1 and 100"),
        ];
        for (text, expected) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.contains(expected), "{text:?}: {err}");
            assert!(err.contains("/etc/bg.toml"), "{text:?}: {err}");
        }
    }
}
