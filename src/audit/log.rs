//! The append-only audit log file: continues the hash chain of what is already there,
//! appends one JSON line per record and fsyncs it before returning. Fails closed: a
//! record that cannot be written is an error the caller must stop on.
//!
//! Several processes may append to one log (two responders, a CLI run beside the TUI):
//! each append holds an exclusive lock on the file and, when the file grew since this
//! process last wrote, continues from the record another process wrote, so the chain
//! never forks.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use super::record::{AuditRecord, FORMAT_VERSION, GENESIS, RecordKind};

/// Why the audit log cannot be used. Callers must not proceed with an AWS call.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("failed to {action} audit log `{}`", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("audit log `{}` is a symbolic link; refusing to follow it", path.display())]
    Symlink { path: PathBuf },
    #[error("audit log `{}` ends in a damaged record: {reason}", path.display())]
    Damaged { path: PathBuf, reason: String },
}

impl AuditError {
    pub fn hint(&self) -> String {
        match self {
            AuditError::Io { .. } => "check the path, its permissions and free disk space, or \
                                      choose another with `--audit-log PATH`"
                .into(),
            AuditError::Symlink { .. } => "point `--audit-log` at a regular file; a planted link \
                                           could redirect evidence elsewhere"
                .into(),
            AuditError::Damaged { path, .. } => format!(
                "run `breakglass audit verify {}`, keep the file as evidence, and start a new \
                 log with `--audit-log PATH`",
                path.display()
            ),
        }
    }
}

/// What a caller records; the log adds version, sequence, time and chain fields.
#[derive(Debug, Clone)]
pub struct Entry {
    pub run_id: String,
    pub incident: Option<String>,
    pub actor: Option<String>,
    pub dry_run: bool,
    pub kind: RecordKind,
    pub body: serde_json::Value,
}

/// An open audit log, positioned to append.
#[derive(Debug)]
pub struct AuditLog {
    file: File,
    path: PathBuf,
    next_seq: u64,
    head: String,
    /// The file's length after our last read or write; any other length means another
    /// process appended (or someone truncated the file) and the head must be re-read.
    len: u64,
}

/// How much of the end of the file is read to find the last record.
const TAIL_BYTES: u64 = 1 << 20;

impl AuditLog {
    /// Opens (creating with mode 0600, in a 0700 directory) and reads the chain's head.
    pub fn open(path: &Path) -> Result<AuditLog, AuditError> {
        let io = |action: &'static str| {
            let path = path.to_path_buf();
            move |source| AuditError::Io {
                action,
                path,
                source,
            }
        };
        if crate::files::is_symlink(path) {
            return Err(AuditError::Symlink {
                path: path.to_path_buf(),
            });
        }
        let file = crate::files::open_append(path).map_err(io("open"))?;
        // Shared: a writer in another process never leaves us half a line to read.
        file.lock_shared().map_err(io("lock"))?;
        let head = read_head(&file);
        file.unlock().map_err(io("unlock"))?;
        let (next_seq, head, len) = head.map_err(|reason| reason.into_audit_error(path))?;
        Ok(AuditLog {
            file,
            path: path.to_path_buf(),
            next_seq,
            head,
            len,
        })
    }

    /// Appends one record and fsyncs it; only then is the call it announces allowed.
    ///
    /// Holds an exclusive lock on the file meanwhile, so concurrent appenders (in this or
    /// other processes) take turns and each continues the chain from the true last record.
    pub fn append(&mut self, entry: Entry) -> Result<AuditRecord, AuditError> {
        let io = |action: &'static str, path: &Path| {
            let path = path.to_path_buf();
            move |source| AuditError::Io {
                action,
                path,
                source,
            }
        };
        self.file.lock().map_err(io("lock", &self.path))?;
        let appended = self.append_locked(entry);
        // Closing the file would release the lock too, but this handle lives on.
        let unlocked = self.file.unlock().map_err(io("unlock", &self.path));
        let record = appended?;
        unlocked?;
        Ok(record)
    }

    /// [`AuditLog::append`] once the exclusive lock is held.
    fn append_locked(&mut self, entry: Entry) -> Result<AuditRecord, AuditError> {
        let len = self
            .file
            .metadata()
            .map_err(|source| AuditError::Io {
                action: "read",
                path: self.path.clone(),
                source,
            })?
            .len();
        if len != self.len {
            let (next_seq, head, len) =
                read_head(&self.file).map_err(|reason| reason.into_audit_error(&self.path))?;
            self.next_seq = next_seq;
            self.head = head;
            self.len = len;
        }
        let record = AuditRecord {
            v: FORMAT_VERSION,
            seq: self.next_seq,
            ts: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            run_id: entry.run_id,
            incident: entry.incident,
            actor: entry.actor,
            dry_run: entry.dry_run,
            kind: entry.kind.as_str().to_owned(),
            body: entry.body,
            prev: self.head.clone(),
            hash: String::new(),
        }
        .seal();
        let mut line = record.to_line();
        line.push('\n');
        let path = self.path.clone();
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .map_err(|source| AuditError::Io {
                action: "write to",
                path,
                source,
            })?;
        self.next_seq += 1;
        self.head.clone_from(&record.hash);
        self.len += line.len() as u64;
        Ok(record)
    }

    /// Hash of the last record (the value to anchor elsewhere).
    pub fn head(&self) -> &str {
        &self.head
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

enum HeadError {
    Io(std::io::Error),
    Damaged(String),
}

impl HeadError {
    fn into_audit_error(self, path: &Path) -> AuditError {
        match self {
            HeadError::Io(source) => AuditError::Io {
                action: "read",
                path: path.to_path_buf(),
                source,
            },
            HeadError::Damaged(reason) => AuditError::Damaged {
                path: path.to_path_buf(),
                reason,
            },
        }
    }
}

/// Reads the last complete record: its `seq + 1` and `hash`, or `(0, GENESIS)` when empty,
/// and the file length they were read at.
fn read_head(mut file: &File) -> Result<(u64, String, u64), HeadError> {
    let len = file.metadata().map_err(HeadError::Io)?.len();
    if len == 0 {
        return Ok((0, GENESIS.to_owned(), 0));
    }
    let start = len.saturating_sub(TAIL_BYTES);
    file.seek(SeekFrom::Start(start)).map_err(HeadError::Io)?;
    let mut tail = Vec::new();
    file.read_to_end(&mut tail).map_err(HeadError::Io)?;
    if tail.last() != Some(&b'\n') {
        return Err(HeadError::Damaged(
            "the last line is incomplete (a crash while writing, or truncation)".into(),
        ));
    }
    let body = &tail[..tail.len() - 1];
    let last = body
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(body, |i| &body[i + 1..]);
    if start > 0 && last.len() == body.len() {
        return Err(HeadError::Damaged(
            "the last line is implausibly long".into(),
        ));
    }
    let record: AuditRecord = serde_json::from_slice(last)
        .map_err(|e| HeadError::Damaged(format!("the last line is not a record: {e}")))?;
    if record.compute_hash() != record.hash {
        return Err(HeadError::Damaged(
            "the last record's hash does not match its content".into(),
        ));
    }
    Ok((record.seq + 1, record.hash, len))
}

/// The default log path: `$XDG_STATE_HOME/breakglass/audit.jsonl`.
pub fn default_path() -> Option<std::path::PathBuf> {
    crate::paths::state_dir().map(|d| d.join("audit.jsonl"))
}
