//! Side effects counted where they happened: the game-day simulator's ledger of requests,
//! read as the changes breakglass's actions declare (the `Write` calls of
//! `playbook::actions::ACTIONS`), per resource — with each estate's own ids written as their
//! role, so that the changes of two runs in two estates compare.

use std::collections::BTreeMap;

use breakglass::aws::AwsContext;
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
        for (name, groups) in breakglass_groups(ctx, &estate.network.vpc_id).await {
            for group in groups {
                labels.push((group.id, format!("<{name}>")));
            }
        }
        labels.sort_by_key(|(id, _)| std::cmp::Reverse(id.len()));
        Labels(labels)
    }

    /// `operation resource,…` with every known id written as its role.
    pub fn key(&self, entry: &LedgerEntry) -> String {
        let mut key = format!("{} {}", entry.operation, entry.resources.join(","));
        for (id, role) in &self.0 {
            key = key.replace(id.as_str(), role);
        }
        key
    }
}
