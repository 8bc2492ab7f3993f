//! The planner: playbook + parameters + resolved targets → `Plan`, with every AWS call each
//! step intends. Pure: no I/O, so plans are snapshot-tested and shown before anything runs.

use std::collections::BTreeMap;

use serde::Serialize;

use super::actions::{self, Access, ActionInfo, ApiCall, PlanCtx, ResolvedAction};
use super::model::{Origin, ParamValue, Playbook};
use super::schema::OnError;
use crate::inventory::Server;

/// Format version of the plan document.
pub const PLAN_VERSION: u32 = 1;

/// What identifies a run, decided before planning.
#[derive(Debug, Clone, Default)]
pub struct RunInfo {
    pub run_id: String,
    pub incident: Option<String>,
    pub dry_run: bool,
    /// `[evidence]` of the config: bucket, prefix and memory tools.
    pub evidence: crate::config::EvidenceConfig,
    /// VPC id → security group of its SSM interface endpoints (config
    /// `containment.ssm_endpoint_groups`), used by `isolate` when its argument is empty.
    pub ssm_endpoint_groups: BTreeMap<String, String>,
}

/// The playbook a plan was made from.
#[derive(Debug, Clone, Serialize)]
pub struct PlaybookRef {
    pub name: String,
    pub origin: Origin,
    pub sha256: String,
}

/// Everything a run will do, per target.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub version: u32,
    pub run_id: String,
    pub playbook: PlaybookRef,
    pub dry_run: bool,
    pub incident: Option<String>,
    pub parameters: BTreeMap<String, ParamValue>,
    pub targets: Vec<TargetPlan>,
}

/// The steps for one target.
#[derive(Debug, Clone, Serialize)]
pub struct TargetPlan {
    pub instance_id: String,
    pub region: String,
    pub name: Option<String>,
    pub steps: Vec<PlannedStep>,
    pub warnings: Vec<String>,
}

/// One step for one target, with its rendered arguments and intended calls.
#[derive(Debug, Clone, Serialize)]
pub struct PlannedStep {
    pub step: usize,
    pub name: String,
    pub action: &'static str,
    #[serde(skip)]
    pub info: &'static ActionInfo,
    pub confirm: bool,
    pub on_error: OnError,
    pub args: ResolvedAction,
    pub calls: Vec<PlannedCall>,
    pub notes: Vec<String>,
}

/// An AWS call a step intends to make; `resource` may be a placeholder (`<…>`) for an id
/// only known at run time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedCall {
    pub service: &'static str,
    pub operation: &'static str,
    pub access: Access,
    pub resource: String,
    pub purpose: String,
}

impl PlannedCall {
    pub fn new(call: &ApiCall, resource: impl Into<String>, purpose: impl Into<String>) -> Self {
        PlannedCall {
            service: call.service.name(),
            operation: call.operation,
            access: call.access,
            resource: resource.into(),
            purpose: purpose.into(),
        }
    }
}

/// A plan that cannot be made for these targets.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("step {step} `{step_name}` for {instance_id}: {reason}")]
pub struct PlanError {
    pub instance_id: String,
    pub step: usize,
    pub step_name: String,
    pub reason: String,
}

/// Makes the plan. `parameters` must already be resolved (`params::resolve`).
pub fn plan(
    playbook: &Playbook,
    parameters: &BTreeMap<String, ParamValue>,
    targets: &[Server],
    run: &RunInfo,
) -> Result<Plan, PlanError> {
    let mut planned = Vec::new();
    for server in targets {
        let vars = variables(parameters, server, run);
        let mut steps = Vec::new();
        for step in &playbook.steps {
            let target = PlanCtx {
                server,
                vars: &vars,
                run,
            };
            let (args, calls, notes) =
                actions::plan(&step.action, &target).map_err(|reason| PlanError {
                    instance_id: server.instance_id.clone(),
                    step: step.index,
                    step_name: step.name.clone(),
                    reason,
                })?;
            steps.push(PlannedStep {
                step: step.index,
                name: step.name.clone(),
                action: step.info.name,
                info: step.info,
                confirm: step.confirm,
                on_error: step.on_error,
                args,
                calls,
                notes,
            });
        }
        planned.push(TargetPlan {
            instance_id: server.instance_id.clone(),
            region: server.region.clone(),
            name: server.name.clone(),
            steps,
            warnings: target_warnings(server),
        });
    }
    Ok(Plan {
        version: PLAN_VERSION,
        run_id: run.run_id.clone(),
        playbook: PlaybookRef {
            name: playbook.name.clone(),
            origin: playbook.origin.clone(),
            sha256: playbook.sha256.clone(),
        },
        dry_run: run.dry_run,
        incident: run.incident.clone(),
        parameters: parameters.clone(),
        targets: planned,
    })
}

/// The template variables for one target.
fn variables(
    parameters: &BTreeMap<String, ParamValue>,
    server: &Server,
    run: &RunInfo,
) -> BTreeMap<String, String> {
    let mut vars: BTreeMap<String, String> = parameters
        .iter()
        .map(|(k, v)| (k.clone(), v.to_string()))
        .collect();
    let incident = match (&run.incident, run.dry_run) {
        (Some(incident), _) => incident.clone(),
        (None, true) => "dry-run".to_owned(),
        (None, false) => String::new(),
    };
    vars.insert("incident".into(), incident);
    vars.insert("run_id".into(), run.run_id.clone());
    vars.insert("instance_id".into(), server.instance_id.clone());
    vars.insert(
        "target_name".into(),
        server.name.clone().unwrap_or_default(),
    );
    vars.insert("region".into(), server.region.clone());
    vars
}

fn target_warnings(server: &Server) -> Vec<String> {
    let mut warnings = Vec::new();
    if !matches!(server.state.as_str(), "running" | "stopped") {
        warnings.push(format!(
            "the instance is `{}`; steps may fail until it is running or stopped",
            server.state
        ));
    }
    warnings
}
