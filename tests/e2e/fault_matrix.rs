//! The fault matrix's process-kill cells for `isolate`. A clean run's ledger (the game-day
//! simulator's record of every request) names each change the playbook makes, in order;
//! then each of them is hit in an estate of its own — `breakglass --playbook isolate` is
//! killed with SIGKILL while that call is held before it reaches AWS (`latency`: the ledger
//! shows it held, and it is never made) and after the emulator answered it (`slow_answer`:
//! the ledger shows it answered, its answer never read) — and the run is resumed.
//!
//! Every cell: the killed call has its intent as the log's last record; the chain
//! verifies; `resume` succeeds (`already_done` when the call killed after it was made was
//! the run's last change); the changes the ledger counts are exactly a clean run's —
//! each once per resource, none repeated, none missing —; and the server ends fully
//! isolated, never in an unrecorded third state. See docs/reliability.md.

use std::time::Duration;

use crate::support;
use crate::support::estate::{breakglass_groups, state};
use crate::support::ledger::{Labels, change_calls, changes};
use crate::support::runs::{audit_path, records};
use crate::support::{Account, REGION};
use breakglass::aws::AwsContext;
use breakglass::sandbox::{Estate, Fault, FaultKind, Progress, Seeder, Simulator};

/// Every call of `isolate` that changes something: each must be among a clean run's.
const CHANGES: [&str; 8] = [
    "ssm:PutParameter",
    "ec2:CreateTags",
    "ec2:ModifyInstanceAttribute",
    "autoscaling:SetInstanceProtection",
    "autoscaling:EnterStandby",
    "elasticloadbalancing:DeregisterTargets",
    "ec2:CreateSecurityGroup",
    "ec2:ModifyNetworkInterfaceAttribute",
];

/// How long a held call is held: long enough to kill the run while it is.
const HOLD: Duration = Duration::from_secs(3);

const WAIT: Duration = Duration::from_secs(60);

/// A seeded estate behind its own simulator; `ss-prod-3` is the target.
struct Cell {
    account: Account,
    sim: Simulator,
    ctx: AwsContext,
    estate: Estate,
    id: String,
    /// The ledger's last entry once the estate was seeded (the seeding went through it).
    seeded: u64,
}

impl Cell {
    async fn new() -> Cell {
        let account = Account::new().await;
        let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
        let ctx = account.context_at(&sim.endpoint()).await;
        let estate = Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
        let id = support::estate::id(&estate, "ss-prod-3");
        let seeded = sim.ledger().last().map_or(0, |e| e.seq);
        Cell {
            account,
            sim,
            ctx,
            estate,
            id,
            seeded,
        }
    }

    /// The requests since the estate was seeded: breakglass's.
    fn ledger(&self) -> Vec<breakglass::sandbox::LedgerEntry> {
        let mut entries = self.sim.ledger();
        entries.retain(|e| e.seq > self.seeded);
        entries
    }

    fn bg(&self) -> support::Bg {
        self.account
            .bg()
            .env("AWS_ENDPOINT_URL", self.sim.endpoint())
    }

    async fn labels(&self) -> Labels {
        Labels::of(&self.ctx, &self.estate, &self.id, &self.account.id).await
    }

