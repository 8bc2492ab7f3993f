//! `revoke-sessions`: end every way into the instance that does not go through the network
//! cut — active Session Manager sessions and running commands — and revoke the instance
//! role's credentials: in the role's one `breakglass-deny` policy, a deny for every
//! credential of this instance (stolen copies included: they carry the same `aws:userid`),
//! and a deny for its credentials issued before now that outlives release. Role-wide revocation (every instance sharing the role)
//! only when asked, after showing who shares it.

mod deny;
mod effect;

pub use deny::{POLICY as DENY_POLICY, lift};

use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_saphyr::Spanned;

use self::deny::{ROLE_WIDE_POLICY, ensure_policy, role_of, role_wide_deny};
use super::collect::LIST_COMMANDS;
use super::{Access, Action, ActionInfo, ApiCall, Capability, PlanCtx, Planned, Resource, Service};
use crate::aws::{Ec2ContainApi, SsmApi};
use crate::playbook::args::{Scalar, is_flag, scalar};
use crate::playbook::exec::{
    GET_ROLE, SIMULATE_PRINCIPAL_POLICY, StepCtx, StepError, StepResult, StepStatus,
};
use crate::playbook::load::Checker;
use crate::playbook::plan::PlannedCall;
use crate::playbook::template::Template;

pub(crate) const DESCRIBE_INSTANCES: ApiCall = super::tag::DESCRIBE_INSTANCES;
const DESCRIBE_PROFILE_ASSOCIATIONS: ApiCall = ApiCall::new(
    Service::Ec2,
    "DescribeIamInstanceProfileAssociations",
    Access::Read,
    Resource::Any,
);
const DISASSOCIATE_PROFILE: ApiCall = ApiCall::new(
    Service::Ec2,
    "DisassociateIamInstanceProfile",
    Access::Write,
    Resource::Instance,
);
const DESCRIBE_SESSIONS: ApiCall = ApiCall::new(
    Service::Ssm,
    "DescribeSessions",
    Access::Read,
    Resource::Any,
);
const TERMINATE_SESSION: ApiCall = ApiCall::new(
    Service::Ssm,
    "TerminateSession",
    Access::Write,
    Resource::Session,
);
const CANCEL_COMMAND: ApiCall =
    ApiCall::new(Service::Ssm, "CancelCommand", Access::Write, Resource::Any);
pub(crate) const GET_INSTANCE_PROFILE: ApiCall = ApiCall::new(
    Service::Iam,
    "GetInstanceProfile",
    Access::Read,
    Resource::InstanceProfile,
);
pub(crate) const GET_ROLE_POLICY: ApiCall =
    ApiCall::new(Service::Iam, "GetRolePolicy", Access::Read, Resource::Role);
pub(crate) const PUT_ROLE_POLICY: ApiCall =
    ApiCall::new(Service::Iam, "PutRolePolicy", Access::Write, Resource::Role);
const LIST_ROLE_POLICIES: ApiCall = ApiCall::new(
    Service::Iam,
    "ListRolePolicies",
    Access::Read,
    Resource::Role,
);
pub(crate) const DELETE_ROLE_POLICY: ApiCall = ApiCall::new(
    Service::Iam,
    "DeleteRolePolicy",
    Access::Write,
    Resource::Role,
);

pub static INFO: ActionInfo = ActionInfo {
    name: "revoke-sessions",
    summary: "Terminate Session Manager sessions and running commands; deny the instance \
              role's credentials for this instance (role-wide only when asked)",
    calls: &[
        DESCRIBE_SESSIONS,
        TERMINATE_SESSION,
        LIST_COMMANDS,
        CANCEL_COMMAND,
        DESCRIBE_INSTANCES,
        DESCRIBE_PROFILE_ASSOCIATIONS,
        GET_INSTANCE_PROFILE,
        GET_ROLE_POLICY,
        LIST_ROLE_POLICIES,
        PUT_ROLE_POLICY,
        GET_ROLE,
        SIMULATE_PRINCIPAL_POLICY,
        DISASSOCIATE_PROFILE,
    ],
    confirm_by_default: true,
    needs: &[],
    cuts: &[Capability::SsmAgent],
};

/// `revoke-sessions`'s arguments, rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RevokeArgs {
    /// Also deny every session of the role issued before now, on every instance.
    pub role_wide: bool,
    /// Also remove the instance profile from the instance (recorded; put back by hand).
    pub remove_profile: bool,
}

/// The `revoke-sessions` action.
pub struct RevokeSessions;

/// `revoke-sessions`'s arguments as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevokeDoc {
    /// Also revoke every session of the role (`true`/`false` or a template).
    pub role_wide: Option<Spanned<Scalar>>,
    /// Also remove the instance profile (`true`/`false` or a template).
    pub remove_profile: Option<Spanned<Scalar>>,
}

