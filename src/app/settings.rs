//! The settings a use case runs with: the front end's overrides (flags, TUI choices),
//! validated and merged with the config file and the AWS environment.

use std::path::PathBuf;

use super::error::{Error, Result};
use crate::aws::{AwsContext, AwsSettings};
use crate::config::{Config, LoadedConfig};
use crate::inventory::{Selection, TagFilter};
use crate::text::OutputFormat;

/// What a front end asks for on top of the config file: plain values, already parsed.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// AWS profile; empty or `None` leaves it to the config and the SDK.
    pub profile: Option<String>,
    /// Regions to work in (`--region`, repeatable); empty leaves it to the config.
    pub regions: Vec<String>,
    /// An explicit config file, which must exist.
    pub config: Option<PathBuf>,
    /// The audit log, instead of the config's or the default.
    pub audit_log: Option<PathBuf>,
    pub output: OutputFormat,
}

/// Everything a command needs, resolved once.
#[derive(Debug, Clone)]
pub struct Settings {
    pub config: LoadedConfig,
    pub aws: AwsSettings,
    region_flags: Vec<String>,
    audit_log_flag: Option<std::path::PathBuf>,
    pub output: OutputFormat,
    /// Where cached data goes (the TUI's last inventory): the XDG cache directory.
    pub cache_dir: Option<PathBuf>,
}

impl Settings {
    pub fn new(overrides: &Overrides) -> Result<Settings> {
        for region in &overrides.regions {
            if !crate::ids::is_region_name(region) {
                return Err(Error::InvalidArgument {
                    what: "region",
                    value: region.clone(),
                    reason: "not an AWS region name".into(),
                    hint: "use a region code such as `eu-west-1` or `eu-north-1`".into(),
                });
            }
        }
        let config = Config::load(overrides.config.as_deref())?;
        let profile = overrides
            .profile
            .clone()
            .filter(|p| !p.is_empty())
            .or_else(|| config.config.profile.clone());
        Ok(Settings {
            aws: AwsSettings {
                profile,
                client: config.config.aws.clone(),
                sandbox: None,
            },
            config,
            region_flags: overrides.regions.clone(),
            audit_log_flag: overrides.audit_log.clone(),
            output: overrides.output,
            cache_dir: crate::paths::cache_dir(),
        })
    }

    /// The AWS context: the SDK's chain, or — for a profile that signs in through IAM
    /// Identity Center — role credentials from breakglass's own sign-in, in-process.
    pub async fn aws_context(&self) -> Result<AwsContext> {
        let role = match self.signs_in() {
            true => crate::signin::resolve_role(self.aws.profile.as_deref()).await?,
            false => None,
        };
        let ctx = AwsContext::load(&self.aws).await;
        Ok(match role {
            Some(role) => role.context(ctx),
            None => ctx,
        })
    }

    /// Whether credentials may come from breakglass's own IAM Identity Center sign-in:
    /// not in the sandbox, and not when the environment holds keys (they win, as in every
    /// AWS tool).
    fn signs_in(&self) -> bool {
        let static_keys = std::env::var_os("AWS_ACCESS_KEY_ID").is_some_and(|k| !k.is_empty());
        self.aws.sandbox.is_none() && !static_keys
    }

    /// The profile's IAM Identity Center settings, when its credentials come from a
    /// sign-in.
    pub async fn sso_profile(&self) -> Result<Option<crate::signin::SsoConfig>> {
        if !self.signs_in() {
            return Ok(None);
        }
        Ok(crate::signin::profile::resolve(self.aws.profile.as_deref(), None).await?)
    }

    /// Where the TUI caches the inventory of these regions, for this profile and endpoint.
    pub fn inventory_cache(&self, regions: &[String]) -> Option<std::path::PathBuf> {
        let endpoint = match &self.aws.sandbox {
            Some(sandbox) => Some(sandbox.endpoint_url.clone()),
            None => std::env::var("AWS_ENDPOINT_URL").ok(),
        };
        let profile = self
            .aws
            .profile
            .clone()
            .or_else(|| std::env::var("AWS_PROFILE").ok());
        Some(crate::inventory::cache::path(
            self.cache_dir.as_deref()?,
            profile.as_deref(),
            endpoint.as_deref(),
            regions,
        ))
    }

