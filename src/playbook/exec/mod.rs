//! The executor: runs a plan, records every call in the audit log before and after it is
//! made, and reports progress as `ExecEvent`s.

mod events;
mod recorder;
mod run;
mod simulate;
mod step;
#[cfg(test)]
mod tests;

pub use events::{
    CallRecord, CallResult, ExecEvent, RunStatus, StepError, StepRef, StepReport, StepResult,
    StepStatus, TargetReport,
};
pub use recorder::{Recorder, RunMeta};
pub use run::{ExecOptions, RunOutcome, execute};
pub use simulate::{
    DRY_RUN_CALLS, GET_ROLE, SIMULATE_PRINCIPAL_POLICY, unavailable as simulator_unavailable,
};
pub use step::StepCtx;
