//! Guard rails every use case applies before it changes anything: a live run needs an
//! incident id and someone (or `--yes`) to confirm it, and acts only in allowed accounts.

use super::error::{Error, Result};
use crate::app::Settings;
use crate::aws::CallerIdentity;

/// Refuses a live run without an incident id, or without `yes` when nobody can answer
/// (`interactive`: a person is at a terminal to confirm).
pub fn guard_rails(
    dry_run: bool,
    incident: Option<&str>,
    yes: bool,
    interactive: bool,
) -> Result<()> {
    if dry_run {
        return Ok(());
    }
    if incident.is_none() {
        return Err(Error::Refused {
            reason: "a live run needs an incident id".into(),
            hint: "pass `--incident IR-42` (your ticket or case id), or `--dry-run` to only \
                   verify the plan"
                .into(),
        });
    }
    if !yes && !interactive {
        return Err(Error::Refused {
            reason: "not running in a terminal, so the run cannot be confirmed".into(),
            hint: "review the plan with `--dry-run`, then pass `--yes` to run without asking"
                .into(),
        });
    }
    Ok(())
}

/// Refuses an account outside `allowed_accounts` (when the list is set).
pub fn check_account(settings: &Settings, caller: &CallerIdentity) -> Result<()> {
    let allowed = &settings.config.config.allowed_accounts;
    if allowed.is_empty() || allowed.contains(&caller.account) {
        return Ok(());
    }
    Err(Error::Refused {
        reason: format!(
            "account {} is not in `allowed_accounts` ({}) of the config",
            caller.account,
            allowed.join(", ")
        ),
        hint: "check `--profile` / AWS_PROFILE: these credentials are for another account; \
               or add the account to `allowed_accounts` if it is meant to be managed"
            .into(),
    })
}

/// An incident id as given, checked: it is recorded and written to tags.
pub fn check_incident(id: &str) -> Result<String> {
    crate::ids::check_incident(id)
        .map(|()| id.to_owned())
        .map_err(|reason| Error::InvalidArgument {
            what: "incident id",
            value: id.to_owned(),
            reason: reason.into(),
            hint: "use your ticket or case id, e.g. `IR-42`".into(),
        })
}
