//! End to end: the evidence actions against moto — multi-volume crash-consistent
//! snapshots with their chain-of-custody tags, copies under a forensic key shared with a
//! forensic account, dry runs, and resume without a second set of snapshots.

use std::collections::BTreeMap;

use crate::support::{Account, REGION};
use breakglass::aws::{Ec2EvidenceApi, Ec2Filter, Snapshot};
use breakglass::sandbox::{InstanceSpec, Seeder};
use serde_json::Value;

/// One Security Server with a second EBS volume; returns (instance id, volume ids).
async fn server_with_two_volumes(account: &Account, cidr: &str) -> (String, Vec<String>) {
    let ctx = account.context().await;
    let seeder = Seeder::new(&ctx, REGION);
    let net = seeder.network(cidr, &["a"]).await.unwrap();
    let id = seeder
        .launch(&InstanceSpec {
            name: "ss-evidence",
            subnet_id: &net.subnets[0].1,
            security_group_id: &net.security_group_id,
            tags: &[("Role", "xroad-security-server")],
            interfaces: 1,
        })
        .await
        .unwrap();
    let ec2 = ctx.ec2(REGION).client().clone();
    let volume = ec2
        .create_volume()
        .availability_zone(format!("{REGION}a"))
        .size(20)
        .send()
        .await
        .unwrap()
        .volume_id
        .unwrap();
    ec2.attach_volume()
        .volume_id(&volume)
        .instance_id(&id)
        .device("/dev/sdf")
        .send()
        .await
        .unwrap();
    let instance = ec2
        .describe_instances()
        .instance_ids(&id)
        .send()
        .await
        .unwrap();
    let volumes = instance.reservations()[0].instances()[0]
        .block_device_mappings()
        .iter()
        .filter_map(|m| m.ebs()?.volume_id().map(str::to_owned))
        .collect();
    (id, volumes)
}

async fn snapshots_of(account: &Account, instance: &str) -> Vec<Snapshot> {
    let filter = [Ec2Filter {
        name: "tag:breakglass:source-instance".into(),
        values: vec![instance.to_owned()],
    }];
    account
        .context()
        .await
        .ec2(REGION)
        .describe_snapshots(&filter)
        .await
        .unwrap()
        .value
}

