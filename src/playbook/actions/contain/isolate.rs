//! `isolate`: contain one Security Server, in the order incident responders need — record
//! the state (for release), protect the evidence, take it out of its Auto Scaling group and
//! load balancers, cut the network per interface (untrack, then quarantine), tag it, and
//! verify by reading everything back. See docs/containment.md.

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::asg::{self, AsgMode};
use super::outcome::Outcome;
use super::record::{self, parameter_name};
use super::{calls, evidence, facts, network, paths, state, targets, verify};
use crate::ids;
use crate::inventory::{Isolation, Server};
use crate::playbook::actions::{Action, ActionInfo, Capability, PlanCtx, Planned};
use crate::playbook::args::{Scalar, optional_template, scalar};
use crate::playbook::exec::{StepCtx, StepError, StepResult};
use crate::playbook::load::Checker;
use crate::playbook::plan::PlannedCall;
use crate::playbook::template::Template;

pub static INFO: ActionInfo = ActionInfo {
    name: "isolate",
    summary: "Contain the target: record its state, protect evidence, take it out of its Auto \
              Scaling group and target groups, move every interface to the quarantine group",
    calls: calls::ISOLATE,
    confirm_by_default: true,
    needs: &[],
    cuts: &[Capability::SsmAgent],
};

/// `isolate`'s arguments, rendered for one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsolateArgs {
    /// Standby (default) or detach.
    pub auto_scaling: AsgMode,
    /// The VPC endpoints' security group the quarantine group may reach on HTTPS, so the
    /// SSM agent stays reachable for forensics.
    pub ssm_endpoint_group: Option<String>,
}

/// The `isolate` action.
pub struct Isolate;

/// `isolate`'s arguments as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IsolateDoc {
    /// `standby` (default) or `detach`, or a template.
    pub auto_scaling: Option<Spanned<Scalar>>,
    /// Security group of the VPC's SSM endpoints (template; empty = none).
    pub ssm_endpoint_group: Option<Spanned<String>>,
}

/// `isolate`'s arguments, checked.
#[derive(Debug, Clone, Serialize)]
pub struct IsolateSpec {
    /// Renders to `standby` or `detach`.
    pub auto_scaling: Template,
    pub ssm_endpoint_group: Option<Template>,
}

impl Action for Isolate {
    type Doc = Option<IsolateDoc>;
    type Spec = IsolateSpec;
    type Args = IsolateArgs;
    const INFO: &'static ActionInfo = &INFO;

    fn check(
        c: &mut Checker,
        doc: &Spanned<Option<IsolateDoc>>,
        known: &dyn Fn(&str) -> bool,
    ) -> Option<IsolateSpec> {
        let args = doc.value.clone().unwrap_or_default();
        let auto_scaling = scalar(
            c,
            args.auto_scaling.as_ref(),
            "standby",
            known,
            &|v| AsgMode::parse(v).is_some(),
            "`auto_scaling` is `standby` or `detach`",
        );
        let endpoint = optional_template(
            c,
            args.ssm_endpoint_group.as_ref(),
            known,
            "`ssm_endpoint_group`",
        );
        Some(IsolateSpec {
            auto_scaling: auto_scaling?,
            ssm_endpoint_group: endpoint?,
        })
    }

    /// The calls and warnings for one target, from what discovery saw; the endpoint
    /// group defaults to the one the config names for the target's VPC.
    fn plan(spec: &IsolateSpec, target: &PlanCtx<'_>) -> Result<Planned<IsolateArgs>, String> {
        let server = target.server;
        let mode = target.render(&spec.auto_scaling);
        let auto_scaling = AsgMode::parse(&mode)
            .ok_or_else(|| format!("`auto_scaling` is `{mode}`, not `standby` or `detach`"))?;
        let endpoint = target
            .optional(spec.ssm_endpoint_group.as_ref())
            .or_else(|| {
                let vpc = server.vpc_id.as_ref()?;
                target.run.ssm_endpoint_groups.get(vpc).cloned()
            });
        if let Some(endpoint) = &endpoint
            && !ids::is_group_id(endpoint)
        {
            return Err(format!(
                "`ssm_endpoint_group` is `{endpoint}`, not a security group id (`sg-…`)"
            ));
        }
        let args = IsolateArgs {
            auto_scaling,
            ssm_endpoint_group: endpoint,
        };
        Ok(plan_calls(args, server))
    }

