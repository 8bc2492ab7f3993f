//! XDG base directories (config, state, cache) resolved the same way on every platform.
//!
//! Responders' runbooks and docs name `~/.config/breakglass` and `~/.local/state/breakglass`,
//! so we follow the XDG convention everywhere instead of platform-specific folders.

use std::path::PathBuf;

fn xdg_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    match std::env::var_os(var) {
        Some(dir) if !dir.is_empty() && PathBuf::from(&dir).is_absolute() => Some(dir.into()),
        _ => std::env::var_os("HOME")
            .filter(|home| !home.is_empty())
            .map(|home| PathBuf::from(home).join(fallback)),
    }
}

/// `$XDG_CONFIG_HOME/breakglass` (default `~/.config/breakglass`).
pub fn config_dir() -> Option<PathBuf> {
    xdg_dir("XDG_CONFIG_HOME", ".config").map(|d| d.join("breakglass"))
}

/// `$XDG_STATE_HOME/breakglass` (default `~/.local/state/breakglass`).
pub fn state_dir() -> Option<PathBuf> {
    xdg_dir("XDG_STATE_HOME", ".local/state").map(|d| d.join("breakglass"))
}

/// `$XDG_CACHE_HOME/breakglass` (default `~/.cache/breakglass`).
pub fn cache_dir() -> Option<PathBuf> {
    xdg_dir("XDG_CACHE_HOME", ".cache").map(|d| d.join("breakglass"))
}
