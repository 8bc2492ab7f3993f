//! The token and client-registration cache shared with the AWS CLI v2 and botocore:
//! `~/.aws/sso/cache/<sha1>.json` with the same names and camelCase fields, written
//! atomically (temp file + rename) with mode 0600 under an exclusive lock, so a token from
//! `aws sso login` works here and one from `breakglass login` works there.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use super::SignInError;

/// A cached access token (what `aws sso login` writes).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedToken {
    pub start_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub access_token: String,
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for CachedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CachedToken")
            .field("start_url", &self.start_url)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl CachedToken {
    /// When it expires; `None` if the field cannot be read.
    pub fn expiry(&self) -> Option<DateTime<Utc>> {
        parse_time(&self.expires_at)
    }

    /// Whether its client registration can still refresh it.
    pub fn can_refresh(&self) -> bool {
        self.refresh_token.is_some()
            && self.client_id.is_some()
            && self.client_secret.is_some()
            && self
                .registration_expires_at
                .as_deref()
                .and_then(parse_time)
                .is_none_or(|at| at > Utc::now())
    }
}

/// A cached client registration.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Registration {
    pub client_id: String,
    pub client_secret: String,
    pub expires_at: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub grant_types: Vec<String>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("client_id", &self.client_id)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl Registration {
    pub fn is_valid(&self) -> bool {
        parse_time(&self.expires_at)
            .is_some_and(|at| at > Utc::now() + chrono::Duration::minutes(15))
    }
}

/// The format the AWS CLI writes times in.
pub fn format_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `~/.aws/sso/cache`.
pub fn cache_dir() -> Result<PathBuf, SignInError> {
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .ok_or_else(|| SignInError::Cache("HOME is not set".into()))?;
    Ok(PathBuf::from(home).join(".aws").join("sso").join("cache"))
}

fn sha1_hex(text: &str) -> String {
    hex::encode(Sha1::digest(text.as_bytes()))
}

/// The token file for a session name (or a legacy profile's start URL).
pub fn token_path(key: &str) -> Result<PathBuf, SignInError> {
    Ok(cache_dir()?.join(format!("{}.json", sha1_hex(key))))
}

/// The registration file: the SHA-1 of the CLI's key document, which is Python's
/// `json.dumps(…, sort_keys=True)` of region, scopes, session name, start URL and tool
/// (plus the grant types for an authorization-code client).
pub fn registration_path(
    region: &str,
    scopes: &[String],
    session_name: &str,
    start_url: &str,
    grant_types: &[String],
) -> Result<PathBuf, SignInError> {
    let quote = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let list = |items: &[String]| {
        let quoted: Vec<String> = items.iter().map(|s| quote(s)).collect();
        format!("[{}]", quoted.join(", "))
    };
    let mut fields = Vec::new();
    if !grant_types.is_empty() {
        fields.push(format!("\"grantTypes\": {}", list(grant_types)));
    }
    fields.push(format!("\"region\": {}", quote(region)));
    fields.push(format!("\"scopes\": {}", list(scopes)));
    fields.push(format!("\"session_name\": {}", quote(session_name)));
    fields.push(format!("\"startUrl\": {}", quote(start_url)));
    fields.push("\"tool\": \"botocore\"".into());
    let key = format!("{{{}}}", fields.join(", "));
    Ok(cache_dir()?.join(format!("{}.json", sha1_hex(&key))))
}

/// Reads a cache file; `None` when it does not exist. A file that is not valid JSON of the
/// expected shape is an error naming the file (it may have been tampered with).
///
/// Other tools (botocore) rewrite the file in place, so a reader can catch it half-written:
/// a file that does not parse is read once more before it counts as damaged.
pub fn read<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, SignInError> {
    match read_once(path) {
        Err(SignInError::Cache(_)) if path.exists() => {
            std::thread::sleep(std::time::Duration::from_millis(100));
            read_once(path)
        }
        other => other,
    }
}

fn read_once<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>, SignInError> {
    refuse_symlink(path)?;
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            SignInError::Cache(format!(
                "{} is not a valid cache file ({e}); delete it and sign in again",
                path.display()
            ))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(SignInError::Cache(format!(
            "cannot read {}: {e}",
            path.display()
        ))),
    }
}

/// Writes a cache file atomically, mode 0600, in a 0700 directory, under a lock.
pub fn write<T: Serialize>(path: &Path, value: &T) -> Result<(), SignInError> {
    let io = |what: &str, e: std::io::Error| {
        SignInError::Cache(format!("cannot {what} {}: {e}", path.display()))
    };
    let dir = path
        .parent()
        .ok_or_else(|| SignInError::Cache(format!("{} has no directory", path.display())))?;
    crate::files::private_dir(dir).map_err(|e| io("create the directory of", e))?;
    refuse_symlink(path)?;
    let _lock = lock(path).map_err(|e| io("lock", e))?;
    let bytes = serde_json::to_vec(value).map_err(|e| SignInError::Cache(e.to_string()))?;
    crate::files::write_atomic(path, &bytes).map_err(|e| io("write", e))
}

/// Removes a cache file (and its lock file); fine if it is not there.
pub fn remove(path: &Path) -> Result<bool, SignInError> {
    let _ = std::fs::remove_file(lock_path(path));
    match std::fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(SignInError::Cache(format!(
            "cannot remove {}: {e}",
            path.display()
        ))),
    }
}

fn lock_path(path: &Path) -> PathBuf {
    path.with_extension("json.lock")
}

/// An exclusive lock held until dropped (concurrent logins write one at a time).
fn lock(path: &Path) -> std::io::Result<File> {
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path(path))?;
    file.lock()?;
    Ok(file)
}

/// A symlink planted where a cache file belongs is refused, never followed.
fn refuse_symlink(path: &Path) -> Result<(), SignInError> {
    if crate::files::is_symlink(path) {
        return Err(SignInError::Cache(format!(
            "{} is a symbolic link; breakglass does not follow links in the token cache — \
             remove it and sign in again",
            path.display()
        )));
    }
    Ok(())
}