    /// Isolates the target, then verifies.
    async fn execute(ctx: &StepCtx<'_>, args: &IsolateArgs) -> Result<StepResult, StepError> {
        let mut out = Outcome::new(ctx.dry_run());
        let facts = facts::read(ctx).await?;
        if facts.instance.state != "running" {
            return Err(StepError::Failed(format!(
                "the instance is {}; isolate works on running instances (a stopped one has no \
                 connections to cut: protect it with `protect-from-scale-in` and tags, or start it \
                 first)",
                facts.instance.state
            )));
        }
        let vpc = facts.vpc_id()?.to_owned();
        let endpoint = args.ssm_endpoint_group.as_deref();
        if let Some(endpoint) = endpoint {
            let group = network::describe_group(ctx, endpoint).await?;
            match group {
                Some(g) if g.vpc_id.as_deref() == Some(vpc.as_str()) => {}
                Some(g) => {
                    return Err(StepError::Failed(format!(
                        "the SSM endpoint group {endpoint} is in {}, the instance in {vpc}",
                        g.vpc_id.as_deref().unwrap_or("no VPC")
                    )));
                }
                None => {
                    return Err(StepError::Failed(format!(
                        "the SSM endpoint group {endpoint} does not exist; check \
                         `ssm_endpoint_group`"
                    )));
                }
            }
        }
        for eni in facts
            .instance
            .network_interfaces
            .iter()
            .filter(|e| e.public_ip.is_some())
        {
            let kind = if eni.elastic_ip {
                "Elastic IP"
            } else {
                "public IP"
            };
            ctx.note(
                "warning",
                format!(
                    "{} keeps its {kind} {}: blocked by the quarantine group, still assigned",
                    eni.id,
                    eni.public_ip.as_deref().unwrap_or_default()
                ),
            )?;
        }
        paths::warn(ctx, &facts).await?;
        let record = record::ensure(ctx, &facts, &mut out).await?;
        // Mark the instance first, so an interrupted isolation is never mistaken for the
        // original state by a later run (the record above is kept while the tag says so).
        let already = facts.state_tag() == Some("isolated");
        if !already {
            state::set(ctx, facts.state_tag(), "isolating", &mut out).await?;
        }
        evidence::protect(ctx, &facts, &mut out).await?;
        let settle = asg::isolate(ctx, &facts, args.auto_scaling, &mut out).await?;
        targets::deregister(ctx, &facts, &mut out).await?;
        network::quarantine(ctx, &facts, &record, endpoint, &mut out).await?;
        // Only now, with the network cut, wait for Auto Scaling's transitions.
        asg::settle(ctx, settle, &mut out).await?;
        let now = if already {
            Some("isolated")
        } else {
            Some("isolating")
        };
        state::set(ctx, now, "isolated", &mut out).await?;
        if !out.dry_run() {
            verify::isolated(ctx, &facts, endpoint).await?;
        }
        Ok(out.result("isolated"))
    }
}