fn run_json(account: &Account, args: &[&str]) -> (i32, Value, String) {
    let run = account.bg().args(args).args(["--output", "json"]).run();
    let doc = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}\n{}\n{}", run.stdout, run.stderr));
    (run.code, doc, run.stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshots_every_volume_with_chain_of_custody_tags() {
    let account = Account::new().await;
    let (id, volumes) = server_with_two_volumes(&account, "10.80.0.0/16").await;
    assert_eq!(volumes.len(), 2);
    let (code, doc, stderr) = run_json(
        &account,
        &[
            "run",
            "snapshot",
            "-t",
            "ss-evidence",
            "--incident",
            "IR-31",
            "--yes",
        ],
    );
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    let step = &doc["targets"][0]["steps"][0];
    assert_eq!(step["status"], "succeeded", "{doc:#}");
    let run_id = doc["run_id"].as_str().unwrap();
    let snapshots = snapshots_of(&account, &id).await;
    assert_eq!(snapshots.len(), 2, "one per volume: {snapshots:#?}");
    let mut by_volume: BTreeMap<String, &Snapshot> = BTreeMap::new();
    for s in &snapshots {
        assert_eq!(s.state, "completed");
        assert_eq!(s.tags["breakglass:incident"], "IR-31");
        assert_eq!(s.tags["breakglass:run"], run_id);
        assert_eq!(s.tags["breakglass:source-instance"], id);
        assert!(
            s.tags["breakglass:responder"].contains(&account.id),
            "{:?}",
            s.tags
        );
        assert_eq!(
            s.tags["breakglass:source-volume"],
            s.volume_id.clone().unwrap()
        );
        by_volume.insert(s.volume_id.clone().unwrap(), s);
    }
    for volume in &volumes {
        assert!(by_volume.contains_key(volume), "{volume} not snapshotted");
    }
    let devices: Vec<&str> = snapshots
        .iter()
        .map(|s| s.tags["breakglass:device"].as_str())
        .collect();
    assert!(devices.contains(&"/dev/sdf"), "{devices:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn copies_are_made_under_the_forensic_key_and_shared() {
    let account = Account::new().await;
    let (id, _) = server_with_two_volumes(&account, "10.81.0.0/16").await;
    let key = "arn:aws:kms:eu-west-1:111122223333:key/0b7c2c2e-0000-4000-8000-000000000001";
    let (code, doc, stderr) = run_json(
        &account,
        &[
            "run",
            "snapshot",
            "-t",
            "ss-evidence",
            "--incident",
            "IR-32",
            "--yes",
            "-p",
            &format!("copy_kms_key={key}"),
            "-p",
            "share_with_account=999988887777",
        ],
    );
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    let all = snapshots_of(&account, &id).await;
    let copies: Vec<&Snapshot> = all
        .iter()
        .filter(|s| s.tags.contains_key("breakglass:copy-of"))
        .collect();
    assert_eq!(copies.len(), 2, "{all:#?}");
    let ec2 = account.context().await.ec2(REGION).client().clone();
    for copy in copies {
        // moto keeps the source's encryption flag on a copy; AWS encrypts it with the key.
        assert_eq!(copy.kms_key_id.as_deref(), Some(key));
        assert!(all.iter().any(|s| s.id == copy.tags["breakglass:copy-of"]));
        let shared = ec2
            .describe_snapshot_attribute()
            .snapshot_id(&copy.id)
            .attribute(aws_sdk_ec2::types::SnapshotAttributeName::CreateVolumePermission)
            .send()
            .await
            .unwrap();
        let accounts: Vec<&str> = shared
            .create_volume_permissions()
            .iter()
            .filter_map(|p| p.user_id())
            .collect();
        assert_eq!(accounts, ["999988887777"]);
    }
    // Sharing needs a copy: refused before anything runs.
    let refused = account
        .bg()
        .args([
            "run",
            "snapshot",
            "-t",
            "ss-evidence",
            "--incident",
            "IR-32",
            "--yes",
        ])
        .args(["-p", "share_with_account=999988887777"])
        .run();
    refused.assert_code(2);
    assert!(
        refused.stderr.contains("default EBS key cannot be shared"),
        "{}",
        refused.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_takes_no_snapshot_and_a_resumed_run_takes_no_second_set() {
    let account = Account::new().await;
    let (id, _) = server_with_two_volumes(&account, "10.82.0.0/16").await;
    let (code, doc, _) = run_json(
        &account,
        &["run", "snapshot", "-t", "ss-evidence", "--dry-run"],
    );
    assert_eq!(code, 0, "{doc:#}");
    assert_eq!(doc["targets"][0]["steps"][0]["status"], "would_succeed");
    assert!(snapshots_of(&account, &id).await.is_empty());

    let (code, doc, _) = run_json(
        &account,
        &[
            "run",
            "snapshot",
            "-t",
            "ss-evidence",
            "--incident",
            "IR-33",
            "--yes",
        ],
    );
    assert_eq!(code, 0);
    let run_id = doc["run_id"].as_str().unwrap().to_owned();
    // A crash right after CreateSnapshots was answered: the step never finished.
    let path = account.home().join(".local/state/breakglass/audit.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut kept = String::new();
    for line in text.lines() {
        kept.push_str(line);
        kept.push('\n');
        let r: Value = serde_json::from_str(line).unwrap();
        if r["run_id"] == run_id.as_str()
            && r["kind"] == "outcome"
            && r["body"]["operation"] == "CreateSnapshots"
        {
            break;
        }
    }
    std::fs::write(&path, kept).unwrap();
    let (code, doc, stderr) = run_json(&account, &["resume", &run_id, "--yes"]);
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    let detail = doc["targets"][0]["steps"][0]["detail"].as_str().unwrap();
    assert!(
        detail.contains("kept the snapshot(s) this run took"),
        "{detail}"
    );
    assert_eq!(snapshots_of(&account, &id).await.len(), 2, "no second set");
}

/// With snapshots that take a while (the simulator keeps them `pending`, as AWS does), the
/// copies are shared only after the wait saw them completed: every share comes after the
/// last completion poll.
#[tokio::test(flavor = "multi_thread")]
async fn copies_are_shared_only_once_they_have_completed() {
    let mut lab = crate::support::lab::Lab::at("ss-prod-1").await;
    lab.mark();
    let key = "arn:aws:kms:eu-west-1:111122223333:key/0b7c2c2e-0000-4000-8000-000000000001";
    lab.run("snapshot")
        .args(["-p", &format!("copy_kms_key={key}")])
        .args(["-p", "share_with_account=999988887777"])
        .run()
        .assert_code(0);
    let ledger = lab.ledger();
    let shares: Vec<u64> = ledger
        .iter()
        .filter(|e| e.operation == "ec2:ModifySnapshotAttribute" && e.succeeded())
        .map(|e| e.seq)
        .collect();
    let last_poll = ledger
        .iter()
        .filter(|e| e.operation == "ec2:DescribeSnapshots")
        .map(|e| e.seq)
        .max()
        .unwrap();
    let copied = ledger
        .iter()
        .filter(|e| e.operation == "ec2:CopySnapshot" && e.succeeded())
        .count();
    assert_eq!(shares.len(), copied, "{ledger:#?}");
    assert!(
        shares.iter().all(|s| *s > last_poll),
        "shares {shares:?}, last poll #{last_poll}"
    );
}
