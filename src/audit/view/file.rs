//! A whole audit log read once for viewing: its verification, every line that still parses
//! as a record (a tampered log is shown as far as it can be), and the selection of one run.

use serde::Serialize;

use crate::audit::{AuditRecord, VerifyReport, verify};

/// A record and the 1-based line it was read from.
#[derive(Debug, Clone)]
pub struct LoggedRecord {
    pub line: u64,
    pub record: AuditRecord,
}

/// A log's bytes, verified and parsed from the same read (so a concurrent append cannot
/// make the two disagree).
#[derive(Debug, Clone)]
pub struct AuditFile {
    pub verification: VerifyReport,
    pub records: Vec<LoggedRecord>,
    /// Lines that are not audit records at all (garbage, a cut-off line).
    pub unreadable_lines: Vec<u64>,
}

/// One run as listed in an error message or a footer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunListing {
    pub run_id: String,
    pub incident: Option<String>,
    pub first_ts: String,
    pub records: usize,
}

/// The records of one run, in file order (runs of concurrent processes interleave).
#[derive(Debug, Clone)]
pub struct RunView<'a> {
    pub run_id: String,
    pub records: Vec<&'a LoggedRecord>,
    /// The first line verification rejected; it and every later line are untrusted.
    pub first_bad_line: Option<u64>,
}

impl RunView<'_> {
    /// Whether the record on `line` lies in the verified part of the log.
    pub fn is_verified(&self, line: u64) -> bool {
        self.first_bad_line.is_none_or(|bad| line < bad)
    }
}

/// Why `--run` selects nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectError {
    /// The log holds no record that parses.
    Empty,
    Unknown {
        run_id: String,
    },
    /// A prefix that starts several run ids.
    Ambiguous {
        run_id: String,
        matches: Vec<String>,
    },
}

impl AuditFile {
    /// Verifies `bytes` and parses every line that is a record.
    pub fn parse(bytes: &[u8]) -> std::io::Result<AuditFile> {
        let verification = verify(bytes, None)?;
        let mut records = Vec::new();
        let mut unreadable_lines = Vec::new();
        // One record per line; the final newline ends the last line rather than starting one.
        let body = bytes.strip_suffix(b"\n").unwrap_or(bytes);
        if !body.is_empty() {
            for (line_no, line) in (1u64..).zip(body.split(|&b| b == b'\n')) {
                match serde_json::from_slice::<AuditRecord>(line) {
                    Ok(record) => records.push(LoggedRecord {
                        line: line_no,
                        record,
                    }),
                    Err(_) => unreadable_lines.push(line_no),
                }
            }
        }
        Ok(AuditFile {
            verification,
            records,
            unreadable_lines,
        })
    }

    /// Every run, in the order of its first record.
    pub fn runs(&self) -> Vec<RunListing> {
        let mut runs: Vec<RunListing> = Vec::new();
        for logged in &self.records {
            let r = &logged.record;
            match runs.iter_mut().find(|run| run.run_id == r.run_id) {
                Some(run) => run.records += 1,
                None => runs.push(RunListing {
                    run_id: r.run_id.clone(),
                    incident: r.incident.clone(),
                    first_ts: r.ts.clone(),
                    records: 1,
                }),
            }
        }
        runs
    }

    /// The run `run_id` (exact, else a unique prefix), or the most recently started one.
    pub fn select(&self, run_id: Option<&str>) -> Result<RunView<'_>, SelectError> {
        let runs = self.runs();
        let chosen = match run_id {
            None => runs
                .last()
                .map(|r| r.run_id.clone())
                .ok_or(SelectError::Empty)?,
            Some(wanted) if runs.iter().any(|r| r.run_id == wanted) => wanted.to_owned(),
            Some(wanted) => {
                let matches: Vec<String> = runs
                    .iter()
                    .filter(|r| !wanted.is_empty() && r.run_id.starts_with(wanted))
                    .map(|r| r.run_id.clone())
                    .collect();
                match matches.as_slice() {
                    [one] => one.clone(),
                    [] if runs.is_empty() => return Err(SelectError::Empty),
                    [] => {
                        return Err(SelectError::Unknown {
                            run_id: wanted.to_owned(),
                        });
                    }
                    _ => {
                        return Err(SelectError::Ambiguous {
                            run_id: wanted.to_owned(),
                            matches,
                        });
                    }
                }
            }
        };
        Ok(RunView {
            records: self
                .records
                .iter()
                .filter(|l| l.record.run_id == chosen)
                .collect(),
            run_id: chosen,
            first_bad_line: self.verification.problem.as_ref().map(|p| p.line),
        })
    }
}

/// The verification of a whole log in words, for every view to lead with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub intact: bool,
    /// `chain intact (12 records)` or `TAMPERED: …` naming the first bad record.
    pub headline: String,
    /// What follows from it: how much verifies, which lines cannot be trusted.
    pub details: Vec<String>,
}

impl AuditFile {
    pub fn verdict(&self) -> Verdict {
        let v = &self.verification;
        let Some(problem) = &v.problem else {
            return Verdict {
                intact: true,
                headline: format!("chain intact ({} records)", v.records),
                details: Vec::new(),
            };
        };
        let mut details = vec![format!(
            "{} record(s) before it verify; line {} and every line after it cannot be trusted",
            v.records, problem.line
        )];
        if !self.unreadable_lines.is_empty() {
            let lines: Vec<String> = self
                .unreadable_lines
                .iter()
                .take(10)
                .map(u64::to_string)
                .collect();
            let more = self.unreadable_lines.len().saturating_sub(lines.len());
            details.push(format!(
                "{} line(s) are not audit records and are left out: {}{}",
                self.unreadable_lines.len(),
                lines.join(", "),
                if more > 0 {
                    format!(" and {more} more")
                } else {
                    String::new()
                }
            ));
        }
        Verdict {
            intact: false,
            headline: format!(
                "TAMPERED: the first bad record is on line {}: {}",
                problem.line,
                crate::text::printable(&problem.reason)
            ),
            details,
        }
    }
}