    /// Exactly the "after" state: every interface in the one quarantine group alone,
    /// protected, in Standby, out of the target group, tagged isolated.
    async fn assert_isolated(&self, cell: &str) {
        let now = state(&self.ctx, &self.id).await;
        let groups = breakglass_groups(&self.ctx, &self.estate.network.vpc_id).await;
        let quarantine = &groups["breakglass-quarantine"];
        assert_eq!(quarantine.len(), 1, "{cell}: one quarantine group");
        for (eni, groups) in &now.interfaces {
            assert_eq!(groups, &vec![quarantine[0].id.clone()], "{cell}: {eni}");
        }
        assert_eq!(now.termination_protected, "true", "{cell}");
        assert_eq!(now.auto_scaling.as_ref().unwrap().1, "Standby", "{cell}");
        assert!(
            now.registrations.is_empty(),
            "{cell}: {:?}",
            now.registrations
        );
        assert_eq!(now.tags["breakglass:state"], "isolated", "{cell}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_during_any_change_of_isolate_is_finished_by_resume() {
    // The reference: a clean run and the changes it made, in order.
    let clean = Cell::new().await;
    clean
        .bg()
        .args(support::live("isolate", "ss-prod-3", "IR-80"))
        .run()
        .assert_code(0);
    clean.assert_isolated("clean run").await;
    let ledger = clean.ledger();
    let expected = changes(&ledger, &clean.labels().await);
    let cells = change_calls(&ledger);
    for operation in CHANGES {
        assert!(
            cells.iter().any(|(o, _)| o == operation),
            "a clean isolate makes {operation}: {cells:?}"
        );
    }

    let holds = [
        FaultKind::Latency {
            millis: HOLD.as_millis() as u64,
        },
        FaultKind::SlowAnswer {
            millis: HOLD.as_millis() as u64,
        },
    ];
    for ((operation, nth), hold) in cells
        .iter()
        .flat_map(|c| holds.iter().map(move |h| (c, h.clone())))
    {
        let cell = format!("{operation} #{nth} killed during {}", hold.name());
        let c = Cell::new().await;
        c.sim
            .inject([Fault::on(operation, hold.clone()).nth(*nth).times(1)]);
        let mut child = c
            .bg()
            .args(support::live("isolate", "ss-prod-3", "IR-80"))
            .spawn();
        // Killed once the ledger shows the call held (not made) or answered (made).
        let made = matches!(hold, FaultKind::SlowAnswer { .. });
        let hit = c
            .sim
            .wait_for_request(WAIT, |e| {
                &e.operation == operation
                    && !e.faults.is_empty()
                    && e.progress
                        == if made {
                            Progress::Answered
                        } else {
                            Progress::Held
                        }
            })
            .await
            .unwrap_or_else(|| panic!("{cell}: the call was not reached"));
        child.kill().unwrap(); // SIGKILL
        let killed = child.wait().unwrap();
        assert_eq!(killed.code(), None, "{cell}: ended by the signal");
        if made {
            assert!(hit.succeeded(), "{cell}: {hit:?}");
        } else {
            // A held call whose client is gone is never made, however long one waits.
            tokio::time::sleep(HOLD + Duration::from_millis(500)).await;
            let later = c.sim.ledger().into_iter().find(|e| e.seq == hit.seq);
            assert_eq!(
                later.map(|e| e.progress),
                Some(Progress::Held),
                "{cell}: the held call was made after its client died"
            );
        }

        // The log ends with the killed call's intent: no outcome, and nothing after it.
        let log = records(&audit_path(&c.account));
        let last = log.last().unwrap();
        let name = operation.split_once(':').unwrap().1;
        assert_eq!(
            (last["kind"].as_str(), last["body"]["operation"].as_str()),
            (Some("intent"), Some(name)),
            "{cell}: {last}"
        );
        c.bg().args(["audit", "verify"]).run().assert_code(0);
        let run_id = log[0]["run_id"].as_str().unwrap().to_owned();

        c.sim.clear_faults();
        let doc = c.bg().resume(&run_id);
        // The last change made before the kill leaves nothing to do but to say so.
        let expected_status = if made && cells.last() == Some(&(operation.clone(), *nth)) {
            "already_done"
        } else {
            "succeeded"
        };
        assert_eq!(
            doc["targets"][0]["steps"][0]["status"], expected_status,
            "{cell}: {doc:#}"
        );
        c.bg().args(["audit", "verify"]).run().assert_code(0);

        // Counted at AWS: the same changes as the clean run, each as often, and the same
        // end state.
        assert_eq!(
            changes(&c.ledger(), &c.labels().await),
            expected,
            "{cell}: the changes made differ from a clean run's"
        );
        c.assert_isolated(&cell).await;
    }
}
