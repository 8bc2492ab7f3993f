//! Post-conditions, read back after the changes: isolation leaves every interface in the
//! quarantine group only, that group closed, the instance out of service and protected;
//! release leaves what the record says. Anything else fails the step loudly.

use super::facts::{self, Facts};
use super::record::IsolationRecord;
use super::{evidence, network, targets};
use crate::playbook::exec::{StepCtx, StepError};

fn fail(what: &str, problems: Vec<String>) -> Result<Facts, StepError> {
    Err(StepError::Failed(format!(
        "post-condition failed, the instance is not fully {what}: {}",
        problems.join("; ")
    )))
}

/// Re-reads the target and checks it is isolated.
pub async fn isolated(
    ctx: &StepCtx<'_>,
    before: &Facts,
    endpoint: Option<&str>,
) -> Result<Facts, StepError> {
    let now = facts::read_back(ctx, before).await?;
    let mut problems = evidence::isolated_problems(&now);
    problems.extend(targets::isolated_problems(&now));
    if let Some(m) = now
        .membership
        .as_ref()
        .filter(|m| m.lifecycle_state != "Standby" && !m.lifecycle_state.starts_with("Terminating"))
    {
        problems.push(format!(
            "{} in Auto Scaling group {}",
            m.lifecycle_state, m.group_name
        ));
    }
    match network::quarantine_group(ctx, now.vpc_id()?).await? {
        Some(group) => {
            problems.extend(network::isolated_problems(&now, &group.id));
            problems.extend(network::quarantine_problems(&group, endpoint));
        }
        None => problems.push("the quarantine group is gone".into()),
    }
    if problems.is_empty() {
        Ok(now)
    } else {
        fail("isolated", problems)
    }
}

/// Re-reads the target and checks it is back as recorded.
pub async fn released(ctx: &StepCtx<'_>, record: &IsolationRecord) -> Result<Facts, StepError> {
    let now = facts::read(ctx).await?;
    let mut problems = network::released_problems(&now, record);
    problems.extend(targets::released_problems(&now, record));
    if let Some(recorded) = &record.auto_scaling {
        match &now.membership {
            Some(m) if m.lifecycle_state == "InService" || m.lifecycle_state == "Pending" => {
                if m.protected_from_scale_in != recorded.protected_from_scale_in {
                    problems.push("scale-in protection differs from the record".into());
                }
            }
            Some(m) => problems.push(format!("{} in {}", m.lifecycle_state, m.group_name)),
            None => problems.push(format!("not in Auto Scaling group {}", recorded.group)),
        }
    }
    if now.termination_protected != record.disable_api_termination {
        problems.push("termination protection differs from the record".into());
    }
    if now.shutdown_behavior != record.shutdown_behavior {
        problems.push("shutdown behaviour differs from the record".into());
    }
    if problems.is_empty() {
        Ok(now)
    } else {
        fail("released", problems)
    }
}
