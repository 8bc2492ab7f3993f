//! The tamper-evident audit trail: hash-chained JSON Lines, fsynced per record, and its
//! verifier. Format: docs/audit.md.

mod log;
mod record;
pub mod sink;
mod verify;
pub mod view;

pub use log::{AuditError, AuditLog, Entry};
pub use record::{AuditRecord, FORMAT_VERSION, GENESIS, RecordKind};
pub use verify::{Problem, VerifyReport, verify, verify_segment};

/// The default log path: `$XDG_STATE_HOME/breakglass/audit.jsonl`.
pub fn default_path() -> Option<std::path::PathBuf> {
    crate::paths::state_dir().map(|d| d.join("audit.jsonl"))
}

#[cfg(test)]
mod tests;
