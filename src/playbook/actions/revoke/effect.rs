//! When a revocation counts from, and whether it took effect. The cut-off compared with
//! `aws:TokenIssueTime` is AWS's time (the `Date` of IAM's answers), not the laptop's; after
//! the deny is written, IAM must read it back as written, and where the caller may use the
//! IAM policy simulator it must answer `explicitDeny` for the instance's credentials.

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::json;

use super::deny::{self, Denied, POLICY};
use super::{GET_ROLE, SIMULATE_PRINCIPAL_POLICY};
use crate::aws::{ContextValue, IamApi};
use crate::playbook::exec::{StepCtx, StepError, simulator_unavailable};

/// How long IAM may take to read back what was just written, and how often to look. IAM
/// is eventually consistent (IAM User Guide, *Troubleshoot IAM*: "Changes that I make are
/// not always immediately visible").
const READ_BACK_TIMEOUT: Duration = Duration::from_secs(30);
const READ_BACK_POLL: Duration = Duration::from_secs(1);

/// How far apart the laptop's clock and AWS's may be before the run says so.
const SKEW_WORTH_SAYING: chrono::TimeDelta = chrono::TimeDelta::seconds(5);

/// The cut-off: AWS's time now, rounded up to the next whole second so a credential issued
/// in the same second is denied too. Falls back to the laptop's clock, with a warning, when
/// no IAM answer said what AWS's time is.
pub fn cut_off(ctx: &StepCtx<'_>) -> Result<(DateTime<Utc>, String), StepError> {
    let local = Utc::now();
    let aws = ctx.aws_iam().aws_time();
    let now = match aws {
        Some(aws) => {
            let skew = local - aws;
            if skew.abs() > SKEW_WORTH_SAYING {
                ctx.note(
                    "warning",
                    format!(
                        "this machine's clock is {} s {} AWS's; the revocation's cut-off is \
                         AWS's time",
                        skew.num_seconds().abs(),
                        if skew > chrono::TimeDelta::zero() {
                            "ahead of"
                        } else {
                            "behind"
                        }
                    ),
                )?;
            }
            aws
        }
        None => {
            ctx.note(
                "warning",
                "IAM's answers gave no time: the revocation's cut-off is this machine's clock",
            )?;
            local
        }
    };
    let whole = DateTime::from_timestamp(now.timestamp() + 1, 0).unwrap_or(now);
    Ok((whole, whole.to_rfc3339_opts(SecondsFormat::Secs, true)))
}

/// Waits until IAM reads `role`'s `breakglass-deny` back as `written`.
pub async fn read_back(ctx: &StepCtx<'_>, role: &str, written: &Denied) -> Result<(), StepError> {
    let started = Instant::now();
    loop {
        if deny::read(ctx, role).await?.as_ref() == Some(written) {
            return Ok(());
        }
        if started.elapsed() >= READ_BACK_TIMEOUT {
            return Err(StepError::Failed(format!(
                "{POLICY} was written on role {role}, but IAM does not read it back as written \
                 after {} s; check the role's inline policies, then run again",
                READ_BACK_TIMEOUT.as_secs()
            )));
        }
        tokio::time::sleep(READ_BACK_POLL).await;
    }
}

/// The credentials a deny must catch: one of the instance's role sessions, issued now.
pub struct Credentials<'a> {
    pub role: &'a str,
    pub session: &'a str,
    pub instance_arn: &'a str,
}

/// Asks the IAM policy simulator whether the instance's credentials are denied. `Ok` with
/// how it was checked; an error when the simulator says they are not.
pub async fn simulated(ctx: &StepCtx<'_>, who: &Credentials<'_>) -> Result<String, StepError> {
    let role_arn = ctx
        .read(
            &GET_ROLE,
            json!({ "role_name": who.role }),
            ctx.aws_iam().get_role_arn(who.role),
        )
        .await;
    let role_arn = match role_arn {
        Ok(arn) => arn,
        Err(StepError::Aws(err)) if simulator_unavailable(&err) => return Ok(unchecked(&err)),
        Err(err) => return Err(err),
    };
    let issued = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let context = [
        ("aws:userid", "string", who.session),
        ("ec2:SourceInstanceARN", "string", who.instance_arn),
        ("aws:TokenIssueTime", "date", issued.as_str()),
    ]
    .map(|(key, kind, value)| ContextValue {
        key: key.to_owned(),
        kind,
        value: value.to_owned(),
    });
    // What the SSM agent and a thief would call first.
    let actions = ["ssm:UpdateInstanceInformation", "s3:GetObject"].map(str::to_owned);
    let params = json!({
        "policy_source_arn": role_arn,
        "action_names": actions,
        "resource_arns": ["*"],
        "context_entries": { "aws:userid": who.session, "ec2:SourceInstanceARN": who.instance_arn },
    });
    let answer = ctx
        .read(
            &SIMULATE_PRINCIPAL_POLICY,
            params,
            ctx.aws_iam().simulate_principal_policy(
                &role_arn,
                &actions,
                &["*".to_owned()],
                &context,
            ),
        )
        .await;
    match answer {
        Ok(decisions) => {
            let wrong: Vec<String> = decisions
                .iter()
                .filter(|d| d.decision != "explicitDeny")
                .map(|d| format!("{} {}", d.action, d.decision))
                .collect();
            if decisions.is_empty() || !wrong.is_empty() {
                return Err(StepError::Failed(format!(
                    "{POLICY} is on role {}, but the IAM policy simulator does not deny the \
                     instance's credentials ({}); check the role's policies",
                    who.role,
                    if wrong.is_empty() {
                        "no answer".to_owned()
                    } else {
                        wrong.join(", ")
                    }
                )));
            }
            Ok("the IAM policy simulator denies the instance's credentials".into())
        }
        Err(StepError::Aws(err)) if simulator_unavailable(&err) => Ok(unchecked(&err)),
        Err(err) => Err(err),
    }
}

/// What is known when the IAM policy simulator cannot answer.
fn unchecked(err: &crate::aws::AwsError) -> String {
    format!(
        "IAM reads the deny back; not checked with the IAM policy simulator ({}); IAM applies \
         it once the change has propagated, usually within seconds",
        err.code
            .as_deref()
            .unwrap_or("not implemented by the endpoint")
    )
}
