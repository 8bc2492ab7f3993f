//! Everything that happens to the TUI is an [`Action`]: a key the keymap turned into a
//! [`Command`], typed text, a terminal resize, a tick, or the owned result of an effect.

pub use crate::config::TuiCommand as Command;
use crate::inventory::Inventory;
use crate::playbook::{ExecEvent, Plan, RunStatus, TargetReport};

/// Who the calls are made as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
    /// Seconds the credentials have left, when they expire.
    pub credentials_left: Option<i64>,
}

/// The result of a playbook run.
#[derive(Debug, Clone)]
pub struct Finished {
    pub status: RunStatus,
    pub targets: Vec<TargetReport>,
    pub audit_head: String,
}

/// One run in the audit log, for the audit screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRun {
    pub run_id: String,
    pub incident: Option<String>,
    pub started: String,
    pub status: String,
    pub playbook: String,
    /// `time  what` lines of its timeline.
    pub events: Vec<String>,
}

/// The audit log as the audit screen shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditSummary {
    pub path: String,
    pub verdict: String,
    pub intact: bool,
    pub runs: Vec<AuditRun>,
}

/// What an effect comes back with: its value, or the error with its kind (exit code, hint)
/// intact, which the model turns into text only where it shows it.
pub type Outcome<T> = Result<T, crate::app::Error>;

#[derive(Debug)]
pub enum Action {
    Command(Command),
    /// A character typed into the input that has the focus.
    Char(char),
    Backspace,
    Resize,
    Tick,
    IdentityLoaded(Outcome<Identity>),
    InventoryLoaded(Outcome<Inventory>),
    /// The inventory cached by an earlier listing, shown until the new one arrives.
    InventoryCached(Box<crate::inventory::cache::Cached>),
    Planned(Outcome<Box<Plan>>),
    Exec(ExecEvent),
    RunFinished(Outcome<Finished>),
    AuditLoaded(Outcome<AuditSummary>),
    SignIn(super::signin::SignInResult),
    /// Signed in with a role: the event loop swaps the AWS context it runs effects with.
    ContextReady(Box<crate::aws::AwsContext>),
}
