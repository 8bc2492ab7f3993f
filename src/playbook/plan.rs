//! The planner: playbook + parameters + resolved targets → `Plan`, with every AWS call each
//! step intends. Pure: no I/O, so plans are snapshot-tested and shown before anything runs.

use std::collections::BTreeMap;

use serde::Serialize;

use super::actions::{Access, ActionInfo, ApiCall};
use super::model::{ActionSpec, Origin, ParamValue, Playbook};
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

/// A step's arguments with templates rendered for its target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum ResolvedAction {
    Tag { tags: BTreeMap<String, String> },
    ProtectFromScaleIn {},
    Isolate(crate::playbook::actions::contain::IsolateArgs),
    Release(crate::playbook::actions::contain::ReleaseArgs),
    StopInstance {},
    DisassociateElasticIp {},
    Snapshot(crate::playbook::actions::snapshot::SnapshotArgs),
    RevokeSessions(crate::playbook::actions::revoke::RevokeArgs),
    CaptureMemory(crate::playbook::actions::collect::memory::MemoryArgs),
    CollectVolatile(crate::playbook::actions::collect::volatile::VolatileArgs),
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
            let error = |reason: String| PlanError {
                instance_id: server.instance_id.clone(),
                step: step.index,
                step_name: step.name.clone(),
                reason,
            };
            let (args, calls, notes) = match &step.action {
                ActionSpec::Tag { tags } => {
                    super::actions::tag::plan(tags, &vars, server).map_err(error)?
                }
                ActionSpec::ProtectFromScaleIn {} => super::actions::scale_in::plan(server),
                ActionSpec::StopInstance {} => super::actions::escalate::plan_stop(server),
                ActionSpec::CaptureMemory(spec) | ActionSpec::CollectVolatile(spec) => {
                    let (bucket, timeout_minutes, work_dir) =
                        collect_args(spec, &vars, run).map_err(error)?;
                    let prefix = run.evidence.prefix.clone();
                    if matches!(step.action, ActionSpec::CaptureMemory(_)) {
                        let args = super::actions::collect::memory::MemoryArgs {
                            bucket,
                            prefix,
                            tools: run.evidence.memory_tool.clone(),
                            timeout_minutes,
                            work_dir,
                        };
                        super::actions::collect::memory::plan(args, server)
                    } else {
                        let args = super::actions::collect::volatile::VolatileArgs {
                            bucket,
                            prefix,
                            timeout_minutes,
                            work_dir,
                        };
                        super::actions::collect::volatile::plan(args, server)
                    }
                }
                ActionSpec::RevokeSessions {
                    role_wide,
                    remove_profile,
                } => {
                    let flag = |name: &str, t: &super::Template| {
                        let value = t.render(&vars);
                        match value.as_str() {
                            "true" => Ok(true),
                            "false" => Ok(false),
                            _ => Err(error(format!("`{name}` is `{value}`, not true or false"))),
                        }
                    };
                    let args = super::actions::revoke::RevokeArgs {
                        role_wide: flag("role_wide", role_wide)?,
                        remove_profile: flag("remove_profile", remove_profile)?,
                    };
                    super::actions::revoke::plan(args, server)
                }
                ActionSpec::Snapshot {
                    wait_minutes,
                    copy_kms_key,
                    share_with_account,
                } => {
                    let text = |t: &Option<super::Template>| {
                        t.as_ref()
                            .map(|t| t.render(&vars))
                            .filter(|v| !v.is_empty())
                    };
                    let wait = wait_minutes.render(&vars);
                    let args = super::actions::snapshot::SnapshotArgs {
                        wait_minutes: wait.parse().map_err(|_| {
                            error(format!(
                                "`wait_minutes` is `{wait}`, not a number of minutes"
                            ))
                        })?,
                        copy_kms_key: text(copy_kms_key),
                        share_with_account: text(share_with_account),
                    };
                    args.check().map_err(error)?;
                    super::actions::snapshot::plan(args, server)
                }
                ActionSpec::DisassociateElasticIp {} => {
                    super::actions::escalate::plan_disassociate(server)
                }
                ActionSpec::Isolate {
                    auto_scaling,
                    ssm_endpoint_group,
                } => {
                    let mode = auto_scaling.render(&vars);
                    let auto_scaling =
                        super::actions::contain::AsgMode::parse(&mode).ok_or_else(|| {
                            error(format!(
                                "`auto_scaling` is `{mode}`, not `standby` or `detach`"
                            ))
                        })?;
                    let endpoint = ssm_endpoint_group
                        .as_ref()
                        .map(|t| t.render(&vars))
                        .filter(|e| !e.is_empty())
                        .or_else(|| {
                            let vpc = server.vpc_id.as_ref()?;
                            run.ssm_endpoint_groups.get(vpc).cloned()
                        });
                    if let Some(endpoint) = &endpoint
                        && !super::actions::contain::isolate::is_group_id(endpoint)
                    {
                        return Err(error(format!(
                            "`ssm_endpoint_group` is `{endpoint}`, not a security group id \
                             (`sg-…`)"
                        )));
                    }
                    let args = super::actions::contain::IsolateArgs {
                        auto_scaling,
                        ssm_endpoint_group: endpoint,
                    };
                    super::actions::contain::isolate::plan(args, server)
                }
                ActionSpec::Release { force } => {
                    let force = force.render(&vars);
                    let args = super::actions::contain::ReleaseArgs {
                        force: force == "true",
                    };
                    if force != "true" && force != "false" {
                        return Err(error(format!("`force` is `{force}`, not true or false")));
                    }
                    super::actions::contain::release::plan(args, server)
                }
            };
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

/// `(bucket, timeout minutes, work dir)` of a Run Command collection, rendered and checked.
fn collect_args(
    spec: &super::model::CollectSpec,
    vars: &BTreeMap<String, String>,
    run: &RunInfo,
) -> Result<(String, u32, String), String> {
    let bucket = spec
        .bucket
        .as_ref()
        .map(|t| t.render(vars))
        .filter(|b| !b.is_empty())
        .or_else(|| run.evidence.bucket.clone())
        .ok_or_else(|| {
            "no evidence bucket: set `[evidence] bucket` in the config or the step's `bucket`"
                .to_owned()
        })?;
    crate::ids::check_bucket(&bucket).map_err(|r| format!("bucket `{bucket}`: {r}"))?;
    let minutes = spec.timeout_minutes.render(vars);
    let timeout = minutes
        .parse::<u32>()
        .ok()
        .filter(|m| (1..=720).contains(m))
        .ok_or_else(|| format!("`timeout_minutes` is `{minutes}`, not 1 to 720"))?;
    let work_dir = spec.work_dir.render(vars);
    if !work_dir.starts_with('/') {
        return Err(format!("`work_dir` is `{work_dir}`, not an absolute path"));
    }
    Ok((bucket, timeout, work_dir))
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
