//! The playbook catalog as the use cases see it: a playbook by name (built-in or the user's
//! directory) or from a file, with an error that lists what is available.

use super::error::{Error, Result};
use crate::playbook::{Catalog, Playbook, is_file_reference, load_file};

/// Loads `arg` as a file reference or a catalog name.
pub fn load(dir: Option<&std::path::Path>, arg: &str) -> Result<Playbook> {
    if is_file_reference(arg) {
        return Ok(load_file(std::path::Path::new(arg))?);
    }
    let catalog = Catalog::load(dir);
    if let Some(playbook) = catalog.find(arg) {
        return Ok(playbook.clone());
    }
    for problem in &catalog.problems {
        eprintln!("warning: skipped a user playbook: {problem}");
    }
    Err(Error::InvalidArgument {
        what: "playbook",
        value: arg.to_owned(),
        reason: "no playbook of that name".into(),
        hint: format!(
            "available: {}; or give a file path (e.g. `./my-playbook.yml`)",
            catalog.names().join(", ")
        ),
    })
}
