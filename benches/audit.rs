//! Audit trail speed: appends with fsync against raw fsynced writes of the same bytes, and
//! `audit verify` over a 1,000,000-record log against hashing the same lines with SHA-256
//! alone (the least any verifier must do). `cargo bench --bench audit`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/mod.rs"]
mod support;

use std::io::{BufReader, Write};

use breakglass::audit::{
    AuditLog, AuditRecord, Entry, FORMAT_VERSION, GENESIS, RecordKind, verify,
};
use sha2::{Digest, Sha256};

const APPENDS: usize = 300;
const RECORDS: u64 = 1_000_000;

fn entry(i: usize) -> Entry {
    Entry {
        run_id: "01900000-0000-7000-8000-000000000001".into(),
        incident: Some("IR-42".into()),
        actor: Some("arn:aws:sts::111122223333:assumed-role/IncidentResponder/alice".into()),
        dry_run: false,
        kind: RecordKind::Intent,
        body: serde_json::json!({
            "target": "i-0123456789abcdef0", "service": "ec2",
            "operation": "ModifyNetworkInterfaceAttribute", "step": 1,
            "params": { "NetworkInterfaceId": format!("eni-{i:017x}"), "Groups": ["sg-0aaaaaaaaaaaaaaaa"] },
        }),
    }
}

fn main() {
    let dir = tempfile::tempdir().unwrap();

    // Appends: each record fsynced under the lock, vs a raw write + fsync of a same-size line.
    let mut log = AuditLog::open(&dir.path().join("append.jsonl")).unwrap();
    let line_len = {
        let record = log.append(entry(0)).unwrap();
        record.to_line().len() + 1
    };
    let mut i = 0;
    let appends = support::median(5, || {
        for _ in 0..APPENDS {
            i += 1;
            log.append(entry(i)).unwrap();
        }
    });
    let mut raw = std::fs::File::create(dir.path().join("raw.bin")).unwrap();
    let line = vec![b'x'; line_len];
    let raw_writes = support::median(5, || {
        for _ in 0..APPENDS {
            raw.write_all(&line).unwrap();
            raw.sync_data().unwrap();
        }
    });
    support::report(
        &format!("append {APPENDS} records with fsync"),
        appends,
        raw_writes,
    );
    println!(
        "append rate: {:.0} records/s",
        APPENDS as f64 / appends.as_secs_f64()
    );

    // A 1,000,000-record chain, written without fsync (only the reading is measured).
    let path = dir.path().join("big.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    let mut prev = GENESIS.to_owned();
    let base = entry(1);
    for seq in 0..RECORDS {
        let record = AuditRecord {
            v: FORMAT_VERSION,
            seq,
            ts: "2026-11-28T03:00:00.000Z".into(),
            run_id: base.run_id.clone(),
            incident: base.incident.clone(),
            actor: base.actor.clone(),
            dry_run: false,
            kind: "intent".into(),
            body: base.body.clone(),
            prev: prev.clone(),
            hash: String::new(),
        }
        .seal();
        prev.clone_from(&record.hash);
        writeln!(out, "{}", record.to_line()).unwrap();
    }
    drop(out);
    let bytes = std::fs::read(&path).unwrap();
    let verified = support::median(3, || {
        let report = verify(BufReader::new(bytes.as_slice()), None).unwrap();
        assert_eq!(report.records, RECORDS);
    });
    let hashed = support::median(3, || {
        let mut n = 0u64;
        for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            std::hint::black_box(Sha256::digest(line));
            n += 1;
        }
        assert_eq!(n, RECORDS);
    });
    support::report("audit verify of 1,000,000 records", verified, hashed);
    println!(
        "verify rate: {:.0} records/s ({:.1} MB)",
        RECORDS as f64 / verified.as_secs_f64(),
        bytes.len() as f64 / 1e6
    );
}
