//! Auto Scaling as it behaves, not as moto does (the simulator models it): `EnterStandby`
//! passes through `EnteringStandby`, `DetachInstances` through `Detaching`, a lifecycle hook
//! holds a launching instance in `Pending:Wait` (where `EnterStandby` is refused) or a
//! terminating one in `Terminating:Wait`. isolate asks, cuts the network, and only then
//! waits; a run that finds the instance on its way picks up from there. Counted in the
//! simulator's ledger and read back from the emulator.

use std::time::Duration;

use breakglass::aws::AutoScalingApi;
use breakglass::sandbox::LedgerEntry;

use crate::support::REGION;
use crate::support::lab::Lab;

const TRANSITION: Duration = Duration::from_secs(3);

fn isolate(lab: &Lab, params: &[&str]) -> (i32, serde_json::Value) {
    let run = lab
        .run("isolate")
        .args(params)
        .args(["--output", "json"])
        .run();
    let doc = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", run.stdout, run.stderr));
    (run.code, doc)
}

fn first(ledger: &[LedgerEntry], operation: &str) -> u64 {
    ledger
        .iter()
        .find(|e| e.operation == operation && e.succeeded())
        .map(|e| e.seq)
        .unwrap_or_else(|| panic!("no {operation} made"))
}

/// Describes of the instance's membership made after `seq`.
fn polls_after(ledger: &[LedgerEntry], seq: u64) -> usize {
    ledger
        .iter()
        .filter(|e| e.seq > seq && e.operation == "autoscaling:DescribeAutoScalingInstances")
        .count()
}

async fn lifecycle(lab: &Lab) -> Option<String> {
    lab.ctx
        .autoscaling(REGION)
        .describe_membership(&lab.id)
        .await
        .unwrap()
        .value
        .map(|m| m.lifecycle_state)
}

fn noted(lab: &Lab, text: &str) -> bool {
    lab.records().iter().any(|r| {
        r["kind"] == "note"
            && r["body"]["message"]
                .as_str()
                .is_some_and(|m| m.contains(text))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn standby_takes_a_while_and_is_waited_for_after_the_network_is_cut() {
    let mut lab = Lab::at("ss-prod-3").await;
    lab.sim.set_lifecycle_transition(TRANSITION);
    lab.mark();
    let (code, doc) = isolate(&lab, &[]);
    assert_eq!(code, 0, "{doc:#}");
    let ledger = lab.ledger();
    let standby = first(&ledger, "autoscaling:EnterStandby");
    let cut = first(&ledger, "ec2:ModifyNetworkInterfaceAttribute");
    assert!(standby < cut, "asked for before the cut");
    // The wait through EnteringStandby came after the cut: several looks, all after it.
    assert!(polls_after(&ledger, cut) >= 2, "{ledger:#?}");
    assert_eq!(lifecycle(&lab).await.as_deref(), Some("Standby"));
}

#[tokio::test(flavor = "multi_thread")]
async fn detaching_takes_a_while_and_is_waited_for() {
    let mut lab = Lab::at("ss-prod-3").await;
    lab.sim.set_lifecycle_transition(TRANSITION);
    lab.mark();
    let (code, doc) = isolate(&lab, &["-p", "auto_scaling=detach"]);
    assert_eq!(code, 0, "{doc:#}");
    let ledger = lab.ledger();
    let cut = first(&ledger, "ec2:ModifyNetworkInterfaceAttribute");
    assert!(polls_after(&ledger, cut) >= 2, "{ledger:#?}");
    assert_eq!(lifecycle(&lab).await, None);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_launching_instance_held_by_a_hook_leaves_service_once_it_is_in_service() {
    let mut lab = Lab::at("ss-prod-3").await;
    let group = lab.estate.auto_scaling_group.clone();
    lab.sim
        .hold_lifecycle(&lab.id, &group, "Pending:Wait", Duration::from_secs(4));
    lab.mark();
    let (code, doc) = isolate(&lab, &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(noted(&lab, "Pending:Wait"), "the hold is on record");
    let ledger = lab.ledger();
    // Not asked while held (AWS refuses EnterStandby then): asked after the cut.
    let cut = first(&ledger, "ec2:ModifyNetworkInterfaceAttribute");
    let standby = first(&ledger, "autoscaling:EnterStandby");
    assert!(cut < standby, "cut #{cut}, standby #{standby}");
    assert!(
        !ledger
            .iter()
            .any(|e| e.faults.iter().any(|f| f == "not_in_service")),
        "never asked while it was held"
    );
    assert_eq!(lifecycle(&lab).await.as_deref(), Some("Standby"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_finds_the_instance_entering_standby_waits_for_it() {
    // What a resume after a kill right after EnterStandby finds.
    let mut lab = Lab::at("ss-prod-3").await;
    let group = lab.estate.auto_scaling_group.clone();
    lab.ctx
        .autoscaling(REGION)
        .enter_standby(&group, &lab.id)
        .await
        .unwrap();
    lab.sim
        .hold_lifecycle(&lab.id, &group, "EnteringStandby", TRANSITION);
    lab.mark();
    let (code, doc) = isolate(&lab, &[]);
    assert_eq!(code, 0, "{doc:#}");
    let ledger = lab.ledger();
    assert!(
        !ledger
            .iter()
            .any(|e| e.operation == "autoscaling:EnterStandby"),
        "not asked again"
    );
    assert_eq!(lifecycle(&lab).await.as_deref(), Some("Standby"));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_the_group_is_terminating_is_still_cut_off_and_said_so() {
    let mut lab = Lab::at("ss-prod-3").await;
    let group = lab.estate.auto_scaling_group.clone();
    lab.sim.hold_lifecycle(
        &lab.id,
        &group,
        "Terminating:Wait",
        Duration::from_secs(120),
    );
    lab.mark();
    let (code, doc) = isolate(&lab, &[]);
    assert_eq!(code, 0, "{doc:#}");
    assert!(noted(&lab, "the group is terminating it"));
    let ledger = lab.ledger();
    assert!(
        !ledger
            .iter()
            .any(|e| e.operation == "autoscaling:EnterStandby"),
        "nothing asked of a terminating instance"
    );
    first(&ledger, "ec2:ModifyNetworkInterfaceAttribute");
}
