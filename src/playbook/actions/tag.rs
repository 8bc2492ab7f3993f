//! `tag`: sets tags on the target instance (incident id, state, run id, notes). Idempotent:
//! tags that already hold the wanted values are left alone; verified by reading back.

use std::collections::BTreeMap;

use serde_json::json;

use super::{Access, ActionInfo, ApiCall, Resource, Service};
use crate::aws::{Applied, Ec2Api};
use crate::inventory::Server;
use crate::playbook::exec::{StepCtx, StepError, StepResult, StepStatus};
use crate::playbook::plan::{PlannedCall, ResolvedAction};
use crate::playbook::template::Template;

pub(crate) const DESCRIBE_INSTANCES: ApiCall = ApiCall {
    service: Service::Ec2,
    operation: "DescribeInstances",
    access: Access::Read,
    resource: Resource::Any,
};

pub(crate) const CREATE_TAGS: ApiCall = ApiCall {
    service: Service::Ec2,
    operation: "CreateTags",
    access: Access::Write,
    resource: Resource::Instance,
};

pub static INFO: ActionInfo = ActionInfo {
    name: "tag",
    summary: "Set tags on the target instance (e.g. the incident id); leaves other tags alone",
    calls: &[DESCRIBE_INSTANCES, CREATE_TAGS],
    confirm_by_default: false,
    needs: &[],
    cuts: &[],
};

/// AWS limits: keys up to 128 characters, values up to 256; `aws:` is reserved.
const MAX_KEY: usize = 128;
const MAX_VALUE: usize = 256;

/// Checks a tag key as written in a playbook.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("the key is empty".into());
    }
    if key.chars().count() > MAX_KEY {
        return Err(format!("longer than {MAX_KEY} characters"));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err("the `aws:` prefix is reserved by AWS".into());
    }
    Ok(())
}

/// Renders the tags for one target and lists the calls.
pub fn plan(
    tags: &BTreeMap<String, Template>,
    vars: &BTreeMap<String, String>,
    server: &Server,
) -> Result<(ResolvedAction, Vec<PlannedCall>, Vec<String>), String> {
    let mut rendered = BTreeMap::new();
    for (key, template) in tags {
        let value = template.render(vars);
        if value.chars().count() > MAX_VALUE {
            return Err(format!(
                "the value of tag `{key}` is longer than {MAX_VALUE} characters"
            ));
        }
        rendered.insert(key.clone(), value);
    }
    let id = &server.instance_id;
    let calls = vec![
        PlannedCall::new(&DESCRIBE_INSTANCES, id, "read the current tags"),
        PlannedCall::new(&CREATE_TAGS, id, "set the tags that differ"),
        PlannedCall::new(&DESCRIBE_INSTANCES, id, "verify the tags are set"),
    ];
    let mut notes = Vec::new();
    if missing(&server.tags, &rendered).is_empty() {
        notes.push("the tags are already set; the step will verify and skip".to_owned());
    }
    Ok((ResolvedAction::Tag { tags: rendered }, calls, notes))
}

/// Sets the tags that differ, then verifies.
pub async fn execute(
    ctx: &StepCtx<'_>,
    tags: &BTreeMap<String, String>,
) -> Result<StepResult, StepError> {
    let ec2 = ctx.ec2();
    let id = ctx.instance_id();
    let read = || json!({ "instance_ids": [id] });
    let before = ctx
        .read(&DESCRIBE_INSTANCES, read(), ec2.describe_instance(id))
        .await?
        .ok_or_else(|| StepError::Failed(format!("instance {id} no longer exists")))?;
    let wanted = missing(&before.tags, tags);
    if wanted.is_empty() {
        return Ok(StepResult::new(
            StepStatus::AlreadyDone,
            format!("already tagged ({})", keys(tags)),
        ));
    }
    let params = json!({ "resources": [id], "tags": wanted });
    let applied = ctx
        .mutate(
            &CREATE_TAGS,
            params,
            ec2.create_tags(id, &wanted, ctx.dry_run()),
        )
        .await?;
    if let Applied::WouldSucceed { .. } = applied {
        return Ok(StepResult::new(
            StepStatus::WouldSucceed,
            format!("would set {}", keys(&wanted)),
        ));
    }
    let after = ctx
        .read(&DESCRIBE_INSTANCES, read(), ec2.describe_instance(id))
        .await?
        .ok_or_else(|| StepError::Failed(format!("instance {id} vanished after tagging")))?;
    let still = missing(&after.tags, tags);
    if !still.is_empty() {
        return Err(StepError::Failed(format!(
            "post-condition failed: {} not set after CreateTags",
            keys(&still)
        )));
    }
    Ok(StepResult::new(
        StepStatus::Succeeded,
        format!("set {}", keys(&wanted)),
    ))
}

/// The wanted tags whose value differs from (or is absent in) `current`.
fn missing(
    current: &BTreeMap<String, String>,
    wanted: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    wanted
        .iter()
        .filter(|(k, v)| current.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn keys(tags: &BTreeMap<String, String>) -> String {
    tags.keys().cloned().collect::<Vec<_>>().join(", ")
}
