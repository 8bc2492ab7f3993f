//! `breakglass audit verify | show | report` end to end on logs written by the library's
//! audit writer, and concurrent writers in separate processes.

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
        .env("COLUMNS", "200")
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

/// A run as the playbook engine records it: one target, one step, a note.
fn write_engine_run(path: &Path, run: &str, request_id: &str) {
    use serde_json::json;
    let mut log = AuditLog::open(path).unwrap();
    let step = json!({"target": "i-0abc", "region": "eu-west-1", "step": 1,
                      "step_name": "tag-instance", "action": "tag"});
    let with = |extra: serde_json::Value| {
        let mut body = step.clone();
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        body
    };
    let records = [
        (
            RecordKind::RunStarted,
            json!({"playbook": {"name": "isolate", "origin": "builtin", "sha256": "ab".repeat(32)},
                   "parameters": {}, "targets": [{"instance_id": "i-0abc", "region": "eu-west-1",
                   "name": "ss-prod-1"}], "caller": {"account": "111122223333",
                   "arn": "arn:aws:sts::111122223333:assumed-role/IR/alice"},
                   "tool_version": "0.1.0", "plan": {}}),
        ),
        (
            RecordKind::Intent,
            with(json!({"service": "ec2", "operation": "CreateTags", "params": {}})),
        ),
        (
            RecordKind::Outcome,
            with(
                json!({"service": "ec2", "operation": "CreateTags", "result": "ok",
                        "request_id": request_id}),
            ),
        ),
        (
            RecordKind::Note,
            json!({"level": "warning", "message": "<img src=x onerror=alert(1)>"}),
        ),
        (
            RecordKind::StepFinished,
            with(json!({"status": "succeeded", "detail": "tagged"})),
        ),
        (
            RecordKind::RunFinished,
            json!({"status": "succeeded", "summary": {"succeeded": 1}}),
        ),
    ];
    for (kind, body) in records {
        log.append(Entry {
            run_id: run.into(),
            incident: Some("IR-42".into()),
            actor: Some("arn:aws:sts::111122223333:assumed-role/IR/alice".into()),
            dry_run: false,
            kind,
            body,
        })
        .unwrap();
    }
}

