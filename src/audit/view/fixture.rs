//! A fixed audit log for view tests: records sealed by hand with fixed times, so snapshots
//! are byte-stable. Two runs: a dry run, then a live isolate run that crosses midnight,
//! fails one step and carries hostile values (markup, an escape sequence) in a tag.

use serde_json::{Value, json};

use crate::audit::{AuditRecord, FORMAT_VERSION, GENESIS};

pub const DRY_RUN: &str = "0193a0f0-0000-7000-8000-00000000d001";
pub const LIVE_RUN: &str = "0193a0f0-0000-7000-8000-00000000a002";
const ACTOR: &str = "arn:aws:sts::111122223333:assumed-role/IncidentResponder/alice";

/// The log's lines (each without its newline).
pub fn lines() -> Vec<String> {
    let target = json!({"instance_id": "i-0aaa1111bbbb2222c", "region": "eu-west-1",
                        "name": "ss-prod-1"});
    let hostile = json!({"instance_id": "i-0ddd3333eeee4444f", "region": "eu-west-1",
                         "name": "<script>alert(1)</script>|\u{1b}[31mred"});
    let playbook = json!({"name": "isolate", "origin": "builtin",
                          "sha256": "5d41402abc4b2a76b9719d911017c592aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"});
    let step = |target: &str, n: u64, name: &str, action: &str| {
        json!({"target": target, "region": "eu-west-1", "step": n, "step_name": name,
               "action": action})
    };
    let with = |mut base: Value, extra: Value| {
        if let (Some(b), Value::Object(e)) = (base.as_object_mut(), extra) {
            b.extend(e);
        }
        base
    };
    let a = "i-0aaa1111bbbb2222c";
    let d = "i-0ddd3333eeee4444f";
    let tag = step(a, 1, "tag-instance", "tag");
    let iso = step(a, 2, "isolate-network", "isolate");
    let snap = step(d, 1, "snapshot-volumes", "snapshot-volumes");
    let call = |s: &Value, service: &str, op: &str| {
        with(s.clone(), json!({"service": service, "operation": op}))
    };
    let records: Vec<(&str, bool, &str, &str, Value)> = vec![
        (
            DRY_RUN,
            true,
            "2026-11-27T10:00:00.000Z",
            "run_started",
            json!({
            "playbook": playbook, "parameters": {}, "targets": [target],
            "caller": {"account": "111122223333", "arn": ACTOR}, "tool_version": "0.1.0",
            "plan": {"steps": 1}}),
        ),
        (
            DRY_RUN,
            true,
            "2026-11-27T10:00:00.250Z",
            "intent",
            with(
                call(&tag, "ec2", "CreateTags"),
                json!({"params": {"DryRun": true}}),
            ),
        ),
        (
            DRY_RUN,
            true,
            "2026-11-27T10:00:00.610Z",
            "outcome",
            with(
                call(&tag, "ec2", "CreateTags"),
                json!({"result": "would_succeed", "request_id": "dry-0001"}),
            ),
        ),
        (
            DRY_RUN,
            true,
            "2026-11-27T10:00:00.700Z",
            "run_finished",
            json!({"status": "succeeded", "summary": {"would_succeed": 1}}),
        ),
        (
            LIVE_RUN,
            false,
            "2026-11-28T23:59:58.125Z",
            "run_started",
            json!({
            "playbook": playbook, "parameters": {"quarantine_sg": "auto", "memory": false},
            "targets": [target, hostile],
            "caller": {"account": "111122223333", "arn": ACTOR}, "tool_version": "0.1.0",
            "plan": {"steps": 3}}),
        ),
        (
            LIVE_RUN,
            false,
            "2026-11-28T23:59:58.400Z",
            "intent",
            with(
                call(&tag, "ec2", "CreateTags"),
                json!({"params": {"Resources": [a], "Tags": {"breakglass:incident": "IR-42"}}}),
            ),
        ),
        (
            LIVE_RUN,
            false,
            "2026-11-28T23:59:58.911Z",
            "outcome",
            with(
                call(&tag, "ec2", "CreateTags"),
                json!({"result": "ok",
                 "request_id": "7c1d2c4e-1f0a-4b6e-9a51-0c2f3e4d5a6b"}),
            ),
        ),
        (
            LIVE_RUN,
            false,
            "2026-11-28T23:59:59.002Z",
            "step_finished",
            with(
                tag.clone(),
                json!({"status": "succeeded", "detail": "tagged"}),
            ),
        ),
        (
            LIVE_RUN,
            false,
            "2026-11-29T00:00:00.310Z",
            "intent",
            with(
                call(&iso, "ec2", "ModifyNetworkInterfaceAttribute"),
                json!({"params": {"NetworkInterfaceId": "eni-0a1b", "Groups": ["sg-0q"]}}),
            ),
        ),
        (
            LIVE_RUN,
            false,
            "2026-11-29T00:00:01.020Z",
            "outcome",
            with(
                call(&iso, "ec2", "ModifyNetworkInterfaceAttribute"),
                json!({
                "result": "ok", "request_id": "0e9f8a7b-6c5d-4e3f-8a1b-2c3d4e5f6a7b"}),
            ),
        ),
        (
            LIVE_RUN,
            false,
            "2026-11-29T00:00:01.500Z",
            "note",
            json!({"level": "warning",
            "message": "a tracked flow through an NLB survives the group change", "target": a,
            "step": 2}),
        ),
        (
            LIVE_RUN,
            false,
            "2026-11-29T00:00:01.800Z",
            "step_finished",
            with(
                iso.clone(),
                json!({"status": "succeeded",
                "detail": "every ENI carries only sg-0q"}),
            ),
        ),
        (
            LIVE_RUN,
            false,
            "2026-11-29T00:00:02.000Z",
            "intent",
            with(
                call(&snap, "ec2", "CreateSnapshots"),
                json!({"params": {"InstanceSpecification": {"InstanceId": d}}}),
            ),
        ),
        (
            LIVE_RUN,
            false,
            "2026-11-29T00:00:02.450Z",
            "outcome",
            with(
                call(&snap, "ec2", "CreateSnapshots"),
                json!({"result": "error",
                "request_id": "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d",
                "error": {"code": "UnauthorizedOperation",
                          "message": "not authorized <b>here</b> | see policy"}}),
            ),
        ),
        (
            LIVE_RUN,
            false,
            "2026-11-29T00:00:02.500Z",
            "step_finished",
            with(
                snap.clone(),
                json!({"status": "failed",
                "detail": "UnauthorizedOperation: not authorized"}),
            ),
        ),
        (
            LIVE_RUN,
            false,
            "2026-11-29T00:00:02.600Z",
            "session_ended",
            json!({"session_id": "alice-0abc", "reason": "terminated"}),
        ),
        (
            LIVE_RUN,
            false,
            "2026-11-29T00:00:02.900Z",
            "run_finished",
            json!({"status": "failed", "summary": {"succeeded": 2, "failed": 1}}),
        ),
    ];
    let mut prev = GENESIS.to_owned();
    let mut out = Vec::new();
    for (seq, (run, dry_run, ts, kind, body)) in (0u64..).zip(records) {
        let record = AuditRecord {
            v: FORMAT_VERSION,
            seq,
            ts: ts.into(),
            run_id: run.into(),
            incident: (!dry_run).then(|| "IR-42".into()),
            actor: Some(ACTOR.into()),
            dry_run,
            kind: kind.into(),
            body,
            prev: prev.clone(),
            hash: String::new(),
        }
        .seal();
        prev.clone_from(&record.hash);
        out.push(record.to_line());
    }
    out
}

/// The log as file bytes.
pub fn bytes(lines: &[String]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect()
}
