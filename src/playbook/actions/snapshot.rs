//! `snapshot`: crash-consistent snapshots of every EBS volume of the target
//! (`CreateSnapshots`), tagged for the chain of custody, waited for with progress; then,
//! optionally, copied under a forensic KMS key and shared with a forensic account
//! (snapshots under the default EBS key cannot be shared). Instance-store volumes cannot be
//! snapshotted: said in the output and the audit.

mod copies;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_saphyr::Spanned;

use self::copies::{copy, share, wait};
use super::{Access, Action, ActionInfo, ApiCall, PlanCtx, Planned, Resource, Service};
use crate::aws::{Ec2Api, Ec2EvidenceApi, Ec2Filter};
use crate::ids;
use crate::inventory::{INCIDENT_TAG, RUN_TAG};
use crate::playbook::args::{Scalar, optional_template, scalar};
use crate::playbook::exec::{StepCtx, StepError, StepResult, StepStatus};
use crate::playbook::load::Checker;
use crate::playbook::plan::PlannedCall;
use crate::playbook::template::Template;

const DESCRIBE_INSTANCES: ApiCall = super::tag::DESCRIBE_INSTANCES;
const DESCRIBE_INSTANCE_TYPES: ApiCall = ApiCall::new(
    Service::Ec2,
    "DescribeInstanceTypes",
    Access::Read,
    Resource::Any,
);
const DESCRIBE_SNAPSHOTS: ApiCall = ApiCall::new(
    Service::Ec2,
    "DescribeSnapshots",
    Access::Read,
    Resource::Any,
);
const CREATE_SNAPSHOTS: ApiCall = ApiCall::new(
    Service::Ec2,
    "CreateSnapshots",
    Access::Write,
    Resource::SnapshotSource,
);
const TAG_SNAPSHOT: ApiCall = ApiCall::new(
    Service::Ec2,
    "CreateTags",
    Access::Write,
    Resource::Snapshot,
);
const COPY_SNAPSHOT: ApiCall = ApiCall::new(
    Service::Ec2,
    "CopySnapshot",
    Access::Write,
    Resource::Snapshot,
);
const SHARE_SNAPSHOT: ApiCall = ApiCall::new(
    Service::Ec2,
    "ModifySnapshotAttribute",
    Access::Write,
    Resource::Snapshot,
);

/// What EBS does with the forensic key on the caller's behalf during `CopySnapshot`
/// (not calls breakglass makes; declared so the policy grants them).
const fn kms(operation: &'static str) -> ApiCall {
    ApiCall {
        service: Service::Kms,
        operation,
        access: Access::Write,
        resource: Resource::KmsKey,
    }
}

pub static INFO: ActionInfo = ActionInfo {
    name: "snapshot",
    summary: "Crash-consistent snapshots of every EBS volume, tagged for the chain of custody; \
              optionally copied under a forensic KMS key and shared",
    calls: &[
        DESCRIBE_INSTANCES,
        DESCRIBE_INSTANCE_TYPES,
        DESCRIBE_SNAPSHOTS,
        CREATE_SNAPSHOTS,
        TAG_SNAPSHOT,
        COPY_SNAPSHOT,
        SHARE_SNAPSHOT,
        kms("CreateGrant"),
        kms("DescribeKey"),
        kms("Encrypt"),
        kms("Decrypt"),
        kms("ReEncryptFrom"),
        kms("ReEncryptTo"),
        kms("GenerateDataKeyWithoutPlaintext"),
    ],
    confirm_by_default: false,
    needs: &[],
    cuts: &[],
};

/// Tag on snapshots naming the instance they were taken of.
pub const SOURCE_INSTANCE_TAG: &str = "breakglass:source-instance";
pub const SOURCE_VOLUME_TAG: &str = "breakglass:source-volume";
pub const DEVICE_TAG: &str = "breakglass:device";
pub const RESPONDER_TAG: &str = "breakglass:responder";
/// Tag on a copy naming the snapshot it copies.
pub const COPY_OF_TAG: &str = "breakglass:copy-of";

/// `snapshot`'s arguments, rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotArgs {
    /// Minutes to wait for completion; 0 starts them and goes on.
    pub wait_minutes: u32,
    /// KMS key (ARN, id or alias) to copy each snapshot under.
    pub copy_kms_key: Option<String>,
    /// Account to share the copies with.
    pub share_with_account: Option<String>,
}

impl SnapshotArgs {
    /// Checks rendered values; the error says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.wait_minutes > 720 {
            return Err("`wait_minutes` is at most 720 (12 hours)".into());
        }
        if let Some(account) = &self.share_with_account {
            if !ids::is_account_id(account) {
                return Err(format!(
                    "`share_with_account` `{account}` is not a 12-digit account id"
                ));
            }
            if self.copy_kms_key.is_none() {
                return Err(
                    "`share_with_account` needs `copy_kms_key`: snapshots under the \
                            default EBS key cannot be shared"
                        .into(),
                );
            }
        }
        Ok(())
    }
}

/// The `snapshot` action.
pub struct Snapshot;

