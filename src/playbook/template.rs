//! `{{ name }}` templates in action arguments: parsed when the playbook is loaded (so an
//! unknown name is a load error with its position), rendered per target by the planner.
//! Rendering only substitutes text; nothing is evaluated.

use std::collections::BTreeMap;

use serde::Serialize;

/// Names every template may use, filled in by the engine.
pub const BUILTIN_VARIABLES: &[(&str, &str)] = &[
    (
        "incident",
        "the incident id (`--incident`; `dry-run` in a dry run without one)",
    ),
    ("run_id", "the run id"),
    ("instance_id", "the target's instance id"),
    (
        "target_name",
        "the target's Name tag (empty when it has none)",
    ),
    ("region", "the target's region"),
];

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
enum Part {
    Text(String),
    Var(String),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses `text`; `known` says which variable names exist. The error says what is wrong.
    pub fn parse(text: &str, known: &dyn Fn(&str) -> bool) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let Some(end) = after.find("}}") else {
                return Err(format!("`{{{{` without a closing `}}}}` in `{text}`"));
            };
            let name = after[..end].trim();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                return Err(format!(
                    "`{{{{{}}}}}` is not a variable: write `{{{{ name }}}}` with letters, digits \
                     and `_`",
                    &after[..end]
                ));
            }
            if !known(name) {
                return Err(format!("unknown variable `{name}`"));
            }
            parts.push(Part::Var(name.to_owned()));
            rest = &after[end + 2..];
        }
        if rest.contains("}}") {
            return Err(format!("`}}}}` without an opening `{{{{` in `{text}`"));
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template { parts })
    }

    /// Substitutes the variables; names were checked at parse time, a missing one renders
    /// empty.
    pub fn render(&self, vars: &BTreeMap<String, String>) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.as_str(),
                Part::Var(name) => vars.get(name).map_or("", String::as_str),
            })
            .collect()
    }

    /// Whether the template has no variables (its text is final).
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    /// The template as written (normalised spacing).
    pub fn source(&self) -> String {
        self.parts
            .iter()
            .map(|part| match part {
                Part::Text(text) => text.clone(),
                Part::Var(name) => format!("{{{{ {name} }}}}"),
            })
            .collect()
    }
}

impl Serialize for Template {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(name: &str) -> bool {
        matches!(name, "incident" | "note")
    }

    #[test]
    fn renders_variables_and_text() {
        let template = Template::parse("IR {{incident}}: {{ note }}!", &known).unwrap();
        let vars = BTreeMap::from([
            ("incident".to_owned(), "IR-42".to_owned()),
            ("note".to_owned(), "$(rm -rf /) {{ incident }}".to_owned()),
        ]);
        // Values are inserted as text: never re-expanded, never evaluated.
        assert_eq!(
            template.render(&vars),
            "IR IR-42: $(rm -rf /) {{ incident }}!"
        );
        assert_eq!(template.source(), "IR {{ incident }}: {{ note }}!");
    }

    #[test]
    fn rejects_bad_templates_with_a_reason() {
        let cases = [
            ("{{ nope }}", "unknown variable `nope`"),
            ("{{ incident", "without a closing"),
            ("x }} y", "without an opening"),
            ("{{ }}", "is not a variable"),
            ("{{ a-b }}", "is not a variable"),
        ];
        for (text, reason) in cases {
            let err = Template::parse(text, &known).unwrap_err();
            assert!(err.contains(reason), "{text}: {err}");
        }
    }
}
