//! A seeded X-Road estate behind its own game-day simulator, with the evidence buckets
//! and the instance role, for the fault-matrix tests: run a playbook, stop it mid-call,
//! resume it, and read back what AWS holds.

use std::time::{Duration, Instant};

use breakglass::aws::{AwsContext, Ec2Api, Ec2EvidenceApi, Ec2Filter, SsmApi};
use breakglass::sandbox::{
    EVIDENCE_BUCKET, Fault, FaultKind, INSTANCE_ROLE, ManagedInstance, Progress, Seeder, Session,
    Simulator, seed_evidence, seed_instance_role,
};
use serde_json::Value;
use tokio::sync::OnceCell;

use super::runs::{audit_path, records};
use super::{Account, REGION, Run};

/// The evidence buckets and tool, seeded once per emulator (bucket names are global).
pub async fn evidence_config() -> &'static str {
    static CONFIG: OnceCell<String> = OnceCell::const_new();
    CONFIG
        .get_or_init(|| async {
            let ctx = AwsContext::load(&super::settings("testing", "testing")).await;
            seed_evidence(&ctx, REGION).await.unwrap()
        })
        .await
}

/// One seeded estate behind its own simulator; `ss-prod-1` has the instance role, an
/// online agent and someone else's open session.
pub struct Lab {
    pub account: Account,
    pub sim: Simulator,
    pub ctx: AwsContext,
    pub id: String,
}

pub async fn lab() -> Lab {
    let account = Account::new().await;
    let sim = Simulator::start(&super::moto().endpoint()).await.unwrap();
    let ctx = account.context_at(&sim.endpoint()).await;
    let estate = Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
    let id = super::estate::id(&estate, "ss-prod-1");
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
    pub fn bg(&self) -> super::Bg {
        self.account
            .bg()
            .env("AWS_ENDPOINT_URL", self.sim.endpoint())
    }

    pub fn records(&self) -> Vec<Value> {
        records(&audit_path(&self.account))
    }

    /// Starts `playbook` (with `params`) on `ss-prod-1` with `fault` held by `hold`, waits
    /// for its intent (in `step` when given) and for the ledger to show the call held or
    /// answered, and sends `signal`; returns the result and run id.
    pub fn stop_during(
        &self,
        (playbook, params): (&str, &[&str]),
        (fault, hold): (&str, FaultKind),
        step: Option<u64>,
        signal: &str,
    ) -> (Run, String) {
        let operation = fault.split_once(':').unwrap().1;
        let hold_kind = hold.clone();
        let rule = Fault::on(fault, hold);
        self.sim
            .inject([if step.is_some() { rule } else { rule.times(1) }]);
        let child = self
            .bg()
            .args(super::live(playbook, "ss-prod-1", "IR-81"))
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
        // And the call is where the hold keeps it, as the simulator's ledger shows: held
        // before it is made (`latency`), or made and answered (`slow_answer`). The fault
        // holds every call of the operation from here, so the calls held so far match
        // the intents written.
        let intents = self
            .records()
            .iter()
            .filter(|r| r["kind"] == "intent" && r["body"]["operation"] == operation)
            .count();
        let at = match hold_kind {
            FaultKind::SlowAnswer { .. } => Progress::Answered,
            _ => Progress::Held,
        };
        let reached = || {
            let hit: Vec<_> = self
                .sim
                .ledger()
                .into_iter()
                .filter(|e| e.operation == fault && !e.faults.is_empty())
                .collect();
            hit.len() >= intents && hit.last().is_some_and(|e| e.progress == at)
        };
        while !reached() {
            assert!(Instant::now() < deadline, "{playbook}/{fault}: not reached");
            std::thread::sleep(Duration::from_millis(10));
        }
        let sent = std::process::Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let run = super::wait(child);
        let run_id = self.records()[0]["run_id"].as_str().unwrap().to_owned();
        (run, run_id)
    }

    pub fn resume(&self, run_id: &str) -> Value {
        self.sim.clear_faults();
        let doc = self.bg().resume(run_id);
        self.bg().args(["audit", "verify"]).run().assert_code(0);
        doc
    }

    /// Completed calls of `operation` (outcomes), across runs.
    pub fn done(&self, operation: &str) -> usize {
        self.records()
            .iter()
            .filter(|r| r["kind"] == "outcome" && r["body"]["operation"] == operation)
            .count()
    }

    pub async fn snapshots(&self) -> Vec<String> {
        let filter = [Ec2Filter {
            name: "tag:breakglass:source-instance".into(),
            values: vec![self.id.clone()],
        }];
        let ec2 = self.ctx.ec2(REGION);
        let found = ec2.describe_snapshots(&filter).await.unwrap().value;
        found.into_iter().map(|s| s.id).collect()
    }

    pub async fn volumes(&self) -> usize {
        let ec2 = self.ctx.ec2(REGION);
        let all = ec2.describe_instances(&[]).await.unwrap();
        let me = all.iter().find(|i| i.id == self.id).unwrap();
        me.volumes.len()
    }

    pub async fn memory_images(&self) -> usize {
        let s3 = aws_sdk_s3::Client::new(self.ctx.sdk_config());
        let listed = s3
            .list_objects_v2()
            .bucket(EVIDENCE_BUCKET)
            .prefix("breakglass/")
            .send()
            .await
            .unwrap();
        let mine = format!("/{}/", self.id);
        listed
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .filter(|k| k.contains(&mine) && k.ends_with("memory.lime"))
            .count()
    }

    /// The instance role's inline policies: breakglass's two denies (this instance's
    /// credentials, credentials issued before the revocation).
    pub async fn deny_policies(&self) -> usize {
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
    pub async fn commands(&self) -> usize {
        let ssm = aws_sdk_ssm::Client::new(self.ctx.sdk_config());
        let listed = ssm
            .list_commands()
            .instance_id(&self.id)
            .send()
            .await
            .unwrap();
        listed.commands().len()
    }

    pub async fn open_sessions(&self) -> usize {
        let ssm = self.ctx.ssm(REGION);
        ssm.describe_active_sessions(&self.id)
            .await
            .unwrap()
            .value
            .len()
    }
}
