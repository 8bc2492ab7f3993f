//! Tests of the log writer and the verifier together: every kind of tampering is caught.

use proptest::prelude::*;

use super::*;

fn write_log(dir: &std::path::Path, records: usize) -> std::path::PathBuf {
    let path = dir.join("state/breakglass/audit.jsonl");
    let mut log = AuditLog::open(&path).unwrap();
    for n in 0..records {
        let kind = match n {
            0 => RecordKind::RunStarted,
            n if n + 1 == records => RecordKind::RunFinished,
            n if n % 2 == 1 => RecordKind::Intent,
            _ => RecordKind::Outcome,
        };
        log.append(Entry {
            run_id: "run-1".into(),
            incident: Some("IR-42".into()),
            actor: Some("arn:aws:sts::111122223333:assumed-role/IR/alice".into()),
            dry_run: false,
            kind,
            body: serde_json::json!({"n": n, "operation": "CreateTags"}),
        })
        .unwrap();
    }
    path
}

fn verify_lines(lines: &[String]) -> VerifyReport {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    verify(text.as_bytes(), None).unwrap()
}

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn an_untouched_log_verifies_and_reopening_continues_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 5);
    let mut log = AuditLog::open(&path).unwrap();
    let head_before = log.head().to_owned();
    let appended = log
        .append(Entry {
            run_id: "run-2".into(),
            incident: None,
            actor: None,
            dry_run: true,
            kind: RecordKind::RunStarted,
            body: serde_json::json!({}),
        })
        .unwrap();
    assert_eq!(appended.seq, 5);
    assert_eq!(appended.prev, head_before);
    let report = verify(std::fs::read(&path).unwrap().as_slice(), Some(&head_before)).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.records, 6);
    assert_eq!(report.runs, 2);
    assert_eq!(report.unfinished_runs, ["run-2"]);
    assert_eq!(report.head.as_deref(), Some(appended.hash.as_str()));
    assert_eq!(report.anchor_found, Some(true));
}

#[cfg(unix)]
#[test]
fn files_are_private_and_symlinks_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 1);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(path.parent().unwrap()), 0o700);

    let link = dir.path().join("link.jsonl");
    std::os::unix::fs::symlink(&path, &link).unwrap();
    assert!(matches!(
        AuditLog::open(&link),
        Err(AuditError::Symlink { .. })
    ));
}

#[test]
fn a_damaged_tail_is_refused_rather_than_extended() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 3);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.truncate(text.len() - 10);
    std::fs::write(&path, &text).unwrap();
    let err = AuditLog::open(&path).unwrap_err();
    assert!(matches!(err, AuditError::Damaged { .. }), "{err}");
    assert!(err.hint().contains("audit verify"));
}

#[cfg(unix)]
#[test]
fn an_unwritable_log_fails_before_anything_is_recorded() {
    let err = AuditLog::open(std::path::Path::new("/proc/breakglass/audit.jsonl")).unwrap_err();
    assert!(matches!(err, AuditError::Io { .. }), "{err}");
}

