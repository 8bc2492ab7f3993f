//! `breakglass audit verify` end to end on logs written by the library's audit writer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;

use breakglass::audit::{AuditLog, Entry, RecordKind};

fn write_run(path: &Path, run: &str) -> String {
    let mut log = AuditLog::open(path).unwrap();
    for (kind, body) in [
        (
            RecordKind::RunStarted,
            serde_json::json!({"playbook": "tag"}),
        ),
        (
            RecordKind::Intent,
            serde_json::json!({"service": "ec2", "operation": "CreateTags"}),
        ),
        (
            RecordKind::Outcome,
            serde_json::json!({"request_id": "r-1", "result": "ok"}),
        ),
        (
            RecordKind::RunFinished,
            serde_json::json!({"status": "succeeded"}),
        ),
    ] {
        log.append(Entry {
            run_id: run.into(),
            incident: Some("IR-7".into()),
            actor: None,
            dry_run: false,
            kind,
            body,
        })
        .unwrap();
    }
    log.head().to_owned()
}

fn bg(home: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_breakglass"))
        .env_clear()
        .env("HOME", home)
        .env("XDG_STATE_HOME", home.join("state"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn verifies_the_default_log_and_reports_tampering_with_exit_1() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("state/breakglass/audit.jsonl");
    write_run(&log, "run-a");
    let head = write_run(&log, "run-b");

    let (code, stdout, _) = bg(home.path(), &["audit", "verify"]);
    assert_eq!(code, 0, "{stdout}");
    assert!(
        stdout.contains("intact — 8 record(s), 2 run(s)"),
        "{stdout}"
    );
    assert!(stdout.contains(&head), "{stdout}");

    let (code, stdout, _) = bg(home.path(), &["audit", "verify", "--output", "json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["intact"], true);
    assert_eq!(json["records"], 8);
    assert_eq!(json["head"], head.as_str());

    // Edit the outcome of the first run.
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(
        &log,
        text.replacen("\"result\":\"ok\"", "\"result\":\"failed\"", 1),
    )
    .unwrap();
    let (code, stdout, stderr) = bg(home.path(), &["audit", "verify", log.to_str().unwrap()]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("TAMPERED at line 3"), "{stdout}");
    assert!(stdout.contains("2 record(s) before it verify"), "{stdout}");
    assert!(
        stderr.contains("hint: keep this file unchanged"),
        "{stderr}"
    );
}

#[test]
fn a_missing_anchor_reveals_records_cut_off_the_end() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("audit.jsonl");
    write_run(&log, "run-a");
    let head = write_run(&log, "run-b");
    let text = std::fs::read_to_string(&log).unwrap();
    let kept: String = text.lines().take(6).map(|l| format!("{l}\n")).collect();
    std::fs::write(&log, kept).unwrap();

    let (code, stdout, stderr) = bg(
        home.path(),
        &[
            "--audit-log",
            log.to_str().unwrap(),
            "audit",
            "verify",
            "--anchor",
            &head,
        ],
    );
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(stdout.contains("ANCHOR MISSING"), "{stdout}");
    assert!(
        stderr.contains("run run-b has no run_finished record"),
        "{stderr}"
    );
}

#[test]
fn a_missing_log_is_invalid_input() {
    let home = tempfile::tempdir().unwrap();
    let (code, _, stderr) = bg(
        home.path(),
        &["audit", "verify", "/nonexistent/audit.jsonl"],
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot read `/nonexistent/audit.jsonl`"),
        "{stderr}"
    );
    assert!(stderr.contains("hint: "), "{stderr}");
}

#[test]
fn a_runs_copy_verifies_as_a_segment_that_names_the_hash_it_continues_from() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("audit.jsonl");
    let head_a = write_run(&log, "run-a");
    write_run(&log, "run-b");
    let text = std::fs::read_to_string(&log).unwrap();
    let copy = home.path().join("run-b.jsonl");
    let run_b: String = text.lines().skip(4).map(|l| format!("{l}\n")).collect();
    std::fs::write(&copy, run_b).unwrap();
    let path = copy.to_str().unwrap();

    let (code, stdout, _) = bg(home.path(), &["audit", "verify", path]);
    assert_eq!(code, 1, "a copy is not a whole log: {stdout}");
    let (code, stdout, stderr) = bg(home.path(), &["audit", "verify", "--segment", path]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("intact — 4 record(s), 1 run(s)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "segment: starts at record 4, continuing from {head_a}"
        )),
        "{stdout}"
    );
    let (code, stdout, _) = bg(
        home.path(),
        &["audit", "verify", "--segment", path, "--output", "json"],
    );
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["first_seq"], 4);
    assert_eq!(json["continues_from"], head_a.as_str());
    let (_, stdout, _) = bg(home.path(), &["audit", "verify", path, "--output", "json"]);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert!(
        json.get("first_seq").is_none(),
        "unchanged without --segment"
    );
}