/// The calls and warnings for one target, from what discovery saw.
fn plan_calls(args: IsolateArgs, server: &Server) -> Planned<IsolateArgs> {
    use calls::*;
    let id = server.instance_id.as_str();
    let vpc = server.vpc_id.as_deref().unwrap_or("<vpc>");
    let quarantine = format!("<breakglass-quarantine in {vpc}>");
    let untrack = format!("<breakglass-untrack in {vpc}>");
    let mut calls = vec![
        PlannedCall::new(
            &DESCRIBE_INSTANCES,
            id,
            "read the instance, its interfaces and their groups",
        ),
        PlannedCall::new(
            &DESCRIBE_INSTANCE_ATTRIBUTE,
            id,
            "read termination protection and shutdown behaviour",
        ),
        PlannedCall::new(
            &DESCRIBE_AUTO_SCALING_INSTANCES,
            id,
            "read Auto Scaling membership",
        ),
        PlannedCall::new(
            &DESCRIBE_TARGET_GROUPS,
            vpc,
            "find the target groups of the VPC",
        ),
        PlannedCall::new(
            &DESCRIBE_TARGET_HEALTH,
            "<each target group>",
            "find the instance's registrations",
        ),
        PlannedCall::new(
            &DESCRIBE_LOAD_BALANCERS,
            id,
            "find the Classic Load Balancers it is registered with",
        ),
        PlannedCall::new(
            &GET_PARAMETER,
            parameter_name(id),
            "look for an earlier isolation record",
        ),
        PlannedCall::new(
            &PUT_PARAMETER,
            parameter_name(id),
            "record the pre-isolation state (for release)",
        ),
        PlannedCall::new(&CREATE_TAGS, id, "tag breakglass:state=isolating"),
        PlannedCall::new(
            &MODIFY_INSTANCE_ATTRIBUTE,
            id,
            "termination protection on, shutdown behaviour stop, DeleteOnTermination off",
        ),
    ];
    let mut notes = Vec::new();
    match &server.auto_scaling_group {
        Some(group) => {
            calls.push(PlannedCall::new(
                &SET_INSTANCE_PROTECTION,
                &group.name,
                "protect from scale-in",
            ));
            let (api, what) = match args.auto_scaling {
                AsgMode::Standby => (
                    &ENTER_STANDBY,
                    "enter Standby (the group launches a replacement)",
                ),
                AsgMode::Detach => (
                    &DETACH_INSTANCES,
                    "detach (the group launches a replacement)",
                ),
            };
            calls.push(PlannedCall::new(api, &group.name, what));
        }
        None => notes.push("not in an Auto Scaling group".to_owned()),
    }
    for group in &server.target_groups {
        calls.push(PlannedCall::new(
            &DEREGISTER_TARGETS,
            group,
            "deregister from the target group",
        ));
    }
    calls.push(PlannedCall::new(
        &DEREGISTER_INSTANCES,
        "<each Classic Load Balancer>",
        "deregister from it",
    ));
    calls.extend([
        PlannedCall::new(
            &DESCRIBE_SECURITY_GROUPS,
            &quarantine,
            "find the quarantine and untrack groups",
        ),
        PlannedCall::new(
            &CREATE_SECURITY_GROUP,
            &quarantine,
            "create it if missing (no inbound; outbound only to the SSM endpoints if set)",
        ),
        PlannedCall::new(
            &CREATE_SECURITY_GROUP,
            &untrack,
            "create it if missing (allows all, so connections become untracked)",
        ),
    ]);
    for eni in &server.network_interfaces {
        calls.push(PlannedCall::new(
            &MODIFY_NETWORK_INTERFACE_ATTRIBUTE,
            &eni.id,
            format!("groups → {untrack}"),
        ));
        calls.push(PlannedCall::new(
            &MODIFY_NETWORK_INTERFACE_ATTRIBUTE,
            &eni.id,
            format!("groups → {quarantine}"),
        ));
        if let Some(ip) = &eni.public_ip {
            let kind = if eni.elastic_ip {
                "Elastic IP"
            } else {
                "public IP"
            };
            notes.push(format!(
                "warning: {} has the {kind} {ip}: the quarantine group blocks it, but the address \
                 stays; escalate by disassociating it if the instance must be unreachable by name",
                eni.id
            ));
        }
    }
    calls.extend([
        PlannedCall::new(&CREATE_TAGS, id, "tag breakglass:state=isolated"),
        PlannedCall::new(
            &DESCRIBE_INSTANCES,
            id,
            "verify: every interface only in the quarantine group",
        ),
        PlannedCall::new(
            &DESCRIBE_SECURITY_GROUPS,
            &quarantine,
            "verify: the quarantine group is closed",
        ),
    ]);
    if server.isolation == Isolation::Isolated {
        notes.push("already isolated: the step verifies and changes nothing".to_owned());
    }
    if server.state != "running" {
        notes.push(format!(
            "warning: the instance is {}; isolate expects a running instance",
            server.state
        ));
    }
    notes.push(
        "warning: flows through a Network Load Balancer, NAT gateway, Transit Gateway or VPC \
         endpoint are always connection-tracked and survive until they end; escalate (stop the \
         instance, or a NACL deny on its subnet — which cuts every instance there) if needed"
            .to_owned(),
    );
    Planned { args, calls, notes }
}
