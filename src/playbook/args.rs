//! What every action's arguments share: how a step's action field is read, the scalar and
//! template arguments and their checks as the playbook loads, and the empty argument list.

use serde::{Deserialize, Deserializer, Serialize};
use serde_saphyr::Spanned;

use super::load::Checker;
use super::template::Template;

/// How an action's field of a step reads a key without a value.
pub trait ArgsDoc {
    /// Whether the key alone (`- release:`) names the action, with its default arguments.
    /// serde reads a key without a value as absent; an action whose arguments are required
    /// keeps that (`- tag:` names no action).
    const KEY_ALONE_NAMES_ACTION: bool;
}

/// Optional arguments: the key alone names the action.
impl<T> ArgsDoc for Option<T> {
    const KEY_ALONE_NAMES_ACTION: bool = true;
}

/// Reads an action's field of a step (see `ArgsDoc`).
pub(crate) fn action_field<'de, D, T>(deserializer: D) -> Result<Option<Spanned<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + ArgsDoc,
{
    if T::KEY_ALONE_NAMES_ACTION {
        Spanned::<T>::deserialize(deserializer).map(Some)
    } else {
        Option::<Spanned<T>>::deserialize(deserializer)
    }
}

/// The arguments of an action that takes none: `{}` (or an empty value).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NoArgs {}

/// A scalar argument written as a plain value or as a `{{ … }}` template.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
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

/// A template argument; the error is reported at its position.
pub(crate) fn template(
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
pub(crate) fn optional_template(
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
pub(crate) fn scalar(
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

/// Whether a literal is `true` or `false`.
pub(crate) fn is_flag(value: &str) -> bool {
    value == "true" || value == "false"
}
