//! The instance role's credentials: the inline policies that deny them. One policy per role,
//! `breakglass-deny`, lists the instances whose credentials it denies and, per instance,
//! its credentials issued before the revocation — so a role shared by many instances spends
//! one policy of its inline quota (10,240 characters for all of a role's inline policies
//! together), measured before every write. Release takes its instance off the list (the
//! older-credentials deny stays). The role-wide deny is a policy of its own.

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::effect;
use super::{
    DELETE_ROLE_POLICY, GET_INSTANCE_PROFILE, GET_ROLE_POLICY, LIST_ROLE_POLICIES, PUT_ROLE_POLICY,
};
use crate::aws::IamApi;
use crate::playbook::exec::{StepCtx, StepError, StepResult};

/// The role's inline policy denying the credentials of the instances it lists.
pub const POLICY: &str = "breakglass-deny";

/// How long an instance role credential issued before a cut-off can still be in use after
/// it: STS's longest role session, 12 hours (IAM User Guide, *Use IAM roles*, maximum
/// session duration). The instance metadata service rotates them well before that, but AWS
/// documents no shorter bound, so the older-credentials deny stays this long.
pub const CREDENTIAL_LIFETIME: chrono::TimeDelta = chrono::TimeDelta::hours(12);

/// When every credential issued before `cut_off` has expired.
pub fn expiry(cut_off: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(cut_off)
        .ok()
        .map(|d| d.with_timezone(&Utc) + CREDENTIAL_LIFETIME)
}

/// IAM's quota for all of a role's inline policies together, in characters (whitespace
/// not counted): IAM User Guide, *IAM and AWS STS quotas*.
pub const INLINE_QUOTA: usize = 10_240;

/// What `breakglass-deny` denies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Denied {
    /// `role id:instance id`: every credential of the instance.
    pub sessions: Vec<String>,
    /// Instance ARN → cut-off: its credentials issued before then.
    pub older: std::collections::BTreeMap<String, String>,
}

const SESSIONS_SID: &str = "BreakglassDenyInstances";

impl Denied {
    /// Reads the policy breakglass wrote; refuses one with anything else in it.
    pub fn parse(document: &str) -> Result<Denied, String> {
        let doc: Value = serde_json::from_str(document)
            .map_err(|e| format!("{POLICY} is not a policy document: {e}"))?;
        let mut denied = Denied::default();
        let statements = doc["Statement"].as_array().cloned().unwrap_or_default();
        for statement in statements {
            let deny_all = statement["Effect"] == "Deny"
                && statement["Action"] == "*"
                && statement["Resource"] == "*";
            let sid = statement["Sid"].as_str().unwrap_or_default();
            let condition = &statement["Condition"];
            if deny_all && sid == SESSIONS_SID {
                let ids = &condition["StringLike"]["aws:userid"];
                let ids = ids.as_array().cloned().unwrap_or_else(|| vec![ids.clone()]);
                denied
                    .sessions
                    .extend(ids.iter().filter_map(|v| v.as_str().map(str::to_owned)));
            } else if deny_all && sid.starts_with("BreakglassOlder") {
                let arn = condition["StringEquals"]["ec2:SourceInstanceARN"].as_str();
                let before = condition["DateLessThan"]["aws:TokenIssueTime"].as_str();
                match (arn, before) {
                    (Some(arn), Some(before)) => {
                        denied.older.insert(arn.to_owned(), before.to_owned());
                    }
                    _ => {
                        return Err(format!(
                            "{POLICY} has a statement {sid} breakglass did not write"
                        ));
                    }
                }
            } else {
                return Err(format!(
                    "{POLICY} has a statement breakglass did not write ({})",
                    if sid.is_empty() { "no Sid" } else { sid }
                ));
            }
        }
        Ok(denied)
    }

    /// Drops the older-credentials denies whose credentials have all expired by `now`;
    /// returns how many.
    pub fn prune(&mut self, now: DateTime<Utc>) -> usize {
        let before = self.older.len();
        self.older
            .retain(|_, cut_off| expiry(cut_off).is_none_or(|due| due > now));
        before - self.older.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sessions.is_empty() && self.older.is_empty()
    }

    /// The policy document.
    pub fn render(&self) -> String {
        let mut statements = Vec::new();
        if !self.sessions.is_empty() {
            statements.push(json!({
                "Sid": SESSIONS_SID, "Effect": "Deny", "Action": "*", "Resource": "*",
                "Condition": { "StringLike": { "aws:userid": self.sessions } },
            }));
        }
        // Sids are unique within a policy; the instance is in the condition.
        for (n, (arn, before)) in self.older.iter().enumerate() {
            statements.push(json!({
                "Sid": format!("BreakglassOlder{}", n + 1), "Effect": "Deny", "Action": "*", "Resource": "*",
                "Condition": {
                    "StringEquals": { "ec2:SourceInstanceARN": arn },
                    "DateLessThan": { "aws:TokenIssueTime": before },
                },
            }));
        }
        json!({ "Version": "2012-10-17", "Statement": statements }).to_string()
    }
}

