//! `tag`: sets tags on the target instance (incident id, state, run id, notes). Idempotent:
//! tags that already hold the wanted values are left alone; verified by reading back.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;
use serde_saphyr::Spanned;

use super::{Access, Action, ActionInfo, ApiCall, PlanCtx, Planned, Resource, Service};
use crate::aws::{Applied, Ec2Api};
use crate::ids;
use crate::playbook::args::ArgsDoc;
use crate::playbook::exec::{StepCtx, StepError, StepResult, StepStatus};
use crate::playbook::load::Checker;
use crate::playbook::plan::PlannedCall;
use crate::playbook::template::Template;

pub(crate) const DESCRIBE_INSTANCES: ApiCall = ApiCall {
    service: Service::Ec2,
    operation: "DescribeInstances",
    access: Access::Read,
    resource: Resource::Any,
};

/// The target instance as EC2 describes it now; the step fails when it no longer exists.
pub(crate) async fn read_target(ctx: &StepCtx<'_>) -> Result<crate::aws::Instance, StepError> {
    let id = ctx.instance_id();
    ctx.read(
        &DESCRIBE_INSTANCES,
        json!({ "instance_ids": [id] }),
        ctx.ec2().describe_instance(id),
    )
    .await?
    .ok_or_else(|| StepError::Failed(format!("instance {id} no longer exists")))
}

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

/// AWS limit on tag values (keys: `ids::check_tag_key`).
const MAX_VALUE: usize = 256;

/// The `tag` action.
pub struct Tag;

/// `tag`'s arguments as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagDoc {
    /// Tag key → value; values may use `{{ … }}` templates.
    pub tags: BTreeMap<String, Spanned<String>>,
}

/// `tag` takes arguments: `- tag:` alone names no action.
impl ArgsDoc for TagDoc {
    const KEY_ALONE_NAMES_ACTION: bool = false;
}

/// `tag`'s arguments, checked (values are templates).
#[derive(Debug, Clone, Serialize)]
pub struct TagSpec {
    pub tags: BTreeMap<String, Template>,
}

/// `tag`'s arguments, rendered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagArgs {
    pub tags: BTreeMap<String, String>,
}

impl Action for Tag {
    type Doc = TagDoc;
    type Spec = TagSpec;
    type Args = TagArgs;
    const INFO: &'static ActionInfo = &INFO;

    fn check(
        c: &mut Checker,
        doc: &Spanned<TagDoc>,
        known: &dyn Fn(&str) -> bool,
    ) -> Option<TagSpec> {
        let before = c.diagnostics.len();
        if doc.value.tags.is_empty() {
            c.at(
                Some(doc.referenced),
                "`tag` needs at least one entry under `tags`".into(),
                "add `tags: {Key: value}`",
            );
        }
        let mut tags = BTreeMap::new();
        for (key, value) in &doc.value.tags {
            if let Err(reason) = ids::check_tag_key(key) {
                c.at(
                    Some(value.referenced),
                    format!("tag key `{key}`: {reason}"),
                    "choose another tag key",
                );
            }
            match Template::parse(&value.value, known) {
                Ok(template) => {
                    tags.insert(key.clone(), template);
                }
                Err(reason) => c.at(
                    Some(value.referenced),
                    format!("tag `{key}`: {reason}"),
                    "use a declared parameter or a built-in variable (docs/playbooks.md)",
                ),
            }
        }
        (c.diagnostics.len() == before).then_some(TagSpec { tags })
    }

    /// Renders the tags for one target and lists the calls.
    fn plan(spec: &TagSpec, target: &PlanCtx<'_>) -> Result<Planned<TagArgs>, String> {
        let mut rendered = BTreeMap::new();
        for (key, template) in &spec.tags {
            let value = target.render(template);
            if value.chars().count() > MAX_VALUE {
                return Err(format!(
                    "the value of tag `{key}` is longer than {MAX_VALUE} characters"
                ));
            }
            rendered.insert(key.clone(), value);
        }
        let server = target.server;
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
        Ok(Planned {
            args: TagArgs { tags: rendered },
            calls,
            notes,
        })
    }

    /// Sets the tags that differ, then verifies.
    async fn execute(ctx: &StepCtx<'_>, args: &TagArgs) -> Result<StepResult, StepError> {
        let tags = &args.tags;
        let ec2 = ctx.ec2();
        let id = ctx.instance_id();
        let read = || json!({ "instance_ids": [id] });
        let before = read_target(ctx).await?;
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
