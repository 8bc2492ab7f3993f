//! `StepCtx`: what an action gets to do its work. It is the only way actions reach AWS:
//! every call is announced by an intent record, made, and answered by an outcome record.

use std::future::Future;

use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use super::events::{CallRecord, CallResult, ExecEvent, StepError, StepRef};
use super::recorder::Recorder;

use crate::aws::{Answer, Applied, AutoScaling, AwsContext, AwsError, Change, Ec2, Elbv2, Ssm};
use crate::playbook::actions::{Access, ActionInfo, ApiCall};
use crate::playbook::plan::{PlannedStep, TargetPlan};

/// One step of one target, being executed.
pub struct StepCtx<'a> {
    pub(super) recorder: &'a Recorder,
    pub(super) aws: &'a AwsContext,
    pub(super) cancel: &'a CancellationToken,
    pub(super) target: &'a TargetPlan,
    pub(super) step: &'a PlannedStep,
    pub(super) info: &'static ActionInfo,
    pub(super) at: StepRef,
    pub(super) calls: std::sync::Mutex<Vec<CallRecord>>,
}

impl StepCtx<'_> {
    pub fn instance_id(&self) -> &str {
        &self.target.instance_id
    }

    pub fn dry_run(&self) -> bool {
        self.recorder.meta().dry_run
    }

    pub fn ec2(&self) -> Ec2 {
        self.aws.ec2(&self.target.region)
    }

    pub fn autoscaling(&self) -> AutoScaling {
        self.aws.autoscaling(&self.target.region)
    }

    pub fn elb_classic(&self) -> crate::aws::ClassicElb {
        self.aws.elb_classic(&self.target.region)
    }

    pub fn elbv2(&self) -> Elbv2 {
        self.aws.elbv2(&self.target.region)
    }

    pub fn aws_s3(&self) -> crate::aws::S3 {
        self.aws.s3(&self.target.region)
    }

    pub fn aws_iam(&self) -> crate::aws::Iam {
        self.aws.iam(&self.target.region)
    }

    pub fn ssm(&self) -> Ssm {
        self.aws.ssm(&self.target.region)
    }

    pub fn region(&self) -> &str {
        &self.target.region
    }

    pub fn run_id(&self) -> &str {
        &self.recorder.meta().run_id
    }

    /// The caller's ARN.
    pub fn actor(&self) -> Option<&str> {
        self.recorder.meta().actor.as_deref()
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// Shows progress of a long wait (not recorded: the calls it makes are).
    pub fn progress(&self, message: impl Into<String>) {
        self.recorder.emit(ExecEvent::Progress {
            at: self.at.clone(),
            message: message.into(),
        });
    }

    /// The account of the caller (from its ARN), or `*` when unknown.
    pub fn account(&self) -> &str {
        self.recorder
            .meta()
            .actor
            .as_deref()
            .and_then(|arn| arn.split(':').nth(4))
            .filter(|a| !a.is_empty())
            .unwrap_or("*")
    }

    pub fn incident(&self) -> Option<&str> {
        self.recorder.meta().incident.as_deref()
    }

    /// Records a finding with the step (audit `note`) and shows it as progress.
    pub fn note(&self, level: &str, message: impl Into<String>) -> Result<(), StepError> {
        let message = message.into();
        let mut body = self.step_body();
        body["level"] = serde_json::json!(level);
        body["message"] = serde_json::json!(message);
        self.recorder
            .record(crate::audit::RecordKind::Note, body)
            .map_err(StepError::Audit)?;
        self.recorder.emit(ExecEvent::Note {
            at: self.at.clone(),
            level: level.to_owned(),
            message,
        });
        Ok(())
    }

    /// Makes a read-only call, recorded like any other.
    ///
    /// `call` must be a future that has not been polled: Rust futures do nothing until
    /// awaited, so the request leaves only after the intent record is on disk.
    pub async fn read<T>(
        &self,
        api: &'static ApiCall,
        params: Value,
        call: impl Future<Output = Result<Answer<T>, AwsError>>,
    ) -> Result<T, StepError> {
        debug_assert_eq!(api.access, Access::Read);
        if self.cancel.is_cancelled() {
            return Err(StepError::Interrupted);
        }
        self.announce(api, params)?;
        let result = call.await;
        let (record, value) = match result {
            Ok(answer) => (
                self.call_record(api, CallResult::Ok, answer.request_id, None),
                Ok(answer.value),
            ),
            Err(err) => (self.failed_call(api, &err), Err(err)),
        };
        self.outcome(api, record, value.as_ref().err())?;
        value.map_err(StepError::Aws)
    }

    /// Makes a mutating call (sent with `DryRun=true` by the action in a dry run).
    /// Same ordering contract as [`StepCtx::read`].
    pub async fn mutate<T: Change>(
        &self,
        api: &'static ApiCall,
        params: Value,
        call: impl Future<Output = Result<T, AwsError>>,
    ) -> Result<T, StepError> {
        if self.cancel.is_cancelled() {
            return Err(StepError::Interrupted);
        }
        self.mutate_despite_cancel(api, params, call).await
    }

    /// A mutating call that finishes a change already begun — one that would be unsafe to
    /// leave half done, such as closing an interface the step just opened — and so is made
    /// even after Ctrl-C. Recorded like any other.
    pub async fn mutate_despite_cancel<T: Change>(
        &self,
        api: &'static ApiCall,
        params: Value,
        call: impl Future<Output = Result<T, AwsError>>,
    ) -> Result<T, StepError> {
        debug_assert_eq!(api.access, Access::Write);
        self.announce(api, params)?;
        let result = call.await;
        let (record, value) = match result {
            Ok(changed) => {
                let applied = changed.applied();
                let kind = match applied {
                    Applied::Done { .. } => CallResult::Ok,
                    Applied::WouldSucceed { .. } => CallResult::WouldSucceed,
                };
                let request_id = applied.request_id().map(str::to_owned);
                (self.call_record(api, kind, request_id, None), Ok(changed))
            }
            Err(err) => (self.failed_call(api, &err), Err(err)),
        };
        self.outcome(api, record, value.as_ref().err())?;
        value.map_err(StepError::Aws)
    }

    /// The intent record (and the event) of a call about to be made.
    fn announce(&self, api: &'static ApiCall, params: Value) -> Result<(), StepError> {
        let dry_run_check = self.dry_run() && super::simulate::DRY_RUN_CALLS.contains(api);
        if !self.info.calls.contains(api) && !dry_run_check {
            // A programming error: the policy and the plan would not cover this call.
            return Err(StepError::Failed(format!(
                "action `{}` tried {} without declaring it; nothing was sent",
                self.info.name,
                api.iam_action()
            )));
        }
        self.recorder
            .intent(self.base_body(api), params)
            .map_err(StepError::Audit)?;
        self.recorder.emit(ExecEvent::CallStarted {
            at: self.at.clone(),
            service: api.service.name(),
            operation: api.operation,
        });
        Ok(())
    }

    fn outcome(
        &self,
        api: &'static ApiCall,
        record: CallRecord,
        error: Option<&AwsError>,
    ) -> Result<(), StepError> {
        let written = self.recorder.outcome(
            self.base_body(api),
            record.result,
            record.request_id.as_deref(),
            error,
        );
        self.recorder.emit(ExecEvent::CallFinished {
            at: self.at.clone(),
            call: record.clone(),
        });
        self.calls
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(record);
        written.map_err(StepError::Audit)
    }

    fn failed_call(&self, api: &'static ApiCall, err: &AwsError) -> CallRecord {
        self.call_record(
            api,
            CallResult::Error,
            err.request_id.clone(),
            Some(err.to_string()),
        )
    }

    fn call_record(
        &self,
        api: &'static ApiCall,
        result: CallResult,
        request_id: Option<String>,
        error: Option<String>,
    ) -> CallRecord {
        CallRecord {
            service: api.service.name(),
            operation: api.operation,
            result,
            request_id,
            error,
        }
    }

    /// The fields every intent and outcome record of this step carries.
    pub(super) fn base_body(&self, api: &ApiCall) -> Value {
        let mut body = self.step_body();
        body["service"] = json!(api.service.name());
        body["operation"] = json!(api.operation);
        body
    }

    pub(super) fn step_body(&self) -> Value {
        json!({
            "target": self.target.instance_id,
            "region": self.target.region,
            "step": self.step.step,
            "step_name": self.step.name,
            "action": self.step.action,
        })
    }
}
