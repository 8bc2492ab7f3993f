//! Parameter values from the command line (`--param NAME=VALUE`), checked against the
//! playbook's declarations and completed with defaults.

use std::collections::BTreeMap;

use super::load::type_name;
use super::model::{ParamValue, Playbook};
use super::schema::ParamType;

/// Why the given parameters cannot be used with this playbook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ParamError {
    pub message: String,
    pub hint: String,
}

/// Resolves `NAME=VALUE` pairs against `playbook`'s parameters.
pub fn resolve(
    playbook: &Playbook,
    given: &[String],
) -> Result<BTreeMap<String, ParamValue>, ParamError> {
    let usage = || {
        let names: Vec<String> = playbook
            .parameters
            .iter()
            .map(|p| format!("{} ({})", p.name, type_name(p.kind)))
            .collect();
        if names.is_empty() {
            format!("playbook `{}` takes no parameters", playbook.name)
        } else {
            format!(
                "playbook `{}` takes: {}; see `breakglass playbook show {}`",
                playbook.name,
                names.join(", "),
                playbook.name
            )
        }
    };
    let mut values = BTreeMap::new();
    for pair in given {
        let Some((name, raw)) = pair.split_once('=') else {
            return Err(ParamError {
                message: format!("parameter `{pair}` has no `=`"),
                hint: "write `--param NAME=VALUE`".into(),
            });
        };
        let Some(declared) = playbook.parameters.iter().find(|p| p.name == name) else {
            return Err(ParamError {
                message: format!("unknown parameter `{name}`"),
                hint: usage(),
            });
        };
        let value = parse(declared.kind, raw).ok_or_else(|| ParamError {
            message: format!(
                "parameter `{name}` must be a {}, not `{raw}`",
                type_name(declared.kind)
            ),
            hint: usage(),
        })?;
        if let ParamValue::String(s) = &value
            && !declared.choices.is_empty()
            && !declared.choices.contains(s)
        {
            return Err(ParamError {
                message: format!(
                    "parameter `{name}` must be one of {}, not `{raw}`",
                    declared.choices.join(", ")
                ),
                hint: usage(),
            });
        }
        if values.insert(name.to_owned(), value).is_some() {
            return Err(ParamError {
                message: format!("parameter `{name}` is given twice"),
                hint: "give each parameter once".into(),
            });
        }
    }
    for declared in &playbook.parameters {
        if values.contains_key(&declared.name) {
            continue;
        }
        match &declared.default {
            Some(default) => {
                values.insert(declared.name.clone(), default.clone());
            }
            None => {
                return Err(ParamError {
                    message: format!("parameter `{}` is required", declared.name),
                    hint: format!(
                        "pass `--param {}=VALUE` ({})",
                        declared.name, declared.description
                    ),
                });
            }
        }
    }
    Ok(values)
}

fn parse(kind: ParamType, raw: &str) -> Option<ParamValue> {
    match kind {
        ParamType::String => Some(ParamValue::String(raw.to_owned())),
        ParamType::Integer => raw.parse().ok().map(ParamValue::Integer),
        ParamType::Boolean => match raw {
            "true" => Some(ParamValue::Boolean(true)),
            "false" => Some(ParamValue::Boolean(false)),
            _ => None,
        },
    }
}
