//! YAML → validated `Playbook`. Every problem is reported with file, line and column and a
//! hint: YAML and schema errors by the parser, then the checks serde cannot express
//! (exactly one action per step, parameter types, templates, unsafe step orders).

use std::collections::BTreeMap;
use std::fmt;

use serde_saphyr::{Location, Spanned};
use sha2::{Digest, Sha256};

use super::actions;
use super::actions::StepDoc;
use super::model::{Origin, ParamValue, Parameter, Playbook, Step};
use super::schema::{ParamDoc, ParamType, PlaybookDoc};
use super::template::BUILTIN_VARIABLES;
use crate::ids;

/// Largest playbook file accepted.
pub const MAX_PLAYBOOK_BYTES: usize = 256 * 1024;

/// One problem in a playbook file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub origin: String,
    pub line: Option<u64>,
    pub column: Option<u64>,
    pub message: String,
    pub hint: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (Some(line), Some(column)) => write!(f, "{}:{line}:{column}: ", self.origin)?,
            (Some(line), None) => write!(f, "{}:{line}: ", self.origin)?,
            _ => write!(f, "{}: ", self.origin)?,
        }
        f.write_str(&self.message)
    }
}

/// A playbook that cannot be used, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render(.diagnostics))]
pub struct PlaybookError {
    pub diagnostics: Vec<Diagnostic>,
}

fn render(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n       ")
}

impl PlaybookError {
    pub fn hint(&self) -> String {
        let mut hints: Vec<&str> = Vec::new();
        for d in &self.diagnostics {
            if !hints.contains(&d.hint.as_str()) {
                hints.push(&d.hint);
            }
        }
        hints.join("; ")
    }
}

/// Collects diagnostics for one file.
pub struct Checker {
    pub(super) origin: String,
    pub(super) diagnostics: Vec<Diagnostic>,
}

impl Checker {
    pub(super) fn at(&mut self, location: Option<Location>, message: String, hint: &str) {
        self.diagnostics.push(Diagnostic {
            origin: self.origin.clone(),
            line: location.map(|l| l.line()),
            column: location.map(|l| l.column()),
            message,
            hint: hint.to_owned(),
        });
    }
}

const FORMAT_HINT: &str = "see docs/playbooks.md for the playbook format";

/// Parses and validates a playbook.
pub fn load(text: &str, origin: Origin) -> Result<Playbook, PlaybookError> {
    let mut checker = Checker {
        origin: origin.to_string(),
        diagnostics: Vec::new(),
    };
    if text.len() > MAX_PLAYBOOK_BYTES {
        checker.at(
            None,
            format!(
                "the file is {} bytes; playbooks are limited to {MAX_PLAYBOOK_BYTES}",
                text.len()
            ),
            "split it, or remove what is not a playbook",
        );
        return Err(PlaybookError {
            diagnostics: checker.diagnostics,
        });
    }
    let doc: PlaybookDoc = match serde_saphyr::from_str(text) {
        Ok(doc) => doc,
        Err(err) => {
            checker.at(err.location(), parser_message(&err), FORMAT_HINT);
            return Err(PlaybookError {
                diagnostics: checker.diagnostics,
            });
        }
    };
    let playbook = check(&mut checker, doc, text, origin);
    match playbook {
        Some(playbook) if checker.diagnostics.is_empty() => Ok(playbook),
        _ => Err(PlaybookError {
            diagnostics: checker.diagnostics,
        }),
    }
}

/// The parser's message without its own location prefix and source excerpt.
fn parser_message(err: &serde_saphyr::Error) -> String {
    let text = err.to_string();
    let first = text.lines().next().unwrap_or_default();
    // serde-saphyr renders "error: line L column C: message" (or similar); keep the message.
    let message = match first.rsplit_once(": ") {
        Some((prefix, rest)) if prefix.contains("line") => rest,
        _ => first,
    };
    message.trim_start_matches("error: ").to_owned()
}

fn check(c: &mut Checker, doc: PlaybookDoc, text: &str, origin: Origin) -> Option<Playbook> {
    let name = doc.name.value.clone();
    if !ids::is_playbook_name(&name) {
        c.at(
            Some(doc.name.referenced),
            format!("playbook name `{name}` is not valid"),
            "use 1-64 lowercase letters, digits and `-`, e.g. `isolate` or `tag-incident`",
        );
    }
    let parameters = check_parameters(c, &doc.parameters);
    let known = |var: &str| {
        BUILTIN_VARIABLES.iter().any(|(b, _)| *b == var) || doc.parameters.contains_key(var)
    };
    if doc.steps.value.is_empty() {
        c.at(
            Some(doc.steps.referenced),
            "the playbook has no steps".into(),
            FORMAT_HINT,
        );
    }
    let mut steps = Vec::new();
    for (i, step) in doc.steps.value.iter().enumerate() {
        if let Some(step) = check_step(c, i + 1, step, &known) {
            steps.push(step);
        }
    }
    check_order(c, &steps);
    Some(Playbook {
        name,
        description: doc.description,
        origin,
        sha256: hex::encode(Sha256::digest(text.as_bytes())),
        text: text.to_owned(),
        parameters,
        steps,
    })
}

