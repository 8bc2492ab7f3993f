//! The breakglass config file (TOML at `$XDG_CONFIG_HOME/breakglass/config.toml`, or
//! `--config PATH`): regions, discovery filter, allowed accounts, audit log and its central
//! copies, AWS client tuning. Unknown keys are errors so a typo never silently weakens a guard rail.

mod load;
mod schema;
mod validate;

pub use load::{ConfigError, LoadedConfig};
pub use schema::{
    AuditSinkConfig, AwsClientConfig, CloudWatchSinkConfig, Config, ContainmentConfig,
    DEFAULT_CONCURRENCY, DEFAULT_FILTER, DiscoveryConfig, EvidenceConfig, MAX_CONCURRENCY,
    PlaybooksConfig, RetentionMode, RevokeConfig, S3SinkConfig, SessionsConfig, ToolLocation,
    TuiCommand, TuiConfig,
};
pub use validate::MAX_RETENTION_DAYS;

#[cfg(test)]
mod tests;
