//! The `audit show` text: the log's verification verdict, the run's facts and its
//! timeline as a table, all fitted to the terminal width.

use super::event::Event;
use super::facts::RunFacts;
use super::file::{AuditFile, RunView};
use crate::audit::RecordKind;
use crate::text::{Column, Table, truncate};

/// Width of the labels in the run header.
const LABEL: usize = 10;

const REQUEST_ID: &str = "REQUEST ID";

/// Renders `run` of `file` (read from `log_label`) within `width` columns.
pub fn render_show(log_label: &str, file: &AuditFile, run: &RunView<'_>, width: usize) -> String {
    let width = width.max(40);
    let verdict = file.verdict();
    let facts = RunFacts::of(run);
    let events = Event::all(run);
    let mut out = String::new();

    if verdict.intact {
        fact(&mut out, width, "Log", log_label);
        fact(&mut out, width, "Verified", &verdict.headline);
    } else {
        // Loud, first, and not cut short: a tampered log must not pass for a clean one.
        let loud = |out: &mut String, text: &str| {
            for line in wrap(text, width.saturating_sub(4)) {
                out.push_str(&format!("!!! {line}\n"));
            }
        };
        loud(&mut out, "AUDIT LOG FAILED VERIFICATION");
        loud(&mut out, &format!("log: {log_label}"));
        loud(&mut out, &verdict.headline);
        for detail in &verdict.details {
            loud(&mut out, detail);
        }
        loud(
            &mut out,
            "records marked `!` below are among the untrusted ones",
        );
    }
    out.push('\n');

    let mode = if facts.dry_run { "  (DRY RUN)" } else { "" };
    fact(&mut out, width, "Run", &format!("{}{mode}", facts.run_id));
    let optional = [
        (
            "Resumed",
            facts.resumed_from.as_ref().map(|r| format!("from {r}")),
        ),
        ("Incident", facts.incident.clone()),
        ("Actor", facts.actor.clone()),
        ("Playbook", facts.playbook_label()),
        ("SHA-256", facts.playbook_sha256.clone()),
    ];
    for (label, value) in optional {
        if let Some(value) = value {
            fact(&mut out, width, label, &value);
        }
    }
    if !facts.targets.is_empty() {
        let targets: Vec<String> = facts.targets.iter().map(RunFacts::target_label).collect();
        fact(&mut out, width, "Targets", &targets.join(", "));
    }
    if let Some(started) = &facts.started {
        fact(&mut out, width, "Started", started);
    }
    match &facts.finished {
        Some(ts) => fact(
            &mut out,
            width,
            "Finished",
            &format!("{ts} — {}", facts.status_label()),
        ),
        None => fact(&mut out, width, "Status", &facts.status_label()),
    }
    if let (Some(first), Some(last)) = (&facts.first, &facts.last) {
        let range = format!(
            "{} (seq {}–{}, lines {}–{})",
            facts.records, first.seq, last.seq, first.line, last.line
        );
        fact(&mut out, width, "Records", &range);
    }
    out.push('\n');
    let table = timeline_table(&events, !verdict.intact).render(width);
    out.push_str(&table);
    let hidden = !table.lines().next().is_some_and(|h| h.contains(REQUEST_ID));
    if hidden && events.iter().any(|e| e.request_id.is_some()) {
        for line in wrap(
            "(request ids do not fit this width: widen the terminal, or see them with \
             `--output json` or `breakglass audit report`)",
            width,
        ) {
            out.push_str(&line);
            out.push('\n');
        }
    }

    if !verdict.intact {
        out.push('\n');
        for line in wrap(
            "THIS LOG FAILED VERIFICATION — see the top; run `breakglass audit verify` for \
             the whole file",
            width.saturating_sub(4),
        ) {
            out.push_str(&format!("!!! {line}\n"));
        }
    }
    out
}

fn timeline_table(events: &[Event], mark_untrusted: bool) -> Table {
    let mut columns = vec![
        Column::fixed("TIME"),
        Column::fixed("KIND"),
        Column::fixed("TARGET"),
        Column::shrink("STEP", 6),
        Column::shrink("OPERATION", 8),
        Column::shrink("RESULT", 8),
        // A cut request id cannot be looked up in CloudTrail: whole, or not at all.
        Column::optional(REQUEST_ID, usize::MAX, 1),
    ];
    if mark_untrusted {
        columns.insert(0, Column::fixed("!"));
    }
    let mut table = Table::new(columns);
    let mut date = events.first().and_then(|e| e.date.clone());
    for e in events {
        let marker = || {
            mark_untrusted
                .then(|| if e.verified { "" } else { "!" }.to_owned())
                .into_iter()
        };
        if e.date.is_some() && e.date != date {
            // The run crossed midnight (UTC): say so rather than let times go backwards.
            date.clone_from(&e.date);
            let day = e.date.clone().unwrap_or_default();
            table.row(marker().chain([day]).collect());
        }
        // An intent's detail is its parameters: too long for a line, and in the report.
        let detail = e
            .detail
            .as_ref()
            .filter(|_| e.kind != RecordKind::Intent.as_str());
        let result = match (&e.result, detail) {
            (Some(result), Some(detail)) => format!("{result}: {detail}"),
            (Some(text), None) | (None, Some(text)) => text.clone(),
            (None, None) => String::new(),
        };
        let cells = [
            e.time.clone(),
            e.kind.clone(),
            e.target.clone().unwrap_or_default(),
            e.step.clone().unwrap_or_default(),
            e.operation.clone().unwrap_or_default(),
            result,
            e.request_id.clone().unwrap_or_default(),
        ];
        table.row(marker().chain(cells).collect());
    }
    table
}

/// `Label     value`, the value wrapped under itself and each line cut to `width`.
fn fact(out: &mut String, width: usize, label: &str, value: &str) {
    let indent = " ".repeat(LABEL);
    for (i, line) in wrap(value, width.saturating_sub(LABEL)).iter().enumerate() {
        let head = if i == 0 {
            format!("{label:<LABEL$}")
        } else {
            indent.clone()
        };
        out.push_str(&truncate(&format!("{head}{line}"), width));
        out.push('\n');
    }
}

/// Word-wraps `text` at `width`; a word longer than the width gets a line of its own.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        let needed = current.chars().count() + word.chars().count() + 1;
        if !current.is_empty() && needed > width {
            lines.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.push_str(word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrap_breaks_at_spaces_and_keeps_long_words_whole() {
        let cases: &[(&str, usize, &[&str])] = &[
            ("", 10, &[""]),
            ("a b c", 10, &["a b c"]),
            ("alpha beta gamma", 10, &["alpha beta", "gamma"]),
            (
                "arn:aws:sts::1:assumed-role/x",
                10,
                &["arn:aws:sts::1:assumed-role/x"],
            ),
            ("a  b", 10, &["a b"]),
        ];
        for (text, width, expected) in cases {
            assert_eq!(wrap(text, *width), *expected, "{text:?}");
        }
    }
}
