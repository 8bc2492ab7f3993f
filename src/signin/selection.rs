//! The account and role a responder picked at sign-in when the profile names none,
//! remembered per profile or sso-session in breakglass's state directory
//! (`sso-selection.json`, mode 0600) so the next command uses the same role.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::SignInError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Selection {
    pub account_id: String,
    pub role_name: String,
}

fn path() -> Result<PathBuf, SignInError> {
    crate::paths::state_dir()
        .map(|d| d.join("sso-selection.json"))
        .ok_or_else(|| SignInError::Cache("no state directory (HOME is not set)".into()))
}

/// The remembered pick for `key`.
pub fn get(key: &str) -> Result<Option<Selection>, SignInError> {
    let all: Option<BTreeMap<String, Selection>> = super::cache::read(&path()?)?;
    Ok(all.and_then(|mut all| all.remove(key)))
}

pub fn set(key: &str, selection: &Selection) -> Result<(), SignInError> {
    let path = path()?;
    let mut all: BTreeMap<String, Selection> = super::cache::read(&path)?.unwrap_or_default();
    all.insert(key.to_owned(), selection.clone());
    super::cache::write(&path, &all)
}
