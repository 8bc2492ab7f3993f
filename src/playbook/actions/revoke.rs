//! `revoke-sessions`: end every way into the instance that does not go through the network
//! cut — active Session Manager sessions and running commands — and revoke the instance
//! role's credentials: a deny for every credential of this instance (stolen copies
//! included: they carry the same `aws:userid`), and a deny for its credentials issued
//! before now that outlives release. Role-wide revocation (every instance sharing the role)
//! only when asked, after showing who shares it.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Access, ActionInfo, ApiCall, Capability, Resource, Service};
use crate::aws::{Ec2Api, Ec2ContainApi, IamApi, SsmApi};
use crate::inventory::Server;
use crate::playbook::exec::{StepCtx, StepError, StepResult, StepStatus};
use crate::playbook::plan::{PlannedCall, ResolvedAction};

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
use super::collect::LIST_COMMANDS;
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
const PUT_ROLE_POLICY: ApiCall =
    ApiCall::new(Service::Iam, "PutRolePolicy", Access::Write, Resource::Role);
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
        PUT_ROLE_POLICY,
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

/// The inline policy denying every credential of one instance (lifted by release).
pub fn instance_policy_name(instance_id: &str) -> String {
    format!("breakglass-deny-{instance_id}")
}

/// The inline policy denying the instance's credentials issued before the revocation.
pub fn old_credentials_policy_name(instance_id: &str) -> String {
    format!("breakglass-deny-old-{instance_id}")
}

/// The inline policy denying every session of the role issued before the revocation.
pub const ROLE_WIDE_POLICY: &str = "breakglass-deny-role-sessions";

fn document(sid: &str, condition: Value) -> String {
    json!({
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": sid,
            "Effect": "Deny",
            "Action": "*",
            "Resource": "*",
            "Condition": condition,
        }],
    })
    .to_string()
}

/// Deny for every credential of the instance: role sessions are named after it.
pub fn instance_deny(role_id: &str, instance_id: &str) -> String {
    document(
        "BreakglassDenyInstance",
        json!({ "StringLike": { "aws:userid": format!("{role_id}:{instance_id}") } }),
    )
}

/// Deny for the instance's credentials issued before `now`.
pub fn old_credentials_deny(instance_arn: &str, now: &str) -> String {
    document(
        "BreakglassDenyOldCredentials",
        json!({
            "StringEquals": { "ec2:SourceInstanceARN": instance_arn },
            "DateLessThan": { "aws:TokenIssueTime": now },
        }),
    )
}

/// Deny for every session of the role issued before `now`.
pub fn role_wide_deny(now: &str) -> String {
    document(
        "BreakglassDenyRoleSessions",
        json!({ "DateLessThan": { "aws:TokenIssueTime": now } }),
    )
}

pub fn plan(args: RevokeArgs, server: &Server) -> (ResolvedAction, Vec<PlannedCall>, Vec<String>) {
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
            &PUT_ROLE_POLICY,
            instance_policy_name(id),
            "deny every credential of this instance",
        ),
        PlannedCall::new(
            &PUT_ROLE_POLICY,
            old_credentials_policy_name(id),
            "deny its credentials issued before now (kept after release)",
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
    (ResolvedAction::RevokeSessions(args), calls, notes)
}

/// The instance's role: `(role name, role id)`, `None` without an instance profile.
pub async fn role_of(
    ctx: &StepCtx<'_>,
    profile_arn: Option<&str>,
) -> Result<Option<(String, String)>, StepError> {
    let Some(arn) = profile_arn else {
        return Ok(None);
    };
    let name = arn.rsplit('/').next().unwrap_or(arn);
    ctx.read(
        &GET_INSTANCE_PROFILE,
        json!({ "instance_profile_name": name }),
        ctx.aws_iam().instance_profile_role(name),
    )
    .await
}

/// Puts `policy` on `role` unless a policy of that name is there already.
async fn ensure_policy(
    ctx: &StepCtx<'_>,
    role: &str,
    name: &str,
    document: String,
    done: &mut Vec<String>,
) -> Result<Option<StepResult>, StepError> {
    let iam = ctx.aws_iam();
    let existing = ctx
        .read(
            &GET_ROLE_POLICY,
            json!({ "role_name": role, "policy_name": name }),
            iam.get_role_policy(role, name),
        )
        .await?;
    if existing.is_some() {
        return Ok(None);
    }
    if ctx.dry_run() {
        let arn = format!("arn:aws:iam::{}:role/{role}", ctx.account());
        return Ok(Some(ctx.simulate(&PUT_ROLE_POLICY, &arn).await?));
    }
    let params = json!({ "role_name": role, "policy_name": name, "policy_document": serde_json::from_str::<Value>(&document).unwrap_or_default() });
    ctx.mutate(
        &PUT_ROLE_POLICY,
        params,
        iam.put_role_policy(role, name, &document),
    )
    .await?;
    done.push(format!("{name} on role {role}"));
    Ok(None)
}

pub async fn execute(ctx: &StepCtx<'_>, args: &RevokeArgs) -> Result<StepResult, StepError> {
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
    let instance = ctx
        .read(
            &DESCRIBE_INSTANCES,
            json!({ "instance_ids": [id] }),
            ec2.describe_instance(id),
        )
        .await?
        .ok_or_else(|| StepError::Failed(format!("instance {id} no longer exists")))?;
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
            let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            let instance_arn = format!(
                "arn:aws:ec2:{}:{}:instance/{id}",
                ctx.region(),
                ctx.account()
            );
            let policies = [
                (instance_policy_name(id), instance_deny(&role_id, id)),
                (
                    old_credentials_policy_name(id),
                    old_credentials_deny(&instance_arn, &now),
                ),
            ];
            let role_wide = args
                .role_wide
                .then(|| (ROLE_WIDE_POLICY.to_owned(), role_wide_deny(&now)));
            for (name, document) in policies.into_iter().chain(role_wide) {
                if let Some(check) = ensure_policy(ctx, &role, &name, document, &mut done).await? {
                    done.push(format!("{name} on role {role}"));
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

/// Release: lifts the deny of this instance's credentials (the deny of its credentials
/// issued before the revocation stays). Returns what it did, if anything.
pub async fn lift(
    ctx: &StepCtx<'_>,
    profile_arn: Option<&str>,
) -> Result<Option<(String, Option<StepResult>)>, StepError> {
    let Some((role, _)) = role_of(ctx, profile_arn).await? else {
        return Ok(None);
    };
    let name = instance_policy_name(ctx.instance_id());
    let iam = ctx.aws_iam();
    let present = ctx
        .read(
            &GET_ROLE_POLICY,
            json!({ "role_name": role, "policy_name": name }),
            iam.get_role_policy(&role, &name),
        )
        .await?;
    if present.is_none() {
        return Ok(None);
    }
    let what = format!("{name} lifted from role {role}");
    if ctx.dry_run() {
        let arn = format!("arn:aws:iam::{}:role/{role}", ctx.account());
        return Ok(Some((
            what,
            Some(ctx.simulate(&DELETE_ROLE_POLICY, &arn).await?),
        )));
    }
    ctx.mutate(
        &DELETE_ROLE_POLICY,
        json!({ "role_name": role, "policy_name": name }),
        iam.delete_role_policy(&role, &name),
    )
    .await?;
    Ok(Some((what, None)))
}
