//! The playbook file format as serde types. Unknown fields are errors everywhere, and each
//! action is its own optional field of a step (`StepDoc`, made by the action registry), so a
//! misspelt action or argument is reported by the YAML parser with its line and column.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::actions::StepDoc;

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
