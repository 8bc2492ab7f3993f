//! `breakglass audit …`: verifying the audit trail; `show` and `report` are in `views`.

mod views;

pub use views::{report, show};

use std::io::BufReader;

use serde::Serialize;

use super::args::AuditVerifyArgs;
use crate::app::Settings;
use crate::app::{Error, ExitCode, Result};
use crate::audit::{Problem, verify as verify_log, verify_segment};
use crate::cli::output::{print_json, print_stdout};
use crate::text::OutputFormat;

/// The JSON document of `audit verify --output json` (version 1).
#[derive(Serialize)]
struct VerifyOutput<'a> {
    version: u32,
    file: String,
    intact: bool,
    records: u64,
    runs: u64,
    head: &'a Option<String>,
    unfinished_runs: &'a [String],
    anchor_found: Option<bool>,
    problem: &'a Option<Problem>,
    #[serde(skip_serializing_if = "Option::is_none")]
    first_seq: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    continues_from: &'a Option<String>,
}

/// Exit 0 when intact, 1 when tampered or the anchor is missing, 2 when unreadable.
pub fn verify(settings: &Settings, args: &AuditVerifyArgs) -> Result<ExitCode> {
    let path = match &args.file {
        Some(path) => path.clone(),
        None => settings.audit_log_path()?,
    };
    let input_error = |source| Error::InputFile {
        path: path.clone(),
        source,
    };
    let file = std::fs::File::open(&path).map_err(input_error)?;
    let reader = BufReader::new(file);
    let report = if args.segment {
        verify_segment(reader, args.anchor.as_deref())
    } else {
        verify_log(reader, args.anchor.as_deref())
    }
    .map_err(input_error)?;
    let intact = report.is_intact();
    match settings.output {
        OutputFormat::Json => print_json(&VerifyOutput {
            version: 1,
            file: path.display().to_string(),
            intact,
            records: report.records,
            runs: report.runs,
            head: &report.head,
            unfinished_runs: &report.unfinished_runs,
            anchor_found: report.anchor_found,
            problem: &report.problem,
            first_seq: report.first_seq,
            continues_from: &report.continues_from,
        })?,
        OutputFormat::Table => {
            let mut text = String::new();
            match &report.problem {
                None => text.push_str(&format!(
                    "{}: intact — {} record(s), {} run(s), head {}\n",
                    path.display(),
                    report.records,
                    report.runs,
                    report.head.as_deref().unwrap_or("(empty log)")
                )),
                Some(problem) => text.push_str(&format!(
                    "{}: TAMPERED at line {}: {}\n{} record(s) before it verify.\n",
                    path.display(),
                    problem.line,
                    problem.reason,
                    report.records
                )),
            }
            if let (Some(seq), Some(prev)) = (report.first_seq, &report.continues_from) {
                text.push_str(&format!(
                    "segment: starts at record {seq}, continuing from {prev}\n"
                ));
            }
            if report.anchor_found == Some(false) {
                text.push_str(
                    "ANCHOR MISSING: the given hash is not in the log; records were cut off \
                     its end or it is another log\n",
                );
            }
            print_stdout(&text)?;
            for run in &report.unfinished_runs {
                eprintln!(
                    "note: run {run} has no run_finished record (still running, crashed — \
                     see `breakglass resume` — or the log was truncated)"
                );
            }
            if !intact {
                eprintln!(
                    "hint: keep this file unchanged as evidence and compare it with the copies \
                     in the configured audit sinks"
                );
            }
        }
    }
    Ok(if intact {
        ExitCode::Success
    } else {
        ExitCode::Failed
    })
}
