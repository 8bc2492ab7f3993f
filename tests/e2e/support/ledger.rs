//! Side effects counted where they happened: the game-day simulator's ledger of requests,
//! read as the changes breakglass's actions declare (the `Write` calls of
//! `playbook::actions::ACTIONS`), per resource — with each estate's own ids written as their
//! role, so that the changes of two runs in two estates compare.

use std::collections::BTreeMap;

use breakglass::aws::{AwsContext, Ec2Api, Ec2EvidenceApi, Ec2Filter};
use breakglass::playbook::actions::{ACTIONS, Access};
use breakglass::sandbox::{Estate, LedgerEntry, Progress};

use super::estate::{breakglass_groups, state};

/// Whether `operation` (`service:Operation`) is a call an action declares as a change.
pub fn is_change(operation: &str) -> bool {
    ACTIONS.iter().flat_map(|action| action.calls).any(|call| {
        call.access == Access::Write && call.iam_action().eq_ignore_ascii_case(operation)
    })
}

/// Whether the change the entry asks for was made: answered with success, or made and then
/// cut before the answer.
pub fn changed(entry: &LedgerEntry) -> bool {
    entry.succeeded() || entry.progress == Progress::Cut
}

/// The interface swap the simulator held (to the untrack group) was made once, then the
/// swap that closes that interface again (to the quarantine group, made although the run was
/// stopping: an interface is never left in the untrack group), and no other swap after them.
pub fn held_swap_made_and_closed(sim: &breakglass::sandbox::Simulator) {
    let swaps: Vec<_> = sim
        .ledger()
        .into_iter()
        .filter(|e| e.operation == "ec2:ModifyNetworkInterfaceAttribute")
        .collect();
    assert_eq!(swaps.len(), 2, "{swaps:?}");
    assert!(swaps.iter().all(|s| s.succeeded()), "{swaps:?}");
    assert_eq!(swaps[0].resources, swaps[1].resources, "{swaps:?}");
    assert!(
        !swaps[0].faults.is_empty() && swaps[1].faults.is_empty(),
        "{swaps:?}"
    );
}

/// The changes made, `operation resource,…` → how many times.
pub fn changes(entries: &[LedgerEntry], labels: &Labels) -> BTreeMap<String, usize> {
    let mut counted = BTreeMap::new();
    for entry in entries
        .iter()
        .filter(|e| is_change(&e.operation) && changed(e))
    {
        *counted.entry(labels.key(entry)).or_default() += 1;
    }
    counted
}

/// The changing calls of `entries` in order, as `(operation, its occurrence from 1)`: the
/// cells of a fault matrix that hits each once.
pub fn change_calls(entries: &[LedgerEntry]) -> Vec<(String, u32)> {
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    entries
        .iter()
        .filter(|e| is_change(&e.operation) && changed(e))
        .map(|e| {
            let n = seen.entry(&e.operation).or_default();
            *n += 1;
            (e.operation.clone(), *n)
        })
        .collect()
}

/// An estate's ids and the role each plays, longest first (an ARN holds the account id).
#[derive(Debug, Default)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    /// The roles in `estate` with `target` the server worked on: the target, its interfaces
    /// by device, the other servers by name, the network, Auto Scaling group, target group
    /// and account, and the breakglass groups of its VPC (once they exist).
    pub async fn of(ctx: &AwsContext, estate: &Estate, target: &str, account: &str) -> Labels {
        let mut labels = vec![
            (target.to_owned(), "<target>".to_owned()),
            (estate.network.vpc_id.clone(), "<vpc>".into()),
            (
                estate.network.security_group_id.clone(),
                "<estate-sg>".into(),
            ),
            (estate.auto_scaling_group.clone(), "<asg>".into()),
            (estate.target_group_arn.clone(), "<target-group>".into()),
            (account.to_owned(), "<account>".into()),
        ];
        for (name, id) in estate.servers.iter().filter(|(_, id)| id != target) {
            labels.push((id.clone(), format!("<{name}>")));
        }
        for (zone, subnet) in &estate.network.subnets {
            labels.push((subnet.clone(), format!("<subnet {zone}>")));
        }
        for (device, (eni, _)) in state(ctx, target).await.interfaces.iter().enumerate() {
            labels.push((eni.clone(), format!("<eni{device}>")));
        }
        let ec2 = ctx.ec2(super::REGION);
        let instance = ec2.describe_instance(target).await.unwrap().value.unwrap();
        let devices: BTreeMap<String, String> = instance
            .volumes
            .iter()
            .map(|v| (v.volume_id.clone(), v.device.clone()))
            .collect();
        for (volume, device) in &devices {
            labels.push((volume.clone(), format!("<volume {device}>")));
        }
        let mine = [Ec2Filter {
            name: "tag:breakglass:source-instance".into(),
            values: vec![target.to_owned()],
        }];
        for snapshot in ec2.describe_snapshots(&mine).await.unwrap().value {
            let device = snapshot
                .volume_id
                .as_ref()
                .and_then(|v| devices.get(v))
                .map_or("?", String::as_str);
            let what = if snapshot.tags.contains_key("breakglass:copy-of") {
                "copy"
            } else {
                "snapshot"
            };
            labels.push((snapshot.id, format!("<{what} of {device}>")));
        }
        for (name, groups) in breakglass_groups(ctx, &estate.network.vpc_id).await {
            for group in groups {
                labels.push((group.id, format!("<{name}>")));
            }
        }
        labels.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
        Labels(labels)
    }

    /// Also names each of `runs` (run ids, in the order they ran) `<run N>`.
    pub fn with_runs<'a>(mut self, runs: impl IntoIterator<Item = &'a str>) -> Labels {
        for (n, run) in runs.into_iter().enumerate() {
            self.0.push((run.to_owned(), format!("<run {}>", n + 1)));
        }
        self.0.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
        self
    }

    /// `operation resource,…` with every known id written as its role.
    pub fn key(&self, entry: &LedgerEntry) -> String {
        self.text(&format!(
            "{} {}",
            entry.operation,
            entry.resources.join(",")
        ))
    }

    /// `text` with every known id written as its role, and the ids no estate names — an
    /// instance profile's association, a role's unique id — by their kind.
    pub fn text(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (id, role) in &self.0 {
            text = text.replace(id.as_str(), role);
        }
        for (prefix, kind) in OPAQUE {
            text = by_kind(&text, prefix, kind);
        }
        text
    }
}

/// Ids that differ from estate to estate and that no estate lists, by prefix.
const OPAQUE: [(&str, &str); 2] = [
    ("iip-assoc-", "<profile association>"),
    ("AROA", "<role id>"),
];

/// `text` with every token starting with `prefix` (then letters and digits) as `kind`.
fn by_kind(text: &str, prefix: &str, kind: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        out.push_str(&rest[..at]);
        let after = &rest[at + prefix.len()..];
        let len = after
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(after.len());
        out.push_str(kind);
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}
