//! Isolation fails safe: an interface is never left in the untrack group (which allows all
//! traffic). The second swap throttled — retried until made; denied (as a service control
//! policy denies) — the interface back in its own groups; both denied — the step says the
//! interface is open, and a resume closes it; Ctrl-C between the two swaps — the second is
//! still made. The simulator's ledger shows each swap where it happened, and the groups are
//! read back from the emulator.

use crate::support::estate::{breakglass_groups, state};
use crate::support::lab::Lab;
use breakglass::sandbox::{Fault, FaultKind, Progress};

const SWAP: &str = "ec2:ModifyNetworkInterfaceAttribute";

/// The swaps the ledger shows, in order: `made` or the fault that refused it.
fn swaps(lab: &Lab) -> Vec<String> {
    lab.ledger()
        .into_iter()
        .filter(|e| e.operation == SWAP)
        .map(|e| match e.progress {
            Progress::Refused => e.faults.join(","),
            _ if e.succeeded() => "made".to_owned(),
            other => format!("{other:?}"),
        })
        .collect()
}

/// The target's groups by interface, and the VPC's quarantine and untrack group ids.
async fn groups(lab: &Lab) -> (Vec<Vec<String>>, String, String) {
    let now = state(&lab.ctx, &lab.id).await;
    let vpc = &lab.estate.network.vpc_id;
    let ours = breakglass_groups(&lab.ctx, vpc).await;
    let id = |name: &str| ours.get(name).map(|g| g[0].id.clone()).unwrap_or_default();
    (
        now.interfaces.into_iter().map(|(_, g)| g).collect(),
        id("breakglass-quarantine"),
        id("breakglass-untrack"),
    )
}

fn isolate(lab: &Lab) -> (i32, serde_json::Value) {
    let run = lab.run("isolate").args(["--output", "json"]).run();
    let doc = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", run.stdout, run.stderr));
    (run.code, doc)
}

fn detail(doc: &serde_json::Value) -> String {
    doc["targets"][0]["steps"][0]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_throttled_quarantine_swap_is_tried_again_until_it_is_made() {
    let mut lab = Lab::at("ss-prod-1").await;
    lab.mark();
    lab.sim
        .inject([Fault::on(SWAP, FaultKind::Throttle).nth(2).times(2)]);
    let (code, doc) = isolate(&lab);
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(swaps(&lab), ["made", "throttle", "throttle", "made"]);
    let (interfaces, quarantine, _) = groups(&lab).await;
    assert_eq!(interfaces, [vec![quarantine]]);
    assert!(
        detail(&doc).contains("longest in the untrack group: "),
        "{}",
        detail(&doc)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_quarantine_swap_puts_the_interface_back_in_its_own_groups() {
    let mut lab = Lab::at("ss-prod-1").await;
    let before = state(&lab.ctx, &lab.id).await.interfaces;
    lab.mark();
    lab.sim
        .inject([Fault::on(SWAP, FaultKind::Deny).nth(2).times(1)]);
    let (code, doc) = isolate(&lab);
    assert_eq!(code, 1, "{doc:#}");
    // A refusal is not tried again: straight back to the interface's own groups.
    assert_eq!(swaps(&lab), ["made", "deny", "made"]);
    assert_eq!(state(&lab.ctx, &lab.id).await.interfaces, before);
    let detail = detail(&doc);
    assert!(
        detail.contains("back in its own groups") && detail.contains("NOT isolated"),
        "{detail}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn when_no_swap_closes_the_interface_the_step_says_it_is_open_and_a_resume_closes_it() {
    let mut lab = Lab::at("ss-prod-1").await;
    lab.mark();
    lab.sim.inject([Fault::on(SWAP, FaultKind::Deny).nth(2)]);
    let (code, doc) = isolate(&lab);
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(swaps(&lab), ["made", "deny", "deny"]);
    let (interfaces, _, untrack) = groups(&lab).await;
    assert_eq!(interfaces, [vec![untrack]]);
    let detail = detail(&doc);
    assert!(
        detail.contains("IS STILL IN THE UNTRACK GROUP") && detail.contains("breakglass resume"),
        "{detail}"
    );

    let run_id = doc["run_id"].as_str().unwrap().to_owned();
    let resumed = lab.resume(&run_id);
    assert_eq!(
        resumed["targets"][0]["steps"][0]["status"], "succeeded",
        "{resumed:#}"
    );
    let (interfaces, quarantine, _) = groups(&lab).await;
    assert_eq!(interfaces, [vec![quarantine]]);
    let noted = lab.records().iter().any(|r| {
        r["kind"] == "note"
            && r["body"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("was in the untrack group"))
    });
    assert!(noted, "the resume says what it found");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_between_the_two_swaps_still_closes_the_interface() {
    let mut lab = Lab::at("ss-prod-1").await;
    lab.mark();
    // Ctrl-C while the untrack swap's answer is on its way: the swap is made, and the
    // quarantine swap must follow although the run is stopping.
    let (run, _) = lab.stop_during(
        ("isolate", &[]),
        (SWAP, FaultKind::SlowAnswer { millis: 1500 }),
        None,
        "-INT",
    );
    assert_ne!(run.code, 0, "{}", run.stdout);
    assert_eq!(swaps(&lab), ["made", "made"]);
    let (interfaces, quarantine, _) = groups(&lab).await;
    assert_eq!(interfaces, [vec![quarantine]]);
}

#[tokio::test(flavor = "multi_thread")]
async fn new_groups_that_ec2_does_not_see_yet_are_waited_for() {
    // EC2 is eventually consistent: for a moment after CreateSecurityGroup, calls naming
    // the new group answer InvalidGroup.NotFound (the simulator models it; moto does not).
    let mut lab = Lab::at("ss-prod-1").await;
    lab.sim
        .set_new_group_delay(std::time::Duration::from_millis(1500));
    lab.mark();
    let (code, doc) = isolate(&lab);
    assert_eq!(code, 0, "{doc:#}");
    let ledger = lab.ledger();
    let unseen: Vec<_> = ledger
        .iter()
        .filter(|e| e.faults.iter().any(|f| f == "not_yet_visible"))
        .collect();
    assert!(
        !unseen.is_empty(),
        "the new groups were named before EC2 saw them"
    );
    // Each call refused that way was made again, and made.
    for refused in &unseen {
        assert!(
            ledger.iter().any(|e| e.seq > refused.seq
                && e.operation == refused.operation
                && e.resources == refused.resources
                && e.succeeded()),
            "{} was not made after EC2 saw the group",
            refused.operation
        );
    }
    let (interfaces, quarantine, _) = groups(&lab).await;
    assert_eq!(interfaces, [vec![quarantine]]);
}
