//! The playbook file format as serde types. Unknown fields are errors everywhere, and each
//! action is its own optional field of a step, so a misspelt action or argument is reported
//! by the YAML parser with its line and column.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

/// A playbook file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PlaybookDoc {
    pub name: Spanned<String>,
    pub description: String,
    #[serde(default)]
    pub parameters: BTreeMap<String, Spanned<ParamDoc>>,
    pub steps: Spanned<Vec<Spanned<StepDoc>>>,
}

/// A parameter declaration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ParamDoc {
    #[serde(rename = "type")]
    pub kind: ParamType,
    pub description: String,
    /// Without a default the parameter must be given (`--param NAME=VALUE`).
    pub default: Option<Spanned<serde_json::Value>>,
    /// When set, the value must be one of these.
    #[serde(default)]
    pub choices: Vec<String>,
}

/// The type of a parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    String,
    Integer,
    Boolean,
}

/// What happens to a target's remaining steps when a step fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnError {
    /// Stop this target's remaining steps (other targets go on).
    #[default]
    Abort,
    /// Record the failure and go on with the next step.
    Continue,
}

/// One step as written: common fields plus exactly one action field.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StepDoc {
    pub name: Option<String>,
    #[serde(default)]
    pub on_error: OnError,
    /// Ask before this step runs; defaults to what the action declares.
    pub confirm: Option<bool>,
    // Actions: one field each. Keep in step with `actions::ACTIONS`.
    pub tag: Option<Spanned<TagArgs>>,
    #[serde(
        rename = "protect-from-scale-in",
        default,
        deserialize_with = "present"
    )]
    pub protect_from_scale_in: Option<Spanned<Option<NoArgs>>>,
    #[serde(default, deserialize_with = "present")]
    pub isolate: Option<Spanned<Option<IsolateDoc>>>,
    #[serde(default, deserialize_with = "present")]
    pub release: Option<Spanned<Option<ReleaseDoc>>>,
    #[serde(rename = "stop-instance", default, deserialize_with = "present")]
    pub stop_instance: Option<Spanned<Option<NoArgs>>>,
    #[serde(
        rename = "disassociate-elastic-ip",
        default,
        deserialize_with = "present"
    )]
    pub disassociate_elastic_ip: Option<Spanned<Option<NoArgs>>>,
    #[serde(default, deserialize_with = "present")]
    pub snapshot: Option<Spanned<Option<SnapshotDoc>>>,
    #[serde(rename = "revoke-sessions", default, deserialize_with = "present")]
    pub revoke_sessions: Option<Spanned<Option<RevokeDoc>>>,
    #[serde(rename = "capture-memory", default, deserialize_with = "present")]
    pub capture_memory: Option<Spanned<Option<CollectDoc>>>,
    #[serde(rename = "collect-volatile", default, deserialize_with = "present")]
    pub collect_volatile: Option<Spanned<Option<CollectDoc>>>,
}

/// Arguments of `capture-memory` and `collect-volatile`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CollectDoc {
    /// Evidence bucket (template); default: `[evidence] bucket` of the config.
    pub bucket: Option<Spanned<String>>,
    /// Minutes the command may run (or a template).
    pub timeout_minutes: Option<Spanned<Scalar>>,
    /// Directory on the host for the file before upload (template; default `/var/tmp`).
    pub work_dir: Option<Spanned<String>>,
}

/// Arguments of `revoke-sessions`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevokeDoc {
    /// Also revoke every session of the role (`true`/`false` or a template).
    pub role_wide: Option<Spanned<Scalar>>,
    /// Also remove the instance profile (`true`/`false` or a template).
    pub remove_profile: Option<Spanned<Scalar>>,
}

/// Arguments of `snapshot`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SnapshotDoc {
    /// Minutes to wait for completion (default 30; 0 = do not wait), or a template.
    pub wait_minutes: Option<Spanned<Scalar>>,
    /// KMS key to copy the snapshots under (template; empty = no copy).
    pub copy_kms_key: Option<Spanned<String>>,
    /// Account to share the copies with (template; empty = none).
    pub share_with_account: Option<Spanned<String>>,
}

/// Arguments of `isolate`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IsolateDoc {
    /// `standby` (default) or `detach`, or a template.
    pub auto_scaling: Option<Spanned<Scalar>>,
    /// Security group of the VPC's SSM endpoints (template; empty = none).
    pub ssm_endpoint_group: Option<Spanned<String>>,
}

/// Arguments of `release`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ReleaseDoc {
    /// `true`, `false` or a template.
    pub force: Option<Spanned<Scalar>>,
}

/// A scalar argument written as a plain value or as a `{{ … }}` template.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub(crate) enum Scalar {
    Bool(bool),
    Int(i64),
    Text(String),
}

impl Scalar {
    pub fn text(&self) -> String {
        match self {
            Scalar::Bool(b) => b.to_string(),
            Scalar::Int(i) => i.to_string(),
            Scalar::Text(t) => t.clone(),
        }
    }
}

/// For actions without arguments: a key that is present counts even with no value
/// (`- protect-from-scale-in:`), which serde would otherwise read as absent.
fn present<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
}

/// Arguments of an action that takes none: `{}` (or an empty value).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoArgs {}

/// Arguments of the `tag` action.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TagArgs {
    /// Tag key → value; values may use `{{ … }}` templates.
    pub tags: BTreeMap<String, Spanned<String>>,
}