/// A policy's size as IAM counts it against the quota (whitespace is not counted).
pub fn size(document: &str) -> usize {
    document.chars().filter(|c| !c.is_whitespace()).count()
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

/// Revocation: adds the instance to the role's `breakglass-deny` — every credential of its
/// role sessions (named after it), and those issued before `cut_off` wherever they are used —
/// after dropping older-credentials denies that have expired and measuring the role's inline
/// policies against the quota; then checks the deny took effect. `None` when the policy
/// already denies both; in a dry run, the simulator's verdict.
pub async fn deny_instance(
    ctx: &StepCtx<'_>,
    role: &str,
    role_id: &str,
    instance_arn: &str,
    cut_off: (DateTime<Utc>, &str),
) -> Result<Option<(String, Option<StepResult>)>, StepError> {
    let session = format!("{role_id}:{}", ctx.instance_id());
    let mut denied = read(ctx, role).await?.unwrap_or_default();
    let expired = denied.prune(cut_off.0);
    if expired == 0 && denied.sessions.contains(&session) && denied.older.contains_key(instance_arn)
    {
        return Ok(None);
    }
    if !denied.sessions.contains(&session) {
        denied.sessions.push(session.clone());
    }
    let cut = denied
        .older
        .entry(instance_arn.to_owned())
        .or_insert_with(|| cut_off.1.to_owned())
        .clone();
    let due = expiry(&cut).map_or(cut.clone(), |d| {
        d.to_rfc3339_opts(SecondsFormat::Secs, true)
    });
    let mut what = format!(
        "{POLICY} on role {role} denies this instance (its credentials issued before {cut} stay \
         denied after release, until {due})"
    );
    if expired > 0 {
        what.push_str(&format!(
            "; {expired} older-credentials deny(s) whose credentials have all expired dropped"
        ));
    }
    if ctx.dry_run() {
        let arn = format!("arn:aws:iam::{}:role/{role}", ctx.account());
        return Ok(Some((
            what,
            Some(ctx.simulate(&PUT_ROLE_POLICY, &arn).await?),
        )));
    }
    let document = denied.render();
    let others = others_size(ctx, role).await?;
    let total = others + size(&document);
    if total > INLINE_QUOTA {
        return Err(StepError::Failed(format!(
            "role {role}'s inline policies would take {total} of IAM's {INLINE_QUOTA} \
             characters with this instance in {POLICY} ({others} are other inline policies); \
             nothing was written. Free room (remove inline policies the role no longer needs, \
             or lift the deny of released instances: `breakglass run release`), or deny the \
             instance with a customer managed policy attached to the role — managed policies \
             have their own, larger quota (docs/containment.md)"
        )));
    }
    put(ctx, role, &document).await?;
    effect::read_back(ctx, role, &denied).await?;
    let who = effect::Credentials {
        role,
        session: &session,
        instance_arn,
    };
    let checked = effect::simulated(ctx, &who).await?;
    Ok(Some((format!("{what}; {checked}"), None)))
}

/// Release: takes the instance off `breakglass-deny` and drops the older-credentials denies
/// whose credentials have all expired (its own included, once due); the policy goes when it
/// denies nothing more. Returns what it did, if anything.
pub async fn lift(
    ctx: &StepCtx<'_>,
    profile_arn: Option<&str>,
) -> Result<Option<(String, Option<StepResult>)>, StepError> {
    let Some((role, role_id)) = role_of(ctx, profile_arn).await? else {
        return Ok(None);
    };
    let session = format!("{role_id}:{}", ctx.instance_id());
    let Some(mut denied) = read(ctx, &role).await? else {
        return Ok(None);
    };
    let listed = denied.sessions.contains(&session);
    let now = ctx.aws_iam().aws_time().unwrap_or_else(Utc::now);
    let expired = denied.prune(now);
    if !listed && expired == 0 {
        return Ok(None);
    }
    denied.sessions.retain(|s| *s != session);
    let instance_arn = format!(
        "arn:aws:ec2:{}:{}:instance/{}",
        ctx.region(),
        ctx.account(),
        ctx.instance_id()
    );
    let mut what = if listed {
        format!("this instance lifted from {POLICY} on role {role}")
    } else {
        format!("{POLICY} on role {role} tidied")
    };
    match denied.older.get(&instance_arn) {
        // What the responder needs to know: the instance is not fully back at once.
        Some(cut_off) => what.push_str(&format!(
            "; its credentials issued before {cut_off} stay denied, so its role works again \
             once it holds newer ones (the instance metadata service replaces them before \
             they expire); that deny is dropped by a `breakglass run release` or \
             `revoke-sessions` on this role from {}",
            expiry(cut_off).map_or_else(
                || "when they have expired".to_owned(),
                |d| d.to_rfc3339_opts(SecondsFormat::Secs, true)
            )
        )),
        None if listed => what.push_str("; none of its credentials stays denied"),
        None => {}
    }
    if expired > 0 {
        what.push_str(&format!(
            "; {expired} older-credentials deny(s) whose credentials have all expired dropped"
        ));
    }
    let arn = format!("arn:aws:iam::{}:role/{role}", ctx.account());
    let iam = ctx.aws_iam();
    let params = json!({ "role_name": role, "policy_name": POLICY });
    if denied.is_empty() {
        if ctx.dry_run() {
            return Ok(Some((
                what,
                Some(ctx.simulate(&DELETE_ROLE_POLICY, &arn).await?),
            )));
        }
        ctx.mutate(
            &DELETE_ROLE_POLICY,
            params,
            iam.delete_role_policy(&role, POLICY),
        )
        .await?;
    } else {
        if ctx.dry_run() {
            return Ok(Some((
                what,
                Some(ctx.simulate(&PUT_ROLE_POLICY, &arn).await?),
            )));
        }
        put(ctx, &role, &denied.render()).await?;
    }
    Ok(Some((what, None)))
}

/// The role's `breakglass-deny`, read; `None` when there is none.
pub(super) async fn read(ctx: &StepCtx<'_>, role: &str) -> Result<Option<Denied>, StepError> {
    let document = ctx
        .read(
            &GET_ROLE_POLICY,
            json!({ "role_name": role, "policy_name": POLICY }),
            ctx.aws_iam().get_role_policy(role, POLICY),
        )
        .await?;
    document
        .map(|d| Denied::parse(&d))
        .transpose()
        .map_err(|e| {
            StepError::Failed(format!(
                "{e} on role {role}; someone changed it — check it, then remove it and run again"
            ))
        })
}

async fn put(ctx: &StepCtx<'_>, role: &str, document: &str) -> Result<(), StepError> {
    let params = json!({ "role_name": role, "policy_name": POLICY,
        "policy_document": serde_json::from_str::<Value>(document).unwrap_or_default() });
    ctx.mutate(
        &PUT_ROLE_POLICY,
        params,
        ctx.aws_iam().put_role_policy(role, POLICY, document),
    )
    .await?;
    Ok(())
}

/// The size of the role's other inline policies, as IAM counts them.
async fn others_size(ctx: &StepCtx<'_>, role: &str) -> Result<usize, StepError> {
    let iam = ctx.aws_iam();
    let names = ctx
        .read(
            &LIST_ROLE_POLICIES,
            json!({ "role_name": role }),
            iam.list_role_policies(role),
        )
        .await?;
    let mut total = 0;
    for name in names.iter().filter(|n| *n != POLICY) {
        let document = ctx
            .read(
                &GET_ROLE_POLICY,
                json!({ "role_name": role, "policy_name": name }),
                iam.get_role_policy(role, name),
            )
            .await?;
        total += document.as_deref().map_or(0, size);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_reads_back_what_it_wrote_and_refuses_anything_else() {
        let mut denied = Denied::default();
        denied.sessions.push("AROAEXAMPLE:i-1".into());
        denied.older.insert(
            "arn:aws:ec2:eu-west-1:1:instance/i-1".into(),
            "2026-12-03T10:00:00Z".into(),
        );
        let text = denied.render();
        assert_eq!(Denied::parse(&text).unwrap(), denied);
        assert!(size(&text) < text.len() + 1);
        let planted = r#"{"Version":"2012-10-17","Statement":[{"Sid":"BreakglassDenyInstances","Effect":"Allow","Action":"*","Resource":"*"}]}"#;
        assert!(
            Denied::parse(planted).is_err(),
            "an Allow is not breakglass's"
        );
        assert!(Denied::parse(r#"{"Statement":[]}"#).unwrap().is_empty());
    }

    #[test]
    fn many_instances_fit_one_policy() {
        let mut denied = Denied::default();
        for n in 0..20 {
            denied
                .sessions
                .push(format!("AROAEXAMPLEEXAMPLE12:i-{n:017x}"));
            denied.older.insert(
                format!("arn:aws:ec2:eu-west-1:123456789012:instance/i-{n:017x}"),
                "2026-12-03T10:00:00Z".into(),
            );
        }
        assert!(
            size(&denied.render()) < INLINE_QUOTA,
            "{}",
            size(&denied.render())
        );
    }
}
