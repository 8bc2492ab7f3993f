//! Evidence protection: termination protection on, shutdown behaviour `stop`, and no
//! volume deleted with the instance — and, on release, back to what was recorded.

use serde_json::json;

use super::calls::MODIFY_INSTANCE_ATTRIBUTE;
use super::facts::Facts;
use super::outcome::Outcome;
use super::record::IsolationRecord;
use crate::aws::{Ec2ContainApi, InstanceChange};
use crate::playbook::exec::{StepCtx, StepError};

/// The attribute values isolation wants, or a record holds.
struct Protection<'a> {
    termination_protected: bool,
    shutdown_behavior: &'a str,
    /// `(device, delete on termination)`.
    volumes: Vec<(&'a str, bool)>,
}

async fn apply(
    ctx: &StepCtx<'_>,
    facts: &Facts,
    want: &Protection<'_>,
    out: &mut Outcome,
) -> Result<(), StepError> {
    let mut changes = Vec::new();
    if facts.termination_protected != want.termination_protected {
        changes.push((
            InstanceChange::DisableApiTermination(want.termination_protected),
            format!(
                "termination protection {}",
                on_off(want.termination_protected)
            ),
        ));
    } else {
        out.kept("termination protection");
    }
    if facts.shutdown_behavior != want.shutdown_behavior {
        changes.push((
            InstanceChange::InstanceInitiatedShutdownBehavior(want.shutdown_behavior.to_owned()),
            format!("shutdown behaviour {}", want.shutdown_behavior),
        ));
    } else {
        out.kept("shutdown behaviour");
    }
    for (device, delete) in &want.volumes {
        let current = facts
            .instance
            .volumes
            .iter()
            .find(|v| v.device == *device)
            .map(|v| v.delete_on_termination);
        match current {
            Some(current) if current != *delete => changes.push((
                InstanceChange::DeleteOnTermination {
                    device: (*device).to_owned(),
                    value: *delete,
                },
                format!("{device} DeleteOnTermination {delete}"),
            )),
            Some(_) => out.kept(format!("{device} DeleteOnTermination")),
            None => out.kept(format!("{device} is no longer attached")),
        }
    }
    let ec2 = ctx.ec2();
    let id = ctx.instance_id();
    for (change, what) in changes {
        ctx.mutate(
            &MODIFY_INSTANCE_ATTRIBUTE,
            json!({ "instance_id": id, "change": change }),
            ec2.modify_instance(id, &change, ctx.dry_run()),
        )
        .await?;
        out.changed(what);
    }
    Ok(())
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// Isolation: keep the instance and its volumes for the investigation.
pub async fn protect(ctx: &StepCtx<'_>, facts: &Facts, out: &mut Outcome) -> Result<(), StepError> {
    let want = Protection {
        termination_protected: true,
        shutdown_behavior: "stop",
        volumes: facts
            .instance
            .volumes
            .iter()
            .map(|v| (v.device.as_str(), false))
            .collect(),
    };
    apply(ctx, facts, &want, out).await
}

/// Release: the values recorded before isolation.
pub async fn restore(
    ctx: &StepCtx<'_>,
    record: &IsolationRecord,
    facts: &Facts,
    out: &mut Outcome,
) -> Result<(), StepError> {
    let want = Protection {
        termination_protected: record.disable_api_termination,
        shutdown_behavior: &record.shutdown_behavior,
        volumes: record
            .volumes
            .iter()
            .map(|v| (v.device.as_str(), v.delete_on_termination))
            .collect(),
    };
    apply(ctx, facts, &want, out).await
}

/// Whether `facts` show the protection isolation wants; the problems otherwise.
pub fn isolated_problems(facts: &Facts) -> Vec<String> {
    let mut problems = Vec::new();
    if !facts.termination_protected {
        problems.push("termination protection is off".to_owned());
    }
    if facts.shutdown_behavior != "stop" {
        problems.push(format!("shutdown behaviour is {}", facts.shutdown_behavior));
    }
    for v in facts
        .instance
        .volumes
        .iter()
        .filter(|v| v.delete_on_termination)
    {
        problems.push(format!("{} would be deleted with the instance", v.device));
    }
    problems
}
