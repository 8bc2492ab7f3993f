//! `release`: undo `isolate` exactly as recorded — interfaces back in their groups, target
//! groups, Auto Scaling service, protection flags — and a `deny-subnet` escalation, then tag
//! `released` and verify. Refuses without a record, or when the instance changed since,
//! unless forced.

use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::capacity::{self, AtMaxSize};
use super::outcome::Outcome;
use super::record::{self, parameter_name};
use super::{asg, calls, evidence, facts, network, state, targets, verify};
use crate::inventory::Isolation;
use crate::playbook::actions::{Action, ActionInfo, PlanCtx, Planned, revoke, subnet_acl};
use crate::playbook::args::{Scalar, is_flag, scalar};
use crate::playbook::exec::{StepCtx, StepError, StepResult};
use crate::playbook::load::Checker;
use crate::playbook::plan::PlannedCall;
use crate::playbook::template::Template;

pub static INFO: ActionInfo = ActionInfo {
    name: "release",
    summary: "Undo isolate from its record: groups per interface, target groups, Auto Scaling, \
              protection flags",
    calls: calls::RELEASE,
    confirm_by_default: true,
    needs: &[],
    cuts: &[],
};

/// `release`'s arguments.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseArgs {
    /// Restore what can be restored even if the instance's interfaces changed since.
    pub force: bool,
    /// What to do when the Auto Scaling group has no room for the instance.
    pub at_max_size: AtMaxSize,
}

/// The `release` action.
pub struct Release;

/// `release`'s arguments as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReleaseDoc {
    /// `true`, `false` or a template.
    pub force: Option<Spanned<Scalar>>,
    /// `refuse`, `raise-max`, `keep-size` or a template.
    pub at_max_size: Option<Spanned<Scalar>>,
}

/// `release`'s arguments, checked.
#[derive(Debug, Clone, Serialize)]
pub struct ReleaseSpec {
    /// Renders to `true` or `false`.
    pub force: Template,
    /// Renders to one of [`AtMaxSize::CHOICES`].
    pub at_max_size: Template,
}

impl Action for Release {
    type Doc = Option<ReleaseDoc>;
    type Spec = ReleaseSpec;
    type Args = ReleaseArgs;
    const INFO: &'static ActionInfo = &INFO;

    fn check(
        c: &mut Checker,
        doc: &Spanned<Option<ReleaseDoc>>,
        known: &dyn Fn(&str) -> bool,
    ) -> Option<ReleaseSpec> {
        let args = doc.value.clone().unwrap_or_default();
        let force = scalar(
            c,
            args.force.as_ref(),
            "false",
            known,
            &is_flag,
            "`force` is `true` or `false`",
        );
        let at_max_size = scalar(
            c,
            args.at_max_size.as_ref(),
            "refuse",
            known,
            &|v| AtMaxSize::parse(v).is_some(),
            &format!("`at_max_size` is {}", AtMaxSize::CHOICES),
        );
        Some(ReleaseSpec {
            force: force?,
            at_max_size: at_max_size?,
        })
    }

