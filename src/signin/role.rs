//! The account and role a sign-in acts as, and the AWS context whose every call is signed
//! with that role's credentials, fetched in-process.

use super::error::SignInError;
use super::profile::{self, SsoConfig};
use super::provider::{SsoRoleProvider, TokenSource};
use super::selection;
use crate::aws::AwsContext;

/// The account and role of a sign-in whose credentials every call uses.
#[derive(Debug, Clone)]
pub struct SsoRole {
    pub config: SsoConfig,
    pub account_id: String,
    pub role_name: String,
}

impl SsoRole {
    /// `ctx` with every call signed as this role (credentials fetched and renewed from the
    /// portal with the cached sign-in, never written to disk).
    pub fn context(&self, ctx: AwsContext) -> AwsContext {
        let source = TokenSource::new(self.config.clone(), ctx.sdk_config().clone());
        let provider =
            SsoRoleProvider::new(source, self.account_id.clone(), self.role_name.clone());
        ctx.with_credentials(provider)
    }
}

/// The account and role to use for `profile` when it signs in through IAM Identity Center:
/// the profile's `sso_account_id` / `sso_role_name`, else the pick of the last
/// `breakglass login`; `None` when the profile does not use IAM Identity Center.
pub async fn resolve_role(profile: Option<&str>) -> Result<Option<SsoRole>, SignInError> {
    let Some(sso) = profile::resolve(profile, None).await? else {
        return Ok(None);
    };
    let (account_id, role_name) = match (sso.account_id.clone(), sso.role_name.clone()) {
        (Some(account), Some(role)) => (account, role),
        _ => match selection::get(&selection_key(&sso))? {
            Some(pick) => (pick.account_id, pick.role_name),
            None => {
                return Err(SignInError::NotSignedIn {
                    reason: "no account and role are chosen for this sign-in".into(),
                    login: sso.login_command(),
                });
            }
        },
    };
    Ok(Some(SsoRole {
        config: sso,
        account_id,
        role_name,
    }))
}

/// Under which name a pick of account and role is remembered.
pub fn selection_key(sso: &SsoConfig) -> String {
    match (&sso.profile, &sso.session_name) {
        (Some(profile), _) => format!("profile:{profile}"),
        (None, Some(session)) => format!("sso-session:{session}"),
        (None, None) => format!("start-url:{}", sso.start_url),
    }
}