fn check_parameters(c: &mut Checker, docs: &BTreeMap<String, Spanned<ParamDoc>>) -> Vec<Parameter> {
    let mut parameters = Vec::new();
    for (name, doc) in docs {
        let at = Some(doc.referenced);
        if !ids::is_parameter_name(name) {
            c.at(
                at,
                format!("parameter name `{name}` is not valid"),
                "use lowercase letters, digits and `_`, starting with a letter",
            );
        }
        if BUILTIN_VARIABLES.iter().any(|(b, _)| b == name) {
            c.at(
                at,
                format!("parameter `{name}` hides the built-in variable of that name"),
                "rename the parameter",
            );
        }
        let doc = &doc.value;
        if !doc.choices.is_empty() && doc.kind != ParamType::String {
            c.at(
                at,
                format!("parameter `{name}`: `choices` is only for `type: string`"),
                "remove `choices` or make the parameter a string",
            );
        }
        let default = doc.default.as_ref().and_then(|d| {
            let value = typed_default(doc.kind, &d.value);
            if value.is_none() {
                c.at(
                    Some(d.referenced),
                    format!(
                        "the default of parameter `{name}` is not a {}",
                        type_name(doc.kind)
                    ),
                    "make the default match the parameter's `type`",
                );
            }
            value
        });
        if let Some(ParamValue::String(value)) = &default
            && !doc.choices.is_empty()
            && !doc.choices.contains(value)
        {
            c.at(
                at,
                format!("the default of parameter `{name}` is not one of its `choices`"),
                "make the default one of the choices",
            );
        }
        parameters.push(Parameter {
            name: name.clone(),
            kind: doc.kind,
            description: doc.description.clone(),
            default,
            choices: doc.choices.clone(),
        });
    }
    parameters
}

fn typed_default(kind: ParamType, value: &serde_json::Value) -> Option<ParamValue> {
    match (kind, value) {
        (ParamType::String, serde_json::Value::String(s)) => Some(ParamValue::String(s.clone())),
        (ParamType::Integer, serde_json::Value::Number(n)) => n.as_i64().map(ParamValue::Integer),
        (ParamType::Boolean, serde_json::Value::Bool(b)) => Some(ParamValue::Boolean(*b)),
        _ => None,
    }
}

pub fn type_name(kind: ParamType) -> &'static str {
    match kind {
        ParamType::String => "string",
        ParamType::Integer => "integer",
        ParamType::Boolean => "boolean (true or false)",
    }
}

fn check_step(
    c: &mut Checker,
    index: usize,
    step: &Spanned<StepDoc>,
    known: &dyn Fn(&str) -> bool,
) -> Option<Step> {
    let at = Some(step.referenced);
    let doc = &step.value;
    // Every action field present: its info and, when its arguments are valid, its spec.
    let mut present = actions::check(c, doc, known);
    let action_names = || {
        actions::ACTIONS
            .iter()
            .map(|a| format!("`{}`", a.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match present.len() {
        0 => {
            c.at(
                at,
                format!("step {index} names no action"),
                &format!("give the step one action: {}", action_names()),
            );
            return None;
        }
        1 => {}
        n => {
            c.at(
                at,
                format!("step {index} names {n} actions; a step has exactly one"),
                "split it into one step per action",
            );
            return None;
        }
    }
    let (info, action) = present.pop()?;
    let action = action?;
    Some(Step {
        index,
        name: doc.name.clone().unwrap_or_else(|| info.name.to_owned()),
        on_error: doc.on_error,
        confirm: doc.confirm.unwrap_or(info.confirm_by_default),
        info,
        action,
        line: step.referenced.line(),
    })
}

/// Rejects a step that needs something an earlier step takes away.
fn check_order(c: &mut Checker, steps: &[Step]) {
    for (i, step) in steps.iter().enumerate() {
        for need in step.info.needs {
            if let Some(earlier) = steps[..i].iter().find(|s| s.info.cuts.contains(need)) {
                c.diagnostics.push(Diagnostic {
                    origin: c.origin.clone(),
                    line: Some(step.line),
                    column: None,
                    message: format!(
                        "unsafe order: step {} `{}` needs {}, but step {} `{}` (line {}) \
                         takes it away first",
                        step.index,
                        step.info.name,
                        need.describe(),
                        earlier.index,
                        earlier.info.name,
                        earlier.line
                    ),
                    hint: format!(
                        "move `{}` before `{}` (collect evidence before cutting access)",
                        step.info.name, earlier.info.name
                    ),
                });
            }
        }
    }
}

/// Runs the order rule over steps with the given actions (at lines 10, 20, 30, …).
#[cfg(test)]
pub(crate) fn check_order_for_tests(infos: &[&'static actions::ActionInfo]) -> Vec<Diagnostic> {
    let steps: Vec<Step> = infos
        .iter()
        .enumerate()
        .map(|(i, info)| Step {
            index: i + 1,
            name: info.name.to_owned(),
            on_error: Default::default(),
            confirm: false,
            info,
            action: actions::ActionSpec::Tag(actions::tag::TagSpec {
                tags: BTreeMap::new(),
            }),
            line: (i as u64 + 1) * 10,
        })
        .collect();
    let mut checker = Checker {
        origin: "t.yml".into(),
        diagnostics: Vec::new(),
    };
    check_order(&mut checker, &steps);
    checker.diagnostics
}
