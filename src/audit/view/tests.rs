//! Tests of the views on a fixed log: snapshots of `show` and the report, run selection,
//! tampered logs, hostile values, and bodies of unexpected shapes.

use super::fixture::{self, DRY_RUN, LIVE_RUN};
use super::*;
use crate::audit::{AuditRecord, FORMAT_VERSION, GENESIS};
use crate::text::printable;

fn file() -> AuditFile {
    AuditFile::parse(&fixture::bytes(&fixture::lines())).unwrap()
}

fn context() -> ReportContext {
    ReportContext {
        log_path: "/var/lib/ir/audit.jsonl".into(),
        generated_at: "2026-11-29T08:00:00.000Z".into(),
        generator: "breakglass 0.1.0".into(),
    }
}

/// The fixture with its outcome of step 1 edited after the fact (line 7).
fn tampered() -> AuditFile {
    let mut lines = fixture::lines();
    lines[6] = lines[6].replace("\"result\":\"ok\"", "\"result\":\"error\"");
    lines.insert(12, "not a record".into());
    AuditFile::parse(&fixture::bytes(&lines)).unwrap()
}

#[test]
fn show_defaults_to_the_most_recent_run() {
    let file = file();
    let run = file.select(None).unwrap();
    assert_eq!(run.run_id, LIVE_RUN);
    insta::assert_snapshot!(
        "show_live_run_160",
        render_show("audit.jsonl", &file, &run, 160)
    );
}

#[test]
fn show_fits_narrow_terminals() {
    let file = file();
    let run = file.select(Some(DRY_RUN)).unwrap();
    let text = render_show("audit.jsonl", &file, &run, 80);
    for line in text.lines() {
        assert!(line.chars().count() <= 80, "{line:?}");
    }
    insta::assert_snapshot!("show_dry_run_80", text);
    let live = file.select(Some(LIVE_RUN)).unwrap();
    for width in [60, 80, 100] {
        for line in render_show("audit.jsonl", &file, &live, width).lines() {
            // Instance ids and times are never cut; the rest fits from 80 columns on.
            assert!(
                width < 80 || line.chars().count() <= width,
                "{width}: {line:?}"
            );
        }
    }
}

#[test]
fn show_of_a_tampered_log_says_so_first_and_marks_untrusted_records() {
    let file = tampered();
    let run = file.select(Some(LIVE_RUN)).unwrap();
    let text = render_show("audit.jsonl", &file, &run, 120);
    let first_line = text.lines().next().unwrap();
    assert_eq!(first_line, "!!! AUDIT LOG FAILED VERIFICATION");
    assert!(text.contains("the first bad record is on line 7"), "{text}");
    assert!(text.contains("line(s) are not audit records"), "{text}");
    assert!(text.trim_end().ends_with("for the whole file"), "{text}");
    let marked = text
        .lines()
        .filter(|l| l.starts_with("!  ") && !l.contains("TIME"))
        .count();
    // Lines 7..=18 of the run (the inserted garbage is not a record), plus the date row.
    assert_eq!(marked, 11 + 1, "{text}");
    insta::assert_snapshot!("show_tampered_120", text);
}

#[test]
fn hostile_values_cannot_drive_the_terminal() {
    let file = file();
    let run = file.select(None).unwrap();
    let text = render_show("audit.jsonl", &file, &run, 200);
    assert!(!text.contains('\u{1b}'), "{text}");
    assert!(text.contains("\\u{1b}[31mred"), "{text}");
    assert_eq!(printable("a\u{202e}b\tc"), "a\\u{202e}b\\tc");
    assert_eq!(printable("plain é"), "plain é");
}

#[test]
fn report_markdown_snapshot() {
    let file = file();
    let run = file.select(None).unwrap();
    let md = markdown(&build_report(&context(), &file, &run));
    assert!(!md.contains("<script>"), "{md}");
    insta::assert_snapshot!("report_live_run_md", md);
}

#[test]
fn report_html_is_self_contained_and_escaped() {
    let file = tampered();
    let run = file.select(None).unwrap();
    let page = html(&build_report(&context(), &file, &run));
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("default-src 'none'"));
    for forbidden in ["<script", "<b>", "src=", "href=", "http://", "https://"] {
        assert!(!page.contains(forbidden), "{forbidden} in {page}");
    }
    assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(page.contains("not authorized &lt;b&gt;here&lt;/b&gt; | see policy"));
    assert!(page.contains("class=\"alert\""));
    insta::assert_snapshot!("report_tampered_html", page);
}

