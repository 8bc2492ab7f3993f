//! Sign-in through AWS IAM Identity Center (SSO), interoperable with the AWS CLI: settings
//! from `~/.aws/config` ([`profile`]), the shared token cache ([`cache`]), the OIDC flows
//! ([`flow`]), the portal's accounts, roles and role credentials ([`portal`]), and the SDK
//! credentials provider that uses them in-process ([`provider`]). See docs/sign-in.md.

mod browser;
pub mod cache;
pub mod flow;
mod loopback;
mod pkce;
pub mod portal;
pub mod profile;
pub mod provider;
pub mod selection;

pub use browser::available as browser_available;
pub use flow::{Method, Prompt};
pub use profile::SsoConfig;
pub use provider::{SsoRoleProvider, TokenSource};

/// What can go wrong signing in.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// The AWS config file has no usable SSO settings.
    #[error("{0}")]
    Config(String),
    /// Not signed in, or the sign-in expired.
    #[error("{reason}: sign in again with `{login}`")]
    NotSignedIn { reason: String, login: String },
    #[error("the sign-in code expired before it was approved")]
    CodeExpired,
    #[error("the sign-in was denied in the browser")]
    Denied,
    #[error("sign-in cancelled")]
    Cancelled,
    /// The service does not know the (cached) client registration.
    #[error("IAM Identity Center does not recognise breakglass's client registration")]
    InvalidClient,
    /// The account or role is not one the user may use.
    #[error("{0}")]
    NoSuchRole(String),
    /// The token cache could not be read or written.
    #[error("{0}")]
    Cache(String),
    /// IAM Identity Center answered with an error or could not be reached.
    #[error("{0}")]
    Service(String),
}

impl SignInError {
    /// How to fix it.
    pub fn hint(&self) -> String {
        match self {
            SignInError::Config(_) => "add an [sso-session] section and a profile that uses it to \
                ~/.aws/config (or AWS_CONFIG_FILE); see docs/sign-in.md"
                .into(),
            SignInError::NotSignedIn { login, .. } => format!("run `{login}`"),
            SignInError::CodeExpired | SignInError::Cancelled | SignInError::InvalidClient => {
                "run `breakglass login` again and approve the request in the browser".into()
            }
            SignInError::Denied => "the request was denied; sign in again and choose Allow".into(),
            SignInError::NoSuchRole(_) => {
                "pick an account and role assigned to you (`breakglass login` lists them)".into()
            }
            SignInError::Cache(_) => "check ~/.aws/sso/cache (owner, mode 0700/0600)".into(),
            SignInError::Service(_) => {
                "check the network and the sso_region / sso_start_url settings".into()
            }
        }
    }

    /// Whether this means "sign in (again)".
    pub fn needs_sign_in(&self) -> bool {
        !matches!(self, SignInError::Config(_) | SignInError::NoSuchRole(_))
    }
}

/// `text` as a QR code of half-block characters (two rows per line), for a phone to scan.
pub fn qr_code(text: &str) -> Option<String> {
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::unicode::Dense1x2>()
            .quiet_zone(true)
            .build(),
    )
}

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

/// The account and role to use for `profile` when it signs in through IAM Identity Center:
/// the profile's `sso_account_id` / `sso_role_name`, else the pick of the last
/// `breakglass login`; `None` when the profile does not use IAM Identity Center.
pub async fn resolve_role(
    profile: Option<&str>,
) -> Result<Option<crate::aws::SsoRole>, SignInError> {
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
    Ok(Some(crate::aws::SsoRole {
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
