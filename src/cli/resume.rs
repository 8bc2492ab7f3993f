//! `breakglass resume RUN_ID`: continue a stopped run with the exact playbook, parameters,
//! incident and targets recorded in the audit log, skipping the steps that completed.

use std::io::BufReader;

use super::args::ResumeArgs;
use super::run::{Run, is_interactive};
use crate::app::{Error, ExitCode, Result, RunRequest, Settings, guard_rails, prepare};
use crate::audit::verify;
use crate::playbook::{Origin, find_run, load};

pub async fn run(settings: &Settings, args: &ResumeArgs) -> Result<ExitCode> {
    let path = settings.audit_log_path()?;
    let open = || {
        std::fs::File::open(&path)
            .map(BufReader::new)
            .map_err(|source| Error::InputFile {
                path: path.clone(),
                source,
            })
    };
    let report = verify(open()?, None).map_err(|source| Error::InputFile {
        path: path.clone(),
        source,
    })?;
    if let Some(problem) = &report.problem {
        return Err(Error::Refused {
            reason: format!(
                "the audit log {} does not verify (line {}: {}); a run is not resumed from \
                 records that may have been changed",
                path.display(),
                problem.line,
                problem.reason
            ),
            hint: "keep the log as evidence (`breakglass audit verify`), and start the \
                   playbook again with a new `--audit-log`"
                .into(),
        });
    }
    let not_found = |reason: String| Error::InvalidArgument {
        what: "run id",
        value: args.run_id.clone(),
        reason,
        hint: format!(
            "run ids are printed at the end of every run; this log is {}",
            path.display()
        ),
    };
    let prior = find_run(open()?, &args.run_id)
        .map_err(not_found)?
        .ok_or_else(|| not_found("no run with this id in the audit log".into()))?;
    if prior.dry_run {
        return Err(not_found(
            "it was a dry run, which changes nothing: run it again instead".into(),
        ));
    }
    if prior.finished.as_deref() == Some("succeeded") {
        eprintln!(
            "Run {} already succeeded; there is nothing to resume.",
            prior.run_id
        );
        return Ok(ExitCode::Success);
    }
    let origin = match prior.playbook_origin.as_str() {
        "builtin" => Origin::Builtin,
        path => Origin::File(path.into()),
    };
    let playbook = load(&prior.playbook_text, origin)?;
    let concurrency = settings.concurrency(args.concurrency)?;
    guard_rails(false, prior.incident.as_deref(), args.yes, is_interactive())?;
    let mut regions: Vec<String> = prior.targets.iter().map(|(_, r)| r.clone()).collect();
    regions.sort();
    regions.dedup();
    if regions.is_empty() {
        return Err(not_found("the run has no targets".into()));
    }
    let ctx = settings.aws_context().await?;
    let request = RunRequest {
        playbook,
        parameters: prior.parameters.clone(),
        // The targets were checked against the Security Server filter when the run started.
        targets: prior.targets.iter().map(|(id, _)| id.clone()).collect(),
        any_instance: true,
        incident: prior.incident.clone(),
        dry_run: false,
        run_id: Some(prior.run_id.clone()),
        regions: Some(regions),
        account: Some(prior.account.clone()),
    };
    let prepared = prepare(settings, &ctx, request).await?;
    eprintln!(
        "Resuming run {}: {} step(s) completed earlier are skipped.",
        prior.run_id,
        prior.done.len()
    );
    Run {
        prepared,
        yes: args.yes,
        concurrency,
        done_before: prior.done,
        resumed: true,
    }
    .execute(settings, &ctx)
    .await
}
