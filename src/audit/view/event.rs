//! One record summarised for people — time, kind, target, step, operation, result, request
//! id, detail — read generically from the body so unknown kinds and fields never fail.
//!
//! Every text here comes from the log, and the log holds attacker-influenced values (tags,
//! AWS error messages) or may be forged outright: control and bidirectional-override
//! characters are made visible so they cannot drive a terminal or disguise a value.

use crate::text::printable;
use serde_json::Value;

use super::file::{LoggedRecord, RunView};

/// A record as one timeline line. Texts are sanitized with [`printable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub line: u64,
    pub seq: u64,
    /// `ts` as recorded.
    pub ts: String,
    /// UTC date, when `ts` parses.
    pub date: Option<String>,
    /// `HH:MM:SS.mmm` UTC, or the raw `ts` when it does not parse.
    pub time: String,
    pub kind: String,
    pub target: Option<String>,
    /// The step number and name (`2 isolate-network`).
    pub step: Option<String>,
    /// The playbook action of the step (`isolate`, `snapshot-volumes`).
    pub action: Option<String>,
    /// `service:Operation`, or the playbook of a `run_started`.
    pub operation: Option<String>,
    /// `result`, `status` or `level` of the body.
    pub result: Option<String>,
    pub request_id: Option<String>,
    /// An error, a step's detail, a note's message, an intent's parameters, …
    pub detail: Option<String>,
    pub hash: String,
    /// False from the first record verification rejected on.
    pub verified: bool,
}

impl Event {
    pub fn of(logged: &LoggedRecord, verified: bool) -> Event {
        let r = &logged.record;
        let body = &r.body;
        let parsed = chrono::DateTime::parse_from_rfc3339(&r.ts)
            .ok()
            .map(|t| t.with_timezone(&chrono::Utc));
        let step = match (field(body, "step"), field(body, "step_name")) {
            (Some(n), Some(name)) => Some(format!("{n} {name}")),
            (n, name) => n.or(name),
        };
        let operation = match (field(body, "service"), field(body, "operation")) {
            (Some(service), Some(op)) => Some(format!("{service}:{op}")),
            (None, Some(op)) => Some(op),
            _ => playbook_label(body).or_else(|| {
                field(body, "action").filter(|a| Some(a) != field(body, "step_name").as_ref())
            }),
        };
        let result = field(body, "result")
            .or_else(|| field(body, "status"))
            .or_else(|| field(body, "level"));
        let request_id = field(body, "request_id");
        let mut detail = error_text(body)
            .or_else(|| field(body, "detail"))
            .or_else(|| field(body, "message"))
            .or_else(|| non_empty(body.get("params")).map(compact))
            .or_else(|| targets_label(body))
            .or_else(|| non_empty(body.get("summary")).map(compact));
        if detail.is_none()
            && step.is_none()
            && operation.is_none()
            && result.is_none()
            && request_id.is_none()
        {
            // An unknown kind: show what it holds rather than nothing.
            detail = non_empty(Some(body)).map(compact);
        }
        Event {
            line: logged.line,
            seq: r.seq,
            ts: printable(&r.ts),
            date: parsed.map(|t| t.format("%Y-%m-%d").to_string()),
            time: parsed.map_or_else(
                || printable(&r.ts),
                |t| t.format("%H:%M:%S%.3f").to_string(),
            ),
            kind: printable(&r.kind),
            target: field(body, "target"),
            step,
            action: field(body, "action"),
            operation,
            result,
            request_id,
            detail: detail.map(|d| printable(&d)),
            hash: printable(&r.hash),
            verified,
        }
    }

    /// Every record of a run, in file order.
    pub fn all(run: &RunView<'_>) -> Vec<Event> {
        run.records
            .iter()
            .map(|l| Event::of(l, run.is_verified(l.line)))
            .collect()
    }
}

/// A body field as display text: strings as they are, numbers and booleans printed,
/// objects and arrays as compact JSON; absent or null is `None`.
pub fn field(body: &Value, key: &str) -> Option<String> {
    match body.get(key)? {
        Value::Null => None,
        Value::String(s) => Some(printable(s)),
        other => Some(printable(&compact(other))),
    }
}

/// `CODE: message` of an `error` object, or the error as text.
fn error_text(body: &Value) -> Option<String> {
    let error = body.get("error")?;
    match (field(error, "code"), field(error, "message")) {
        (Some(code), Some(message)) => Some(format!("{code}: {message}")),
        (code, message) => code.or(message).or_else(|| field(body, "error")),
    }
}

fn playbook_label(body: &Value) -> Option<String> {
    let playbook = body.get("playbook")?;
    if let Value::String(name) = playbook {
        return Some(printable(name));
    }
    let name = field(playbook, "name").unwrap_or_else(|| "(unnamed)".into());
    Some(match field(playbook, "origin") {
        Some(origin) => format!("{name} ({origin})"),
        None => name,
    })
}

fn targets_label(body: &Value) -> Option<String> {
    let targets = body.get("targets")?.as_array()?;
    let ids: Vec<String> = targets
        .iter()
        .map(|t| match t {
            Value::String(s) => printable(s),
            t => field(t, "instance_id").unwrap_or_else(|| printable(&compact(t))),
        })
        .collect();
    Some(format!("{} target(s): {}", ids.len(), ids.join(", ")))
}

fn non_empty(value: Option<&Value>) -> Option<&Value> {
    value.filter(|v| match v {
        Value::Null => false,
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::String(s) => !s.is_empty(),
        _ => true,
    })
}

/// Compact JSON of a value (serializing a `Value` cannot fail).
pub fn compact(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_default()
}
