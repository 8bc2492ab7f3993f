//! `breakglass audit show` and `audit report`: one run of the audit log as a timeline or as
//! a chain-of-custody report, always after verifying the whole log. A log that fails
//! verification is still rendered as far as it can be, marked, and exits 1.

use std::path::{Path, PathBuf};

use crate::app::Settings;
use crate::app::{Error, ExitCode, Result};
use crate::audit::view::{
    AuditFile, ReportContext, RunListing, RunView, SelectError, ShowDocument, build_report, html,
    markdown, render_show,
};
use crate::cli::args::{AuditReportArgs, AuditShowArgs, ReportFormat};
use crate::cli::output::{print_json, print_stdout};
use crate::text::{OutputFormat, printable, terminal_width};

/// `audit show`: exit 0 when the log verifies, 1 when it does not, 2 on bad input.
pub fn show(settings: &Settings, args: &AuditShowArgs) -> Result<ExitCode> {
    let (path, file) = load(settings, args.file.as_deref())?;
    let run = select(&path, &file, args.run.as_deref())?;
    let label = printable(&path.display().to_string());
    match settings.output {
        OutputFormat::Json => print_json(&ShowDocument::new(&label, &file, &run))?,
        OutputFormat::Table => {
            print_stdout(&render_show(&label, &file, &run, terminal_width()))?;
        }
    }
    notes(&path, &file, &run, args.run.is_none());
    Ok(exit_code(&file))
}

/// `audit report`: the same exit codes as `show`; the report is written either way.
pub fn report(settings: &Settings, args: &AuditReportArgs) -> Result<ExitCode> {
    let (path, file) = load(settings, args.file.as_deref())?;
    let run = select(&path, &file, args.run.as_deref())?;
    let ctx = ReportContext {
        log_path: printable(&path.display().to_string()),
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        generator: format!("breakglass {}", env!("CARGO_PKG_VERSION")),
    };
    let doc = build_report(&ctx, &file, &run);
    let text = match args.format {
        ReportFormat::Md => markdown(&doc),
        ReportFormat::Html => html(&doc),
    };
    match &args.out {
        None => print_stdout(&text)?,
        Some(out) => {
            write_report(out, &path, &text)?;
            eprintln!(
                "wrote the report of run {} to {}",
                printable(&run.run_id),
                out.display()
            );
        }
    }
    notes(&path, &file, &run, args.run.is_none());
    Ok(exit_code(&file))
}

/// Reads the whole log once, so verification and rendering see the same bytes.
fn load(settings: &Settings, file: Option<&Path>) -> Result<(PathBuf, AuditFile)> {
    let path = match file {
        Some(path) => path.to_path_buf(),
        None => settings.audit_log_path()?,
    };
    let input_error = |source| Error::InputFile {
        path: path.clone(),
        source,
    };
    let bytes = std::fs::read(&path).map_err(input_error)?;
    let file = AuditFile::parse(&bytes).map_err(input_error)?;
    Ok((path, file))
}

fn select<'a>(path: &Path, file: &'a AuditFile, run: Option<&str>) -> Result<RunView<'a>> {
    file.select(run).map_err(|err| match err {
        SelectError::Empty => Error::InvalidArgument {
            what: "audit log",
            value: path.display().to_string(),
            reason: "it holds no runs".into(),
            hint: "check the path; the log in use is set with `--audit-log PATH`".into(),
        },
        SelectError::Unknown { run_id } => Error::InvalidArgument {
            what: "run id",
            value: printable(&run_id),
            reason: format!("no run with this id in `{}`", path.display()),
            hint: format!(
                "runs in this log, most recent last: {}; omit `--run` for the most recent",
                listing(&file.runs())
            ),
        },
        SelectError::Ambiguous { run_id, matches } => Error::InvalidArgument {
            what: "run id",
            value: printable(&run_id),
            reason: format!("it starts {} run ids", matches.len()),
            hint: format!(
                "give more of the id, one of: {}",
                matches
                    .iter()
                    .map(|m| printable(m))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
    })
}

/// The last few runs as `ID (incident, first record's time)`.
fn listing(runs: &[RunListing]) -> String {
    const SHOWN: usize = 10;
    let skipped = runs.len().saturating_sub(SHOWN);
    let mut items: Vec<String> = runs[skipped..]
        .iter()
        .map(|r| {
            let incident = r.incident.as_deref().unwrap_or("no incident");
            printable(&format!("{} ({incident}, {})", r.run_id, r.first_ts))
        })
        .collect();
    if skipped > 0 {
        items.insert(0, format!("… {skipped} earlier"));
    }
    items.join(", ")
}

/// What the rendered output may leave unsaid, on stderr.
fn notes(path: &Path, file: &AuditFile, run: &RunView<'_>, defaulted: bool) {
    let runs = file.runs();
    if defaulted && runs.len() > 1 {
        eprintln!(
            "note: run {} is the most recent of {} runs in this log; pick another with \
             `--run RUN_ID`",
            printable(&run.run_id),
            runs.len()
        );
    }
    let verdict = file.verdict();
    if !verdict.intact {
        eprintln!("warning: {}: {}", path.display(), verdict.headline);
        eprintln!(
            "hint: keep this file unchanged as evidence and compare it with the copies in the \
             configured audit sinks"
        );
    }
}

fn exit_code(file: &AuditFile) -> ExitCode {
    if file.verdict().intact {
        ExitCode::Success
    } else {
        ExitCode::Failed
    }
}

/// Writes the report, refusing to overwrite the log it reports on.
fn write_report(out: &Path, log: &Path, text: &str) -> Result<()> {
    let invalid = |reason: String| Error::InvalidArgument {
        what: "report path",
        value: out.display().to_string(),
        reason,
        hint: "choose a writable path for `--out` other than the audit log".into(),
    };
    if let (Ok(a), Ok(b)) = (std::fs::canonicalize(out), std::fs::canonicalize(log))
        && a == b
    {
        return Err(invalid("it is the audit log itself".into()));
    }
    std::fs::write(out, text).map_err(|e| invalid(format!("cannot write it ({e})")))
}
