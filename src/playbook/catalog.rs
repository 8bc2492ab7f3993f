//! Where playbooks come from: the built-in ones embedded in the binary (`playbooks/`), the
//! user's directory (same name replaces a built-in), or a file named on the command line.

use std::path::{Path, PathBuf};

use super::load::{Diagnostic, PlaybookError, load};
use super::model::{Origin, Playbook};

/// The built-in playbooks: (file name, text).
const BUILTIN: &[(&str, &str)] = &[
    (
        "capture-memory.yml",
        include_str!("../../playbooks/capture-memory.yml"),
    ),
    (
        "collect-volatile.yml",
        include_str!("../../playbooks/collect-volatile.yml"),
    ),
    ("contain.yml", include_str!("../../playbooks/contain.yml")),
    (
        "deny-subnet.yml",
        include_str!("../../playbooks/deny-subnet.yml"),
    ),
    ("isolate.yml", include_str!("../../playbooks/isolate.yml")),
    (
        "lift-subnet-deny.yml",
        include_str!("../../playbooks/lift-subnet-deny.yml"),
    ),
    ("release.yml", include_str!("../../playbooks/release.yml")),
    (
        "revoke-sessions.yml",
        include_str!("../../playbooks/revoke-sessions.yml"),
    ),
    ("snapshot.yml", include_str!("../../playbooks/snapshot.yml")),
    (
        "tag-incident.yml",
        include_str!("../../playbooks/tag-incident.yml"),
    ),
];

/// The default user playbook directory: `$XDG_CONFIG_HOME/breakglass/playbooks`.
pub fn default_user_dir() -> Option<PathBuf> {
    crate::paths::config_dir().map(|d| d.join("playbooks"))
}

/// Every playbook available by name.
#[derive(Debug, Default)]
pub struct Catalog {
    /// Usable playbooks, sorted by name; user ones replace built-ins of the same name.
    pub playbooks: Vec<Playbook>,
    /// Names of built-ins replaced by a user playbook.
    pub overridden: Vec<String>,
    /// User files that could not be used (listed, never fatal for other playbooks).
    pub problems: Vec<PlaybookError>,
}

impl Catalog {
    /// Loads the built-ins and the files in `user_dir` (absent directory = none).
    pub fn load(user_dir: Option<&Path>) -> Catalog {
        let mut catalog = Catalog::default();
        for (file, text) in BUILTIN {
            match load(text, Origin::Builtin) {
                Ok(playbook) => catalog.playbooks.push(playbook),
                // Tested: every built-in loads. Reported rather than hidden all the same.
                Err(err) => catalog.problems.push(relabel(err, file)),
            }
        }
        if let Some(dir) = user_dir {
            for path in user_files(dir, &mut catalog.problems) {
                match read(&path).and_then(|text| load(&text, Origin::UserDir(path.clone()))) {
                    Ok(playbook) => catalog.add_user(playbook),
                    Err(err) => catalog.problems.push(err),
                }
            }
        }
        catalog.playbooks.sort_by(|a, b| a.name.cmp(&b.name));
        catalog
    }

    fn add_user(&mut self, playbook: Playbook) {
        if let Some(existing) = self.playbooks.iter_mut().find(|p| p.name == playbook.name) {
            if existing.origin == Origin::Builtin {
                self.overridden.push(playbook.name.clone());
                *existing = playbook;
            } else {
                self.problems.push(PlaybookError {
                    diagnostics: vec![Diagnostic {
                        origin: playbook.origin.to_string(),
                        line: None,
                        column: None,
                        message: format!(
                            "playbook `{}` is also defined in {}; this one is ignored",
                            playbook.name, existing.origin
                        ),
                        hint: "give each user playbook its own `name`".into(),
                    }],
                });
            }
        } else {
            self.playbooks.push(playbook);
        }
    }

    pub fn find(&self, name: &str) -> Option<&Playbook> {
        self.playbooks.iter().find(|p| p.name == name)
    }

    pub fn names(&self) -> Vec<&str> {
        self.playbooks.iter().map(|p| p.name.as_str()).collect()
    }
}

/// Whether `arg` names a file rather than a catalog entry.
pub fn is_file_reference(arg: &str) -> bool {
    arg.contains('/') || arg.ends_with(".yml") || arg.ends_with(".yaml")
}

/// Reads and loads a playbook file named on the command line.
pub fn load_file(path: &Path) -> Result<Playbook, PlaybookError> {
    read(path).and_then(|text| load(&text, Origin::File(path.to_path_buf())))
}

/// Reads a playbook file: bounded in size before it is read, and UTF-8.
fn read(path: &Path) -> Result<String, PlaybookError> {
    let problem = |message: String, hint: &str| PlaybookError {
        diagnostics: vec![Diagnostic {
            origin: path.display().to_string(),
            line: None,
            column: None,
            message,
            hint: hint.into(),
        }],
    };
    let unreadable = |err: std::io::Error| {
        problem(
            format!("cannot read the file: {err}"),
            "check the path and its permissions",
        )
    };
    let size = std::fs::metadata(path).map_err(unreadable)?.len();
    if size > super::MAX_PLAYBOOK_BYTES as u64 {
        return Err(problem(
            format!(
                "the file is {size} bytes; playbooks are limited to {}",
                super::MAX_PLAYBOOK_BYTES
            ),
            "split it, or remove what is not a playbook",
        ));
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    String::from_utf8(bytes).map_err(|err| {
        problem(
            format!(
                "the file is not UTF-8 text (invalid bytes at offset {})",
                err.utf8_error().valid_up_to()
            ),
            "save the playbook as UTF-8",
        )
    })
}

fn user_files(dir: &Path, problems: &mut Vec<PlaybookError>) -> Vec<PathBuf> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(err) => {
            problems.push(PlaybookError {
                diagnostics: vec![Diagnostic {
                    origin: dir.display().to_string(),
                    line: None,
                    column: None,
                    message: format!("cannot read the playbook directory: {err}"),
                    hint: "check `playbooks.dir` in the config and the directory's permissions"
                        .into(),
                }],
            });
            return Vec::new();
        }
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}

fn relabel(mut err: PlaybookError, file: &str) -> PlaybookError {
    for d in &mut err.diagnostics {
        d.origin = format!("builtin {file}");
    }
    err
}
