//! A sign-in's life in the shared cache: whether one is usable, signing in, forgetting it.

use super::error::SignInError;
use super::flow::{self, Method, Prompt};
use super::profile::SsoConfig;
use super::role::selection_key;
use super::{cache, selection};

/// Whether `sso` has a cached token that is still valid for a while (or can be refreshed),
/// and an account and role to use.
pub fn ready(sso: &SsoConfig) -> bool {
    let token = cache::token_path(sso.cache_key())
        .ok()
        .and_then(|path| cache::read::<cache::CachedToken>(&path).ok().flatten())
        .filter(|t| t.start_url == sso.start_url);
    let fresh = token.is_some_and(|t| {
        t.can_refresh()
            || t.expiry()
                .is_some_and(|at| at > chrono::Utc::now() + chrono::Duration::minutes(1))
    });
    let role = (sso.account_id.is_some() && sso.role_name.is_some())
        || selection::get(&selection_key(sso)).ok().flatten().is_some();
    fresh && role
}

/// Signs in with `method` (registering a client if none is cached) and writes the token
/// to the shared cache.
pub async fn sign_in(
    sdk: &aws_types::SdkConfig,
    sso: &SsoConfig,
    method: Method,
    open_browser: bool,
    prompt: &(dyn Fn(Prompt) + Send + Sync),
) -> Result<cache::CachedToken, SignInError> {
    let oidc = flow::Oidc::new(sdk, &sso.region);
    let mut registration = oidc.registration(sso, method).await?;
    let mut attempt = 0;
    let issued = loop {
        attempt += 1;
        let issued = match method {
            Method::DeviceCode => {
                oidc.device_code(sso, &registration, open_browser, prompt)
                    .await
            }
            Method::AuthorizationCode => {
                let authorize = oidc.authorize_endpoint();
                oidc.authorization_code(sso, &registration, &authorize, open_browser, prompt)
                    .await
            }
        };
        match issued {
            // The service no longer knows the cached client: register anew, once.
            Err(SignInError::InvalidClient) if attempt == 1 => {
                cache::remove(&flow::registration_path(sso, method)?)?;
                registration = oidc.registration(sso, method).await?;
            }
            other => break other?,
        }
    };
    let token = flow::to_cache(sso, &registration, &issued);
    cache::write(&cache::token_path(sso.cache_key())?, &token)?;
    Ok(token)
}

/// Removes every trace of a sign-in from the shared cache: the token and both kinds of
/// client registration (the sandbox cleans up after itself this way).
pub fn forget(sso: &SsoConfig) -> Result<(), SignInError> {
    cache::remove(&cache::token_path(sso.cache_key())?)?;
    for method in [Method::DeviceCode, Method::AuthorizationCode] {
        cache::remove(&flow::registration_path(sso, method)?)?;
    }
    Ok(())
}
