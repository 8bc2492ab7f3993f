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

#[derive(Debug)]
pub enum Action {
    Command(Command),
    /// A character typed into the input that has the focus.
    Char(char),
    Backspace,
    Resize,
    Tick,
    IdentityLoaded(Result<Identity, String>),
    InventoryLoaded(Result<Inventory, String>),
    /// The inventory cached by an earlier listing, shown until the new one arrives.
    InventoryCached(Box<crate::inventory::cache::Cached>),
    Planned(Result<Box<Plan>, String>),
    Exec(ExecEvent),
    RunFinished(Result<Finished, String>),
    AuditLoaded(Result<AuditSummary, String>),
    SignIn(super::signin::SignInResult),
    /// Signed in with a role: the event loop swaps the AWS context it runs effects with.
    ContextReady(Box<crate::aws::AwsContext>),
}
