//! The instance role's credentials: the inline policies that deny them (names and
//! documents), putting one on the role, and lifting the instance's deny again (release).

use serde_json::{Value, json};

use super::{DELETE_ROLE_POLICY, GET_INSTANCE_PROFILE, GET_ROLE_POLICY, PUT_ROLE_POLICY};
use crate::aws::IamApi;
use crate::playbook::exec::{StepCtx, StepError, StepResult};

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
pub(super) async fn ensure_policy(
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
