//! Resolving `--target` values (instance id, exact `Name` tag, or `tag:Key=Value`) against
//! the inventory, refusing anything ambiguous, gone, or outside the Security Server
//! selection — acting on the wrong server is the mistake this tool must not make.

use super::discover::Selection;
use super::filter::TagFilter;
use super::server::Server;

/// A target that cannot be used, with how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TargetError {
    pub target: String,
    pub message: String,
    pub hint: String,
}

/// Whether `text` looks like an EC2 instance id.
pub fn is_instance_id(text: &str) -> bool {
    text.strip_prefix("i-").is_some_and(|hex| {
        matches!(hex.len(), 8 | 17) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

impl Selection {
    /// Whether `server` is selected (every filter matches one of its values).
    pub fn matches(&self, server: &Server) -> bool {
        match self {
            Selection::All => true,
            Selection::Filters(filters) => filters.iter().all(|f| f.matches(server)),
        }
    }
}

impl TagFilter {
    pub fn matches(&self, server: &Server) -> bool {
        server
            .tags
            .get(&self.key)
            .is_some_and(|v| self.values.contains(v))
    }
}

/// Resolves every target in `specs` against `servers` (every instance of the regions in
/// use), in the order given, without duplicates. Unless `any_instance`, each must match
/// `security_servers`.
pub fn resolve_targets(
    specs: &[String],
    servers: &[Server],
    security_servers: &Selection,
    any_instance: bool,
) -> Result<Vec<Server>, TargetError> {
    if specs.is_empty() {
        return Err(TargetError {
            target: String::new(),
            message: "no target given".into(),
            hint: "name the servers to act on with `--target i-0123…`, `--target NAME` or \
                   `--target tag:Key=Value` (see `breakglass list`)"
                .into(),
        });
    }
    let mut resolved: Vec<Server> = Vec::new();
    for spec in specs {
        for server in resolve_one(spec, servers)? {
            if !any_instance && !security_servers.matches(server) {
                return Err(TargetError {
                    target: spec.clone(),
                    message: format!(
                        "{} is not a Security Server: it does not match {}",
                        label(server),
                        security_servers.describe()
                    ),
                    hint: "check the target against `breakglass list`; to act on another \
                           instance on purpose, add `--any-instance`"
                        .into(),
                });
            }
            if matches!(server.state.as_str(), "terminated" | "shutting-down") {
                return Err(TargetError {
                    target: spec.clone(),
                    message: format!("{} is {}", label(server), server.state),
                    hint: "remove it from the targets; there is nothing left to contain".into(),
                });
            }
            if !resolved.iter().any(|s| s.instance_id == server.instance_id) {
                resolved.push(server.clone());
            }
        }
    }
    Ok(resolved)
}

fn resolve_one<'a>(spec: &str, servers: &'a [Server]) -> Result<Vec<&'a Server>, TargetError> {
    let not_found = |what: String| TargetError {
        target: spec.to_owned(),
        message: format!("no instance {what}"),
        hint: "check the spelling and `--region`; `breakglass list --all` shows every instance"
            .into(),
    };
    if spec.starts_with("tag:") {
        let filter = TagFilter::parse(spec).map_err(|reason| TargetError {
            target: spec.to_owned(),
            message: reason,
            hint: "write `--target tag:Key=Value`".into(),
        })?;
        let found: Vec<&Server> = servers
            .iter()
            .filter(|s| filter.matches(s) && s.state != "terminated")
            .collect();
        if found.is_empty() {
            return Err(not_found(format!("matches `{spec}`")));
        }
        return Ok(found);
    }
    if spec.starts_with("i-") {
        if !is_instance_id(spec) {
            return Err(TargetError {
                target: spec.to_owned(),
                message: format!("`{spec}` is not a valid instance id"),
                hint: "instance ids are `i-` and 8 or 17 hex digits".into(),
            });
        }
        return servers
            .iter()
            .find(|s| s.instance_id == spec)
            .map(|s| vec![s])
            .ok_or_else(|| not_found(format!("with id {spec}")));
    }
    let named: Vec<&Server> = servers
        .iter()
        .filter(|s| s.name.as_deref() == Some(spec))
        .filter(|s| s.state != "terminated")
        .collect();
    match named.len() {
        0 => Err(not_found(format!("named `{spec}`"))),
        1 => Ok(named),
        _ => Err(TargetError {
            target: spec.to_owned(),
            message: format!(
                "`{spec}` names {} instances: {}",
                named.len(),
                named
                    .iter()
                    .map(|s| format!("{} ({})", s.instance_id, s.region))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            hint: "name the instance by its id".into(),
        }),
    }
}

fn label(server: &Server) -> String {
    match &server.name {
        Some(name) => format!("{} ({name})", server.instance_id),
        None => server.instance_id.clone(),
    }
}