/// `snapshot`'s arguments as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SnapshotDoc {
    /// Minutes to wait for completion (default 30; 0 = do not wait), or a template.
    pub wait_minutes: Option<Spanned<Scalar>>,
    /// KMS key to copy the snapshots under (template; empty = no copy).
    pub copy_kms_key: Option<Spanned<String>>,
    /// Account to share the copies with (template; empty = none).
    pub share_with_account: Option<Spanned<String>>,
}

/// `snapshot`'s arguments, checked.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotSpec {
    /// Renders to a number of minutes.
    pub wait_minutes: Template,
    pub copy_kms_key: Option<Template>,
    pub share_with_account: Option<Template>,
}

impl Action for Snapshot {
    type Doc = Option<SnapshotDoc>;
    type Spec = SnapshotSpec;
    type Args = SnapshotArgs;
    const INFO: &'static ActionInfo = &INFO;

    fn check(
        c: &mut Checker,
        doc: &Spanned<Option<SnapshotDoc>>,
        known: &dyn Fn(&str) -> bool,
    ) -> Option<SnapshotSpec> {
        let args = doc.value.clone().unwrap_or_default();
        let wait = scalar(
            c,
            args.wait_minutes.as_ref(),
            "30",
            known,
            &|v| v.parse::<u32>().is_ok_and(|m| m <= 720),
            "`wait_minutes` is a number of minutes from 0 to 720",
        );
        let key = optional_template(c, args.copy_kms_key.as_ref(), known, "`copy_kms_key`");
        let share = optional_template(
            c,
            args.share_with_account.as_ref(),
            known,
            "`share_with_account`",
        );
        Some(SnapshotSpec {
            wait_minutes: wait?,
            copy_kms_key: key?,
            share_with_account: share?,
        })
    }

    fn plan(spec: &SnapshotSpec, target: &PlanCtx<'_>) -> Result<Planned<SnapshotArgs>, String> {
        let wait = target.render(&spec.wait_minutes);
        let args = SnapshotArgs {
            wait_minutes: wait
                .parse()
                .map_err(|_| format!("`wait_minutes` is `{wait}`, not a number of minutes"))?,
            copy_kms_key: target.optional(spec.copy_kms_key.as_ref()),
            share_with_account: target.optional(spec.share_with_account.as_ref()),
        };
        args.check()?;
        let server = target.server;
        let id = &server.instance_id;
        let mut calls = vec![
            PlannedCall::new(&DESCRIBE_INSTANCES, id, "read the attached EBS volumes"),
            PlannedCall::new(
                &DESCRIBE_INSTANCE_TYPES,
                "<instance type>",
                "check for instance-store volumes",
            ),
            PlannedCall::new(
                &DESCRIBE_SNAPSHOTS,
                id,
                "find snapshots this run already took",
            ),
            PlannedCall::new(
                &CREATE_SNAPSHOTS,
                id,
                "snapshot every EBS volume, crash-consistent",
            ),
            PlannedCall::new(
                &TAG_SNAPSHOT,
                "<each snapshot>",
                "tag it with its volume and device",
            ),
        ];
        if args.wait_minutes > 0 {
            calls.push(PlannedCall::new(
                &DESCRIBE_SNAPSHOTS,
                "<the snapshots>",
                format!("wait up to {} min for completion", args.wait_minutes),
            ));
        }
        if let Some(key) = &args.copy_kms_key {
            calls.push(PlannedCall::new(
                &COPY_SNAPSHOT,
                "<each snapshot>",
                format!("copy under {key}"),
            ));
            if let Some(account) = &args.share_with_account {
                calls.push(PlannedCall::new(
                    &SHARE_SNAPSHOT,
                    "<each copy>",
                    format!("share with {account}, once the copies have completed"),
                ));
            }
        }
        let mut notes = Vec::new();
        if args.wait_minutes == 0 {
            notes.push("does not wait: the snapshots complete in the background".to_owned());
        }
        Ok(Planned { args, calls, notes })
    }