/// `revoke-sessions`'s arguments, checked.
#[derive(Debug, Clone, Serialize)]
pub struct RevokeSpec {
    /// Render to `true` or `false`.
    pub role_wide: Template,
    pub remove_profile: Template,
}

impl Action for RevokeSessions {
    type Doc = Option<RevokeDoc>;
    type Spec = RevokeSpec;
    type Args = RevokeArgs;
    const INFO: &'static ActionInfo = &INFO;

    fn check(
        c: &mut Checker,
        doc: &Spanned<Option<RevokeDoc>>,
        known: &dyn Fn(&str) -> bool,
    ) -> Option<RevokeSpec> {
        let args = doc.value.clone().unwrap_or_default();
        let role_wide = scalar(
            c,
            args.role_wide.as_ref(),
            "false",
            known,
            &is_flag,
            "`role_wide` is `true` or `false`",
        );
        let remove_profile = scalar(
            c,
            args.remove_profile.as_ref(),
            "false",
            known,
            &is_flag,
            "`remove_profile` is `true` or `false`",
        );
        Some(RevokeSpec {
            role_wide: role_wide?,
            remove_profile: remove_profile?,
        })
    }

    fn plan(spec: &RevokeSpec, target: &PlanCtx<'_>) -> Result<Planned<RevokeArgs>, String> {
        let args = RevokeArgs {
            role_wide: target.flag("role_wide", &spec.role_wide)?,
            remove_profile: target.flag("remove_profile", &spec.remove_profile)?,
        };
        let server = target.server;
        let id = &server.instance_id;
        let mut calls = vec![
            PlannedCall::new(
                &DESCRIBE_SESSIONS,
                id,
                "find active Session Manager sessions",
            ),
            PlannedCall::new(&TERMINATE_SESSION, "<each session>", "terminate it"),
            PlannedCall::new(&LIST_COMMANDS, id, "find pending and running commands"),
            PlannedCall::new(&CANCEL_COMMAND, "<each command>", "cancel it"),
            PlannedCall::new(
                &DESCRIBE_INSTANCES,
                id,
                "find the instance profile and who shares it",
            ),
            PlannedCall::new(&GET_INSTANCE_PROFILE, "<instance profile>", "find the role"),
            PlannedCall::new(
                &LIST_ROLE_POLICIES,
                "<role>",
                "measure the role's inline policies against IAM's quota",
            ),
            PlannedCall::new(
                &PUT_ROLE_POLICY,
                deny::POLICY,
                "add this instance: deny every credential of it, and its credentials issued \
                 before now (kept after release)",
            ),
        ];
        let mut notes = Vec::new();
        if args.remove_profile {
            calls.push(PlannedCall::new(
                &DISASSOCIATE_PROFILE,
                id,
                "remove the instance profile (no new credentials at all)",
            ));
        }
        if args.role_wide {
            calls.push(PlannedCall::new(
                &PUT_ROLE_POLICY,
                ROLE_WIDE_POLICY,
                "deny every session of the role issued before now",
            ));
            notes.push(
                "warning: role-wide: every instance and service using the role loses its current \
                 credentials"
                    .to_owned(),
            );
        }
        notes.push(
            "warning: the SSM agent loses its credentials too: capture memory and volatile data \
             before this step"
                .to_owned(),
        );
        Ok(Planned { args, calls, notes })
    }

