//! Release into an Auto Scaling group that launched a replacement during isolation and now
//! runs at its maximum size. AWS refuses `ExitStandby` (and `AttachInstances`) past the
//! maximum; moto does not, so the simulator applies the rule. Release checks before it
//! changes anything and does what `at_max_size` says. Counted in the simulator's ledger and
//! read back from the emulator.

use breakglass::aws::{AsgGroup, AutoScalingApi};
use breakglass::sandbox::LedgerEntry;

use crate::support::REGION;
use crate::support::lab::Lab;

/// The lab's server isolated (on Standby; the group launched a replacement), then the
/// group's maximum lowered to its desired capacity, as a group with min = max = desired has
/// it. Returns the group as it is then.
async fn isolated_in_a_full_group(lab: &mut Lab) -> AsgGroup {
    let run = lab.run("isolate").run();
    run.assert_code(0);
    let name = lab.estate.auto_scaling_group.clone();
    let group = group(lab).await;
    lab.ctx
        .autoscaling(REGION)
        .resize_group(&name, group.desired_capacity, None)
        .await
        .unwrap();
    lab.mark();
    group
}

async fn group(lab: &Lab) -> AsgGroup {
    lab.ctx
        .autoscaling(REGION)
        .describe_group(&lab.estate.auto_scaling_group)
        .await
        .unwrap()
        .value
        .unwrap()
}

fn state_of(group: &AsgGroup, id: &str) -> Option<String> {
    group
        .instances
        .iter()
        .find(|(i, _)| i == id)
        .map(|(_, s)| s.clone())
}

fn release(lab: &Lab, at_max_size: &str) -> (i32, serde_json::Value) {
    let run = lab
        .run("release")
        .args(["-p", &format!("at_max_size={at_max_size}")])
        .args(["--output", "json"])
        .run();
    let doc = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", run.stdout, run.stderr));
    (run.code, doc)
}

/// The calls that changed something, in order.
fn changes(ledger: &[LedgerEntry]) -> Vec<String> {
    let reads = [":Describe", ":Get", ":List"];
    ledger
        .iter()
        .filter(|e| e.succeeded() && !reads.iter().any(|r| e.operation.contains(r)))
        .map(|e| e.operation.clone())
        .collect()
}

fn position(changes: &[String], operation: &str, nth: usize) -> usize {
    changes
        .iter()
        .enumerate()
        .filter(|(_, c)| *c == operation)
        .nth(nth)
        .unwrap_or_else(|| panic!("no {operation} #{nth} in {changes:?}"))
        .0
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_group_is_refused_before_anything_changes_as_aws_would_refuse_it() {
    let mut lab = Lab::at("ss-prod-3").await;
    let before = isolated_in_a_full_group(&mut lab).await;
    let (code, doc) = release(&lab, "refuse");
    assert_eq!(code, 1, "{doc:#}");
    let detail = doc["targets"][0]["steps"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("at its maximum size") && detail.contains("nothing changed"),
        "{detail}"
    );
    assert!(
        detail.contains("raise-max") && detail.contains("keep-size"),
        "{detail}"
    );
    let changed = changes(&lab.ledger());
    assert!(
        changed.iter().all(|c| c == "sts:GetCallerIdentity"),
        "{changed:?}"
    );
    let after = group(&lab).await;
    assert_eq!(state_of(&after, &lab.id).as_deref(), Some("Standby"));
    assert_eq!(after.max_size, before.desired_capacity);

    // The rule itself, as the simulator applies it: ExitStandby past the maximum is refused
    // (moto would take it), and nothing reaches the emulator.
    lab.mark();
    let err = lab
        .ctx
        .autoscaling(REGION)
        .exit_standby(&lab.estate.auto_scaling_group, &lab.id)
        .await
        .unwrap_err();
    assert!(format!("{err}").contains("ValidationError"), "{err}");
    let ledger = lab.ledger();
    assert!(
        ledger
            .iter()
            .any(|e| e.operation == "autoscaling:ExitStandby"
                && e.faults.iter().any(|f| f == "at_max_size")),
        "{ledger:#?}"
    );
    let after = group(&lab).await;
    assert_eq!(state_of(&after, &lab.id).as_deref(), Some("Standby"));
}

#[tokio::test(flavor = "multi_thread")]
async fn raise_max_raises_the_maximum_first_and_the_group_keeps_one_more() {
    let mut lab = Lab::at("ss-prod-3").await;
    let before = isolated_in_a_full_group(&mut lab).await;
    let (code, doc) = release(&lab, "raise-max");
    assert_eq!(code, 0, "{doc:#}");
    let changed = changes(&lab.ledger());
    let raise = position(&changed, "autoscaling:UpdateAutoScalingGroup", 0);
    let back = position(&changed, "autoscaling:ExitStandby", 0);
    assert!(raise < back, "{changed:?}");
    assert_eq!(
        changed
            .iter()
            .filter(|c| *c == "autoscaling:UpdateAutoScalingGroup")
            .count(),
        1,
        "{changed:?}"
    );
    let after = group(&lab).await;
    assert_eq!(after.max_size, before.desired_capacity + 1);
    assert_eq!(after.desired_capacity, before.desired_capacity + 1);
    assert_eq!(state_of(&after, &lab.id).as_deref(), Some("InService"));
}

#[tokio::test(flavor = "multi_thread")]
async fn keep_size_returns_the_instance_and_the_group_sheds_another() {
    let mut lab = Lab::at("ss-prod-3").await;
    let before = isolated_in_a_full_group(&mut lab).await;
    let (code, doc) = release(&lab, "keep-size");
    assert_eq!(code, 0, "{doc:#}");
    let changed = changes(&lab.ledger());
    let raise = position(&changed, "autoscaling:UpdateAutoScalingGroup", 0);
    let back = position(&changed, "autoscaling:ExitStandby", 0);
    let shrink = position(&changed, "autoscaling:UpdateAutoScalingGroup", 1);
    let unprotect = position(&changed, "autoscaling:SetInstanceProtection", 0);
    assert!(
        raise < back && back < shrink && shrink < unprotect,
        "{changed:?}"
    );
    let after = group(&lab).await;
    assert_eq!(after.max_size, before.desired_capacity);
    assert_eq!(after.desired_capacity, before.desired_capacity);
    assert_eq!(after.counted(), before.desired_capacity as usize);
    assert_eq!(state_of(&after, &lab.id).as_deref(), Some("InService"));
    let membership = lab
        .ctx
        .autoscaling(REGION)
        .describe_membership(&lab.id)
        .await
        .unwrap()
        .value
        .unwrap();
    assert!(
        !membership.protected_from_scale_in,
        "protection back as recorded (off)"
    );
}
