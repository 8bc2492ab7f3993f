//! Shared by the playbook run tests: a small estate, tags read back, the audit records.

use std::collections::BTreeMap;
use std::path::Path;

use breakglass::aws::{AwsContext, Ec2Api};
use breakglass::sandbox::{InstanceSpec, Seeder};
use serde_json::Value;

use super::{Account, REGION};

/// Two Security Servers and one CI runner; returns their ids by name.
pub async fn seed(account: &Account, cidr: &str) -> BTreeMap<String, String> {
    let ctx = account.context().await;
    let seeder = Seeder::new(&ctx, REGION);
    let net = seeder.network(cidr, &["a"]).await.unwrap();
    let mut ids = BTreeMap::new();
    for (name, role) in [
        ("ss-1", "xroad-security-server"),
        ("ss-2", "xroad-security-server"),
        ("runner", "ci"),
    ] {
        let id = seeder
            .launch(&InstanceSpec {
                name,
                subnet_id: &net.subnets[0].1,
                security_group_id: &net.security_group_id,
                tags: &[("Role", role)],
                interfaces: 1,
            })
            .await
            .unwrap();
        ids.insert(name.to_owned(), id);
    }
    ids
}

pub async fn tags(ctx: &AwsContext, id: &str) -> BTreeMap<String, String> {
    ctx.ec2(REGION)
        .describe_instance(id)
        .await
        .unwrap()
        .value
        .unwrap()
        .tags
}

pub async fn all_tags(
    ctx: &AwsContext,
    ids: &BTreeMap<String, String>,
) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    for id in ids.values() {
        out.push(tags(ctx, id).await);
    }
    out
}

pub fn audit_path(account: &Account) -> std::path::PathBuf {
    account.home().join(".local/state/breakglass/audit.jsonl")
}

/// The records of the log at `path`; none before it exists, and a line still being
/// written by a running process is left out (`audit verify` checks the whole file).
pub fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

pub fn of_run<'a>(records: &'a [Value], run_id: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["run_id"] == run_id).collect()
}

/// The statuses of the first target's steps in a run's JSON output.
pub fn step_statuses(doc: &Value) -> Vec<&str> {
    doc["targets"][0]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["status"].as_str().unwrap())
        .collect()
}
