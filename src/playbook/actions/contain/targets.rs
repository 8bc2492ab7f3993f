//! Load balancers during containment: deregister the instance from every target group it
//! serves in (warning about Network Load Balancers, whose flows stay tracked) and from every
//! Classic Load Balancer, and on release register it again as recorded.

use serde_json::json;

use super::calls::{
    DEREGISTER_INSTANCES, DEREGISTER_TARGETS, REGISTER_INSTANCES, REGISTER_TARGETS,
};
use super::facts::Facts;
use super::outcome::Outcome;
use super::record::IsolationRecord;
use crate::aws::{ClassicElbApi, Elbv2Api, TargetGroupInfo};
use crate::playbook::exec::{StepCtx, StepError};

/// Protocols of Network and Gateway Load Balancer target groups.
pub fn is_network_lb(group: &TargetGroupInfo) -> bool {
    matches!(
        group.protocol.as_deref(),
        Some("TCP" | "UDP" | "TLS" | "TCP_UDP" | "GENEVE")
    )
}

fn port_label(port: Option<i32>) -> String {
    port.map(|p| format!(":{p}")).unwrap_or_default()
}

/// Whether a registration is on its way out (or out) already.
fn leaving(state: &str) -> bool {
    matches!(state, "draining" | "unused")
}

/// Isolation: deregister from every target group.
pub async fn deregister(
    ctx: &StepCtx<'_>,
    facts: &Facts,
    out: &mut Outcome,
) -> Result<(), StepError> {
    deregister_classic(ctx, facts, out).await?;
    if facts.registrations.is_empty() {
        out.kept("in no target group");
        return Ok(());
    }
    let elb = ctx.elbv2();
    let id = ctx.instance_id();
    for (group, targets) in &facts.registrations {
        if is_network_lb(group) {
            ctx.note(
                "warning",
                format!(
                    "target group {} ({}) belongs to a Network/Gateway Load Balancer: flows \
                     through it are always connection-tracked, so established ones survive the \
                     security group change until they end; deregistration stops new ones. \
                     Escalate (stop the instance) if that is not enough.",
                    group.name,
                    group.protocol.as_deref().unwrap_or("?")
                ),
            )?;
        }
        for target in targets {
            let what = format!(
                "deregistered from {}{}",
                group.name,
                port_label(target.port)
            );
            if leaving(&target.state) {
                out.kept(format!("{what} ({})", target.state));
            } else if ctx.dry_run() {
                out.check(what, ctx.simulate(&DEREGISTER_TARGETS, &group.arn).await?);
            } else {
                let params = json!({
                    "target_group_arn": group.arn,
                    "targets": [{ "id": id, "port": target.port }],
                });
                ctx.mutate(
                    &DEREGISTER_TARGETS,
                    params,
                    elb.deregister_target(&group.arn, id, target.port),
                )
                .await?;
                out.changed(what);
            }
        }
    }
    Ok(())
}

/// Isolation: deregister from every Classic Load Balancer.
async fn deregister_classic(
    ctx: &StepCtx<'_>,
    facts: &Facts,
    out: &mut Outcome,
) -> Result<(), StepError> {
    let id = ctx.instance_id();
    for name in &facts.classic {
        let what = format!("deregistered from Classic Load Balancer {name}");
        if ctx.dry_run() {
            out.check(
                what,
                ctx.simulate(&DEREGISTER_INSTANCES, &classic_arn(ctx, name))
                    .await?,
            );
            continue;
        }
        let params = json!({ "load_balancer_name": name, "instances": [{ "instance_id": id }] });
        ctx.mutate(
            &DEREGISTER_INSTANCES,
            params,
            ctx.elb_classic().deregister_instance(name, id),
        )
        .await?;
        out.changed(what);
    }
    Ok(())
}

fn classic_arn(ctx: &StepCtx<'_>, name: &str) -> String {
    format!(
        "arn:aws:elasticloadbalancing:{}:{}:loadbalancer/{name}",
        ctx.region(),
        ctx.account()
    )
}

/// Release: register again with every Classic Load Balancer the record names.
async fn register_classic(
    ctx: &StepCtx<'_>,
    record: &IsolationRecord,
    facts: &Facts,
    out: &mut Outcome,
) -> Result<(), StepError> {
    let id = ctx.instance_id();
    for name in &record.classic_load_balancers {
        let what = format!("registered with Classic Load Balancer {name}");
        if facts.classic.contains(name) {
            out.kept(what);
        } else if ctx.dry_run() {
            out.check(
                what,
                ctx.simulate(&REGISTER_INSTANCES, &classic_arn(ctx, name))
                    .await?,
            );
        } else {
            let params =
                json!({ "load_balancer_name": name, "instances": [{ "instance_id": id }] });
            ctx.mutate(
                &REGISTER_INSTANCES,
                params,
                ctx.elb_classic().register_instance(name, id),
            )
            .await?;
            out.changed(what);
        }
    }
    Ok(())
}

/// Release: register again wherever the record says it served.
pub async fn register(
    ctx: &StepCtx<'_>,
    record: &IsolationRecord,
    facts: &Facts,
    out: &mut Outcome,
) -> Result<(), StepError> {
    register_classic(ctx, record, facts, out).await?;
    let elb = ctx.elbv2();
    let id = ctx.instance_id();
    for recorded in &record.target_groups {
        let what = format!(
            "registered in {}{}",
            recorded.name,
            port_label(recorded.port)
        );
        let registered = facts.registrations.iter().any(|(group, targets)| {
            group.arn == recorded.target_group_arn
                && targets
                    .iter()
                    .any(|t| t.port == recorded.port && !leaving(&t.state))
        });
        if registered {
            out.kept(what);
        } else if ctx.dry_run() {
            out.check(
                what,
                ctx.simulate(&REGISTER_TARGETS, &recorded.target_group_arn)
                    .await?,
            );
        } else {
            let params = json!({
                "target_group_arn": recorded.target_group_arn,
                "targets": [{ "id": id, "port": recorded.port }],
            });
            ctx.mutate(
                &REGISTER_TARGETS,
                params,
                elb.register_target(&recorded.target_group_arn, id, recorded.port),
            )
            .await?;
            out.changed(what);
        }
    }
    Ok(())
}

/// Registrations that are still serving, after isolation.
pub fn isolated_problems(facts: &Facts) -> Vec<String> {
    let classic = facts
        .classic
        .iter()
        .map(|name| format!("still registered with Classic Load Balancer {name}"));
    facts
        .registrations
        .iter()
        .flat_map(|(group, targets)| {
            targets.iter().filter(|t| !leaving(&t.state)).map(move |t| {
                format!(
                    "still registered in {}{} ({})",
                    group.name,
                    port_label(t.port),
                    t.state
                )
            })
        })
        .chain(classic)
        .collect()
}

/// Registrations the record names that are missing, after release.
pub fn released_problems(facts: &Facts, record: &IsolationRecord) -> Vec<String> {
    let classic = record
        .classic_load_balancers
        .iter()
        .filter(|name| !facts.classic.contains(name))
        .map(|name| format!("not registered with Classic Load Balancer {name}"));
    record
        .target_groups
        .iter()
        .filter(|recorded| {
            !facts.registrations.iter().any(|(group, targets)| {
                group.arn == recorded.target_group_arn
                    && targets
                        .iter()
                        .any(|t| t.port == recorded.port && t.state != "draining")
            })
        })
        .map(|recorded| format!("not registered in {}", recorded.name))
        .chain(classic)
        .collect()
}
