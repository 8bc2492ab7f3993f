//! The last inventory listed, kept on disk (0600) so the cockpit shows the estate the moment
//! it starts while it lists again. Only ever shown: a playbook always plans against a fresh
//! listing.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Inventory;

/// An inventory and when it was listed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cached {
    pub listed_at: DateTime<Utc>,
    pub inventory: Inventory,
}

/// The cache file for one place breakglass lists: the profile, the endpoint (so the game-day
/// sandbox never shows as a real account) and the regions.
pub fn path(
    dir: &Path,
    profile: Option<&str>,
    endpoint: Option<&str>,
    regions: &[String],
) -> PathBuf {
    let key = format!(
        "{}\n{}\n{}",
        profile.unwrap_or(""),
        endpoint.unwrap_or(""),
        regions.join(",")
    );
    let digest = hex::encode(Sha256::digest(key.as_bytes()));
    dir.join(format!("inventory-{}.json", &digest[..16]))
}

/// Reads the cached inventory; `None` when there is none or it cannot be used (a damaged or
/// older file is ignored: it is listed again anyway).
pub fn load(path: &Path) -> Option<Cached> {
    if crate::files::is_symlink(path) {
        return None;
    }
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Replaces the cache with `inventory`, listed now.
pub fn save(path: &Path, inventory: &Inventory) -> std::io::Result<()> {
    let cached = Cached {
        listed_at: Utc::now(),
        inventory: inventory.clone(),
    };
    let bytes = serde_json::to_vec(&cached).map_err(std::io::Error::other)?;
    crate::files::write_atomic(path, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_saved_inventory_loads_back_and_places_do_not_share_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let regions = vec!["eu-west-1".to_owned()];
        let real = path(dir.path(), Some("prod"), None, &regions);
        let sandbox = path(
            dir.path(),
            Some("prod"),
            Some("http://127.0.0.1:4566"),
            &regions,
        );
        assert_ne!(real, sandbox);
        assert!(load(&real).is_none());
        let inventory = crate::inventory::fixtures::estate();
        save(&real, &inventory).unwrap();
        let cached = load(&real).unwrap();
        assert_eq!(cached.inventory.servers, inventory.servers);
        assert_eq!(cached.inventory.account, inventory.account);
        std::fs::write(&real, b"{ not json").unwrap();
        assert!(load(&real).is_none(), "a damaged cache is ignored");
    }
}
