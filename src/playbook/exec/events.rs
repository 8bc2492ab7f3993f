//! What the executor reports: `ExecEvent`s as they happen (for the CLI reporter and the
//! TUI), and the final `RunReport` (the JSON document of a run).

use serde::Serialize;

use crate::aws::AwsError;

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StepStatus {
    Succeeded,
    /// Nothing to do: the post-condition already held.
    AlreadyDone,
    Failed,
    /// Not run: an earlier step of the target failed, the run was interrupted, or (on
    /// resume) it completed in an earlier attempt.
    Skipped,
    /// Dry run: the calls would succeed.
    WouldSucceed,
    /// Dry run: a call would fail (e.g. not permitted).
    WouldFail,
    /// Dry run: the step's effect cannot be checked without making it.
    NotVerifiable,
    /// Ctrl-C while the step was running; `breakglass resume` finishes it.
    Interrupted,
}

impl StepStatus {
    /// Whether the step leaves its target where the playbook wants it (or would).
    pub fn is_ok(self) -> bool {
        matches!(
            self,
            StepStatus::Succeeded
                | StepStatus::AlreadyDone
                | StepStatus::WouldSucceed
                | StepStatus::NotVerifiable
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            StepStatus::Succeeded => "succeeded",
            StepStatus::AlreadyDone => "already_done",
            StepStatus::Failed => "failed",
            StepStatus::Skipped => "skipped",
            StepStatus::WouldSucceed => "would_succeed",
            StepStatus::WouldFail => "would_fail",
            StepStatus::NotVerifiable => "not_verifiable",
            StepStatus::Interrupted => "interrupted",
        }
    }
}

/// A step's status with a one-line explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepResult {
    pub status: StepStatus,
    pub detail: String,
}

impl StepResult {
    pub fn new(status: StepStatus, detail: impl Into<String>) -> Self {
        StepResult {
            status,
            detail: detail.into(),
        }
    }
}

/// How a call ended, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallResult {
    Ok,
    WouldSucceed,
    Error,
}

/// One AWS call made during a run.
#[derive(Debug, Clone, Serialize)]
pub struct CallRecord {
    pub service: &'static str,
    pub operation: &'static str,
    pub result: CallResult,
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Where a target and step are, for events.
#[derive(Debug, Clone, Serialize)]
pub struct StepRef {
    pub instance_id: String,
    pub target_name: Option<String>,
    pub step: usize,
    pub steps: usize,
    pub step_name: String,
}

/// What happens during a run, in order per target.
#[derive(Debug, Clone)]
pub enum ExecEvent {
    StepStarted(StepRef),
    CallStarted {
        at: StepRef,
        service: &'static str,
        operation: &'static str,
    },
    CallFinished {
        at: StepRef,
        call: CallRecord,
    },
    StepFinished {
        at: StepRef,
        result: StepResult,
    },
    /// A finding recorded with a step (e.g. a path isolation cannot cut).
    Note {
        at: StepRef,
        level: String,
        message: String,
    },
    /// Progress of a long wait.
    Progress {
        at: StepRef,
        message: String,
    },
    /// Ctrl-C: the run stops after the calls in flight.
    Interrupting,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Succeeded,
    Failed,
    Interrupted,
    /// The credentials expired (or were missing) before a call: the run stopped between
    /// calls; sign in again and resume.
    SignInNeeded,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Succeeded => "succeeded",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
            RunStatus::SignInNeeded => "sign_in_needed",
        }
    }
}

/// One step's result in the run report.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub step: usize,
    pub name: String,
    pub action: &'static str,
    pub status: StepStatus,
    pub detail: String,
    pub calls: Vec<CallRecord>,
}

/// One target's results.
#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    pub instance_id: String,
    pub region: String,
    pub name: Option<String>,
    pub status: RunStatus,
    pub steps: Vec<StepReport>,
    /// Why the target could not be worked on at all (e.g. the instance is gone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a step did not reach a result.
#[derive(Debug)]
pub enum StepError {
    /// An AWS call failed; it is recorded.
    Aws(AwsError),
    /// A pre- or post-condition does not hold.
    Failed(String),
    /// Ctrl-C before the next call.
    Interrupted,
    /// The audit record could not be written: the run must stop.
    Audit(crate::audit::AuditError),
}

impl From<AwsError> for StepError {
    fn from(err: AwsError) -> Self {
        StepError::Aws(err)
    }
}
