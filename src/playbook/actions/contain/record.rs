//! The isolation record: the target's state before isolation, kept in an SSM parameter
//! (`/breakglass/isolation/<instance-id>`, in the target's region) so any responder can
//! release it from any machine, and in the audit log with the `PutParameter` call.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::calls::*;
use super::facts::Facts;
use super::outcome::Outcome;
use crate::aws::{EbsVolume, GroupRef, MetadataOptions, SsmApi};
use crate::playbook::exec::{StepCtx, StepError};

/// Where isolation records live in SSM Parameter Store.
pub const PARAMETER_PREFIX: &str = "/breakglass/isolation/";
/// Format version of the record.
pub const RECORD_VERSION: u32 = 1;

/// The target's state before isolation — what `release` restores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IsolationRecord {
    pub version: u32,
    pub instance_id: String,
    pub region: String,
    pub vpc_id: Option<String>,
    pub run_id: String,
    pub incident: Option<String>,
    pub recorded_at: String,
    pub interfaces: Vec<RecordedInterface>,
    pub instance_profile_arn: Option<String>,
    pub metadata: Option<MetadataOptions>,
    pub disable_api_termination: bool,
    pub shutdown_behavior: String,
    pub volumes: Vec<EbsVolume>,
    pub auto_scaling: Option<RecordedMembership>,
    pub target_groups: Vec<RecordedRegistration>,
    /// The Classic Load Balancers it was registered with (absent from older records).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub classic_load_balancers: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedInterface {
    pub id: String,
    pub device_index: i32,
    pub groups: Vec<GroupRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedMembership {
    pub group: String,
    pub lifecycle_state: String,
    pub protected_from_scale_in: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRegistration {
    pub target_group_arn: String,
    pub name: String,
    pub protocol: Option<String>,
    pub port: Option<i32>,
}

pub fn parameter_name(instance_id: &str) -> String {
    format!("{PARAMETER_PREFIX}{instance_id}")
}

impl IsolationRecord {
    /// The record of `facts`, made by this run.
    pub fn of(facts: &Facts, ctx: &StepCtx<'_>) -> IsolationRecord {
        let i = &facts.instance;
        IsolationRecord {
            version: RECORD_VERSION,
            instance_id: i.id.clone(),
            region: ctx.region().to_owned(),
            vpc_id: i.vpc_id.clone(),
            run_id: ctx.run_id().to_owned(),
            incident: ctx.incident().map(str::to_owned),
            recorded_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            interfaces: facts
                .interfaces()
                .iter()
                .map(|e| RecordedInterface {
                    id: e.id.clone(),
                    device_index: e.device_index,
                    groups: e.groups.clone(),
                })
                .collect(),
            instance_profile_arn: i.instance_profile_arn.clone(),
            metadata: i.metadata.clone(),
            disable_api_termination: facts.termination_protected,
            shutdown_behavior: facts.shutdown_behavior.clone(),
            volumes: i.volumes.clone(),
            auto_scaling: facts.membership.as_ref().map(|m| RecordedMembership {
                group: m.group_name.clone(),
                lifecycle_state: m.lifecycle_state.clone(),
                protected_from_scale_in: m.protected_from_scale_in,
            }),
            target_groups: facts
                .registrations
                .iter()
                .flat_map(|(group, targets)| {
                    targets.iter().map(|t| RecordedRegistration {
                        target_group_arn: group.arn.clone(),
                        name: group.name.clone(),
                        protocol: group.protocol.clone(),
                        port: t.port,
                    })
                })
                .collect(),
            classic_load_balancers: facts.classic.clone(),
            tags: i.tags.clone(),
        }
    }
}

/// Reads the stored record; `None` when there is none.
pub async fn load(ctx: &StepCtx<'_>) -> Result<Option<IsolationRecord>, StepError> {
    let name = parameter_name(ctx.instance_id());
    let value = ctx
        .read(
            &GET_PARAMETER,
            json!({ "name": name }),
            ctx.ssm().get_parameter(&name),
        )
        .await?;
    value
        .map(|text| {
            serde_json::from_str(&text).map_err(|e| {
                StepError::Failed(format!(
                    "the isolation record in SSM parameter {name} is not readable ({e}); \
                     compare it with the run_started and PutParameter records in the audit log"
                ))
            })
        })
        .transpose()
}

/// Makes sure a record of the pre-isolation state exists: keeps the one stored when the
/// instance is already (being) isolated, so the quarantined state is never recorded as the
/// original, or when this very run stored it before being interrupted; otherwise stores a
/// new one. Returns it.
pub async fn ensure(
    ctx: &StepCtx<'_>,
    facts: &Facts,
    out: &mut Outcome,
) -> Result<IsolationRecord, StepError> {
    let stored = load(ctx).await?;
    let isolated = matches!(facts.state_tag(), Some("isolating" | "isolated"));
    match (stored, isolated) {
        (Some(record), true) => {
            out.kept(format!(
                "pre-isolation state recorded by run {} kept",
                record.run_id
            ));
            return Ok(record);
        }
        // This run stored it, then stopped before tagging (a crash, a kill): resumed, it
        // keeps it — nothing has changed since, and the write is not repeated.
        (Some(record), false) if record.run_id == ctx.run_id() => {
            out.kept(format!(
                "pre-isolation state recorded earlier by this run ({}) kept",
                record.run_id
            ));
            return Ok(record);
        }
        (None, true) => {
            return Err(StepError::Failed(format!(
                "the instance is tagged {}={} but has no isolation record at {}; refusing to \
                 record its current (quarantined) state as the original — restore it by hand \
                 from the audit log, or remove the tag if it is not isolated",
                crate::inventory::STATE_TAG,
                facts.state_tag().unwrap_or_default(),
                parameter_name(ctx.instance_id())
            )));
        }
        _ => {}
    }
    let record = IsolationRecord::of(facts, ctx);
    let name = parameter_name(ctx.instance_id());
    let text = serde_json::to_string(&record)
        .map_err(|e| StepError::Failed(format!("cannot serialize the isolation record: {e}")))?;
    let description = format!(
        "breakglass: state of {} before isolation (run {})",
        record.instance_id, record.run_id
    );
    if ctx.dry_run() {
        let arn = format!(
            "arn:aws:ssm:{}:{}:parameter{name}",
            ctx.region(),
            ctx.account()
        );
        out.check(
            format!("record the pre-isolation state in {name}"),
            ctx.simulate(&PUT_PARAMETER, &arn).await?,
        );
    } else {
        // The record itself goes into the audit log with the call.
        let params = json!({ "name": name, "value": record, "overwrite": true });
        ctx.mutate(
            &PUT_PARAMETER,
            params,
            ctx.ssm().put_parameter(&name, &text, &description),
        )
        .await?;
        out.changed(format!("pre-isolation state recorded in {name}"));
    }
    Ok(record)
}
