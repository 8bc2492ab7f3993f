//! The fault matrix's process-kill cells: `breakglass --playbook isolate` is killed with
//! SIGKILL while each of its changing calls is in flight, then resumed — twice per call:
//! held before it reaches AWS (the simulator's `latency`: the call is never made) and held
//! after (`slow_answer`: the call is made, its answer never read). Either way the kill
//! lands after the intent record and before the outcome.
//! For every cell: the audit chain verifies; the killed call has an intent and no outcome;
//! `resume` finishes the run; no completed side effect is made twice; and the server ends
//! fully isolated — never in an unrecorded third state. See docs/reliability.md.

use crate::support;

use std::time::{Duration, Instant};

use crate::support::estate::{breakglass_groups, state};
use crate::support::runs::records;
use crate::support::{Account, REGION};
use breakglass::sandbox::{Fault, FaultKind, Seeder, Simulator};
use serde_json::Value;

/// Every call of `isolate` that changes something, by service.
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

/// Intents and outcomes of `operation` in the log.
fn calls(records: &[Value], operation: &str) -> (usize, usize) {
    let count = |kind: &str| {
        records
            .iter()
            .filter(|r| r["kind"] == kind && r["body"]["operation"] == operation)
            .count()
    };
    (count("intent"), count("outcome"))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kill_during_any_change_of_isolate_is_finished_by_resume() {
    let holds = [
        FaultKind::Latency { millis: 3_000 },
        FaultKind::SlowAnswer { millis: 3_000 },
    ];
    for (fault, hold) in CHANGES
        .iter()
        .flat_map(|f| holds.iter().map(move |h| (*f, h.clone())))
    {
        let operation = fault.split_once(':').unwrap().1;
        let account = Account::new().await;
        let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
        let ctx = account.context_at(&sim.endpoint()).await;
        let estate = Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
        let id = support::estate::id(&estate, "ss-prod-3");
        sim.inject([Fault {
            operation: fault.into(),
            kind: hold.clone(),
            times: Some(1),
        }]);
        let fault = format!("{fault} ({hold:?})");
        let mut child = account
            .bg()
            .env("AWS_ENDPOINT_URL", sim.endpoint())
            .args(support::live("isolate", "ss-prod-3", "IR-80"))
            .spawn();
        let log = support::runs::audit_path(&account);
        let deadline = Instant::now() + Duration::from_secs(60);
        while calls(&records(&log), operation).0 == 0 {
            assert!(
                Instant::now() < deadline,
                "{fault}: no intent for {operation}"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "{fault}: ended before the call"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        let before = records(&log);
        assert_eq!(
            calls(&before, operation),
            (1, 0),
            "{fault}: intent, no outcome"
        );
        account.bg().args(["audit", "verify"]).run().assert_code(0);
        let run_id = before[0]["run_id"].as_str().unwrap().to_owned();
        // Everything that completed before the kill, by operation.
        let done: Vec<(String, usize)> = CHANGES
            .iter()
            .map(|f| f.split_once(':').unwrap().1)
            .map(|op| (op.to_owned(), calls(&before, op).1))
            .collect();

        // Let a held answer come (to no one) before resuming, as a responder would.
        std::thread::sleep(Duration::from_millis(3_200));
        sim.clear_faults();
        let doc = account
            .bg()
            .env("AWS_ENDPOINT_URL", sim.endpoint())
            .resume(&run_id);
        assert_eq!(
            doc["targets"][0]["steps"][0]["status"], "succeeded",
            "{fault}: {doc:#}"
        );
        account.bg().args(["audit", "verify"]).run().assert_code(0);

        // No completed change was made again: resume only redoes what had not answered.
        let after = records(&log);
        for (op, completed) in &done {
            if *completed == 0 || op == "ModifyNetworkInterfaceAttribute" || op == "CreateTags" {
                continue; // made once per interface / per state change; checked below
            }
            assert_eq!(calls(&after, op).1, *completed, "{fault}: {op} repeated");
        }
        // Exactly the "after" state: every interface in the quarantine group alone,
        // protected, in Standby, tagged isolated.
        let now = state(&ctx, &id).await;
        let vpc = estate.network.vpc_id.clone();
        let quarantine = &breakglass_groups(&ctx, &vpc).await["breakglass-quarantine"];
        assert_eq!(quarantine.len(), 1, "{fault}: one quarantine group");
        for (eni, groups) in &now.interfaces {
            assert_eq!(groups, &vec![quarantine[0].id.clone()], "{fault}: {eni}");
        }
        assert_eq!(now.termination_protected, "true", "{fault}");
        assert_eq!(now.auto_scaling.as_ref().unwrap().1, "Standby", "{fault}");
        assert!(
            now.registrations.is_empty(),
            "{fault}: {:?}",
            now.registrations
        );
        assert_eq!(now.tags["breakglass:state"], "isolated", "{fault}");
    }
}
