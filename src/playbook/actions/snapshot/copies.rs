//! After `snapshot` took the snapshots: waiting for them to complete, with progress, and
//! copying them under a forensic KMS key and, once the copies have completed, sharing them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::json;

use super::{
    COPY_OF_TAG, COPY_SNAPSHOT, DESCRIBE_SNAPSHOTS, DEVICE_TAG, SHARE_SNAPSHOT, SOURCE_VOLUME_TAG,
    base_tags, by_tag,
};
use crate::aws::{Ec2EvidenceApi, Ec2Filter, Snapshot};
use crate::playbook::exec::{StepCtx, StepError};

/// Seconds between progress reads while waiting.
const POLL: Duration = Duration::from_secs(5);

/// Waits until every snapshot is completed, showing progress; fails on `error` or timeout.
pub(super) async fn wait(ctx: &StepCtx<'_>, ids: &[String], minutes: u32) -> Result<(), StepError> {
    let ec2 = ctx.ec2();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(u64::from(minutes) * 60);
    let filter = [Ec2Filter {
        name: "snapshot-id".into(),
        values: ids.to_vec(),
    }];
    loop {
        let now: Vec<Snapshot> = ctx
            .read(
                &DESCRIBE_SNAPSHOTS,
                json!({ "snapshot_ids": ids }),
                ec2.describe_snapshots(&filter),
            )
            .await?;
        if let Some(failed) = now.iter().find(|s| s.state == "error") {
            return Err(StepError::Failed(format!(
                "snapshot {} failed (state error)",
                failed.id
            )));
        }
        let pending: Vec<String> = now
            .iter()
            .filter(|s| s.state != "completed")
            .map(|s| format!("{} {}", s.id, s.progress.as_deref().unwrap_or("0%")))
            .collect();
        if pending.is_empty() && now.len() == ids.len() {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(StepError::Failed(format!(
                "snapshots still pending after {minutes} min ({}); they continue in AWS — check \
                 them with `aws ec2 describe-snapshots --snapshot-ids …`, or raise `wait_minutes`",
                pending.join(", ")
            )));
        }
        if ctx.is_cancelled() {
            return Err(StepError::Interrupted);
        }
        ctx.progress(format!("waiting: {}", pending.join(", ")));
        tokio::time::sleep(POLL).await;
    }
}

/// Copies each snapshot under `key` (once per run); returns the copies' ids.
pub(super) async fn copy(
    ctx: &StepCtx<'_>,
    sources: &[Snapshot],
    devices: &BTreeMap<&str, &str>,
    key: &str,
) -> Result<Vec<String>, StepError> {
    let ec2 = ctx.ec2();
    let mut copies = Vec::new();
    for source in sources {
        let existing = ctx
            .read(
                &DESCRIBE_SNAPSHOTS,
                json!({ "filters": { "tag:breakglass:copy-of": [source.id] } }),
                ec2.describe_snapshots(&[by_tag(COPY_OF_TAG, &source.id)]),
            )
            .await?;
        let copy_id = match existing.first() {
            Some(copy) => copy.id.clone(),
            None => {
                let mut tags = base_tags(ctx);
                let volume = source.volume_id.as_deref().unwrap_or_default();
                tags.insert(SOURCE_VOLUME_TAG.to_owned(), volume.to_owned());
                tags.insert(
                    DEVICE_TAG.to_owned(),
                    devices.get(volume).copied().unwrap_or("unknown").to_owned(),
                );
                tags.insert(COPY_OF_TAG.to_owned(), source.id.clone());
                let params = json!({
                    "source_snapshot_id": source.id, "kms_key_id": key, "encrypted": true, "tags": tags,
                });
                let created = ctx
                    .mutate(
                        &COPY_SNAPSHOT,
                        params,
                        ec2.copy_snapshot(
                            ctx.region(),
                            &source.id,
                            key,
                            &format!("breakglass copy of {}", source.id),
                            &tags,
                            false,
                        ),
                    )
                    .await?;
                created.id.ok_or_else(|| {
                    StepError::Failed(format!("CopySnapshot of {} returned no id", source.id))
                })?
            }
        };
        copies.push(copy_id);
    }
    Ok(copies)
}

/// Shares each copy with `account` — called once they have completed, so the forensic
/// account never sees a copy still being made.
pub(super) async fn share(
    ctx: &StepCtx<'_>,
    copies: &[String],
    account: &str,
) -> Result<(), StepError> {
    for copy_id in copies {
        ctx.mutate(
            &SHARE_SNAPSHOT,
            json!({ "snapshot_id": copy_id, "create_volume_permission": { "add": [account] } }),
            ctx.ec2().share_snapshot(copy_id, account, false),
        )
        .await?;
    }
    Ok(())
}
