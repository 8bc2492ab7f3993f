//! End to end: containment at its edges — the SSM endpoint rule (parameter and config),
//! bad and gone targets failing alone, 20 servers at once, a changed instance refused by
//! release, draining targets (the game-day simulator's deregistration delay), escalations, always-tracked paths.

use crate::support;

use crate::support::estate::{breakglass_groups, estate, id, run_json, state, step};
use crate::support::{Account, REGION};
use breakglass::aws::{Ec2Api, Ec2ContainApi};
use breakglass::sandbox::{InstanceSpec, Seeder, Simulator};
use serde_json::Value;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn the_quarantine_group_can_reach_the_ssm_endpoints_over_https() {
    let account = Account::new().await;
    let estate = estate(&account).await;
    let ctx = account.context().await;
    let endpoints = ctx
        .ec2(REGION)
        .client()
        .create_security_group()
        .group_name("ssm-endpoints")
        .description("interface endpoints")
        .vpc_id(&estate.network.vpc_id)
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();
    let param = format!("ssm_endpoint_group={endpoints}");
    let (code, doc, _) = run_json(
        &account,
        &[
            "run",
            "isolate",
            "-t",
            "ss-test-2",
            "--incident",
            "IR-15",
            "--yes",
            "-p",
            &param,
        ],
    );
    assert_eq!(code, 0, "{doc:#}");
    let quarantine =
        &breakglass_groups(&ctx, &estate.network.vpc_id).await["breakglass-quarantine"][0];
    assert!(quarantine.ingress.is_empty());
    assert_eq!(quarantine.egress.len(), 1, "{quarantine:#?}");
    let rule = &quarantine.egress[0];
    assert_eq!(
        (rule.protocol.as_str(), rule.from_port, rule.to_port),
        ("tcp", Some(443), Some(443))
    );
    assert_eq!(rule.groups, vec![endpoints.clone()]);
    assert!(rule.cidrs.is_empty());

    // A group that does not exist fails that target, with the reason; nothing changes.
    let before = state(&ctx, &id(&estate, "ss-test-3")).await;
    let (code, doc, _) = run_json(
        &account,
        &[
            "run",
            "isolate",
            "-t",
            "ss-test-3",
            "--incident",
            "IR-15",
            "--yes",
            "-p",
            "ssm_endpoint_group=sg-0123456789abcdef0",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(step(&doc, 0)["status"], "failed");
    assert!(
        step(&doc, 0)["detail"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{doc:#}"
    );
    assert_eq!(state(&ctx, &id(&estate, "ss-test-3")).await, before);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_targets_fail_alone_while_the_others_are_contained() {
    let account = Account::new().await;
    let estate = estate(&account).await;
    let ctx = account.context().await;
    ctx.ec2(REGION)
        .client()
        .stop_instances()
        .instance_ids(id(&estate, "ss-test-1"))
        .send()
        .await
        .unwrap();
    let (code, doc, _) = run_json(
        &account,
        &[
            "run",
            "isolate",
            "-t",
            "ss-test-1",
            "-t",
            "ss-test-2",
            "--incident",
            "IR-16",
            "--yes",
        ],
    );
    assert_eq!(code, 1, "{doc:#}");
    assert_eq!(step(&doc, 0)["status"], "failed");
    assert!(
        step(&doc, 0)["detail"]
            .as_str()
            .unwrap()
            .contains("stopped"),
        "{doc:#}"
    );
    assert_eq!(step(&doc, 1)["status"], "succeeded");
    // Release without a record refuses, per target.
    let (code, doc, _) = run_json(
        &account,
        &[
            "run",
            "release",
            "-t",
            "ss-test-3",
            "--incident",
            "IR-16",
            "--yes",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        step(&doc, 0)["detail"]
            .as_str()
            .unwrap()
            .contains("no isolation record"),
        "{doc:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn twenty_servers_are_isolated_at_once_sharing_one_quarantine_group() {
    let account = Account::new().await;
    let ctx = account.context().await;
    let seeder = Seeder::new(&ctx, REGION);
    let net = seeder.network("10.70.0.0/16", &["a", "b"]).await.unwrap();
    let mut names = Vec::new();
    for n in 0..20 {
        let name = format!("ss-{n:02}");
        seeder
            .launch(&InstanceSpec {
                name: &name,
                subnet_id: &net.subnets[n % 2].1,
                security_group_id: &net.security_group_id,
                tags: &[("Role", "xroad-security-server")],
                interfaces: 1,
            })
            .await
            .unwrap();
        names.push(name);
    }
    let (code, doc, stderr) = run_json(
        &account,
        &[
            "run",
            "isolate",
            "-t",
            "tag:Role=xroad-security-server",
            "--incident",
            "IR-17",
            "--yes",
            "--concurrency",
            "20",
        ],
    );
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    let targets = doc["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 20);
    assert!(
        targets.iter().all(|t| t["status"] == "succeeded"),
        "{doc:#}"
    );
    let groups = breakglass_groups(&ctx, &net.vpc_id).await;
    assert_eq!(groups["breakglass-quarantine"].len(), 1);
    assert_eq!(groups["breakglass-untrack"].len(), 1);
    let quarantine = &groups["breakglass-quarantine"][0];
    assert!(quarantine.egress.is_empty() && quarantine.ingress.is_empty());
    account.bg().args(["audit", "verify"]).run().assert_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn release_refuses_an_instance_that_changed_unless_forced() {
    let account = Account::new().await;
    let estate = estate(&account).await;
    let ctx = account.context().await;
    let target = id(&estate, "ss-test-1");
    let before = state(&ctx, &target).await;
    let args = ["-t", "ss-test-1", "--incident", "IR-18", "--yes"];
    let (code, _, _) = run_json(&account, &[&["run", "isolate"][..], &args].concat());
    assert_eq!(code, 0);
    // Someone attaches another interface while it is isolated.
    let ec2 = ctx.ec2(REGION);
    let eni = ec2
        .client()
        .create_network_interface()
        .subnet_id(&estate.network.subnets[0].1)
        .send()
        .await
        .unwrap()
        .network_interface
        .unwrap()
        .network_interface_id
        .unwrap();
    ec2.client()
        .attach_network_interface()
        .instance_id(&target)
        .network_interface_id(&eni)
        .device_index(1)
        .send()
        .await
        .unwrap();
    let isolated = state(&ctx, &target).await;

    let (code, doc, _) = run_json(&account, &[&["run", "release"][..], &args].concat());
    assert_eq!(code, 1);
    let detail = step(&doc, 0)["detail"].as_str().unwrap();
    assert!(
        detail.contains("changed since") && detail.contains("force"),
        "{detail}"
    );
    assert_eq!(
        state(&ctx, &target).await,
        isolated,
        "a refusal changes nothing"
    );

    let (code, doc, _) = run_json(
        &account,
        &[&["run", "release"][..], &args, &["-p", "force=true"]].concat(),
    );
    assert_eq!(code, 0, "{doc:#}");
    let after = state(&ctx, &target).await;
    assert_eq!(
        after.interfaces[0], before.interfaces[0],
        "the recorded interface is restored"
    );
    assert_eq!(after.termination_protected, before.termination_protected);
}

/// The calls of `operation` the simulator's ledger shows made.
fn made(sim: &Simulator, operation: &str) -> usize {
    sim.ledger()
        .iter()
        .filter(|e| e.operation == operation && e.succeeded())
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_draining_target_counts_as_deregistered() {
    let account = Account::new().await;
    let ctx = account.context().await;
    let seeder = Seeder::new(&ctx, REGION);
    let net = seeder.network("10.71.0.0/16", &["a"]).await.unwrap();
    let instance = seeder
        .launch(&InstanceSpec {
            name: "ss-drain",
            subnet_id: &net.subnets[0].1,
            security_group_id: &net.security_group_id,
            tags: &[("Role", "xroad-security-server")],
            interfaces: 1,
        })
        .await
        .unwrap();
    seeder
        .target_group(
            "xroad-drain-5500",
            &net.vpc_id,
            5500,
            std::slice::from_ref(&instance),
        )
        .await
        .unwrap();
    // moto deregisters at once; AWS drains first (the deregistration delay, 300 s by
    // default): the game-day simulator reports the target `draining` for a minute.
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    sim.set_timing(Duration::ZERO, Duration::from_secs(60));
    let run = |playbook: &str| {
        let run = account
            .bg()
            .env("AWS_ENDPOINT_URL", sim.endpoint())
            .args([
                "run",
                playbook,
                "-t",
                "ss-drain",
                "--incident",
                "IR-19",
                "--yes",
            ])
            .args(["--output", "json"])
            .run();
        (run.code, run.json())
    };
    let (code, doc) = run("isolate");
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(step(&doc, 0)["status"], "succeeded");
    assert_eq!(
        made(&sim, "elasticloadbalancing:DeregisterTargets"),
        1,
        "deregistered once"
    );
    // Still draining: a re-run has nothing to do.
    let (code, doc) = run("isolate");
    assert_eq!(code, 0);
    assert_eq!(step(&doc, 0)["status"], "already_done", "{doc:#}");
    assert_eq!(made(&sim, "elasticloadbalancing:DeregisterTargets"), 1);
    // Release registers it again (a draining target is not serving).
    let (code, doc) = run("release");
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(
        made(&sim, "elasticloadbalancing:RegisterTargets"),
        1,
        "registered again"
    );
}

const ESCALATE: &str = "name: escalate\ndescription: beyond isolation\nsteps:\n  \
                        - disassociate-elastic-ip:\n  - stop-instance:\n";

#[tokio::test(flavor = "multi_thread")]
async fn escalations_free_the_elastic_ip_and_stop_the_instance() {
    let account = Account::new().await;
    let estate = estate(&account).await;
    let ctx = account.context().await;
    let target = id(&estate, "ss-test-2");
    let ec2 = ctx.ec2(REGION);
    let allocation = ec2
        .client()
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .unwrap();
    ec2.client()
        .associate_address()
        .allocation_id(allocation.allocation_id.clone().unwrap())
        .instance_id(&target)
        .send()
        .await
        .unwrap();
    let public_ip = allocation.public_ip.unwrap();

    // isolate warns about the address in its plan and in the audit log.
    let dry = account
        .bg()
        .args(["run", "isolate", "-t", "ss-test-2", "--dry-run"])
        .run();
    dry.assert_code(0);
    assert!(
        dry.stderr.contains(&format!("Elastic IP {public_ip}")),
        "{}",
        dry.stderr
    );

    let file = account.home().join("escalate.yml");
    std::fs::write(&file, ESCALATE).unwrap();
    let file = file.to_str().unwrap();
    let args = [
        "run",
        file,
        "-t",
        "ss-test-2",
        "--incident",
        "IR-20",
        "--yes",
    ];
    let (code, doc, stderr) = run_json(&account, &args);
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    let steps = doc["targets"][0]["steps"].as_array().unwrap();
    assert_eq!(steps[0]["status"], "succeeded");
    assert!(steps[0]["detail"].as_str().unwrap().contains(&public_ip));
    assert_eq!(steps[1]["status"], "succeeded");
    let addresses = ec2
        .describe_instance_addresses(&target)
        .await
        .unwrap()
        .value;
    assert!(addresses.is_empty(), "{addresses:?}");
    let instance = ec2.describe_instance(&target).await.unwrap().value.unwrap();
    assert!(
        matches!(instance.state.as_str(), "stopping" | "stopped"),
        "{}",
        instance.state
    );
    // The allocation id is in the audit record, to put the address back by hand.
    let audit = std::fs::read_to_string(account.home().join(".local/state/breakglass/audit.jsonl"))
        .unwrap();
    assert!(audit.contains(&allocation.allocation_id.unwrap()));

    let (code, doc, _) = run_json(&account, &args);
    assert_eq!(code, 0);
    let steps = doc["targets"][0]["steps"].as_array().unwrap();
    assert!(
        steps.iter().all(|s| s["status"] == "already_done"),
        "{doc:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gone_instance_fails_alone_while_the_others_are_isolated() {
    let account = Account::new().await;
    estate(&account).await;
    let (code, doc, stderr) = run_json(
        &account,
        &[
            "run",
            "isolate",
            "-t",
            "i-0123456789abcdef0",
            "-t",
            "ss-test-3",
            "--incident",
            "IR-21",
            "--yes",
        ],
    );
    assert_eq!(code, 1, "{doc:#}");
    assert!(
        stderr.contains("warning: target i-0123456789abcdef0"),
        "{stderr}"
    );
    let targets = doc["targets"].as_array().unwrap();
    assert_eq!(targets[0]["status"], "succeeded");
    assert_eq!(targets[1]["instance_id"], "i-0123456789abcdef0");
    assert_eq!(targets[1]["status"], "failed");
    assert!(
        targets[1]["error"]
            .as_str()
            .unwrap()
            .contains("another account or region")
    );
    let audit = std::fs::read_to_string(account.home().join(".local/state/breakglass/audit.jsonl"))
        .unwrap();
    assert!(
        audit.contains("\"target\":\"i-0123456789abcdef0\""),
        "the audit says which"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ssm_endpoint_group_of_each_vpc_can_come_from_the_config() {
    let account = Account::new().await;
    let estate = estate(&account).await;
    let ctx = account.context().await;
    let vpc = &estate.network.vpc_id;
    // A group named in the config that does not exist: that target fails, nothing changes.
    account.write_config(&format!(
        "[aws]\nmax_attempts = 1\n[containment]\nssm_endpoint_groups = {{ \"{vpc}\" = \
         \"sg-0123456789abcdef0\" }}\n"
    ));
    let before = state(&ctx, &id(&estate, "ss-test-1")).await;
    let args = [
        "run",
        "isolate",
        "-t",
        "ss-test-1",
        "--incident",
        "IR-22",
        "--yes",
    ];
    let (code, doc, _) = run_json(&account, &args);
    assert_eq!(code, 1);
    assert!(
        step(&doc, 0)["detail"]
            .as_str()
            .unwrap()
            .contains("sg-0123456789abcdef0"),
        "{doc:#}"
    );
    assert_eq!(state(&ctx, &id(&estate, "ss-test-1")).await, before);

    let endpoints = ctx
        .ec2(REGION)
        .client()
        .create_security_group()
        .group_name("vpce")
        .description("interface endpoints")
        .vpc_id(vpc)
        .send()
        .await
        .unwrap()
        .group_id
        .unwrap();
    account.write_config(&format!(
        "[aws]\nmax_attempts = 1\n[containment]\nssm_endpoint_groups = {{ \"{vpc}\" = \"{endpoints}\" }}\n"
    ));
    let (code, doc, _) = run_json(&account, &args);
    assert_eq!(code, 0, "{doc:#}");
    let quarantine = &breakglass_groups(&ctx, vpc).await["breakglass-quarantine"][0];
    assert_eq!(quarantine.egress.len(), 1);
    assert_eq!(quarantine.egress[0].groups, vec![endpoints]);

    // A malformed entry is a config error.
    account.write_config("[containment]\nssm_endpoint_groups = { \"vpc-1\" = \"default\" }\n");
    let run = account.bg().args(args).run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("containment.ssm_endpoint_groups"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn always_tracked_paths_are_warned_about_in_the_output_and_the_audit() {
    let account = Account::new().await;
    let estate = estate(&account).await;
    let ctx = account.context().await;
    let ec2 = ctx.ec2(REGION).client().clone();
    let subnet = &estate.network.subnets[0].1;
    let allocation = ec2
        .allocate_address()
        .domain(aws_sdk_ec2::types::DomainType::Vpc)
        .send()
        .await
        .unwrap()
        .allocation_id
        .unwrap();
    let nat = ec2
        .create_nat_gateway()
        .subnet_id(subnet)
        .allocation_id(allocation)
        .send()
        .await
        .unwrap()
        .nat_gateway
        .unwrap()
        .nat_gateway_id
        .unwrap();
    let table = ec2
        .create_route_table()
        .vpc_id(&estate.network.vpc_id)
        .send()
        .await
        .unwrap()
        .route_table
        .unwrap()
        .route_table_id
        .unwrap();
    ec2.create_route()
        .route_table_id(&table)
        .destination_cidr_block("0.0.0.0/0")
        .nat_gateway_id(&nat)
        .send()
        .await
        .unwrap();
    ec2.associate_route_table()
        .route_table_id(&table)
        .subnet_id(subnet)
        .send()
        .await
        .unwrap();
    // ss-prod-1 and ss-test-1 are in the first zone's subnet.
    let (code, doc, stderr) = run_json(
        &account,
        &[
            "run",
            "isolate",
            "-t",
            "ss-test-1",
            "--incident",
            "IR-23",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{doc:#}");
    assert!(
        stderr.contains(&format!("through a NAT gateway ({nat})")),
        "{stderr}"
    );
    let audit = std::fs::read_to_string(account.home().join(".local/state/breakglass/audit.jsonl"))
        .unwrap();
    let note = audit
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["kind"] == "note" && r["body"]["message"].as_str().unwrap_or("").contains(&nat))
        .expect("a note in the audit log");
    assert_eq!(note["body"]["level"], "warning");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_marked_isolating_without_a_record_is_refused_and_left_alone() {
    // Someone (a crashed tool, a hand) tagged it `isolating`, and no record of its original
    // state exists: its current groups may already be a quarantine, so isolate refuses to
    // record them as the original — and changes nothing.
    let account = Account::new().await;
    let estate = estate(&account).await;
    let ctx = account.context().await;
    let target = id(&estate, "ss-prod-3");
    let tags =
        std::collections::BTreeMap::from([("breakglass:state".to_owned(), "isolating".to_owned())]);
    ctx.ec2(REGION)
        .create_tags(&target, &tags, false)
        .await
        .unwrap();
    let before = state(&ctx, &target).await;
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    let run = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .args(support::live("isolate", "ss-prod-3", "IR-20"))
        .args(["--output", "json"])
        .run();
    run.assert_code(1);
    let doc = run.json();
    let detail = step(&doc, 0)["detail"].as_str().unwrap().to_owned();
    assert_eq!(step(&doc, 0)["status"], "failed", "{doc:#}");
    assert!(
        detail.contains("tagged breakglass:state=isolating")
            && detail.contains("has no isolation record"),
        "{detail}"
    );
    // Counted at AWS: not one change was made.
    let changed: Vec<_> = sim
        .ledger()
        .into_iter()
        .filter(|e| support::ledger::is_change(&e.operation) && support::ledger::changed(e))
        .collect();
    assert!(changed.is_empty(), "{changed:?}");
    assert_eq!(state(&ctx, &target).await, before);
}
