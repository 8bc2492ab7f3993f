//! User-facing errors: one enum, each variant with its documented exit code and a
//! "how to fix" hint. The binary prints the message, its cause chain and the hint.

use crate::audit::AuditError;
use crate::aws::AwsError;
use crate::config::ConfigError;
use crate::inventory::TargetError;
use crate::playbook::{ParamError, PlanError, PlaybookError};
use crate::signin::SignInError;

/// Documented process exit codes (`docs/cli.md`). Scripts depend on these values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ExitCode {
    /// Everything succeeded (for a dry run: everything would succeed).
    Success = 0,
    /// A step or an AWS call failed (or would fail).
    Failed = 1,
    /// Invalid input: flags, config, playbook, unknown target.
    InvalidInput = 2,
    /// Refused: missing confirmation or incident id, account not allowed by config.
    Refused = 3,
    /// Authentication needed or expired.
    AuthRequired = 4,
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}

/// Every error a command can end with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A flag or argument value that cannot be used.
    #[error("invalid {what} `{value}`: {reason}")]
    InvalidArgument {
        what: &'static str,
        value: String,
        reason: String,
        hint: String,
    },

    #[error(transparent)]
    Config(#[from] ConfigError),

    #[error(transparent)]
    Aws(#[from] AwsError),

    #[error(transparent)]
    Audit(#[from] AuditError),

    /// A file named on the command line does not exist or cannot be read.
    #[error("cannot read `{}`", path.display())]
    InputFile {
        path: std::path::PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// No region from flags, config, environment or profile.
    #[error("no AWS region is configured")]
    NoRegion,

    /// Writing the command's output failed (other than a closed pipe).
    #[error("failed to write output")]
    Output(#[source] std::io::Error),

    /// A playbook that does not load (every problem with file, line and column).
    #[error("invalid playbook:\n       {0}")]
    Playbook(PlaybookError),

    #[error("invalid parameter: {0}")]
    Param(ParamError),

    #[error("invalid target `{}`: {}", .0.target, .0.message)]
    Target(TargetError),

    #[error("cannot plan: {0}")]
    Plan(PlanError),

    /// A guard rail stopped the run before anything changed.
    #[error("refused: {reason}")]
    Refused { reason: String, hint: String },

    /// The local game-day sandbox could not be started.
    #[error("failed to start the local sandbox: {0}")]
    Sandbox(String),
    /// Signing in through IAM Identity Center.
    #[error(transparent)]
    SignIn(#[from] crate::signin::SignInError),
}

impl Error {
    /// The documented exit code for this error.
    pub fn exit_code(&self) -> ExitCode {
        match self {
            Error::InvalidArgument { .. }
            | Error::Config(_)
            | Error::NoRegion
            | Error::InputFile { .. }
            | Error::Playbook(_)
            | Error::Param(_)
            | Error::Target(_)
            | Error::Plan(_) => ExitCode::InvalidInput,
            Error::Refused { .. } => ExitCode::Refused,
            Error::Audit(_) => ExitCode::Failed,
            Error::Aws(err) if err.kind().needs_sign_in() => ExitCode::AuthRequired,
            Error::Aws(_) => ExitCode::Failed,
            Error::Output(_) | Error::Sandbox(_) => ExitCode::Failed,
            Error::SignIn(err) => match err {
                SignInError::Config(_) | SignInError::NoSuchRole(_) => ExitCode::InvalidInput,
                SignInError::Service(_) => ExitCode::Failed,
                _ => ExitCode::AuthRequired,
            },
        }
    }

    /// The message and its hint on one line, for a toast or a status line.
    pub fn one_line(&self) -> String {
        let text = crate::text::error_chain(self);
        match self.hint() {
            Some(hint) => format!("{text} — {hint}"),
            None => text,
        }
    }

    /// One line telling the user how to fix it, when we know.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::InvalidArgument { hint, .. } | Error::Refused { hint, .. } => Some(hint.clone()),
            Error::Playbook(err) => Some(err.hint()),
            Error::Param(err) => Some(err.hint.clone()),
            Error::Target(err) => Some(err.hint.clone()),
            Error::Plan(_) => {
                Some("fix the playbook's arguments or parameters for this target".into())
            }
            Error::Config(err) => Some(err.hint()),
            Error::Audit(err) => Some(err.hint()),
            Error::InputFile { .. } => Some("check the path and its permissions".into()),
            Error::Aws(err) => err.hint(),
            Error::NoRegion => Some(
                "pass `--region eu-west-1`, set `AWS_REGION`, add `regions = [...]` to the \
                 breakglass config, or set `region` in your AWS profile"
                    .into(),
            ),
            Error::Output(_) => None,
            Error::SignIn(err) => Some(err.hint()),
            Error::Sandbox(_) => Some(
                "check that python3 (with venv and pip) is installed and that PyPI is reachable; \
                 see docs/game-days.md"
                    .into(),
            ),
        }
    }
}

// Not `#[from]`: these carry the whole message, so they are not shown again as a cause.
macro_rules! from_without_source {
    ($($ty:ty => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for Error {
            fn from(err: $ty) -> Self {
                Error::$variant(err)
            }
        }
    )*};
}
from_without_source!(
    PlaybookError => Playbook,
    ParamError => Param,
    TargetError => Target,
    PlanError => Plan,
);

pub type Result<T, E = Error> = std::result::Result<T, E>;
