//! `breakglass playbook list | show | validate | policy`.

use std::path::PathBuf;

use serde_json::json;

use super::args::PlaybookCommand;
use crate::app::Settings;
use crate::app::{ExitCode, Result};
use crate::cli::output::{print_json, print_stdout};
use crate::playbook::{Catalog, Origin, Playbook, load_file};
use crate::text::{Column, OutputFormat, Table, terminal_width};

pub fn run(settings: &Settings, command: &PlaybookCommand) -> Result<ExitCode> {
    match command {
        PlaybookCommand::List => list(settings),
        PlaybookCommand::Show { playbook } => show(settings, playbook),
        PlaybookCommand::Validate { files } => validate(settings, files),
        PlaybookCommand::Policy { playbook } => {
            let playbook = settings.playbook(playbook)?;
            print_json(&settings.policy(&playbook)?)?;
            Ok(ExitCode::Success)
        }
    }
}

fn list(settings: &Settings) -> Result<ExitCode> {
    let catalog = Catalog::load(settings.playbook_dir().as_deref());
    for problem in &catalog.problems {
        eprintln!("warning: skipped a user playbook: {problem}");
    }
    match settings.output {
        OutputFormat::Json => {
            let entries: Vec<_> = catalog
                .playbooks
                .iter()
                .map(|p| {
                    json!({
                        "name": p.name,
                        "origin": p.origin,
                        "overrides_builtin": catalog.overridden.contains(&p.name),
                        "description": p.description,
                        "steps": p.steps.iter().map(|s| s.info.name).collect::<Vec<_>>(),
                        "parameters": p.parameters,
                        "sha256": p.sha256,
                    })
                })
                .collect();
            print_json(&json!({ "version": 1, "playbooks": entries }))?;
        }
        OutputFormat::Table => {
            let mut table = Table::new(vec![
                Column::fixed("NAME"),
                Column::shrink("ORIGIN", 7),
                Column::shrink("STEPS", 5),
                Column::shrink("DESCRIPTION", 11),
            ]);
            for p in &catalog.playbooks {
                let origin = match (&p.origin, catalog.overridden.contains(&p.name)) {
                    (Origin::Builtin, _) => "builtin".to_owned(),
                    (origin, true) => format!("{origin} (replaces builtin)"),
                    (origin, false) => origin.to_string(),
                };
                let steps: Vec<&str> = p.steps.iter().map(|s| s.info.name).collect();
                table.row(vec![
                    p.name.clone(),
                    origin,
                    steps.join(","),
                    p.description.clone(),
                ]);
            }
            print_stdout(&table.render(terminal_width()))?;
        }
    }
    Ok(if catalog.problems.is_empty() {
        ExitCode::Success
    } else {
        ExitCode::InvalidInput
    })
}

fn show(settings: &Settings, name: &str) -> Result<ExitCode> {
    let playbook = settings.playbook(name)?;
    match settings.output {
        OutputFormat::Json => print_json(&playbook)?,
        OutputFormat::Table => print_stdout(&describe(&playbook))?,
    }
    Ok(ExitCode::Success)
}

/// A playbook as readable text: parameters, steps, and the calls each step may make.
pub fn describe(playbook: &Playbook) -> String {
    let mut out = format!(
        "{} ({}, sha256 {})\n  {}\n",
        playbook.name,
        playbook.origin,
        &playbook.sha256[..12],
        playbook.description.trim()
    );
    if !playbook.parameters.is_empty() {
        out.push_str("\nParameters:\n");
        for p in &playbook.parameters {
            let default = p
                .default
                .as_ref()
                .map_or_else(|| "required".to_owned(), |d| format!("default `{d}`"));
            out.push_str(&format!(
                "  {} ({}, {default}) — {}\n",
                p.name,
                crate::playbook::type_name(p.kind),
                p.description
            ));
            if !p.choices.is_empty() {
                out.push_str(&format!("      one of: {}\n", p.choices.join(", ")));
            }
        }
    }
    out.push_str("\nSteps:\n");
    for step in &playbook.steps {
        let confirm = if step.confirm {
            ", asks to confirm"
        } else {
            ""
        };
        out.push_str(&format!(
            "  {}. {} [{}; on error: {}{confirm}]\n",
            step.index,
            step.name,
            step.info.name,
            serde_json::to_value(step.on_error)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        ));
        let args = serde_json::to_value(&step.action).unwrap_or_default();
        if let Some(map) = args.as_object() {
            for (key, value) in map.iter().filter(|(k, _)| *k != "action") {
                out.push_str(&format!("       {key}: {value}\n"));
            }
        }
        let calls: Vec<String> = step.info.calls.iter().map(|c| c.iam_action()).collect();
        out.push_str(&format!("       may call: {}\n", calls.join(", ")));
    }
    out
}

fn validate(settings: &Settings, files: &[PathBuf]) -> Result<ExitCode> {
    let mut failed = 0;
    let mut results = Vec::new();
    for file in files {
        match load_file(file) {
            Ok(playbook) => {
                if settings.output == OutputFormat::Table {
                    println!(
                        "ok: {} (playbook `{}`, {} step(s))",
                        file.display(),
                        playbook.name,
                        playbook.steps.len()
                    );
                }
                results.push(json!({ "file": file, "valid": true, "name": playbook.name }));
            }
            Err(err) => {
                failed += 1;
                if settings.output == OutputFormat::Table {
                    for d in &err.diagnostics {
                        eprintln!("error: {d}\n  hint: {}", d.hint);
                    }
                }
                let problems: Vec<_> = err
                    .diagnostics
                    .iter()
                    .map(|d| {
                        json!({
                            "line": d.line,
                            "column": d.column,
                            "message": d.message,
                            "hint": d.hint,
                        })
                    })
                    .collect();
                results.push(json!({ "file": file, "valid": false, "problems": problems }));
            }
        }
    }
    if settings.output == OutputFormat::Json {
        print_json(&json!({ "version": 1, "files": results }))?;
    } else if failed > 0 {
        eprintln!("{failed} of {} file(s) invalid", files.len());
    }
    Ok(if failed == 0 {
        ExitCode::Success
    } else {
        ExitCode::InvalidInput
    })
}