/// A full disk: Linux's /dev/full accepts the open and fails every write with ENOSPC.
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_fails_the_append() {
    let mut log = AuditLog::open(std::path::Path::new("/dev/full")).unwrap();
    let err = log
        .append(Entry {
            run_id: "r".into(),
            incident: None,
            actor: None,
            dry_run: false,
            kind: RecordKind::Intent,
            body: serde_json::json!({}),
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("failed to write to audit log"),
        "{err}"
    );
}

#[test]
fn each_kind_of_tampering_names_the_first_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let original = lines(&write_log(dir.path(), 6));
    let edit = |l: &mut Vec<String>| l[2] = l[2].replace("CreateTags", "DeleteTags");
    let delete = |l: &mut Vec<String>| {
        l.remove(2);
    };
    let insert = |l: &mut Vec<String>| l.insert(3, l[1].clone());
    let reorder = |l: &mut Vec<String>| l.swap(2, 3);
    let reseal = |l: &mut Vec<String>| {
        // Edited and re-hashed: the next record's `prev` no longer matches.
        let mut r: AuditRecord = serde_json::from_str(&l[2]).unwrap();
        r.body = serde_json::json!({"forged": true});
        l[2] = r.seal().to_line();
    };
    type Tampering<'a> = &'a dyn Fn(&mut Vec<String>);
    let cases: Vec<(&str, Tampering, u64, &str)> = vec![
        ("edited", &edit, 3, "modified"),
        ("deleted", &delete, 3, "sequence number 3 where 2"),
        ("inserted", &insert, 4, "sequence number 1 where 3"),
        ("reordered", &reorder, 3, "sequence number 3 where 2"),
        ("edited and re-sealed", &reseal, 4, "chain is broken"),
    ];
    for (name, tamper, line, reason) in cases {
        let mut tampered = original.clone();
        tamper(&mut tampered);
        let report = verify_lines(&tampered);
        let problem = report
            .problem
            .unwrap_or_else(|| panic!("{name}: not detected"));
        assert_eq!(problem.line, line, "{name}: {}", problem.reason);
        assert!(
            problem.reason.contains(reason),
            "{name}: {}",
            problem.reason
        );
        assert_eq!(report.records, line - 1, "{name}");
    }

    let truncated = format!("{}\n{}", original[0], &original[1][..40]);
    let report = verify(truncated.as_bytes(), None).unwrap();
    assert_eq!(report.problem.unwrap().line, 2);

    // Cutting whole records off the end leaves a valid chain: the anchor and the
    // unfinished run are what reveal it.
    let head = verify_lines(&original).head.unwrap();
    let report = verify(
        original[..4]
            .iter()
            .map(|l| format!("{l}\n"))
            .collect::<String>()
            .as_bytes(),
        Some(&head),
    )
    .unwrap();
    assert!(report.problem.is_none());
    assert_eq!(report.anchor_found, Some(false));
    assert!(!report.is_intact());
    assert_eq!(report.unfinished_runs, ["run-1"]);
}

#[derive(Debug, Clone)]
enum Tamper {
    Edit(usize),
    Delete(usize),
    Duplicate(usize),
    Swap(usize),
    Cut(usize),
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn any_single_tampering_before_the_last_record_is_detected(
        len in 3usize..20,
        tamper in prop_oneof![
            (0usize..100).prop_map(Tamper::Edit),
            (0usize..100).prop_map(Tamper::Delete),
            (0usize..100).prop_map(Tamper::Duplicate),
            (0usize..100).prop_map(Tamper::Swap),
            (1usize..100).prop_map(Tamper::Cut),
        ],
    ) {
        let dir = tempfile::tempdir().unwrap();
        let mut l = lines(&write_log(dir.path(), len));
        let mut text;
        match tamper {
            Tamper::Edit(k) => { let k = k % len; l[k] = l[k].replacen("\"n\":", "\"n\":1", 1); }
            // Deleting the very last record is a valid shorter chain (see the anchor test).
            Tamper::Delete(k) => { l.remove(k % (len - 1)); }
            Tamper::Duplicate(k) => { let k = k % len; l.insert(k, l[k].clone()); }
            Tamper::Swap(k) => { let k = k % (len - 1); l.swap(k, k + 1); }
            Tamper::Cut(k) => {
                text = l.join("\n");
                text.truncate(text.len() - 1 - k % 50);
                let report = verify(text.as_bytes(), None).unwrap();
                prop_assert!(report.problem.is_some());
                return Ok(());
            }
        }
        let report = verify_lines(&l);
        prop_assert!(report.problem.is_some(), "{:?} on {} records not detected", tamper, len);
    }
}

fn entry(run: &str, n: usize) -> Entry {
    Entry {
        run_id: run.into(),
        incident: Some("IR-42".into()),
        actor: None,
        dry_run: false,
        kind: RecordKind::Note,
        body: serde_json::json!({"level": "info", "message": format!("{run} #{n}")}),
    }
}

#[test]
fn a_second_handle_continues_the_chain_the_first_extended() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let mut a = AuditLog::open(&path).unwrap();
    let mut b = AuditLog::open(&path).unwrap();
    let first = a.append(entry("a", 0)).unwrap();
    let second = b.append(entry("b", 0)).unwrap();
    let third = a.append(entry("a", 1)).unwrap();
    assert_eq!((first.seq, second.seq, third.seq), (0, 1, 2));
    assert_eq!(second.prev, first.hash);
    assert_eq!(third.prev, second.hash);
    assert_eq!(a.head(), third.hash);
    let report = verify(std::fs::read(&path).unwrap().as_slice(), None).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.records, 3);
}

