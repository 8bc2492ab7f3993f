//! Resolving `--target` values (instance id, exact `Name` tag, or `tag:Key=Value`) against
//! the inventory, refusing anything ambiguous, gone, or outside the Security Server
//! selection — acting on the wrong server is the mistake this tool must not make.

use super::discover::Selection;
use super::filter::TagFilter;
use super::server::Server;
use crate::ids::is_instance_id;

/// A target that cannot be used, with how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TargetError {
    pub target: String,
    pub message: String,
    pub hint: String,
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

/// The targets found, and the instance ids that are not (or no longer) there.
#[derive(Debug, Clone, Default)]
pub struct Resolution {
    pub servers: Vec<Server>,
    /// Instance ids that are gone — terminated, or in another account or region. They fail
    /// on their own; the other targets still run.
    pub missing: Vec<TargetError>,
}

/// Resolves every target in `specs` against `servers` (every instance of the regions in
/// use), in the order given, without duplicates. Unless `any_instance`, each must match
/// `security_servers`. Input mistakes (a name or selector that matches nothing, an
/// ambiguous name, a malformed id, a server outside the selection) are errors; an instance
/// id that is gone is reported in `missing`.
pub fn resolve_targets(
    specs: &[String],
    servers: &[Server],
    security_servers: &Selection,
    any_instance: bool,
) -> Result<Resolution, TargetError> {
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
    let mut missing = Vec::new();
    for spec in specs {
        let found = match resolve_one(spec, servers) {
            Err(err) if is_instance_id(spec) => {
                missing.push(TargetError {
                    message: format!(
                        "instance {spec} is not in the regions in use: terminated and gone, or \
                         in another account or region"
                    ),
                    ..err
                });
                continue;
            }
            other => other?,
        };
        for server in found {
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
                missing.push(TargetError {
                    target: spec.clone(),
                    message: format!("{} is {}", label(server), server.state),
                    hint: "remove it from the targets; there is nothing left to contain".into(),
                });
                continue;
            }
            if !resolved.iter().any(|s| s.instance_id == server.instance_id) {
                resolved.push(server.clone());
            }
        }
    }
    if resolved.is_empty()
        && let Some(first) = missing.first()
    {
        return Err(first.clone());
    }
    Ok(Resolution {
        servers: resolved,
        missing,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn server(id: &str, name: &str, role: &str, state: &str) -> Server {
        let mut server = crate::inventory::fixtures::server(id, name, &[("Env", "prod")]);
        server.state = state.into();
        server.tags.insert("Role".into(), role.into());
        server
    }

    fn estate() -> Vec<Server> {
        vec![
            server("i-00000001", "ss-1", "xroad-security-server", "running"),
            server("i-00000002", "ss-2", "xroad-security-server", "stopped"),
            server("i-00000003", "twin", "xroad-security-server", "running"),
            server("i-00000004", "twin", "xroad-security-server", "running"),
            server("i-00000005", "runner", "ci", "running"),
            server("i-00000006", "old", "xroad-security-server", "terminated"),
        ]
    }

    fn resolve(specs: &[&str], any: bool) -> Result<Resolution, TargetError> {
        let selection = Selection::Filters(vec![
            TagFilter::parse("tag:Role=xroad-security-server").unwrap(),
        ]);
        let specs: Vec<String> = specs.iter().map(|s| (*s).to_owned()).collect();
        resolve_targets(&specs, &estate(), &selection, any)
    }

    fn ids(r: &Resolution) -> Vec<&str> {
        r.servers.iter().map(|s| s.instance_id.as_str()).collect()
    }

    #[test]
    fn resolves_ids_names_and_selectors_in_order_without_duplicates() {
        let r = resolve(&["ss-2", "i-00000001", "ss-1", "tag:Name=twin"], false).unwrap();
        assert_eq!(
            ids(&r),
            ["i-00000002", "i-00000001", "i-00000003", "i-00000004"]
        );
        assert!(r.missing.is_empty());
        let all = resolve(&["tag:Env=prod"], true).unwrap();
        assert_eq!(
            all.servers.len(),
            5,
            "terminated instances are not matched by selectors"
        );
    }

    #[test]
    fn gone_instances_fail_alone_and_input_mistakes_stop_everything() {
        let r = resolve(&["ss-1", "i-0000000a", "i-00000006"], false).unwrap();
        assert_eq!(ids(&r), ["i-00000001"]);
        let missing: Vec<&str> = r.missing.iter().map(|m| m.target.as_str()).collect();
        assert_eq!(missing, ["i-0000000a", "i-00000006"]);
        assert!(r.missing[0].message.contains("another account or region"));
        assert!(r.missing[1].message.contains("terminated"));
        // Nothing left to run: an error.
        assert!(resolve(&["i-0000000a"], false).is_err());

        let cases: &[(&[&str], &str)] = &[
            (&[], "no target given"),
            (&["nobody"], "no instance named `nobody`"),
            (&["twin"], "names 2 instances"),
            (&["runner"], "is not a Security Server"),
            (&["i-123"], "not a valid instance id"),
            (&["tag:Nope"], "has no `=`"),
            (&["tag:Env=staging"], "matches `tag:Env=staging`"),
        ];
        for (specs, fragment) in cases {
            let err = resolve(specs, false).unwrap_err();
            assert!(err.message.contains(fragment), "{specs:?}: {}", err.message);
            assert!(!err.hint.is_empty());
        }
        assert_eq!(ids(&resolve(&["runner"], true).unwrap()), ["i-00000005"]);
    }
}