    fn plan(spec: &ReleaseSpec, target: &PlanCtx<'_>) -> Result<Planned<ReleaseArgs>, String> {
        use calls::*;
        let at_max_size = target.render(&spec.at_max_size);
        let args = ReleaseArgs {
            force: target.flag("force", &spec.force)?,
            at_max_size: AtMaxSize::parse(&at_max_size).ok_or_else(|| {
                format!(
                    "`at_max_size` is `{at_max_size}`, not {}",
                    AtMaxSize::CHOICES
                )
            })?,
        };
        let server = target.server;
        let id = server.instance_id.as_str();
        let mut calls = vec![
            PlannedCall::new(
                &GET_PARAMETER,
                parameter_name(id),
                "read the isolation record",
            ),
            PlannedCall::new(
                &DESCRIBE_INSTANCES,
                id,
                "read the instance, its interfaces and their groups",
            ),
        ];
        for eni in &server.network_interfaces {
            calls.push(PlannedCall::new(
                &MODIFY_NETWORK_INTERFACE_ATTRIBUTE,
                &eni.id,
                "groups → as recorded",
            ));
        }
        calls.push(PlannedCall::new(
            &DESCRIBE_AUTO_SCALING_GROUPS,
            "<recorded Auto Scaling group>",
            "room for the instance: refuse before any change if the group is at its maximum \
             size, unless `at_max_size` says otherwise",
        ));
        let resize = match args.at_max_size {
            AtMaxSize::Refuse => None,
            AtMaxSize::RaiseMax => Some("if at its maximum: maximum + 1 (kept)"),
            AtMaxSize::KeepSize => Some(
                "if at its maximum: maximum + 1 for the release, then desired and maximum \
                 back (one other instance goes)",
            ),
        };
        if let Some(why) = resize {
            calls.push(PlannedCall::new(
                &UPDATE_AUTO_SCALING_GROUP,
                "<recorded Auto Scaling group>",
                why,
            ));
        }
        calls.extend([
            PlannedCall::new(
                &REGISTER_TARGETS,
                "<recorded target groups>",
                "register again",
            ),
            PlannedCall::new(
                &REGISTER_INSTANCES,
                "<recorded Classic Load Balancers>",
                "register again",
            ),
            PlannedCall::new(
                &EXIT_STANDBY,
                "<recorded Auto Scaling group>",
                "back in service (or AttachInstances if it was detached)",
            ),
            PlannedCall::new(
                &SET_INSTANCE_PROTECTION,
                "<recorded Auto Scaling group>",
                "scale-in protection as recorded",
            ),
            PlannedCall::new(
                &MODIFY_INSTANCE_ATTRIBUTE,
                id,
                "protection flags as recorded",
            ),
            PlannedCall::new(
                &revoke::PUT_ROLE_POLICY,
                revoke::DENY_POLICY,
                "take this instance off revoke-sessions' deny, if there (the deny of its older \
                 credentials stays; the policy goes when it denies nothing more)",
            ),
        ]);
        calls.extend(subnet_acl::lift_plan(server));
        calls.extend([
            PlannedCall::new(&CREATE_TAGS, id, "tag breakglass:state=released"),
            PlannedCall::new(&DESCRIBE_INSTANCES, id, "verify: groups as recorded"),
        ]);
        let mut notes = Vec::new();
        match server.isolation {
            Isolation::Isolated => {}
            Isolation::Released => {
                notes.push("already released: the step verifies and changes nothing".to_owned());
            }
            _ => notes.push(format!(
                "warning: the instance is not tagged isolated ({}); release needs the record \
                 isolate stored",
                server.isolation.label()
            )),
        }
        if args.force {
            notes.push("warning: force: restores what it can even if the instance changed".into());
        }
        Ok(Planned { args, calls, notes })
    }

    /// Releases the target, then verifies.
    async fn execute(ctx: &StepCtx<'_>, args: &ReleaseArgs) -> Result<StepResult, StepError> {
        let mut out = Outcome::new(ctx.dry_run());
        let Some(record) = record::load(ctx).await? else {
            return Err(StepError::Failed(format!(
                "no isolation record for {} (SSM parameter {} in {}): release restores only what \
                 isolate recorded; restore this instance by hand",
                ctx.instance_id(),
                parameter_name(ctx.instance_id()),
                ctx.region()
            )));
        };
        let facts = facts::read(ctx).await?;
        let mut recorded: Vec<&str> = record.interfaces.iter().map(|e| e.id.as_str()).collect();
        let mut now: Vec<&str> = facts.interfaces().iter().map(|e| e.id.as_str()).collect();
        recorded.sort_unstable();
        now.sort_unstable();
        if recorded != now && !args.force {
            return Err(StepError::Failed(format!(
                "the instance changed since run {} isolated it: interfaces then {}, now {}; \
                 check it, then release with `force: true` to restore what can be",
                record.run_id,
                recorded.join(","),
                now.join(",")
            )));
        }
        let room = capacity::check(ctx, &record, &facts, args.at_max_size).await?;
        network::restore(ctx, &record, &facts, &mut out).await?;
        targets::register(ctx, &record, &facts, &mut out).await?;
        asg::release(ctx, &record, &facts, &room, &mut out).await?;
        evidence::restore(ctx, &record, &facts, &mut out).await?;
        let profile = facts.instance.instance_profile_arn.as_deref();
        match revoke::lift(ctx, profile).await? {
            Some((what, Some(check))) => out.check(what, check),
            Some((what, None)) => out.changed(what),
            None => {}
        }
        let subnets = subnet_acl::subnet_ids(&facts.instance);
        let (lifted, kept) = subnet_acl::lift(ctx, &subnets).await?;
        lifted.into_iter().for_each(|what| out.changed(what));
        kept.into_iter().for_each(|what| out.kept(what));
        state::set(ctx, facts.state_tag(), "released", &mut out).await?;
        if !out.dry_run() {
            verify::released(ctx, &record).await?;
        }
        Ok(out.result("released"))
    }
}
