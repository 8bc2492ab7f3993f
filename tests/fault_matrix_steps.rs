//! The fault matrix's cells for the evidence and revocation playbooks, and for `contain`
//! step by step: `breakglass` is killed with SIGKILL while each changing call of
//! `snapshot`, `capture-memory` and `revoke-sessions` is in flight — held before it reaches
//! AWS (the simulator's `latency`) and after it was made (`slow_answer`) — and interrupted
//! with Ctrl-C (SIGINT) during each of `contain`'s five steps; then resumed. For every cell: the chain verifies; a killed call has an intent and
//! no outcome, an interrupted one finishes and is recorded; `resume` finishes the run; no
//! completed side effect is made twice (no second set of snapshots, no second memory image,
//! no second deny policy); the end state is the finished run's. See docs/reliability.md.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use breakglass::aws::{AwsContext, Ec2Api, Ec2EvidenceApi, Ec2Filter, SsmApi};
use breakglass::sandbox::{
    EVIDENCE_BUCKET, Fault, FaultKind, INSTANCE_ROLE, ManagedInstance, Seeder, Session, Simulator,
    seed_evidence, seed_instance_role,
};
use common::runs::{audit_path, records};
use common::{Account, REGION, Run};
use serde_json::Value;
use tokio::sync::OnceCell;

/// The evidence buckets and tool, seeded once per emulator (bucket names are global).
async fn evidence_config() -> &'static str {
    static CONFIG: OnceCell<String> = OnceCell::const_new();
    CONFIG
        .get_or_init(|| async {
            let ctx = AwsContext::load(&common::settings("testing", "testing")).await;
            seed_evidence(&ctx, REGION).await.unwrap()
        })
        .await
}

/// One seeded estate behind its own simulator; `ss-prod-1` has the instance role, an
/// online agent and someone else's open session.
struct Lab {
    account: Account,
    sim: Simulator,
    ctx: AwsContext,
    id: String,
}

async fn lab() -> Lab {
    let account = Account::new().await;
    let sim = Simulator::start(&common::moto().endpoint()).await.unwrap();
    let ctx = account.context_at(&sim.endpoint()).await;
    let estate = Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
    let id = common::estate::id(&estate, "ss-prod-1");
    seed_instance_role(&ctx, REGION, std::slice::from_ref(&id))
        .await
        .unwrap();
    sim.manage(estate.servers.iter().map(|(_, id)| ManagedInstance {
        instance_id: id.clone(),
        ping_status: "Online".into(),
        platform_type: "Linux".into(),
    }));
    sim.open_sessions([Session {
        session_id: "alice-0123456789abcdef0".into(),
        target: id.clone(),
        owner: format!("arn:aws:sts::{}:assumed-role/Dev/alice", account.id),
    }]);
    sim.set_timing(Duration::from_millis(500), Duration::from_millis(500));
    account.write_config(&format!(
        "{}\n[aws]\nmax_attempts = 1\n",
        evidence_config().await
    ));
    Lab {
        account,
        sim,
        ctx,
        id,
    }
}

impl Lab {
    fn bg(&self) -> common::Bg {
        self.account
            .bg()
            .env("AWS_ENDPOINT_URL", self.sim.endpoint())
    }

    fn records(&self) -> Vec<Value> {
        records(&audit_path(&self.account))
    }

    /// Starts `playbook` (with `params`) on `ss-prod-1` with `fault` held by `hold`, waits
    /// for its intent (in `step` when given), and sends `signal`; returns the result and
    /// run id.
    fn stop_during(
        &self,
        (playbook, params): (&str, &[&str]),
        (fault, hold): (&str, FaultKind),
        step: Option<u64>,
        signal: &str,
    ) -> (Run, String) {
        let operation = fault.split_once(':').unwrap().1;
        self.sim.inject([Fault {
            operation: fault.into(),
            kind: hold,
            times: if step.is_some() { None } else { Some(1) },
        }]);
        let child = self
            .bg()
            .args(common::live(playbook, "ss-prod-1", "IR-81"))
            .args(params)
            .args(["--output", "json"])
            .spawn();
        let deadline = Instant::now() + Duration::from_secs(90);
        let in_flight = |r: &Value| {
            r["kind"] == "intent"
                && r["body"]["operation"] == operation
                && step.is_none_or(|s| r["body"]["step"] == s)
        };
        while !self.records().iter().any(in_flight) {
            assert!(Instant::now() < deadline, "{playbook}/{fault}: no intent");
            std::thread::sleep(Duration::from_millis(20));
        }
        let sent = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let run = common::wait(child);
        let run_id = self.records()[0]["run_id"].as_str().unwrap().to_owned();
        (run, run_id)
    }

    fn resume(&self, run_id: &str) -> Value {
        self.sim.clear_faults();
        let resumed = self
            .bg()
            .args(["resume", run_id, "--yes", "--output", "json"])
            .run();
        resumed.assert_code(0);
        self.bg().args(["audit", "verify"]).run().assert_code(0);
        resumed.json()
    }

    /// Completed calls of `operation` (outcomes), across runs.
    fn done(&self, operation: &str) -> usize {
        self.records()
            .iter()
            .filter(|r| r["kind"] == "outcome" && r["body"]["operation"] == operation)
            .count()
    }

    async fn snapshots(&self) -> Vec<String> {
        let filter = [Ec2Filter {
            name: "tag:breakglass:source-instance".into(),
            values: vec![self.id.clone()],
        }];
        let ec2 = self.ctx.ec2(REGION);
        let found = ec2.describe_snapshots(&filter).await.unwrap().value;
        found.into_iter().map(|s| s.id).collect()
    }

    async fn volumes(&self) -> usize {
        let ec2 = self.ctx.ec2(REGION);
        let all = ec2.describe_instances(&[]).await.unwrap();
        let me = all.iter().find(|i| i.id == self.id).unwrap();
        me.volumes.len()
    }

    async fn memory_images(&self) -> usize {
        let s3 = aws_sdk_s3::Client::new(self.ctx.sdk_config());
        let listed = s3
            .list_objects_v2()
            .bucket(EVIDENCE_BUCKET)
            .prefix(format!("breakglass/IR-81/{}/", self.id))
            .send()
            .await
            .unwrap();
        listed
            .contents()
            .iter()
            .filter(|o| o.key().unwrap_or_default().ends_with("memory.lime"))
            .count()
    }

    /// The instance role's inline policies: breakglass's two denies (this instance's
    /// credentials, credentials issued before the revocation).
    async fn deny_policies(&self) -> usize {
        let iam = aws_sdk_iam::Client::new(self.ctx.sdk_config());
        let names = iam
            .list_role_policies()
            .role_name(INSTANCE_ROLE)
            .send()
            .await
            .unwrap();
        names.policy_names().len()
    }

    /// The commands sent to the instance.
    async fn commands(&self) -> usize {
        let ssm = aws_sdk_ssm::Client::new(self.ctx.sdk_config());
        let listed = ssm
            .list_commands()
            .instance_id(&self.id)
            .send()
            .await
            .unwrap();
        listed.commands().len()
    }

    async fn open_sessions(&self) -> usize {
        let ssm = self.ctx.ssm(REGION);
        ssm.describe_active_sessions(&self.id)
            .await
            .unwrap()
            .value
            .len()
    }
}

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
        let statuses: Vec<&str> = doc["targets"][0]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["status"].as_str().unwrap())
            .collect();
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
