//! Reading the config file: the explicit `--config PATH` (must exist) or the default
//! location (may be absent), parsed and validated, with errors that name the file.

use std::path::{Path, PathBuf};

use super::schema::Config;

/// Why the config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("failed to read config file `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid config file `{}`: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("invalid value in config file `{}`: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
}

impl ConfigError {
    pub fn hint(&self) -> String {
        match self {
            ConfigError::Read { .. } => {
                "check the path given with `--config` or `BREAKGLASS_CONFIG`".into()
            }
            ConfigError::Parse { .. } | ConfigError::Invalid { .. } => {
                "fix the file as described above; docs/configuration.md lists every key".into()
            }
        }
    }
}

/// Where the config came from, for messages.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub path: Option<PathBuf>,
}

impl Config {
    /// Loads `explicit` (must exist) or the default path (may be absent).
    pub fn load(explicit: Option<&Path>) -> Result<LoadedConfig, ConfigError> {
        let (path, required) = match explicit {
            Some(path) => (Some(path.to_path_buf()), true),
            None => (
                crate::paths::config_dir().map(|d| d.join("config.toml")),
                false,
            ),
        };
        let Some(path) = path else {
            return Ok(LoadedConfig {
                config: Config::default(),
                path: None,
            });
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(LoadedConfig {
                config: Config::parse(&text, &path)?,
                path: Some(path),
            }),
            Err(err) if !required && err.kind() == std::io::ErrorKind::NotFound => {
                Ok(LoadedConfig {
                    config: Config::default(),
                    path: None,
                })
            }
            Err(source) => Err(ConfigError::Read { path, source }),
        }
    }

    /// Parses and validates config text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|err| ConfigError::Parse {
            path: path.to_path_buf(),
            message: err.to_string().trim_end().to_owned(),
        })?;
        config.validate(path)?;
        Ok(config)
    }
}
