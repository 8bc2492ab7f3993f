//! YAML → validated `Playbook`. Every problem is reported with file, line and column and a
//! hint: YAML and schema errors by the parser, then the checks serde cannot express
//! (exactly one action per step, parameter types, templates, unsafe step orders).

use std::collections::BTreeMap;
use std::fmt;

use serde_saphyr::{Location, Spanned};
use sha2::{Digest, Sha256};

use super::actions::{self, ActionInfo};
use super::model::{ActionSpec, Origin, ParamValue, Parameter, Playbook, Step};
use super::schema::{ParamDoc, ParamType, PlaybookDoc, Scalar, StepDoc, TagArgs};
use super::template::{BUILTIN_VARIABLES, Template};

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
struct Checker {
    origin: String,
    diagnostics: Vec<Diagnostic>,
}

impl Checker {
    fn at(&mut self, location: Option<Location>, message: String, hint: &str) {
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
    if !is_playbook_name(&name) {
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
        if !is_identifier(name) {
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
    let mut present: Vec<(&'static ActionInfo, Option<ActionSpec>)> = Vec::new();
    if let Some(args) = &doc.tag {
        present.push((&actions::tag::INFO, check_tag(c, args, known)));
    }
    if doc.protect_from_scale_in.is_some() {
        present.push((
            &actions::scale_in::INFO,
            Some(ActionSpec::ProtectFromScaleIn {}),
        ));
    }
    if doc.stop_instance.is_some() {
        present.push((&actions::escalate::STOP, Some(ActionSpec::StopInstance {})));
    }
    if doc.disassociate_elastic_ip.is_some() {
        present.push((
            &actions::escalate::DISASSOCIATE_EIP,
            Some(ActionSpec::DisassociateElasticIp {}),
        ));
    }
    for (doc, info, memory) in [
        (&doc.capture_memory, &actions::collect::memory::INFO, true),
        (
            &doc.collect_volatile,
            &actions::collect::volatile::INFO,
            false,
        ),
    ] {
        let Some(args) = doc else { continue };
        let args = args.value.clone().unwrap_or_default();
        let timeout = scalar(
            c,
            args.timeout_minutes.as_ref(),
            if memory { "60" } else { "10" },
            known,
            &|v| v.parse::<u32>().is_ok_and(|m| (1..=720).contains(&m)),
            "`timeout_minutes` is a number of minutes from 1 to 720",
        );
        let bucket = optional_template(c, args.bucket.as_ref(), known, "`bucket`");
        let work_dir = match &args.work_dir {
            Some(text) => template(c, text, known, "`work_dir`"),
            None => Template::parse("/var/tmp", known).ok(),
        };
        let spec = match (timeout, bucket, work_dir) {
            (Some(timeout_minutes), Some(bucket), Some(work_dir)) => {
                let spec = crate::playbook::model::CollectSpec {
                    bucket,
                    timeout_minutes,
                    work_dir,
                };
                Some(if memory {
                    ActionSpec::CaptureMemory(spec)
                } else {
                    ActionSpec::CollectVolatile(spec)
                })
            }
            _ => None,
        };
        present.push((info, spec));
    }
    if let Some(args) = &doc.revoke_sessions {
        let args = args.value.clone().unwrap_or_default();
        let role_wide = scalar(
            c,
            args.role_wide.as_ref(),
            "false",
            known,
            &|v| v == "true" || v == "false",
            "`role_wide` is `true` or `false`",
        );
        let remove_profile = scalar(
            c,
            args.remove_profile.as_ref(),
            "false",
            known,
            &|v| v == "true" || v == "false",
            "`remove_profile` is `true` or `false`",
        );
        let spec = match (role_wide, remove_profile) {
            (Some(role_wide), Some(remove_profile)) => Some(ActionSpec::RevokeSessions {
                role_wide,
                remove_profile,
            }),
            _ => None,
        };
        present.push((&actions::revoke::INFO, spec));
    }
    if let Some(args) = &doc.snapshot {
        let args = args.value.clone().unwrap_or_default();
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
        let spec = match (wait, key, share) {
            (Some(wait_minutes), Some(copy_kms_key), Some(share_with_account)) => {
                Some(ActionSpec::Snapshot {
                    wait_minutes,
                    copy_kms_key,
                    share_with_account,
                })
            }
            _ => None,
        };
        present.push((&actions::snapshot::INFO, spec));
    }
    if let Some(args) = &doc.isolate {
        let args = args.value.clone().unwrap_or_default();
        let auto_scaling = scalar(
            c,
            args.auto_scaling.as_ref(),
            "standby",
            known,
            &|v| crate::playbook::actions::contain::AsgMode::parse(v).is_some(),
            "`auto_scaling` is `standby` or `detach`",
        );
        let endpoint = optional_template(
            c,
            args.ssm_endpoint_group.as_ref(),
            known,
            "`ssm_endpoint_group`",
        );
        let spec = match (auto_scaling, endpoint) {
            (Some(auto_scaling), Some(ssm_endpoint_group)) => Some(ActionSpec::Isolate {
                auto_scaling,
                ssm_endpoint_group,
            }),
            _ => None,
        };
        present.push((&actions::contain::isolate::INFO, spec));
    }
    if let Some(args) = &doc.release {
        let args = args.value.clone().unwrap_or_default();
        let force = scalar(
            c,
            args.force.as_ref(),
            "false",
            known,
            &|v| v == "true" || v == "false",
            "`force` is `true` or `false`",
        );
        present.push((
            &actions::contain::release::INFO,
            force.map(|force| ActionSpec::Release { force }),
        ));
    }
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

/// A template argument; the error is reported at its position.
fn template(
    c: &mut Checker,
    text: &Spanned<String>,
    known: &dyn Fn(&str) -> bool,
    what: &str,
) -> Option<Template> {
    match Template::parse(&text.value, known) {
        Ok(template) => Some(template),
        Err(reason) => {
            c.at(
                Some(text.referenced),
                format!("{what}: {reason}"),
                "use a declared parameter or a built-in variable (docs/playbooks.md)",
            );
            None
        }
    }
}

/// An optional template argument: `Some(None)` when absent, `None` when invalid.
fn optional_template(
    c: &mut Checker,
    text: Option<&Spanned<String>>,
    known: &dyn Fn(&str) -> bool,
    what: &str,
) -> Option<Option<Template>> {
    match text {
        None => Some(None),
        Some(text) => template(c, text, known, what).map(Some),
    }
}

/// A scalar argument with a default, as a template; a literal is checked right away.
fn scalar(
    c: &mut Checker,
    value: Option<&Spanned<Scalar>>,
    default: &str,
    known: &dyn Fn(&str) -> bool,
    valid: &dyn Fn(&str) -> bool,
    rule: &str,
) -> Option<Template> {
    let Some(value) = value else {
        return Template::parse(default, known).ok();
    };
    let text = Spanned::new(value.value.text(), value.referenced, value.defined);
    let template = template(c, &text, known, rule.split(' ').next().unwrap_or("value"))?;
    if template.is_literal() && !valid(&text.value) {
        c.at(
            Some(value.referenced),
            format!("{rule}, not `{}`", text.value),
            "fix the value, or use a parameter with `choices`",
        );
        return None;
    }
    Some(template)
}

fn check_tag(
    c: &mut Checker,
    args: &Spanned<TagArgs>,
    known: &dyn Fn(&str) -> bool,
) -> Option<ActionSpec> {
    let before = c.diagnostics.len();
    if args.value.tags.is_empty() {
        c.at(
            Some(args.referenced),
            "`tag` needs at least one entry under `tags`".into(),
            "add `tags: {Key: value}`",
        );
    }
    let mut tags = BTreeMap::new();
    for (key, value) in &args.value.tags {
        if let Err(reason) = crate::playbook::actions::tag::check_key(key) {
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
    (c.diagnostics.len() == before).then_some(ActionSpec::Tag { tags })
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

fn is_playbook_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

fn is_identifier(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Runs the order rule over steps with the given actions (at lines 10, 20, 30, …).
#[cfg(test)]
pub(crate) fn check_order_for_tests(infos: &[&'static ActionInfo]) -> Vec<Diagnostic> {
    let steps: Vec<Step> = infos
        .iter()
        .enumerate()
        .map(|(i, info)| Step {
            index: i + 1,
            name: info.name.to_owned(),
            on_error: Default::default(),
            confirm: false,
            info,
            action: ActionSpec::Tag {
                tags: BTreeMap::new(),
            },
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