    /// Regions to work in: `--region` flags, else config `regions`, else the SDK's region.
    pub fn regions(&self, ctx: &AwsContext) -> Result<Vec<String>> {
        let mut regions = if !self.region_flags.is_empty() {
            self.region_flags.clone()
        } else if !self.config.config.regions.is_empty() {
            self.config.config.regions.clone()
        } else {
            vec![ctx.default_region().ok_or(Error::NoRegion)?]
        };
        let mut seen = std::collections::HashSet::new();
        regions.retain(|r| seen.insert(r.clone()));
        Ok(regions)
    }

    /// The audit log: `--audit-log` / `BREAKGLASS_AUDIT_LOG`, else config, else the default.
    pub fn audit_log_path(&self) -> Result<std::path::PathBuf> {
        self.audit_log_flag
            .clone()
            .or_else(|| self.config.config.audit_log.clone())
            .or_else(crate::audit::default_path)
            .ok_or_else(|| Error::InvalidArgument {
                what: "audit log",
                value: String::new(),
                reason: "no default location (HOME is not set)".into(),
                hint: "pass `--audit-log PATH` or set `audit_log` in the config".into(),
            })
    }

    /// The user playbook directory: config `playbooks.dir`, else the XDG default.
    pub fn playbook_dir(&self) -> Option<std::path::PathBuf> {
        self.config
            .config
            .playbooks
            .dir
            .clone()
            .or_else(crate::playbook::default_user_dir)
    }

    /// Targets worked on at once: `--concurrency`, else config `playbooks.concurrency`.
    pub fn concurrency(&self, flag: Option<usize>) -> Result<usize> {
        let max = crate::config::MAX_CONCURRENCY;
        match flag {
            Some(n) if !(1..=max).contains(&n) => Err(Error::InvalidArgument {
                what: "concurrency",
                value: n.to_string(),
                reason: format!("must be between 1 and {max}"),
                hint: "pass `--concurrency 10` or leave it out".into(),
            }),
            Some(n) => Ok(n),
            None => Ok(self.config.config.playbooks.concurrency),
        }
    }

    /// What a run knows before planning: its identity and the config it plans with.
    pub fn run_info(
        &self,
        run_id: String,
        incident: Option<String>,
        dry_run: bool,
    ) -> crate::playbook::RunInfo {
        crate::playbook::RunInfo {
            run_id,
            incident,
            dry_run,
            evidence: self.config.config.evidence.clone(),
            ssm_endpoint_groups: self.config.config.containment.ssm_endpoint_groups.clone(),
        }
    }

    /// Loads a playbook by name (built-in or user directory) or from a file.
    pub fn playbook(&self, arg: &str) -> Result<crate::playbook::Playbook> {
        super::catalog::load(self.playbook_dir().as_deref(), arg)
    }

    /// The discovery selection: `--all`, else `--filter`s, else the configured filters.
    pub fn selection(&self, all: bool, filters: &[String]) -> Result<Selection> {
        if all {
            return Ok(Selection::All);
        }
        if filters.is_empty() {
            // Already validated when the config was loaded.
            let parsed = self
                .config
                .config
                .discovery
                .filters
                .iter()
                .map(|f| TagFilter::parse(f))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|reason| Error::InvalidArgument {
                    what: "discovery filter",
                    value: self.config.config.discovery.filters.join(" "),
                    reason,
                    hint: "fix `discovery.filters` in the config".into(),
                })?;
            return Ok(if parsed.is_empty() {
                Selection::All
            } else {
                Selection::Filters(parsed)
            });
        }
        filters
            .iter()
            .map(|f| {
                TagFilter::parse(f).map_err(|reason| Error::InvalidArgument {
                    what: "filter",
                    value: f.clone(),
                    reason,
                    hint: "write `--filter tag:Key=Value` (repeat to AND; `,` separates \
                           alternative values), or `--all`"
                        .into(),
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(Selection::Filters)
    }

    /// The printed policy's playbook, scoped by the configured filters, role path and
    /// evidence location; refused when nothing narrows what it would let its holder change.
    pub fn policy(&self, playbook: &crate::playbook::Playbook) -> Result<serde_json::Value> {
        let tags = match self.selection(false, &[])? {
            Selection::All => Vec::new(),
            Selection::Filters(filters) => filters,
        };
        let scope = crate::playbook::PolicyScope::new(&self.config.config, tags);
        crate::playbook::policy(playbook, &scope).map_err(|e| Error::Refused {
            reason: e.to_string(),
            hint: e.hint(),
        })
    }
}
