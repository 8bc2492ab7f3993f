//! End to end: `isolate` and `release` against moto on the seeded X-Road estate — a 2-ENI
//! Security Server in an Auto Scaling group behind a target group — asserting the whole
//! AWS state after each; shared quarantine groups, idempotent re-runs, 20 at once, the SSM
//! endpoint rule, refusals, and dry runs that change nothing.

use crate::support::estate::{breakglass_groups, estate, id, run_json, state, step};
use crate::support::{Account, REGION};
use breakglass::aws::SsmApi;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread")]
async fn isolates_a_two_eni_asg_member_and_releases_it_exactly() {
    let account = Account::new().await;
    let estate = estate(&account).await;
    let ctx = account.context().await;
    let target = id(&estate, "ss-prod-3");
    let before = state(&ctx, &target).await;
    assert_eq!(before.interfaces.len(), 2, "the estate's 2-ENI server");
    assert_eq!(before.registrations.len(), 1);
    assert_eq!(before.auto_scaling.as_ref().unwrap().1, "InService");

    let (code, doc, stderr) = run_json(
        &account,
        &[
            "run",
            "isolate",
            "-t",
            "ss-prod-3",
            "--incident",
            "IR-11",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(step(&doc, 0)["status"], "succeeded", "{doc:#}");
    let run_id = doc["run_id"].as_str().unwrap();

    // The network: every interface in the quarantine group only, which is closed; the
    // untrack group allows everything.
    let groups = breakglass_groups(&ctx, &estate.network.vpc_id).await;
    let quarantine = &groups["breakglass-quarantine"][0];
    let untrack = &groups["breakglass-untrack"][0];
    assert_eq!(quarantine.tags["breakglass:role"], "quarantine");
    assert!(quarantine.ingress.is_empty(), "{quarantine:#?}");
    assert!(quarantine.egress.is_empty(), "{quarantine:#?}");
    assert!(
        untrack
            .ingress
            .iter()
            .any(|r| r.protocol == "-1" && r.cidrs == ["0.0.0.0/0"])
    );
    let after = state(&ctx, &target).await;
    for (eni, groups) in &after.interfaces {
        assert_eq!(groups, &vec![quarantine.id.clone()], "{eni}");
    }
    // Evidence kept, out of service, out of the load balancer, tagged.
    assert_eq!(after.termination_protected, "true");
    assert_eq!(after.shutdown_behavior, "stop");
    assert!(
        after.volumes.iter().all(|(_, delete)| !delete),
        "{:?}",
        after.volumes
    );
    let asg = after.auto_scaling.clone().unwrap();
    assert_eq!((asg.1.as_str(), asg.2), ("Standby", true));
    assert!(after.registrations.is_empty());
    assert_eq!(after.tags["breakglass:state"], "isolated");
    assert_eq!(after.tags["breakglass:incident"], "IR-11");
    assert_eq!(after.tags["breakglass:run"], run_id);

    // The record another responder can release from: in SSM, as it was before.
    let stored = ctx
        .ssm(REGION)
        .get_parameter(&format!("/breakglass/isolation/{target}"))
        .await
        .unwrap()
        .value
        .unwrap();
    let record: Value = serde_json::from_str(&stored).unwrap();
    assert_eq!(record["run_id"], run_id);
    assert_eq!(record["interfaces"].as_array().unwrap().len(), 2);
    assert_eq!(record["auto_scaling"]["lifecycle_state"], "InService");
    assert_eq!(record["target_groups"][0]["port"], 5500);

    // Per interface (never `ModifyInstanceAttribute Groups`, which AWS rejects on a
    // multi-interface instance though moto accepts it): untrack first, then quarantine.
    let audit = std::fs::read_to_string(account.home().join(".local/state/breakglass/audit.jsonl"))
        .unwrap();
    let intents: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .filter(|r| r["kind"] == "intent" && r["run_id"] == run_id)
        .collect();
    for (eni, _) in &after.interfaces {
        let swaps: Vec<&Value> = intents
            .iter()
            .filter(|r| r["body"]["operation"] == "ModifyNetworkInterfaceAttribute")
            .filter(|r| r["body"]["params"]["network_interface_id"] == eni.as_str())
            .map(|r| &r["body"]["params"]["groups"])
            .collect();
        assert_eq!(
            swaps,
            [
                &serde_json::json!([untrack.id]),
                &serde_json::json!([quarantine.id])
            ],
            "{eni}"
        );
    }
    assert!(
        intents
            .iter()
            .filter(|r| r["body"]["operation"] == "ModifyInstanceAttribute")
            .all(|r| r["body"]["params"]["change"].get("groups").is_none())
    );

    // Release restores exactly what was recorded.
    let (code, doc, stderr) = run_json(
        &account,
        &[
            "run",
            "release",
            "-t",
            "ss-prod-3",
            "--incident",
            "IR-11",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(step(&doc, 0)["status"], "succeeded", "{doc:#}");
    let released = state(&ctx, &target).await;
    assert_eq!(released.untagged(), before.untagged());
    assert_eq!(released.tags["breakglass:state"], "released");

    // Isolated again later: a fresh record of the released state, not the old one.
    let (code, doc, _) = run_json(
        &account,
        &[
            "run",
            "isolate",
            "-t",
            "ss-prod-3",
            "--incident",
            "IR-12",
            "--yes",
        ],
    );
    assert_eq!(code, 0);
    let stored: Value = serde_json::from_str(
        &ctx.ssm(REGION)
            .get_parameter(&format!("/breakglass/isolation/{target}"))
            .await
            .unwrap()
            .value
            .unwrap(),
    )
    .unwrap();
    assert_eq!(stored["run_id"], doc["run_id"]);
    assert_eq!(stored["incident"], "IR-12");
}

#[tokio::test(flavor = "multi_thread")]
async fn reruns_change_nothing_and_a_second_server_reuses_the_groups() {
    let account = Account::new().await;
    let estate = estate(&account).await;
    let ctx = account.context().await;
    let isolate = |name: &'static str| {
        run_json(
            &account,
            &["run", "isolate", "-t", name, "--incident", "IR-13", "--yes"],
        )
    };
    assert_eq!(isolate("ss-prod-1").0, 0);
    let first = state(&ctx, &id(&estate, "ss-prod-1")).await;
    let (code, doc, _) = isolate("ss-prod-1");
    assert_eq!(code, 0);
    assert_eq!(step(&doc, 0)["status"], "already_done", "{doc:#}");
    let changes: Vec<&Value> = step(&doc, 0)["calls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            !c["operation"].as_str().unwrap().starts_with("Describe")
                && c["operation"] != "GetParameter"
        })
        .collect();
    assert!(changes.is_empty(), "a re-run only reads: {changes:#?}");
    assert_eq!(state(&ctx, &id(&estate, "ss-prod-1")).await, first);

    assert_eq!(
        isolate("ss-test-1").0,
        0,
        "same VPC, not in the Auto Scaling group"
    );
    let groups = breakglass_groups(&ctx, &estate.network.vpc_id).await;
    assert_eq!(groups["breakglass-quarantine"].len(), 1, "{groups:#?}");
    assert_eq!(groups["breakglass-untrack"].len(), 1);
    let test = state(&ctx, &id(&estate, "ss-test-1")).await;
    assert_eq!(
        test.interfaces[0].1,
        vec![groups["breakglass-quarantine"][0].id.clone()]
    );
    assert_eq!(test.auto_scaling, None);

    // Released twice: the second run changes nothing.
    let release = || {
        run_json(
            &account,
            &[
                "run",
                "release",
                "-t",
                "ss-prod-1",
                "--incident",
                "IR-13",
                "--yes",
            ],
        )
    };
    assert_eq!(release().0, 0);
    let (code, doc, _) = release();
    assert_eq!(code, 0);
    assert_eq!(step(&doc, 0)["status"], "already_done", "{doc:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_checks_every_change_and_makes_none() {
    let account = Account::new().await;
    let estate = estate(&account).await;
    let ctx = account.context().await;
    let target = id(&estate, "ss-prod-3");
    let before = state(&ctx, &target).await;
    let (code, doc, stderr) = run_json(
        &account,
        &["run", "isolate", "-t", "ss-prod-3", "--dry-run"],
    );
    // Auto Scaling, ELB and SSM changes cannot be checked here (moto has no IAM policy
    // simulator): not verifiable, which a dry run accepts.
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(step(&doc, 0)["status"], "not_verifiable", "{doc:#}");
    let calls = step(&doc, 0)["calls"].as_array().unwrap();
    for operation in [
        "ModifyInstanceAttribute",
        "CreateSecurityGroup",
        "ModifyNetworkInterfaceAttribute",
        "CreateTags",
    ] {
        let call = calls
            .iter()
            .find(|c| c["operation"] == operation)
            .unwrap_or_else(|| panic!("{operation}"));
        assert_eq!(call["result"], "would_succeed", "{operation}");
    }
    assert_eq!(state(&ctx, &target).await, before, "nothing changed");
    assert!(
        breakglass_groups(&ctx, &estate.network.vpc_id)
            .await
            .is_empty()
    );
    assert!(
        ctx.ssm(REGION)
            .get_parameter(&format!("/breakglass/isolation/{target}"))
            .await
            .unwrap()
            .value
            .is_none()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn detach_mode_leaves_the_group_and_release_attaches_again() {
    let account = Account::new().await;
    let estate = estate(&account).await;
    let ctx = account.context().await;
    let target = id(&estate, "ss-prod-2");
    let (code, doc, _) = run_json(
        &account,
        &[
            "run",
            "isolate",
            "-t",
            "ss-prod-2",
            "--incident",
            "IR-14",
            "--yes",
            "-p",
            "auto_scaling=detach",
        ],
    );
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(state(&ctx, &target).await.auto_scaling, None);
    let (code, doc, _) = run_json(
        &account,
        &[
            "run",
            "release",
            "-t",
            "ss-prod-2",
            "--incident",
            "IR-14",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{doc:#}");
    let asg = state(&ctx, &target).await.auto_scaling.unwrap();
    assert_eq!(asg.0, estate.auto_scaling_group);
}
