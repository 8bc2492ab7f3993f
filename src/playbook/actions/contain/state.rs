//! The state tags containment writes: `breakglass:state` (`isolating` while isolation
//! runs, then `isolated`, or `released`), with the incident and the run.

use std::collections::BTreeMap;

use serde_json::json;

use super::calls::CREATE_TAGS;
use super::outcome::Outcome;
use crate::aws::Ec2Api;
use crate::inventory::{INCIDENT_TAG, RUN_TAG, STATE_TAG};
use crate::playbook::exec::{StepCtx, StepError};

/// Sets `breakglass:state` to `state` (with incident and run) unless `current` already is.
pub async fn set(
    ctx: &StepCtx<'_>,
    current: Option<&str>,
    state: &str,
    out: &mut Outcome,
) -> Result<(), StepError> {
    if current == Some(state) {
        out.kept(format!("{STATE_TAG}={state}"));
        return Ok(());
    }
    let mut tags = BTreeMap::from([
        (STATE_TAG.to_owned(), state.to_owned()),
        (RUN_TAG.to_owned(), ctx.run_id().to_owned()),
    ]);
    if let Some(incident) = ctx.incident() {
        tags.insert(INCIDENT_TAG.to_owned(), incident.to_owned());
    }
    let id = ctx.instance_id();
    ctx.mutate(
        &CREATE_TAGS,
        json!({ "resources": [id], "tags": tags }),
        ctx.ec2().create_tags(id, &tags, ctx.dry_run()),
    )
    .await?;
    out.changed(format!("tagged {STATE_TAG}={state}"));
    Ok(())
}
