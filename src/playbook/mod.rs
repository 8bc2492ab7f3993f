//! Playbooks: YAML files of steps, loaded and validated, planned against targets, and run
//! by the executor with a full audit trail. Format: docs/playbooks.md.

pub mod actions;
mod args;
mod catalog;
mod exec;
mod load;
mod model;
mod params;
mod plan;
mod policy;
mod resume;
mod schema;
mod template;

pub use actions::{ActionSpec, ResolvedAction};
pub use catalog::{Catalog, default_user_dir, is_file_reference, load_file};
pub use exec::{
    CallRecord, CallResult, ExecEvent, ExecOptions, Recorder, RunMeta, RunOutcome, RunStatus,
    StepRef, StepReport, StepResult, StepStatus, TargetReport, execute,
};
pub use load::{Diagnostic, MAX_PLAYBOOK_BYTES, PlaybookError, load, type_name};
pub use model::{Origin, ParamValue, Parameter, Playbook, Step};
pub use params::{ParamError, resolve as resolve_parameters};
pub use plan::{Plan, PlanError, PlannedCall, PlannedStep, PlaybookRef, RunInfo, TargetPlan, plan};
pub use policy::{ENGINE_CALLS, PolicyError, PolicyScope, policy};
pub use resume::{PriorRun, find_run};
pub use schema::{OnError, ParamType};
pub use template::{BUILTIN_VARIABLES, Template};

#[cfg(test)]
pub(crate) mod tests;