    async fn execute(ctx: &StepCtx<'_>, args: &RevokeArgs) -> Result<StepResult, StepError> {
        let id = ctx.instance_id();
        let ssm = ctx.ssm();
        let mut done: Vec<String> = Vec::new();
        let mut kept: Vec<String> = Vec::new();
        let mut checks: Vec<StepResult> = Vec::new();
        let dry = ctx.dry_run();

        // Sessions and commands.
        let sessions = ctx
            .read(
                &DESCRIBE_SESSIONS,
                json!({ "state": "Active", "target": id }),
                ssm.describe_active_sessions(id),
            )
            .await?;
        for (session, owner) in &sessions {
            if dry {
                let arn = format!(
                    "arn:aws:ssm:{}:{}:session/{session}",
                    ctx.region(),
                    ctx.account()
                );
                checks.push(ctx.simulate(&TERMINATE_SESSION, &arn).await?);
            } else {
                ctx.mutate(
                    &TERMINATE_SESSION,
                    json!({ "session_id": session, "owner": owner }),
                    ssm.terminate_session(session),
                )
                .await?;
            }
            done.push(format!("session {session} of {owner} terminated"));
        }
        let commands = ctx
            .read(
                &LIST_COMMANDS,
                json!({ "instance_id": id }),
                ssm.list_running_commands(id),
            )
            .await?;
        for command in &commands {
            if dry {
                checks.push(ctx.simulate(&CANCEL_COMMAND, "*").await?);
            } else {
                ctx.mutate(
                    &CANCEL_COMMAND,
                    json!({ "command_id": command, "instance_ids": [id] }),
                    ssm.cancel_command(command, id),
                )
                .await?;
            }
            done.push(format!("command {command} cancelled"));
        }

        // The role's credentials.
        let ec2 = ctx.ec2();
        let instance = super::tag::read_target(ctx).await?;
        let profile = instance.instance_profile_arn.clone();
        match role_of(ctx, profile.as_deref()).await? {
            None => kept.push("no instance profile: no role credentials to revoke".into()),
            Some((role, role_id)) => {
                let associations = ctx
                    .read(
                        &DESCRIBE_PROFILE_ASSOCIATIONS,
                        json!({}),
                        ec2.describe_profile_associations(),
                    )
                    .await?;
                let others: Vec<String> = associations
                    .iter()
                    .filter(|a| a.instance_id != id && Some(&a.profile_arn) == profile.as_ref())
                    .map(|a| a.instance_id.clone())
                    .collect();
                let own = associations.iter().find(|a| a.instance_id == id).cloned();
                if !others.is_empty() {
                    ctx.note(
                        "warning",
                        format!(
                            "role {role} is also used by {} other instance(s): {}; {}",
                            others.len(),
                            others.join(", "),
                            if args.role_wide {
                                "the role-wide revocation cuts them too"
                            } else {
                                "only this instance's credentials are revoked"
                            }
                        ),
                    )?;
                }
                let (cut_off, now) = effect::cut_off(ctx)?;
                let instance_arn = format!(
                    "arn:aws:ec2:{}:{}:instance/{id}",
                    ctx.region(),
                    ctx.account()
                );
                if let Some((what, check)) =
                    deny::deny_instance(ctx, &role, &role_id, &instance_arn, (cut_off, &now))
                        .await?
                {
                    done.push(what);
                    checks.extend(check);
                }
                if args.role_wide {
                    let document = role_wide_deny(&now);
                    if let Some(check) =
                        ensure_policy(ctx, &role, ROLE_WIDE_POLICY, document, &mut done).await?
                    {
                        done.push(format!("{ROLE_WIDE_POLICY} on role {role}"));
                        checks.push(check);
                    }
                }
                if done.is_empty() {
                    kept.push(format!("role {role} already denies this instance"));
                }
                if let (true, Some(association)) = (args.remove_profile, own) {
                    let what = format!(
                        "instance profile {} removed from the instance (association {})",
                        association.profile_arn, association.association_id
                    );
                    if dry {
                        let arn = format!(
                            "arn:aws:ec2:{}:{}:instance/{id}",
                            ctx.region(),
                            ctx.account()
                        );
                        checks.push(ctx.simulate(&DISASSOCIATE_PROFILE, &arn).await?);
                    } else {
                        ctx.mutate(
                            &DISASSOCIATE_PROFILE,
                            json!({ "association_id": association.association_id, "profile_arn": association.profile_arn }),
                            ec2.disassociate_profile(&association.association_id),
                        )
                        .await?;
                    }
                    done.push(what);
                }
            }
        }
        if done.is_empty() {
            kept.insert(
                0,
                "no active session, no running command, denies in place".into(),
            );
            return Ok(StepResult::new(
                StepStatus::AlreadyDone,
                format!("nothing to revoke: {}", kept.join("; ")),
            ));
        }
        if dry {
            let worst = checks
                .iter()
                .map(|c| c.status)
                .find(|s| *s == StepStatus::WouldFail)
                .or_else(|| {
                    checks
                        .iter()
                        .map(|c| c.status)
                        .find(|s| *s == StepStatus::NotVerifiable)
                })
                .unwrap_or(StepStatus::WouldSucceed);
            let findings: Vec<&str> = checks
                .iter()
                .filter(|c| c.status != StepStatus::WouldSucceed)
                .map(|c| c.detail.as_str())
                .collect();
            let mut detail = format!("would revoke: {}", done.join("; "));
            if let Some(first) = findings.first() {
                detail.push_str(&format!(". Findings: {first}"));
            }
            return Ok(StepResult::new(worst, detail));
        }
        let after = ctx
            .read(
                &DESCRIBE_SESSIONS,
                json!({ "state": "Active", "target": id }),
                ssm.describe_active_sessions(id),
            )
            .await?;
        if !after.is_empty() {
            return Err(StepError::Failed(format!(
                "post-condition failed: {} session(s) still active",
                after.len()
            )));
        }
        Ok(StepResult::new(
            StepStatus::Succeeded,
            format!("revoked: {}", done.join("; ")),
        ))
    }
}