#[test]
fn report_names_hashes_to_anchor() {
    let file = file();
    let run = file.select(Some(DRY_RUN)).unwrap();
    let doc = build_report(&context(), &file, &run);
    let md = markdown(&doc);
    let head = file.verification.head.clone().unwrap();
    let first = &run.records[0].record.hash;
    let last = &run.records[3].record.hash;
    for hash in [&head, first, last] {
        assert!(md.contains(&format!("`{hash}`")), "{hash} missing:\n{md}");
    }
    assert!(md.contains("This was a dry run"), "{md}");
    assert!(doc.alert.is_empty());
}

#[test]
fn show_json_groups_records_per_target_and_step() {
    let file = file();
    let run = file.select(None).unwrap();
    let doc = ShowDocument::new("audit.jsonl", &file, &run);
    insta::assert_json_snapshot!("show_live_run_json", doc);
}

#[test]
fn runs_are_selected_exactly_by_prefix_or_as_the_latest() {
    let file = file();
    assert_eq!(file.runs().len(), 2);
    assert_eq!(file.runs()[0].records, 4);
    let cases: &[(Option<&str>, Result<&str, SelectError>)] = &[
        (None, Ok(LIVE_RUN)),
        (Some(DRY_RUN), Ok(DRY_RUN)),
        (Some("0193a0f0-0000-7000-8000-00000000d"), Ok(DRY_RUN)),
        (
            Some("0193a0f0"),
            Err(SelectError::Ambiguous {
                run_id: "0193a0f0".into(),
                matches: vec![DRY_RUN.into(), LIVE_RUN.into()],
            }),
        ),
        (
            Some("run-x"),
            Err(SelectError::Unknown {
                run_id: "run-x".into(),
            }),
        ),
        (
            Some(""),
            Err(SelectError::Unknown {
                run_id: String::new(),
            }),
        ),
    ];
    for (wanted, expected) in cases {
        let got = file.select(*wanted).map(|r| r.run_id);
        assert_eq!(got, expected.clone().map(str::to_owned), "{wanted:?}");
    }
    let empty = AuditFile::parse(b"").unwrap();
    assert_eq!(empty.select(None).unwrap_err(), SelectError::Empty);
    assert_eq!(empty.select(Some("x")).unwrap_err(), SelectError::Empty);
}

#[test]
fn bodies_of_any_shape_render_without_failing() {
    let bodies = [
        serde_json::json!(null),
        serde_json::json!("text"),
        serde_json::json!([1, 2]),
        serde_json::json!({}),
        serde_json::json!({"target": 7, "step": "two", "error": "boom", "playbook": 1}),
        serde_json::json!({"targets": [1, {"x": true}], "error": {"code": null}}),
        serde_json::json!({"status": {"nested": []}, "request_id": false}),
    ];
    let mut prev = GENESIS.to_owned();
    let mut lines = Vec::new();
    for (seq, (body, kind)) in (0u64..).zip(bodies.into_iter().zip([
        "run_started",
        "intent",
        "outcome",
        "step_finished",
        "from_the_future",
        "run_started",
        "run_finished",
    ])) {
        let record = AuditRecord {
            v: FORMAT_VERSION,
            seq,
            ts: "not a time".into(),
            run_id: "r".into(),
            incident: None,
            actor: None,
            dry_run: false,
            kind: kind.into(),
            body,
            prev: prev.clone(),
            hash: String::new(),
        }
        .seal();
        prev.clone_from(&record.hash);
        lines.push(record.to_line());
    }
    let file = AuditFile::parse(&fixture::bytes(&lines)).unwrap();
    assert!(file.verdict().intact);
    let run = file.select(None).unwrap();
    let text = render_show("x", &file, &run, 100);
    assert!(text.contains("from_the_future"), "{text}");
    assert!(text.contains("boom"), "{text}");
    let md = markdown(&build_report(&context(), &file, &run));
    assert!(md.contains("not a time"), "{md}");
    let _ = html(&build_report(&context(), &file, &run));
    serde_json::to_string(&ShowDocument::new("x", &file, &run)).unwrap();
}

#[test]
fn a_run_without_run_finished_is_reported_unfinished() {
    let mut lines = fixture::lines();
    lines.pop();
    let file = AuditFile::parse(&fixture::bytes(&lines)).unwrap();
    let run = file.select(None).unwrap();
    let text = render_show("audit.jsonl", &file, &run, 200);
    assert!(
        text.contains("Status    unfinished: no run_finished record"),
        "{text}"
    );
    assert!(!text.contains("Finished  "), "{text}");
    let md = markdown(&build_report(&context(), &file, &run));
    assert!(
        md.contains("| Status | unfinished: no run\\_finished record"),
        "{md}"
    );
}
