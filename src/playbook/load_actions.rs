//! The arguments of each action, checked as a playbook loads: which action fields a step
//! has, their templates, and the literal values that can be checked right away.

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::actions::{self, ActionInfo};
use super::load::Checker;
use super::model::ActionSpec;
use super::schema::{Scalar, StepDoc, TagArgs};
use super::template::Template;

/// Every action field of a step: its info and, when its arguments are valid, its spec.
pub(super) fn present(
    c: &mut Checker,
    doc: &StepDoc,
    known: &dyn Fn(&str) -> bool,
) -> Vec<(&'static ActionInfo, Option<ActionSpec>)> {
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
    present
}

/// A template argument; the error is reported at its position.
pub(super) fn template(
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
pub(super) fn optional_template(
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
pub(super) fn scalar(
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

pub(super) fn check_tag(
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