    async fn execute(ctx: &StepCtx<'_>, args: &SnapshotArgs) -> Result<StepResult, StepError> {
        let ec2 = ctx.ec2();
        let id = ctx.instance_id();
        let instance = super::tag::read_target(ctx).await?;
        if let Some(instance_type) = &instance.instance_type {
            let store = ctx
                .read(
                    &DESCRIBE_INSTANCE_TYPES,
                    json!({ "instance_types": [instance_type] }),
                    ec2.has_instance_store(instance_type),
                )
                .await?;
            if store {
                ctx.note(
                    "warning",
                    format!(
                        "{instance_type} has instance-store volumes: they cannot be snapshotted and \
                         are lost when the instance stops; collect what matters from them before"
                    ),
                )?;
            }
        }
        if instance.volumes.is_empty() {
            return Err(StepError::Failed(
                "the instance has no EBS volume to snapshot".into(),
            ));
        }
        let devices: BTreeMap<&str, &str> = instance
            .volumes
            .iter()
            .map(|v| (v.volume_id.as_str(), v.device.as_str()))
            .collect();
        let mine = [
            by_tag(RUN_TAG, ctx.run_id()),
            by_tag(SOURCE_INSTANCE_TAG, id),
        ];
        let mut taken = ctx
            .read(
                &DESCRIBE_SNAPSHOTS,
                json!({ "filters": { "tag:breakglass:run": [ctx.run_id()], "tag:breakglass:source-instance": [id] } }),
                ec2.describe_snapshots(&mine),
            )
            .await?;
        taken.retain(|s| !s.tags.contains_key(COPY_OF_TAG));
        let mut done = Vec::new();
        if taken.is_empty() {
            let tags = base_tags(ctx);
            let description = format!(
                "breakglass {} of {id} (run {})",
                ctx.incident().unwrap_or("dry-run"),
                ctx.run_id()
            );
            let created = ctx
                .mutate(
                    &CREATE_SNAPSHOTS,
                    json!({ "instance_id": id, "exclude_boot_volume": false, "tags": tags }),
                    ec2.create_snapshots(id, &description, &tags, ctx.dry_run()),
                )
                .await?;
            if ctx.dry_run() {
                let copy = if args.copy_kms_key.is_some() {
                    "; the copy is checked when real snapshots exist"
                } else {
                    ""
                };
                return Ok(StepResult::new(
                    StepStatus::WouldSucceed,
                    format!(
                        "would snapshot {} EBS volume(s){copy}",
                        instance.volumes.len()
                    ),
                ));
            }
            for snapshot in &created.snapshots {
                tag_volume(ctx, snapshot, &devices).await?;
            }
            done.push(format!(
                "snapshot(s) {}",
                created
                    .snapshots
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            taken = created.snapshots;
        } else {
            // An earlier attempt may have stopped before it tagged each with its volume.
            for snapshot in taken
                .iter()
                .filter(|s| !s.tags.contains_key(SOURCE_VOLUME_TAG))
            {
                tag_volume(ctx, snapshot, &devices).await?;
            }
            done.push(format!(
                "kept the snapshot(s) this run took: {}",
                taken
                    .iter()
                    .map(|s| s.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let missing: Vec<&str> = devices
            .keys()
            .filter(|v| !taken.iter().any(|s| s.volume_id.as_deref() == Some(**v)))
            .copied()
            .collect();
        if !missing.is_empty() {
            return Err(StepError::Failed(format!(
                "no snapshot of volume(s) {} (attached after the snapshots were taken?)",
                missing.join(", ")
            )));
        }
        let ids: Vec<String> = taken.iter().map(|s| s.id.clone()).collect();
        if args.wait_minutes == 0 {
            return Ok(StepResult::new(
                StepStatus::Succeeded,
                format!("{}; completing in the background", done.join("; ")),
            ));
        }
        wait(ctx, &ids, args.wait_minutes).await?;
        done.push("completed".into());
        if let Some(key) = &args.copy_kms_key {
            let copies = copy(ctx, &taken, &devices, key).await?;
            wait(ctx, &copies, args.wait_minutes).await?;
            done.push(format!("copied under {key}: {}", copies.join(", ")));
            if let Some(account) = &args.share_with_account {
                share(ctx, &copies, account).await?;
                done.push(format!("shared with {account} once completed"));
            }
        }
        Ok(StepResult::new(StepStatus::Succeeded, done.join("; ")))
    }
}

/// Tags `snapshot` with the volume it was taken of and that volume's device.
async fn tag_volume(
    ctx: &StepCtx<'_>,
    snapshot: &crate::aws::Snapshot,
    devices: &BTreeMap<&str, &str>,
) -> Result<(), StepError> {
    let volume = snapshot.volume_id.as_deref().unwrap_or_default();
    let device = devices.get(volume).copied().unwrap_or("unknown");
    let tags = BTreeMap::from([
        (SOURCE_VOLUME_TAG.to_owned(), volume.to_owned()),
        (DEVICE_TAG.to_owned(), device.to_owned()),
        (
            "Name".to_owned(),
            format!("breakglass {} {device}", ctx.instance_id()),
        ),
    ]);
    ctx.mutate(
        &TAG_SNAPSHOT,
        json!({ "resources": [snapshot.id], "tags": tags }),
        ctx.ec2().create_tags(&snapshot.id, &tags, false),
    )
    .await?;
    Ok(())
}

/// Tags every snapshot of the run carries.
fn base_tags(ctx: &StepCtx<'_>) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::from([
        (RUN_TAG.to_owned(), ctx.run_id().to_owned()),
        (SOURCE_INSTANCE_TAG.to_owned(), ctx.instance_id().to_owned()),
        (
            RESPONDER_TAG.to_owned(),
            ctx.actor().unwrap_or("unknown").to_owned(),
        ),
    ]);
    if let Some(incident) = ctx.incident() {
        tags.insert(INCIDENT_TAG.to_owned(), incident.to_owned());
    }
    tags
}

fn by_tag(key: &str, value: &str) -> Ec2Filter {
    Ec2Filter {
        name: format!("tag:{key}"),
        values: vec![value.to_owned()],
    }
}
