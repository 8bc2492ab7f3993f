//! Using a sign-in: the cached access token (refreshed with its refresh token from 15
//! minutes before expiry and written back, as the AWS CLI does) and an SDK credentials
//! provider that turns it into the role's temporary credentials for every AWS call,
//! fetching new ones before they expire.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_credential_types::Credentials;
use aws_credential_types::provider::{self, ProvideCredentials, error::CredentialsError};
use chrono::Utc;

use super::SignInError;
use super::cache::{self, CachedToken};
use super::flow::Oidc;
use super::portal::Portal;
use super::profile::SsoConfig;

/// Refresh the token when it has less than this left.
const REFRESH_WINDOW: chrono::Duration = chrono::Duration::minutes(15);
/// Fetch new role credentials when they have less than this left.
const CREDENTIALS_WINDOW: Duration = Duration::from_secs(300);

/// The token of one sign-in.
#[derive(Debug, Clone)]
pub struct TokenSource {
    pub sso: SsoConfig,
    sdk: aws_types::SdkConfig,
}

impl TokenSource {
    /// `sdk` reaches IAM Identity Center (its calls are unsigned).
    pub fn new(sso: SsoConfig, sdk: aws_types::SdkConfig) -> TokenSource {
        TokenSource { sso, sdk }
    }

    pub fn sdk(&self) -> &aws_types::SdkConfig {
        &self.sdk
    }

    /// The cached token, as it is.
    pub fn cached(&self) -> Result<Option<CachedToken>, SignInError> {
        let token: Option<CachedToken> = cache::read(&cache::token_path(self.sso.cache_key())?)?;
        // Other tools share the folder: a token for another start URL is not ours.
        Ok(token.filter(|t| t.start_url == self.sso.start_url))
    }

    /// A usable access token: refreshed when close to expiry, else an error saying how to
    /// sign in again.
    pub async fn token(&self) -> Result<CachedToken, SignInError> {
        let login = self.sso.login_command();
        let Some(token) = self.cached()? else {
            return Err(SignInError::NotSignedIn {
                reason: format!(
                    "not signed in to IAM Identity Center ({})",
                    self.sso.start_url
                ),
                login,
            });
        };
        let expiry = token.expiry().unwrap_or_else(Utc::now);
        if expiry - Utc::now() > REFRESH_WINDOW {
            return Ok(token);
        }
        if token.can_refresh() {
            let oidc = Oidc::new(&self.sdk, &self.sso.region);
            if let Ok(issued) = oidc.refresh(&token).await {
                let refreshed = CachedToken {
                    access_token: issued.access_token,
                    expires_at: cache::format_time(
                        Utc::now() + chrono::Duration::seconds(issued.expires_in),
                    ),
                    refresh_token: issued.refresh_token.or(token.refresh_token),
                    ..token
                };
                cache::write(&cache::token_path(self.sso.cache_key())?, &refreshed)?;
                return Ok(refreshed);
            }
        }
        if expiry > Utc::now() {
            // Still valid for now; refreshing failed or is not possible.
            return Ok(token);
        }
        Err(SignInError::NotSignedIn {
            reason: "the IAM Identity Center sign-in has expired".into(),
            login,
        })
    }
}

/// Role credentials from a sign-in, for the SDK.
#[derive(Debug)]
pub struct SsoRoleProvider {
    source: TokenSource,
    account_id: String,
    role_name: String,
    current: tokio::sync::Mutex<Option<Credentials>>,
}

impl SsoRoleProvider {
    pub fn new(source: TokenSource, account_id: String, role_name: String) -> SsoRoleProvider {
        SsoRoleProvider {
            source,
            account_id,
            role_name,
            current: tokio::sync::Mutex::new(None),
        }
    }

    async fn load(&self) -> provider::Result {
        let mut current = self.current.lock().await;
        if let Some(creds) = current.as_ref()
            && creds.expiry().is_some_and(|at| {
                at.duration_since(SystemTime::now())
                    .is_ok_and(|left| left > CREDENTIALS_WINDOW)
            })
        {
            return Ok(creds.clone());
        }
        let token = self
            .source
            .token()
            .await
            // The only provider in the chain: every failure is final.
            .map_err(|e| CredentialsError::provider_error(crate::aws::ProviderFailure::from(e)))?;
        let portal = Portal::new(self.source.sdk(), &self.source.sso.region);
        let role = portal
            .role_credentials(
                &token.access_token,
                &self.account_id,
                &self.role_name,
                &self.source.sso.login_command(),
            )
            .await
            .map_err(|e| CredentialsError::provider_error(crate::aws::ProviderFailure::from(e)))?;
        let expiry =
            UNIX_EPOCH + Duration::from_millis(u64::try_from(role.expiration_ms).unwrap_or(0));
        let creds = Credentials::new(
            role.access_key_id,
            role.secret_access_key,
            Some(role.session_token),
            Some(expiry),
            "breakglass-sso",
        );
        *current = Some(creds.clone());
        Ok(creds)
    }
}

impl ProvideCredentials for SsoRoleProvider {
    fn provide_credentials<'a>(&'a self) -> provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        provider::future::ProvideCredentials::new(self.load())
    }
}
