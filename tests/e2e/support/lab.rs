//! A seeded X-Road estate behind its own game-day simulator, with the evidence buckets
//! and the target's instance role, for the fault-matrix tests: run a playbook, stop it
//! mid-call, resume it, and read back what AWS holds — and what the simulator's ledger says
//! reached it.

use std::time::{Duration, Instant};

use breakglass::aws::{AwsContext, Ec2EvidenceApi, Ec2Filter, SsmApi};
use breakglass::sandbox::{
    EVIDENCE_BUCKET, Estate, Fault, FaultKind, INSTANCE_ROLE, LedgerEntry, ManagedInstance,
    Progress, Seeder, Session, Simulator, seed_evidence, seed_instance_role,
};
use serde_json::Value;
use tokio::sync::OnceCell;

use super::ledger::Labels;
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

/// One seeded estate behind its own simulator. The target (`name`) has the instance role,
/// an online agent and someone else's open session; every server is managed by SSM.
pub struct Lab {
    pub account: Account,
    pub sim: Simulator,
    pub ctx: AwsContext,
    pub estate: Estate,
    /// The target's name and instance id.
    pub name: &'static str,
    pub id: String,
    /// The ledger's last entry before the part of the test that counts (see [`Lab::mark`]).
    pub seeded: u64,
}

impl Lab {
    /// A lab whose target is the estate's server `name`.
    pub async fn at(name: &'static str) -> Lab {
        let account = Account::new().await;
        let sim = Simulator::start(&super::moto().endpoint()).await.unwrap();
        let ctx = account.context_at(&sim.endpoint()).await;
        let estate = Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
        let id = super::estate::id(&estate, name);
        seed_instance_role(&ctx, REGION, std::slice::from_ref(&id))
            .await
            .unwrap();
        sim.manage(
            estate
                .servers
                .iter()
                .map(|(_, id)| ManagedInstance::new(id.clone())),
        );
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
        let mut lab = Lab {
            account,
            sim,
            ctx,
            estate,
            name,
            id,
            seeded: 0,
        };
        lab.mark();
        lab
    }

    /// From here on, [`Lab::ledger`] holds only what comes next (the seeding, or a run that
    /// prepares the one under test, went through the simulator too).
    pub fn mark(&mut self) {
        self.seeded = self.sim.ledger().last().map_or(0, |e| e.seq);
    }

    /// The requests since the last [`Lab::mark`].
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        let mut entries = self.sim.ledger();
        entries.retain(|e| e.seq > self.seeded);
        entries
    }

    /// This estate's ids and the role each plays, to compare ledgers of two estates.
    pub async fn labels(&self) -> Labels {
        let mut runs: Vec<String> = Vec::new();
        for record in self.records() {
            if let Some(run) = record["run_id"]
                .as_str()
                .filter(|r| !runs.iter().any(|k| k == r))
            {
                runs.push(run.to_owned());
            }
        }
        Labels::of(&self.ctx, &self.estate, &self.id, &self.account.id)
            .await
            .with_runs(runs.iter().map(String::as_str))
    }

    /// `run PLAYBOOK` on the target, live and confirmed.
    pub fn run(&self, playbook: &str) -> super::Bg {
        self.bg().args(super::live(playbook, self.name, "IR-81"))
    }

    pub fn bg(&self) -> super::Bg {
        self.account
            .bg()
            .env("AWS_ENDPOINT_URL", self.sim.endpoint())
    }

    pub fn records(&self) -> Vec<Value> {
        records(&audit_path(&self.account))
    }

    /// Starts `playbook` (with `params`) on the target with `fault` held by `hold`, waits
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
            .args(super::live(playbook, self.name, "IR-81"))
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

    /// The target's snapshots: per source volume, how many, and each one's tag keys.
    pub async fn snapshot_summary(&self) -> String {
        let filter = [Ec2Filter {
            name: "tag:breakglass:source-instance".into(),
            values: vec![self.id.clone()],
        }];
        let ec2 = self.ctx.ec2(REGION);
        let mut found: Vec<String> = ec2
            .describe_snapshots(&filter)
            .await
            .unwrap()
            .value
            .into_iter()
            .map(|s| {
                let keys: Vec<&String> = s.tags.keys().collect();
                format!("{} {keys:?}", s.volume_id.as_deref().unwrap_or("?"))
            })
            .collect();
        found.sort();
        format!("{found:?}")
    }

    /// The evidence bucket's objects about the target: key and how many versions.
    pub async fn evidence_versions(&self) -> String {
        let s3 = aws_sdk_s3::Client::new(self.ctx.sdk_config());
        let listed = s3
            .list_object_versions()
            .bucket(EVIDENCE_BUCKET)
            .prefix("breakglass/")
            .send()
            .await
            .unwrap();
        let mine = format!("/{}/", self.id);
        let mut versions: std::collections::BTreeMap<String, usize> = Default::default();
        for key in listed.versions().iter().filter_map(|v| v.key()) {
            if key.contains(&mine) {
                *versions.entry(key.to_owned()).or_default() += 1;
            }
        }
        format!("{versions:?}")
    }

    /// The instance role's inline policies, name → document, with times written `<time>`
    /// (the revocation's own time differs from run to run).
    pub async fn policy_documents(&self) -> String {
        let iam = aws_sdk_iam::Client::new(self.ctx.sdk_config());
        let names = iam
            .list_role_policies()
            .role_name(INSTANCE_ROLE)
            .send()
            .await
            .unwrap();
        let mut docs = std::collections::BTreeMap::new();
        for name in names.policy_names() {
            let got = iam
                .get_role_policy()
                .role_name(INSTANCE_ROLE)
                .policy_name(name)
                .send()
                .await
                .unwrap();
            let text = urlencoding_decode(got.policy_document());
            let mut doc: Value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            blank_times(&mut doc);
            docs.insert(name.to_owned(), doc.to_string());
        }
        format!("{docs:?}")
    }
}

/// IAM returns policy documents URL-encoded.
fn urlencoding_decode(text: &str) -> String {
    form_urlencoded::parse(format!("d={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Every string in `doc` that is an RFC 3339 time, as `<time>`.
fn blank_times(doc: &mut Value) {
    match doc {
        Value::String(s) if chrono::DateTime::parse_from_rfc3339(s).is_ok() => {
            *s = "<time>".into();
        }
        Value::Array(items) => items.iter_mut().for_each(blank_times),
        Value::Object(fields) => fields.values_mut().for_each(blank_times),
        _ => {}
    }
}
