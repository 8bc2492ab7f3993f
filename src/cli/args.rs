//! Command-line definitions (clap). Raw values only; `settings.rs` validates and merges them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use crate::text::OutputFormat;

/// Incident-response break-glass toolkit for X-Road Security Servers on AWS.
#[derive(Debug, Parser)]
#[command(name = "breakglass", version)]
#[command(
    after_help = "Exit codes: 0 success, 1 a step or AWS call failed, 2 invalid input, \
                        3 refused, 4 authentication needed. See docs/cli.md."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    /// Run a playbook (a name from `breakglass playbook list`, or a file); same as
    /// `breakglass run`.
    #[arg(long, value_name = "NAME|FILE")]
    pub playbook: Option<String>,

    #[command(flatten)]
    pub run: RunOptions,

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
    /// Sign in through IAM Identity Center (SSO); shares the AWS CLI's token cache.
    Login(LoginArgs),
    /// Sign out of IAM Identity Center and remove the cached token.
    Logout(LogoutArgs),
    /// Show the signed-in identity, account, and how long the sign-in lasts.
    Whoami,
    /// List the Security Servers (EC2 + SSM agent + Auto Scaling + target groups).
    List(ListArgs),
    /// Open a Session Manager shell on a server (recorded, audited).
    Session(SessionArgs),
    /// Forward a local port to a port of a server through Session Manager (built-in client,
    /// or the AWS session-manager-plugin with --plugin).
    Forward(ForwardArgs),
    /// Start the local game-day sandbox (emulated AWS with a seeded X-Road estate).
    Demo(DemoArgs),
    /// Run a playbook against targets (plan, confirm, execute, audit).
    Run(RunArgs),
    /// Continue a run that stopped (crash, Ctrl-C, failed step) from its audit records.
    Resume(ResumeArgs),
    /// List, show, validate playbooks and print the IAM policy they need.
    #[command(subcommand)]
    Playbook(PlaybookCommand),
    /// Work with the audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// How a playbook run is aimed and guarded.
#[derive(Debug, Clone, Default, Args)]
pub struct RunOptions {
    /// Server to act on: an instance id, an exact Name tag, or `tag:Key=Value`; repeat for
    /// several.
    #[arg(long = "target", short = 't', value_name = "TARGET")]
    pub targets: Vec<String>,

    /// Incident id recorded in the audit trail and tags (required for a live run).
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,

    /// Verify the plan without changing anything (EC2 calls are sent with DryRun=true).
    #[arg(long)]
    pub dry_run: bool,

    /// Do not ask for confirmation (required when not interactive).
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// A playbook parameter; repeat for several.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,

    /// Targets worked on at the same time (default: config `playbooks.concurrency`, 10).
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,

    /// Allow targets that do not match the Security Server filter.
    #[arg(long)]
    pub any_instance: bool,
}

impl RunOptions {
    /// Whether any run option was given (they need a playbook).
    pub fn is_set(&self) -> bool {
        !self.targets.is_empty()
            || self.incident.is_some()
            || self.dry_run
            || self.yes
            || !self.params.is_empty()
            || self.concurrency.is_some()
            || self.any_instance
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// A playbook name (`breakglass playbook list`) or a playbook file.
    #[arg(value_name = "NAME|FILE")]
    pub playbook: String,

    #[command(flatten)]
    pub options: RunOptions,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run id (printed by every run, and in the audit log).
    #[arg(value_name = "RUN_ID")]
    pub run_id: String,

    /// Do not ask for confirmation (required when not interactive).
    #[arg(long, short = 'y')]
    pub yes: bool,

    /// Targets worked on at the same time.
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
}

#[derive(Debug, Subcommand)]
pub enum PlaybookCommand {
    /// List the available playbooks (built-in and from the user directory).
    List,
    /// Show a playbook: parameters, steps, and the AWS calls each step may make.
    Show {
        #[arg(value_name = "NAME|FILE")]
        playbook: String,
    },
    /// Check playbook files; every problem is reported with line and column.
    Validate {
        #[arg(value_name = "FILE", required = true)]
        files: Vec<PathBuf>,
    },
    /// Print the least-privilege IAM policy (JSON) a playbook needs.
    Policy {
        #[arg(value_name = "NAME|FILE")]
        playbook: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check every record's hash, the hash chain and the sequence; name the first bad record.
    Verify(AuditVerifyArgs),
    /// Show a run as a timeline, after verifying the whole log.
    Show(AuditShowArgs),
    /// Write a chain-of-custody report of a run (Markdown or HTML).
    Report(AuditReportArgs),
}

#[derive(Debug, Args)]
pub struct AuditShowArgs {
    /// The log to read (default: the audit log in use).
    pub file: Option<PathBuf>,

    /// The run: its id or a unique prefix of it (default: the most recently started run).
    #[arg(long, value_name = "RUN_ID")]
    pub run: Option<String>,
}

#[derive(Debug, Args)]
pub struct AuditReportArgs {
    /// The log to read (default: the audit log in use).
    pub file: Option<PathBuf>,

    /// The run: its id or a unique prefix of it (default: the most recently started run).
    #[arg(long, value_name = "RUN_ID")]
    pub run: Option<String>,

    /// Report format: Markdown, or a self-contained HTML page.
    #[arg(long, value_enum, default_value_t, value_name = "FORMAT")]
    pub format: ReportFormat,

    /// Write the report to this file instead of stdout.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,
}

/// Format of `audit report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ReportFormat {
    #[default]
    Md,
    Html,
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
pub struct LoginArgs {
    /// Sign in with this `[sso-session NAME]` of ~/.aws/config instead of the profile's.
    #[arg(long, value_name = "NAME")]
    pub sso_session: Option<String>,

    /// Do not open a browser; print the address to open instead.
    #[arg(long)]
    pub no_browser: bool,

    /// Use the device-code flow (the default on hosts without a browser).
    #[arg(long)]
    pub use_device_code: bool,

    /// The account to use (else the profile's `sso_account_id`, else a choice).
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,

    /// The role to use (else the profile's `sso_role_name`, else a choice).
    #[arg(long, value_name = "NAME")]
    pub role: Option<String>,
}

#[derive(Debug, Args)]
pub struct SessionArgs {
    /// The server: an instance id or its exact Name.
    pub target: String,

    /// Hand the session to the AWS session-manager-plugin (on a terminal breakglass records).
    #[arg(long)]
    pub plugin: bool,

    /// Incident id recorded with the session in the audit trail.
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,
}

#[derive(Debug, Args)]
pub struct ForwardArgs {
    /// The server: an instance id or its exact Name.
    pub target: String,

    /// The port on the server (the X-Road admin UI listens on 4000).
    pub remote_port: u16,

    /// The local port on 127.0.0.1 (default: the same as the remote one; 0: any free one).
    pub local_port: Option<u16>,

    /// Incident id recorded with the session in the audit trail.
    #[arg(long, value_name = "ID")]
    pub incident: Option<String>,

    /// Forward through the AWS session-manager-plugin instead of the built-in client.
    #[arg(long)]
    pub plugin: bool,
}

#[derive(Debug, Args)]
pub struct LogoutArgs {
    /// Sign out of this `[sso-session NAME]` instead of the profile's.
    #[arg(long, value_name = "NAME")]
    pub sso_session: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Seed the sandbox, print the environment to use it, and keep it running until Ctrl-C.
    #[arg(long)]
    pub seed_only: bool,
}
