//! The `deny-subnet` escalation and its undoing, against moto's network ACLs: the subnet
//! moves to a new ACL with no entries (deny everything), the other instances of the subnet
//! are listed as the blast radius before the change, a second instance in the subnet shares
//! the deny, and the subnet gets its original ACL back (the deny ACL deleted) only when the
//! last of them is released — by `lift-subnet-deny` or by `release` — and an ACL tagged as
//! the deny that allows traffic is refused. Read back
//! from the emulator; the calls counted in the simulator's ledger.

use breakglass::aws::{Ec2AclApi, SubnetAcl};

use crate::support::lab::Lab;
use crate::support::{REGION, live};

async fn acl_of(lab: &Lab, subnet: &str) -> SubnetAcl {
    lab.ctx
        .ec2(REGION)
        .subnet_acl(subnet)
        .await
        .unwrap()
        .value
        .unwrap()
}

fn run(lab: &Lab, playbook: &str, target: &str) -> serde_json::Value {
    let run = lab
        .bg()
        .args(live(playbook, target, "IR-90"))
        .args(["--output", "json"])
        .run();
    assert_eq!(
        run.code, 0,
        "{playbook} {target}\n{}\n{}",
        run.stdout, run.stderr
    );
    serde_json::from_str(&run.stdout).unwrap()
}

fn made(lab: &Lab, operation: &str) -> usize {
    lab.ledger()
        .iter()
        .filter(|e| e.operation == operation && e.succeeded())
        .count()
}

async fn exists(lab: &Lab, acl: &str) -> bool {
    lab.ctx
        .ec2(REGION)
        .client()
        .describe_network_acls()
        .network_acl_ids(acl)
        .send()
        .await
        .is_ok_and(|out| !out.network_acls().is_empty())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_denied_subnet_drops_everything_and_gets_its_acl_back_after_the_last_release() {
    let lab = Lab::at("ss-prod-1").await;
    let subnet = lab.estate.network.subnets[0].1.clone();
    let neighbour = crate::support::estate::id(&lab.estate, "ss-prod-3");
    let original = acl_of(&lab, &subnet).await;

    let doc = run(&lab, "deny-subnet", "ss-prod-1");
    assert_eq!(
        doc["targets"][0]["steps"][0]["status"], "succeeded",
        "{doc:#}"
    );
    let denied = acl_of(&lab, &subnet).await;
    assert_ne!(denied.acl_id, original.acl_id);
    assert_eq!(denied.tags["breakglass:original-acl"], original.acl_id);
    assert_eq!(denied.tags["breakglass:instances"], lab.id);
    // No entries of its own: only the `*` deny rules every ACL ends with.
    let entries = lab
        .ctx
        .ec2(REGION)
        .client()
        .describe_network_acls()
        .network_acl_ids(&denied.acl_id)
        .send()
        .await
        .unwrap()
        .network_acls()[0]
        .entries()
        .iter()
        .filter(|e| e.rule_number() != Some(32767))
        .count();
    assert_eq!(entries, 0);
    // The blast radius was put on record before the change.
    assert!(
        lab.records().iter().any(|r| r["body"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("blast radius") && m.contains(&neighbour))),
        "the neighbour is named"
    );

    // Again: nothing to do. A second instance of the subnet shares the deny.
    let again = run(&lab, "deny-subnet", "ss-prod-1");
    assert_eq!(again["targets"][0]["steps"][0]["status"], "already_done");
    run(&lab, "deny-subnet", "ss-prod-3");
    let shared = acl_of(&lab, &subnet).await;
    assert_eq!(shared.acl_id, denied.acl_id);
    assert_eq!(
        shared.tags["breakglass:instances"],
        format!("{} {neighbour}", lab.id)
    );

    // The first lift keeps the deny for the other; the last gives the subnet its ACL back.
    run(&lab, "lift-subnet-deny", "ss-prod-1");
    let kept = acl_of(&lab, &subnet).await;
    assert_eq!(kept.acl_id, denied.acl_id);
    assert_eq!(kept.tags["breakglass:instances"], neighbour);
    run(&lab, "lift-subnet-deny", "ss-prod-3");
    assert_eq!(acl_of(&lab, &subnet).await.acl_id, original.acl_id);
    assert!(
        !exists(&lab, &denied.acl_id).await,
        "the deny ACL is deleted"
    );
    assert_eq!(made(&lab, "ec2:CreateNetworkAcl"), 1);
    assert_eq!(made(&lab, "ec2:ReplaceNetworkAclAssociation"), 2);
    assert_eq!(made(&lab, "ec2:DeleteNetworkAcl"), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn release_lifts_the_subnet_deny_too() {
    let lab = Lab::at("ss-prod-2").await;
    let subnet = lab.estate.network.subnets[1].1.clone();
    let original = acl_of(&lab, &subnet).await;
    run(&lab, "isolate", "ss-prod-2");
    run(&lab, "deny-subnet", "ss-prod-2");
    assert_ne!(acl_of(&lab, &subnet).await.acl_id, original.acl_id);
    let doc = run(&lab, "release", "ss-prod-2");
    let detail = doc["targets"][0]["steps"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("deleted"), "{detail}");
    assert_eq!(acl_of(&lab, &subnet).await.acl_id, original.acl_id);
}

/// An ACL on the subnet tagged as breakglass's deny but allowing traffic (planted, or
/// edited since) is not taken for the deny: the step refuses, and nothing changes.
#[tokio::test(flavor = "multi_thread")]
async fn a_deny_acl_with_entries_of_its_own_is_refused() {
    use aws_sdk_ec2::types::{ResourceType, RuleAction, Tag, TagSpecification};
    let lab = Lab::at("ss-prod-1").await;
    let subnet = lab.estate.network.subnets[0].1.clone();
    let ec2 = lab.ctx.ec2(REGION).client().clone();
    let planted = ec2
        .create_network_acl()
        .vpc_id(&lab.estate.network.vpc_id)
        .tag_specifications(
            TagSpecification::builder()
                .resource_type(ResourceType::NetworkAcl)
                .tags(
                    Tag::builder()
                        .key("breakglass:role")
                        .value("subnet-deny")
                        .build(),
                )
                .tags(
                    Tag::builder()
                        .key("breakglass:instances")
                        .value(&lab.id)
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .network_acl
        .unwrap()
        .network_acl_id
        .unwrap();
    ec2.create_network_acl_entry()
        .network_acl_id(&planted)
        .rule_number(100)
        .protocol("-1")
        .rule_action(RuleAction::Allow)
        .egress(false)
        .cidr_block("0.0.0.0/0")
        .send()
        .await
        .unwrap();
    let association = acl_of(&lab, &subnet).await.association_id;
    ec2.replace_network_acl_association()
        .association_id(association)
        .network_acl_id(&planted)
        .send()
        .await
        .unwrap();
    let run = lab
        .bg()
        .args(live("deny-subnet", "ss-prod-1", "IR-90"))
        .run();
    run.assert_code(1);
    assert!(run.stderr.contains("someone changed it"), "{}", run.stderr);
    assert_eq!(acl_of(&lab, &subnet).await.acl_id, planted);
}
