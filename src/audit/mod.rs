//! The tamper-evident audit trail: hash-chained JSON Lines, fsynced per record, and its
//! verifier. Format: docs/audit.md.

mod log;
mod record;
pub mod sink;
mod verify;
pub mod view;

pub use log::{AuditError, AuditLog, Entry, default_path};
pub use record::{AuditRecord, FORMAT_VERSION, GENESIS, RecordKind};
pub use verify::{Problem, VerifyReport, verify, verify_segment};

#[cfg(test)]
mod tests;