#[test]
fn concurrent_appenders_take_turns_and_keep_one_chain() {
    const WRITERS: usize = 4;
    const RECORDS: usize = 50;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    // Separate opens are separate open file descriptions: the lock excludes them from one
    // another exactly as it excludes other processes.
    let barrier = std::sync::Barrier::new(WRITERS);
    std::thread::scope(|scope| {
        for w in 0..WRITERS {
            let (path, barrier) = (&path, &barrier);
            scope.spawn(move || {
                let mut log = AuditLog::open(path).unwrap();
                barrier.wait();
                for n in 0..RECORDS {
                    log.append(entry(&format!("run-{w}"), n)).unwrap();
                }
            });
        }
    });
    let text = std::fs::read_to_string(&path).unwrap();
    let report = verify(text.as_bytes(), None).unwrap();
    assert!(report.is_intact(), "{report:?}");
    assert_eq!(report.records, (WRITERS * RECORDS) as u64);
    for w in 0..WRITERS {
        let own = text.matches(&format!("run-{w} #")).count();
        assert_eq!(own, RECORDS, "writer {w}");
    }
}

#[test]
fn a_segment_verifies_from_where_it_continues_and_still_catches_tampering() {
    let dir = tempfile::tempdir().unwrap();
    let all = lines(&write_log(dir.path(), 10));
    let text = |lines: &[String]| -> String { lines.iter().map(|l| format!("{l}\n")).collect() };
    let segment = &all[4..];
    // As a whole log it does not start at the beginning …
    let whole = verify(text(segment).as_bytes(), None).unwrap();
    assert!(whole.problem.unwrap().reason.contains("sequence number 4"));
    // … as a segment it verifies and says what it continues from.
    let report = verify_segment(text(segment).as_bytes(), None).unwrap();
    assert!(report.is_intact(), "{:?}", report.problem);
    assert_eq!(report.records, 6);
    assert_eq!(report.first_seq, Some(4));
    let record_3: AuditRecord = serde_json::from_str(&all[3]).unwrap();
    assert_eq!(report.continues_from, Some(record_3.hash));
    // A full log is also a valid segment, continuing from genesis.
    let full = verify_segment(text(&all).as_bytes(), None).unwrap();
    assert_eq!(full.continues_from.as_deref(), Some(GENESIS));
    assert_eq!(verify(text(&all).as_bytes(), None).unwrap().first_seq, None);
    // A gap inside the segment is still caught.
    let mut gap = segment.to_vec();
    gap.remove(2);
    let report = verify_segment(text(&gap).as_bytes(), None).unwrap();
    assert_eq!(report.problem.unwrap().line, 3);
}

#[test]
fn the_verifier_hashes_what_the_writer_hashed_and_a_reformatted_body_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_log(dir.path(), 4);
    let mut all = lines(&path);
    // What the verifier hashes (the body as written) is what the writer sealed.
    for line in &all {
        let record: AuditRecord = serde_json::from_str(line).unwrap();
        assert_eq!(record.compute_hash(), record.hash);
    }
    assert!(verify_lines(&all).problem.is_none());
    // Same values, other bytes: the record is no longer the one that was sealed.
    all[1] = all[1].replacen("\"n\":1", "\"n\": 1", 1);
    let report = verify_lines(&all);
    let problem = report.problem.unwrap();
    assert_eq!(problem.line, 2);
    assert!(problem.reason.contains("modified"), "{}", problem.reason);
    // Escaped strings are hashed as written too.
    let mut log = AuditLog::open(&dir.path().join("escapes.jsonl")).unwrap();
    log.append(Entry {
        run_id: "run \"q\" é".into(),
        incident: None,
        actor: None,
        dry_run: true,
        kind: RecordKind::Note,
        body: serde_json::json!({"message": "tab\tnew\nline \u{1f512}"}),
    })
    .unwrap();
    let report = verify(
        std::fs::read(dir.path().join("escapes.jsonl"))
            .unwrap()
            .as_slice(),
        None,
    )
    .unwrap();
    assert!(report.problem.is_none(), "{:?}", report.problem);
}
