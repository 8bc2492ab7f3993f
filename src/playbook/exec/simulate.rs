//! Dry-run verification of changes that have no `DryRun` flag (Auto Scaling, ELB, SSM, …):
//! the IAM policy simulator is asked whether the caller may make the call. When the caller
//! may not use the simulator, or the endpoint has none, the step is "not verifiable".

use serde_json::json;

use super::events::{StepError, StepResult, StepStatus};
use super::step::StepCtx;
use crate::aws::{AwsErrorKind, IamApi};
use crate::playbook::actions::{Access, ApiCall, Resource, Service};

pub const GET_ROLE: ApiCall = ApiCall {
    service: Service::Iam,
    operation: "GetRole",
    access: Access::Read,
    resource: Resource::Any,
};

pub const SIMULATE_PRINCIPAL_POLICY: ApiCall = ApiCall {
    service: Service::Iam,
    operation: "SimulatePrincipalPolicy",
    access: Access::Read,
    resource: Resource::Any,
};

/// Calls any step may make in a dry run, besides its action's own.
pub const DRY_RUN_CALLS: &[ApiCall] = &[GET_ROLE, SIMULATE_PRINCIPAL_POLICY];

/// Who the simulator should evaluate, from the STS caller ARN.
#[derive(Debug, PartialEq, Eq)]
enum Principal {
    /// An assumed role: its full ARN (with path) must be looked up by name.
    Role(String),
    /// An IAM user: the ARN is the principal.
    User(String),
    /// Root or a federated user: the simulator cannot evaluate it.
    Unsupported,
}

fn principal(caller_arn: &str) -> Principal {
    let parts: Vec<&str> = caller_arn.splitn(6, ':').collect();
    match parts.as_slice() {
        ["arn", _, "sts", _, _, resource] => match resource.split('/').collect::<Vec<_>>()[..] {
            ["assumed-role", role, ..] => Principal::Role(role.to_owned()),
            _ => Principal::Unsupported,
        },
        ["arn", _, "iam", _, _, resource] if resource.starts_with("user/") => {
            Principal::User(caller_arn.to_owned())
        }
        _ => Principal::Unsupported,
    }
}

/// Whether `err` only means the IAM policy simulator cannot answer here (denied, not
/// offered by the endpoint, role not found by name, …) — anything but a credentials problem.
pub fn unavailable(err: &crate::aws::AwsError) -> bool {
    !matches!(
        err.kind,
        AwsErrorKind::NoCredentials
            | AwsErrorKind::ExpiredCredentials
            | AwsErrorKind::InvalidCredentials
    )
}

fn not_verifiable(reason: impl Into<String>) -> StepResult {
    StepResult::new(StepStatus::NotVerifiable, reason)
}

impl StepCtx<'_> {
    /// Asks the IAM policy simulator whether the caller may make `api` on `resource_arn`.
    pub async fn simulate(
        &self,
        api: &'static ApiCall,
        resource_arn: &str,
    ) -> Result<StepResult, StepError> {
        let Some(caller) = self.recorder.meta().actor.clone() else {
            return Ok(not_verifiable("the caller identity is unknown"));
        };
        let iam = self.aws.iam(&self.target.region);
        let principal = match principal(&caller) {
            Principal::Unsupported => {
                return Ok(not_verifiable(format!(
                    "the IAM policy simulator cannot evaluate {caller}"
                )));
            }
            Principal::User(arn) => arn,
            Principal::Role(name) => {
                match self
                    .read(
                        &GET_ROLE,
                        json!({ "role_name": name }),
                        iam.get_role_arn(&name),
                    )
                    .await
                {
                    Ok(arn) => arn,
                    Err(StepError::Aws(err)) if unavailable(&err) => {
                        return Ok(not_verifiable(format!(
                            "{} has no DryRun, and the caller's role cannot be looked up for \
                             the IAM policy simulator ({}); grant iam:GetRole to verify it",
                            api.iam_action(),
                            err.code.as_deref().unwrap_or("not available")
                        )));
                    }
                    Err(err) => return Err(err),
                }
            }
        };
        let action = api.iam_action();
        let params = json!({
            "policy_source_arn": principal,
            "action_names": [action],
            "resource_arns": [resource_arn],
        });
        let decisions = match self
            .read(
                &SIMULATE_PRINCIPAL_POLICY,
                params,
                iam.simulate_principal_policy(
                    &principal,
                    std::slice::from_ref(&action),
                    &[resource_arn.to_owned()],
                    &[],
                ),
            )
            .await
        {
            Ok(decisions) => decisions,
            Err(StepError::Aws(err)) if unavailable(&err) => {
                return Ok(not_verifiable(format!(
                    "{action} has no DryRun, and the IAM policy simulator is not available \
                     ({}); grant iam:SimulatePrincipalPolicy to verify it",
                    err.code
                        .as_deref()
                        .unwrap_or("not implemented by the endpoint")
                )));
            }
            Err(err) => return Err(err),
        };
        match decisions.iter().find(|d| d.action == action) {
            Some(d) if d.decision == "allowed" => Ok(StepResult::new(
                StepStatus::WouldSucceed,
                format!("IAM policy simulator: {action} on {resource_arn} is allowed"),
            )),
            Some(d) => Ok(StepResult::new(
                StepStatus::WouldFail,
                format!(
                    "IAM policy simulator: {action} on {resource_arn} is denied ({})",
                    d.decision
                ),
            )),
            None => Ok(not_verifiable(format!(
                "the IAM policy simulator gave no decision for {action}"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_from_caller_arns() {
        let cases = [
            (
                "arn:aws:sts::111122223333:assumed-role/IncidentResponder/alice",
                Principal::Role("IncidentResponder".into()),
            ),
            (
                "arn:aws-us-gov:sts::111122223333:assumed-role/AWSReservedSSO_IR_0123/bob",
                Principal::Role("AWSReservedSSO_IR_0123".into()),
            ),
            (
                "arn:aws:iam::111122223333:user/ops/carol",
                Principal::User("arn:aws:iam::111122223333:user/ops/carol".into()),
            ),
            ("arn:aws:iam::111122223333:root", Principal::Unsupported),
            (
                "arn:aws:sts::111122223333:federated-user/dave",
                Principal::Unsupported,
            ),
            ("garbage", Principal::Unsupported),
        ];
        for (arn, expected) in cases {
            assert_eq!(principal(arn), expected, "{arn}");
        }
    }
}