#[test]
fn show_renders_the_latest_run_or_the_one_asked_for() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("state/breakglass/audit.jsonl");
    write_engine_run(&log, "run-older", "req-older-1");
    write_engine_run(&log, "run-newer", "req-newer-1");

    let (code, stdout, stderr) = bg(home.path(), &["audit", "show"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(stdout.contains("chain intact (12 records)"), "{stdout}");
    assert!(stdout.contains("Run       run-newer"), "{stdout}");
    assert!(stdout.contains("req-newer-1"), "{stdout}");
    assert!(!stdout.contains("req-older-1"), "{stdout}");
    assert!(stderr.contains("most recent of 2 runs"), "{stderr}");

    let (code, stdout, _) = bg(home.path(), &["audit", "show", "--run", "run-o"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("req-older-1"), "{stdout}");

    let (code, stdout, _) = bg(
        home.path(),
        &["audit", "show", "--run", "run-older", "--output", "json"],
    );
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["verification"]["intact"], true);
    assert_eq!(json["run"]["run_id"], "run-older");
    assert_eq!(json["run"]["status"], "succeeded");
    let target = &json["targets"][0];
    assert_eq!(target["target"], "i-0abc");
    assert_eq!(target["steps"][0]["status"], "succeeded");
    let kinds: Vec<&str> = target["steps"][0]["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["intent", "outcome", "step_finished"]);
    // run_started, the note without a target, run_finished.
    assert_eq!(json["records"].as_array().unwrap().len(), 3);
}

#[test]
fn show_and_report_of_a_tampered_log_render_it_and_exit_1() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("audit.jsonl");
    write_engine_run(&log, "run-a", "req-1");
    let text = std::fs::read_to_string(&log).unwrap();
    std::fs::write(&log, text.replacen("req-1", "req-2", 1)).unwrap();
    let path = log.to_str().unwrap();

    let (code, stdout, stderr) = bg(home.path(), &["audit", "show", path]);
    assert_eq!(code, 1, "{stdout}{stderr}");
    assert!(
        stdout.starts_with("!!! AUDIT LOG FAILED VERIFICATION"),
        "{stdout}"
    );
    assert!(
        stdout.contains("the first bad record is on line 3"),
        "{stdout}"
    );
    assert!(stdout.contains("req-2"), "rendered anyway: {stdout}");
    assert!(stderr.contains("warning: "), "{stderr}");

    let (code, stdout, _) = bg(home.path(), &["audit", "report", path]);
    assert_eq!(code, 1);
    assert!(
        stdout.contains("> **AUDIT LOG FAILED VERIFICATION**"),
        "{stdout}"
    );
    assert!(stdout.contains("| NO |"), "{stdout}");
}

#[test]
fn unknown_runs_and_empty_logs_are_invalid_input_naming_what_exists() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("audit.jsonl");
    write_engine_run(&log, "run-a", "req-1");
    write_engine_run(&log, "run-b", "req-2");
    let path = log.to_str().unwrap();

    let (code, _, stderr) = bg(home.path(), &["audit", "show", path, "--run", "run-x"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("invalid run id `run-x`"), "{stderr}");
    assert!(
        stderr.contains("hint: runs in this log, most recent last: run-a (IR-42, "),
        "{stderr}"
    );
    assert!(stderr.contains("run-b (IR-42, "), "{stderr}");

    let (code, _, stderr) = bg(home.path(), &["audit", "report", path, "--run", "run-"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("it starts 2 run ids"), "{stderr}");

    let empty = home.path().join("empty.jsonl");
    std::fs::write(&empty, "").unwrap();
    let (code, _, stderr) = bg(home.path(), &["audit", "show", empty.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("it holds no runs"), "{stderr}");

    let (code, _, stderr) = bg(home.path(), &["audit", "report", "/nonexistent/a.jsonl"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("cannot read `/nonexistent/a.jsonl`"),
        "{stderr}"
    );
}

#[test]
fn report_goes_to_stdout_as_markdown_or_to_a_file_as_escaped_html() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("audit.jsonl");
    write_engine_run(&log, "run-a", "req-1");
    let path = log.to_str().unwrap();
    let head = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .last()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["hash"].clone())
        .unwrap();
    let head = head.as_str().unwrap();

    let (code, stdout, stderr) = bg(home.path(), &["audit", "report", path]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("# Chain-of-custody report: run run-a"),
        "{stdout}"
    );
    for section in [
        "## Targets",
        "## Step results",
        "## Timeline",
        "## Findings and notes",
        "## Verification",
        "## What this proves, and what it does not",
    ] {
        assert!(stdout.contains(section), "{section}: {stdout}");
    }
    assert!(stdout.contains(&format!("`{head}`")), "{stdout}");
    assert!(stdout.contains("`req-1`"), "{stdout}");
    assert!(
        stdout.contains("\\<img src=x onerror=alert(1)\\>"),
        "{stdout}"
    );

    let out = home.path().join("report.html");
    let (code, stdout, stderr) = bg(
        home.path(),
        &[
            "audit",
            "report",
            path,
            "--format",
            "html",
            "--out",
            out.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("wrote the report of run run-a"), "{stderr}");
    let page = std::fs::read_to_string(&out).unwrap();
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{page}"
    );
    assert!(!page.contains("<img"), "{page}");
    assert!(page.contains(head), "{page}");

    let before = std::fs::read(&log).unwrap();
    let (code, _, stderr) = bg(home.path(), &["audit", "report", path, "--out", path]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("it is the audit log itself"), "{stderr}");
    assert_eq!(std::fs::read(&log).unwrap(), before);
}

const CHILD_LOG: &str = "BREAKGLASS_TEST_APPEND_LOG";
const CHILD_RECORDS: usize = 100;

#[test]
fn concurrent_processes_append_without_forking_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("audit.jsonl");
    let go = dir.path().join("go");
    let children: Vec<_> = (0..2)
        .map(|n| {
            Command::new(std::env::current_exe().unwrap())
                .args([
                    "--ignored",
                    "--exact",
                    // The test's path in this binary: its module, then its name.
                    concat!(module_path!(), "::appends_as_a_child_process")
                        .trim_start_matches("e2e::"),
                    "--nocapture",
                ])
                .env(CHILD_LOG, &log)
                .env("BREAKGLASS_TEST_RUN", format!("proc-{n}"))
                // Captured: their own test summaries must not mix into this binary's output.
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    // Both wait for this file, so their appends overlap.
    std::fs::write(&go, "").unwrap();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let text = std::fs::read_to_string(&log).unwrap();
    let report = breakglass::audit::verify(text.as_bytes(), None).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.records, 2 * CHILD_RECORDS as u64);
    for n in 0..2 {
        let own = text.matches(&format!("\"run_id\":\"proc-{n}\"")).count();
        assert_eq!(own, CHILD_RECORDS, "proc-{n}");
    }
}

#[test]
#[ignore = "child process of concurrent_processes_append_without_forking_the_chain"]
fn appends_as_a_child_process() {
    let log = std::path::PathBuf::from(std::env::var_os(CHILD_LOG).unwrap());
    let run = std::env::var("BREAKGLASS_TEST_RUN").unwrap();
    let go = log.with_file_name("go");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !go.exists() {
        assert!(std::time::Instant::now() < deadline, "never told to go");
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let mut audit = AuditLog::open(&log).unwrap();
    for n in 0..CHILD_RECORDS {
        audit
            .append(Entry {
                run_id: run.clone(),
                incident: None,
                actor: None,
                dry_run: false,
                kind: RecordKind::Note,
                body: serde_json::json!({"level": "info", "message": format!("#{n}")}),
            })
            .unwrap();
    }
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
