//! The fault matrix's cells for the evidence and revocation playbooks, and for `contain`
//! step by step: `breakglass` is killed with SIGKILL while each changing call of
//! `snapshot`, `capture-memory` and `revoke-sessions` is in flight — held before it reaches
//! AWS (the simulator's `latency`) and after it was made (`slow_answer`) — and interrupted
//! with Ctrl-C (SIGINT) during each of `contain`'s five steps; then resumed. For every cell: the chain verifies; a killed call has an intent and
//! no outcome, an interrupted one finishes and is recorded; `resume` finishes the run; no
//! completed side effect is made twice (no second set of snapshots, no second memory image,
//! no second deny policy); the end state is the finished run's. See docs/reliability.md.

use crate::support;

use std::time::Duration;

use crate::support::lab::lab;
use breakglass::sandbox::FaultKind;
use serde_json::Value;

/// The calls of each playbook that change something, one cell each (with the parameters
/// that make the playbook call it).
const KILL_CELLS: [(&str, &[&str], &str); 5] = [
    ("snapshot", &[], "ec2:CreateSnapshots"),
    ("capture-memory", &[], "ssm:SendCommand"),
    ("revoke-sessions", &[], "ssm:TerminateSession"),
    ("revoke-sessions", &[], "iam:PutRolePolicy"),
    (
        "revoke-sessions",
        &["-p", "remove_profile=true"],
        "ec2:DisassociateIamInstanceProfile",
    ),
];

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_during_any_change_of_the_evidence_playbooks_is_finished_by_resume() {
    let holds = [
        FaultKind::Latency { millis: 3_000 },
        FaultKind::SlowAnswer { millis: 3_000 },
    ];
    for ((playbook, params, fault), hold) in KILL_CELLS
        .iter()
        .flat_map(|c| holds.iter().map(move |h| (*c, h.clone())))
    {
        let cell = format!("{playbook}/{fault} ({hold:?})");
        let lab = lab().await;
        let (killed, run_id) = lab.stop_during((playbook, params), (fault, hold), None, "-KILL");
        assert_eq!(killed.code, -1, "{cell}: killed");
        let operation = fault.split_once(':').unwrap().1;
        let before = lab.records();
        let intents = before
            .iter()
            .filter(|r| r["kind"] == "intent" && r["body"]["operation"] == operation)
            .count();
        assert_eq!(
            (intents, lab.done(operation)),
            (1, 0),
            "{cell}: intent, no outcome"
        );
        lab.bg().args(["audit", "verify"]).run().assert_code(0);

        // The held call lands (or not) while nobody watches, then the responder resumes.
        std::thread::sleep(Duration::from_millis(3_200));
        let doc = lab.resume(&run_id);
        // `already_done` when the held call was the last change and it was made.
        let status = &doc["targets"][0]["steps"][0]["status"];
        assert!(
            status == "succeeded" || status == "already_done",
            "{cell}: {doc:#}"
        );
        match playbook {
            "snapshot" => assert_eq!(
                lab.snapshots().await.len(),
                lab.volumes().await,
                "{cell}: one snapshot per volume, no second set"
            ),
            "capture-memory" => {
                assert_eq!(lab.memory_images().await, 1, "{cell}: one image");
                assert_eq!(lab.commands().await, 1, "{cell}: acquired once");
            }
            _ => {
                assert_eq!(lab.deny_policies().await, 2, "{cell}: the two denies");
                assert!(lab.done("PutRolePolicy") <= 2, "{cell}: each put once");
                assert!(lab.done("TerminateSession") <= 1, "{cell}: ended once");
                assert_eq!(lab.open_sessions().await, 0, "{cell}: sessions ended");
            }
        }
    }
}

/// `contain`'s steps and a changing call of each.
const CONTAIN_STEPS: [(u64, &str); 5] = [
    (1, "ssm:SendCommand"),
    (2, "ssm:SendCommand"),
    (3, "ec2:ModifyNetworkInterfaceAttribute"),
    (4, "ec2:CreateSnapshots"),
    (5, "iam:PutRolePolicy"),
];

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_each_step_of_contain_stops_cleanly_and_resume_finishes() {
    for (step, fault) in CONTAIN_STEPS {
        let cell = format!("step {step} ({fault})");
        let lab = lab().await;
        let hold = FaultKind::Latency { millis: 3_000 };
        let (interrupted, run_id) =
            lab.stop_during(("contain", &[]), (fault, hold), Some(step), "-INT");
        interrupted.assert_code(1);
        assert!(
            interrupted
                .stderr
                .contains("Interrupted: finishing the AWS calls in flight"),
            "{cell}: {}",
            interrupted.stderr
        );
        let doc = interrupted.json();
        assert_eq!(doc["status"], "interrupted", "{cell}: {doc:#}");
        // The call in flight finished and is recorded: every intent has its outcome.
        let records = lab.records();
        let count = |kind: &str| records.iter().filter(|r| r["kind"] == kind).count();
        assert_eq!(count("intent"), count("outcome"), "{cell}");
        let steps_done = |records: &[Value]| {
            records
                .iter()
                .filter(|r| r["kind"] == "step_finished" && r["body"]["status"] == "succeeded")
                .count()
        };
        assert_eq!(
            steps_done(&records),
            step as usize - 1,
            "{cell}: steps before"
        );

        let done_before: Vec<(String, usize)> = ["SendCommand", "CreateSnapshots", "PutRolePolicy"]
            .iter()
            .map(|op| ((*op).to_owned(), lab.done(op)))
            .collect();
        let doc = lab.resume(&run_id);
        let statuses = support::runs::step_statuses(&doc);
        assert!(
            statuses
                .iter()
                .all(|s| *s == "succeeded" || *s == "skipped"),
            "{cell}: {doc:#}"
        );
        assert_eq!(steps_done(&lab.records()), 5, "{cell}: every step finished");
        // Nothing done before the interruption was done again.
        for (op, before) in done_before {
            // Two commands (memory, volatile data), one snapshot call, two denies.
            let expected = if op == "CreateSnapshots" { 1 } else { 2 };
            assert!(
                before <= expected && lab.done(&op) == expected,
                "{cell}: {op} {before} then {}",
                lab.done(&op)
            );
        }
        assert_eq!(lab.snapshots().await.len(), lab.volumes().await, "{cell}");
        assert_eq!(lab.memory_images().await, 1, "{cell}");
        assert_eq!(lab.deny_policies().await, 2, "{cell}");
    }
}
