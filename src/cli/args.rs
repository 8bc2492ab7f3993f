//! Command-line definitions (clap). Raw values only; `settings.rs` validates and merges them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::output::OutputFormat;

/// Incident-response break-glass toolkit for X-Road Security Servers on AWS.
#[derive(Debug, Parser)]
#[command(name = "breakglass", version, arg_required_else_help = true)]
#[command(
    after_help = "Exit codes: 0 success, 1 a step or AWS call failed, 2 invalid input, \
                        3 refused, 4 authentication needed. See docs/cli.md."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Flags every command accepts.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// AWS profile (default: `AWS_PROFILE`, then `profile` in the config, then `default`).
    #[arg(long, global = true, env = "AWS_PROFILE", value_name = "NAME")]
    pub profile: Option<String>,

    /// Region to work in; repeat for several (default: config `regions`, then `AWS_REGION`).
    #[arg(long = "region", global = true, value_name = "REGION")]
    pub regions: Vec<String>,

    /// Config file (default: `$XDG_CONFIG_HOME/breakglass/config.toml`).
    #[arg(long, global = true, env = "BREAKGLASS_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Audit log (default: `audit_log` in the config, then
    /// `$XDG_STATE_HOME/breakglass/audit.jsonl`).
    #[arg(long, global = true, env = "BREAKGLASS_AUDIT_LOG", value_name = "PATH")]
    pub audit_log: Option<PathBuf>,

    /// Output format.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value_t,
        value_name = "FORMAT"
    )]
    pub output: OutputFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the Security Servers (EC2 + SSM agent + Auto Scaling + target groups).
    List(ListArgs),
    /// Start the local game-day sandbox (emulated AWS with a seeded X-Road estate).
    Demo(DemoArgs),
    /// Work with the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every record's hash, the hash chain and the sequence; name the first bad record.
    Verify(AuditVerifyArgs),
}

#[derive(Debug, Args)]
pub struct AuditVerifyArgs {
    /// The log to verify (default: the audit log in use).
    pub file: Option<PathBuf>,

    /// A record hash published earlier (e.g. a run's final head) that must still be present;
    /// detects records cut off the end.
    #[arg(long, value_name = "HASH")]
    pub anchor: Option<String>,

    /// The file is a piece of a log (e.g. one run's copy from an audit sink): its first
    /// record may continue an earlier chain; the hash it continues from is printed.
    #[arg(long)]
    pub segment: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// List every instance, not only Security Servers.
    #[arg(long, conflicts_with = "filters")]
    pub all: bool,

    /// Select by tag instead of the configured filter; repeat to AND several.
    #[arg(long = "filter", value_name = "tag:KEY=VALUE")]
    pub filters: Vec<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed the sandbox, print the environment to use it, and keep it running until Ctrl-C.
    #[arg(long)]
    pub seed_only: bool,
}
