//! A loaded, validated playbook: what the planner and executor work from.

use std::fmt;

use serde::Serialize;

use super::actions::{ActionInfo, ActionSpec};
use super::schema::{OnError, ParamType};

/// Where a playbook came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// Embedded in the binary (`playbooks/` in the source tree).
    Builtin,
    /// A file in the user's playbook directory.
    UserDir(std::path::PathBuf),
    /// A file named on the command line.
    File(std::path::PathBuf),
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Builtin => f.write_str("builtin"),
            Origin::UserDir(path) | Origin::File(path) => write!(f, "{}", path.display()),
        }
    }
}

impl Serialize for Origin {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// A parameter value, typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum ParamValue {
    Boolean(bool),
    Integer(i64),
    String(String),
}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParamValue::Boolean(b) => write!(f, "{b}"),
            ParamValue::Integer(i) => write!(f, "{i}"),
            ParamValue::String(s) => f.write_str(s),
        }
    }
}

/// A declared parameter.
#[derive(Debug, Clone, Serialize)]
pub struct Parameter {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: ParamType,
    pub description: String,
    pub default: Option<ParamValue>,
    pub choices: Vec<String>,
}

/// A validated step.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// 1-based position in the playbook.
    pub index: usize,
    pub name: String,
    pub on_error: OnError,
    pub confirm: bool,
    #[serde(skip)]
    pub info: &'static ActionInfo,
    pub action: ActionSpec,
    /// Line of the step in its file, for messages.
    #[serde(skip)]
    pub line: u64,
}

/// A playbook ready to plan.
#[derive(Debug, Clone, Serialize)]
pub struct Playbook {
    pub name: String,
    pub description: String,
    pub origin: Origin,
    /// SHA-256 (hex) of the file's bytes, recorded with every run.
    pub sha256: String,
    #[serde(skip)]
    pub text: String,
    pub parameters: Vec<Parameter>,
    pub steps: Vec<Step>,
}

impl Playbook {
    /// Whether any step changes something (every action so far does).
    pub fn has_confirm_steps(&self) -> bool {
        self.steps.iter().any(|s| s.confirm)
    }
}
