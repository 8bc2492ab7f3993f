//! Reliability through the game-day simulator's fault injection: a throttled call in the
//! middle of `isolate` fails the step with the reason; `resume` finishes the job without
//! repeating a side effect that was already made; the audit chain verifies throughout; and
//! throttling across many concurrent targets is absorbed by the SDK's adaptive retry.

use crate::support;

use crate::support::{Account, REGION};
use breakglass::sandbox::{Fault, FaultKind, Seeder, Simulator};

/// The changes `operation` made after request `since`, as the simulator's ledger counts
/// them (made at AWS, not announced in our log).
fn made(sim: &Simulator, since: u64, operation: &str) -> usize {
    sim.ledger()
        .iter()
        .filter(|e| e.seq > since && e.operation == operation && support::ledger::changed(e))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_isolation_resumes_without_repeating_done_changes() {
    let account = Account::new().await;
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    let ctx = account.context_at(&sim.endpoint()).await;
    Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
    let seeded = sim.ledger().last().map_or(0, |e| e.seq);
    // Every network-interface change is throttled (the CLI makes one attempt per call here).
    sim.inject([Fault::on(
        "ec2:ModifyNetworkInterfaceAttribute",
        FaultKind::Throttle,
    )]);
    let run = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .args(support::live("isolate", "ss-prod-3", "IR-61"))
        .args(["--output", "json"])
        .run();
    run.assert_code(1);
    let doc = run.json();
    let step = &doc["targets"][0]["steps"][0];
    assert_eq!(step["status"], "failed");
    assert!(
        step["detail"]
            .as_str()
            .unwrap()
            .contains("RequestLimitExceeded"),
        "{step:#}"
    );
    let run_id = doc["run_id"].as_str().unwrap().to_owned();
    let (records, groups) = (
        made(&sim, seeded, "ssm:PutParameter"),
        made(&sim, seeded, "ec2:CreateSecurityGroup"),
    );
    assert_eq!(
        (records, groups),
        (1, 2),
        "the changes before the throttled call were made"
    );

    // The throttling ends; resume finishes without redoing what was done.
    sim.clear_faults();
    let doc = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .resume(&run_id);
    assert_eq!(doc["targets"][0]["steps"][0]["status"], "succeeded");
    assert_eq!(
        made(&sim, seeded, "ssm:PutParameter"),
        1,
        "the isolation record is not rewritten"
    );
    assert_eq!(
        made(&sim, seeded, "ec2:CreateSecurityGroup"),
        2,
        "the groups are not created again"
    );
    // Two swaps (untrack, then quarantine) of each of ss-prod-3's two interfaces.
    assert_eq!(made(&sim, seeded, "ec2:ModifyNetworkInterfaceAttribute"), 4);
    account.bg().args(["audit", "verify"]).run().assert_code(0);
}

/// Many targets at once under throttling: concurrency is bounded by the config, and the
/// SDK's adaptive retry absorbs the throttling errors without failing a target.
#[tokio::test(flavor = "multi_thread")]
async fn throttling_across_thirty_targets_is_absorbed_by_adaptive_retry() {
    use breakglass::sandbox::InstanceSpec;
    let account = Account::new().await;
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    let ctx = account.context_at(&sim.endpoint()).await;
    let seeder = Seeder::new(&ctx, REGION);
    let network = seeder.network("10.40.0.0/16", &["a", "b"]).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(
            seeder
                .launch(&InstanceSpec {
                    name: &format!("ss-many-{i}"),
                    subnet_id: &network.subnets[i % 2].1,
                    security_group_id: &network.security_group_id,
                    tags: &[("Role", "xroad-security-server")],
                    interfaces: 1,
                })
                .await
                .unwrap(),
        );
    }
    account.write_config("[aws]\nmax_attempts = 6\n\n[playbooks]\nconcurrency = 8\n");
    sim.inject([
        Fault::on("ec2:ModifyNetworkInterfaceAttribute", FaultKind::Throttle).times(12),
        Fault::on("ec2:CreateTags", FaultKind::Throttle).times(6),
    ]);
    let mut args = vec![
        "run",
        "isolate",
        "--incident",
        "IR-MANY",
        "--yes",
        "--output",
        "json",
    ];
    for id in &ids {
        args.extend(["-t", id.as_str()]);
    }
    let run = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .args(&args)
        .run();
    run.assert_code(0);
    let doc = run.json();
    let targets = doc["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 30);
    assert!(
        targets
            .iter()
            .all(|t| t["steps"][0]["status"] == "succeeded"),
        "{doc:#}"
    );
    assert!(
        sim.faults().is_empty(),
        "every throttle was met and absorbed"
    );
}
