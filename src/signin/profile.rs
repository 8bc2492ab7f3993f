//! Where sign-in settings come from: an `[sso-session]` section or an SSO profile in the AWS
//! CLI's config file (`AWS_CONFIG_FILE`, `AWS_PROFILE`), read with the SDK's own parser so
//! breakglass and the AWS CLI always agree on it.

use aws_runtime::env_config::file::EnvConfigFiles;
use aws_types::os_shim_internal::{Env, Fs};

use super::SignInError;

/// The scope every sign-in needs for the portal.
pub const DEFAULT_SCOPE: &str = "sso:account:access";

/// An IAM Identity Center sign-in target, and the account and role to use once signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SsoConfig {
    /// The `[sso-session NAME]`; `None` for a legacy profile (start URL in the profile).
    pub session_name: Option<String>,
    pub start_url: String,
    /// The region of IAM Identity Center.
    pub region: String,
    pub scopes: Vec<String>,
    pub account_id: Option<String>,
    pub role_name: Option<String>,
    /// The profile it came from, if any.
    pub profile: Option<String>,
}

impl SsoConfig {
    /// What names the cached token: the session name, or the start URL for legacy profiles.
    pub fn cache_key(&self) -> &str {
        self.session_name.as_deref().unwrap_or(&self.start_url)
    }

    /// How to sign in again, for messages.
    pub fn login_command(&self) -> String {
        match (&self.profile, &self.session_name) {
            (Some(profile), _) => format!("breakglass login --profile {profile}"),
            (None, Some(session)) => format!("breakglass login --sso-session {session}"),
            (None, None) => "breakglass login".into(),
        }
    }
}

/// Reads the SSO settings of `profile` (or the selected profile) or of `sso_session`;
/// `Ok(None)` when the profile does not use SSO.
pub async fn resolve(
    profile: Option<&str>,
    sso_session: Option<&str>,
) -> Result<Option<SsoConfig>, SignInError> {
    let set = aws_config::profile::load(
        &Fs::real(),
        &Env::real(),
        &EnvConfigFiles::default(),
        profile.map(|p| std::borrow::Cow::Owned(p.to_owned())),
    )
    .await
    .map_err(|e| SignInError::Config(crate::text::error_chain(&e)))?;
    if let Some(name) = sso_session {
        return session(&set, name, None, None, None).map(Some);
    }
    let selected = set.selected_profile().to_owned();
    let Some(section) = set.get_profile(&selected) else {
        if profile.is_some() {
            return Err(SignInError::Config(format!(
                "there is no profile `{selected}` in the AWS config file"
            )));
        }
        return Ok(None);
    };
    let account = section.get("sso_account_id").map(str::to_owned);
    let role = section.get("sso_role_name").map(str::to_owned);
    if let Some(name) = section.get("sso_session") {
        return session(&set, name, account, role, Some(selected)).map(Some);
    }
    match (section.get("sso_start_url"), section.get("sso_region")) {
        (Some(start_url), Some(region)) => Ok(Some(SsoConfig {
            session_name: None,
            start_url: start_url.to_owned(),
            region: region.to_owned(),
            scopes: vec![DEFAULT_SCOPE.into()],
            account_id: account,
            role_name: role,
            profile: Some(selected),
        })),
        (Some(_), None) | (None, Some(_)) => Err(SignInError::Config(format!(
            "profile `{selected}` needs both sso_start_url and sso_region"
        ))),
        (None, None) => Ok(None),
    }
}

fn session(
    set: &aws_config::profile::ProfileSet,
    name: &str,
    account_id: Option<String>,
    role_name: Option<String>,
    profile: Option<String>,
) -> Result<SsoConfig, SignInError> {
    let section = set.sso_session(name).ok_or_else(|| {
        SignInError::Config(format!(
            "there is no [sso-session {name}] section in the AWS config file"
        ))
    })?;
    let field = |key: &str| {
        section
            .get(key)
            .map(str::to_owned)
            .ok_or_else(|| SignInError::Config(format!("[sso-session {name}] has no {key}")))
    };
    let scopes = section
        .get("sso_registration_scopes")
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_else(|| vec![DEFAULT_SCOPE.to_owned()]);
    Ok(SsoConfig {
        session_name: Some(name.to_owned()),
        start_url: field("sso_start_url")?,
        region: field("sso_region")?,
        scopes,
        account_id,
        role_name,
        profile,
    })
}
