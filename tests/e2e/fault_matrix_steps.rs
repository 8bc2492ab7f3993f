//! The fault matrix's Ctrl-C cells for `contain`, step by step: `breakglass` is interrupted
//! with Ctrl-C (SIGINT) while a changing call of each of its five steps is held before it
//! reaches AWS, then resumed. For every cell: the call in flight finishes and is recorded,
//! the run ends `interrupted` after the steps before it; `resume` finishes every step; and,
//! counted at AWS (the simulator's ledger), the changes made are a clean run's — none
//! repeated, none missing — and the end state is the clean run's. (The kill cells of every
//! playbook are in `fault_matrix`.) See docs/reliability.md.

use crate::support;
use crate::support::matrix::{Playbook, prepared, reference};
use breakglass::sandbox::FaultKind;
use serde_json::Value;

static CONTAIN: Playbook = Playbook {
    name: "contain",
    params: &[],
    after: None,
};

/// `contain`'s steps, a changing call of each, and how the resumed run finds that step:
/// `already_done` when the held call was its last change (revoke-sessions writes its one
/// policy last).
const CONTAIN_STEPS: [(u64, &str, &str); 5] = [
    (1, "ssm:SendCommand", "succeeded"),
    (2, "ssm:SendCommand", "succeeded"),
    (3, "ec2:ModifyNetworkInterfaceAttribute", "succeeded"),
    (4, "iam:PutRolePolicy", "already_done"),
    (5, "ec2:CreateSnapshots", "succeeded"),
];

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_each_step_of_contain_stops_cleanly_and_resume_finishes() {
    let clean = reference(&CONTAIN).await;
    for (step, fault, resumed) in CONTAIN_STEPS {
        let cell = format!("step {step} ({fault})");
        let lab = prepared(&CONTAIN).await;
        // Held for less than the attempt timeout: the call goes on once it is let through.
        let hold = FaultKind::Latency { millis: 1_500 };
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
                .filter(|r| {
                    r["kind"] == "step_finished"
                        && matches!(
                            r["body"]["status"].as_str(),
                            Some("succeeded" | "already_done")
                        )
                })
                .count()
        };
        assert_eq!(
            steps_done(&records),
            step as usize - 1,
            "{cell}: steps before"
        );

        let doc = lab.resume(&run_id);
        let statuses = support::runs::step_statuses(&doc);
        // The steps done before are skipped, the interrupted one is finished, the rest run.
        let expected: Vec<&str> = (1..=5)
            .map(|n| match n.cmp(&step) {
                std::cmp::Ordering::Less => "skipped",
                std::cmp::Ordering::Equal => resumed,
                std::cmp::Ordering::Greater => "succeeded",
            })
            .collect();
        assert_eq!(statuses, expected, "{cell}: {doc:#}");
        assert_eq!(steps_done(&lab.records()), 5, "{cell}: every step finished");
        // Counted at AWS: nothing done before the interruption was done again, nothing
        // is missing, and AWS holds what a clean run leaves.
        let labels = lab.labels().await;
        assert_eq!(
            support::ledger::changes(&lab.ledger(), &labels),
            clean.changes,
            "{cell}: the changes made differ from a clean run's"
        );
        assert_eq!(
            support::matrix::end_state(&lab, &labels).await,
            clean.end,
            "{cell}: end state"
        );
    }
}

/// Release after an isolation that was killed half-way and resumed: the record the resumed
/// run kept is the true original, so release restores exactly what the instance had.
#[tokio::test(flavor = "multi_thread")]
async fn release_after_a_killed_and_resumed_isolation_restores_the_true_original() {
    use crate::support::estate::state;
    use crate::support::lab::Lab;
    let lab = Lab::at("ss-prod-3").await;
    let original = state(&lab.ctx, &lab.id).await;
    // Killed once the first swap of the first interface was made (the ledger shows it
    // answered): the interface is in the untrack group, the rest untouched.
    let (killed, run_id) = lab.stop_during(
        ("isolate", &[]),
        (
            "ec2:ModifyNetworkInterfaceAttribute",
            FaultKind::SlowAnswer { millis: 3_000 },
        ),
        None,
        "-KILL",
    );
    assert_eq!(killed.code, -1, "killed");
    let halfway = state(&lab.ctx, &lab.id).await;
    assert_ne!(halfway.interfaces, original.interfaces, "one swap was made");
    let doc = lab.resume(&run_id);
    assert_eq!(
        doc["targets"][0]["steps"][0]["status"], "succeeded",
        "{doc:#}"
    );
    lab.run("release").run().assert_code(0);
    assert_eq!(
        state(&lab.ctx, &lab.id).await.untagged(),
        original.untagged(),
        "release restores the state from before the first run"
    );
}

/// `contain` takes the memory — uploaded by the host and read back by breakglass — before
/// it changes the network, as the simulator's ledger orders the requests.
#[tokio::test(flavor = "multi_thread")]
async fn contain_has_the_memory_verified_before_the_first_network_change() {
    let lab = crate::support::lab::Lab::at("ss-prod-3").await;
    lab.run("contain").run().assert_code(0);
    let ledger = lab.ledger();
    let first = |what: &dyn Fn(&breakglass::sandbox::LedgerEntry) -> bool| {
        ledger
            .iter()
            .find(|e| what(e))
            .map(|e| e.seq)
            .unwrap_or_else(|| panic!("not in the ledger: {ledger:#?}"))
    };
    let last = |what: &dyn Fn(&breakglass::sandbox::LedgerEntry) -> bool| {
        ledger
            .iter()
            .rev()
            .find(|e| what(e))
            .map(|e| e.seq)
            .unwrap()
    };
    let memory = |e: &breakglass::sandbox::LedgerEntry| {
        e.resources.iter().any(|r| r.ends_with("/memory.lime"))
    };
    let uploaded = first(&|e| e.operation == "s3:PutObject" && memory(e) && e.succeeded());
    let verified =
        last(&|e| matches!(e.operation.as_str(), "s3:GetObject" | "s3:HeadObject") && memory(e));
    let cut = first(&|e| e.operation == "ec2:ModifyNetworkInterfaceAttribute");
    assert!(
        uploaded < verified && verified < cut,
        "upload #{uploaded}, verification #{verified}, first network change #{cut}"
    );
}

/// `contain` cuts the credentials right after the network and snapshots last: a snapshot
/// that cannot be taken (denied here) stops the run after the revocation, not before it.
#[tokio::test(flavor = "multi_thread")]
async fn contain_revokes_the_credentials_before_the_snapshots_and_whatever_they_do() {
    use breakglass::sandbox::{Fault, FaultKind, Progress};
    let lab = crate::support::lab::Lab::at("ss-prod-3").await;
    lab.sim
        .inject([Fault::on("ec2:CreateSnapshots", FaultKind::Deny)]);
    let run = lab.run("contain").args(["--output", "json"]).run();
    run.assert_code(1);
    let doc = run.json();
    let statuses = support::runs::step_statuses(&doc);
    assert_eq!(
        statuses,
        ["succeeded", "succeeded", "succeeded", "succeeded", "failed"]
    );
    let ledger = lab.ledger();
    let seq = |operation: &str, refused: bool| {
        ledger
            .iter()
            .find(|e| e.operation == operation && (e.progress == Progress::Refused) == refused)
            .map(|e| e.seq)
            .unwrap_or_else(|| panic!("no {operation} in the ledger"))
    };
    let revoked = seq("iam:PutRolePolicy", false);
    let snapshot = seq("ec2:CreateSnapshots", true);
    assert!(
        revoked < snapshot,
        "revoked #{revoked}, snapshot #{snapshot}"
    );
}
