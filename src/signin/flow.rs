//! The sign-in flows against IAM Identity Center's OIDC service: client registration
//! (cached), authorization code with PKCE through a loopback redirect, the device
//! authorization grant (pending / slow-down / expired / denied), and refresh.

use std::time::Duration;

use aws_sdk_ssooidc::error::ProvideErrorMetadata;
use chrono::Utc;

use super::SignInError;
use super::cache::{self, CachedToken, Registration};
use super::loopback::Loopback;
use super::pkce::Pkce;
use super::profile::SsoConfig;

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const CLIENT_NAME: &str = "breakglass";
/// The redirect registered for the authorization-code flow (any loopback port is accepted).
const REDIRECT: &str = "http://127.0.0.1/oauth/callback";
/// How long the browser has to come back to the loopback redirect.
const AUTHORIZE_TIMEOUT: Duration = Duration::from_secs(600);

/// What the user must see or do while signing in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    /// Open `url` and approve (authorization code); `opened` says whether a browser was
    /// started.
    Browser { url: String, opened: bool },
    /// Open `uri` and confirm `user_code` (device code).
    Device {
        uri: String,
        uri_complete: String,
        user_code: String,
        opened: bool,
    },
    /// Asked to poll more slowly.
    SlowDown { interval: Duration },
}

/// A token just issued.
#[derive(Clone)]
pub struct Issued {
    pub access_token: String,
    pub expires_in: i64,
    pub refresh_token: Option<String>,
}

/// How to sign in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    AuthorizationCode,
    DeviceCode,
}

pub struct Oidc {
    client: aws_sdk_ssooidc::Client,
    region: String,
    /// `AWS_ENDPOINT_URL_SSO_OIDC` or `AWS_ENDPOINT_URL`, when set.
    endpoint: Option<String>,
}

fn service_error<E: ProvideErrorMetadata>(operation: &str, err: &E) -> SignInError {
    SignInError::Service(format!(
        "IAM Identity Center {operation} failed: {} {}",
        err.code().unwrap_or("error"),
        err.message().unwrap_or_default()
    ))
}

fn sdk_error<E, R>(operation: &str, err: &aws_sdk_ssooidc::error::SdkError<E, R>) -> SignInError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err.as_service_error() {
        Some(e) => service_error(operation, e),
        None => SignInError::Service(format!(
            "IAM Identity Center {operation} could not be reached: {}",
            crate::text::error_chain(err)
        )),
    }
}

impl Oidc {
    pub fn new(sdk: &aws_types::SdkConfig, region: &str) -> Oidc {
        let conf = aws_sdk_ssooidc::config::Builder::from(sdk)
            .region(aws_types::region::Region::new(region.to_owned()))
            .build();
        let endpoint = std::env::var("AWS_ENDPOINT_URL_SSO_OIDC")
            .ok()
            .filter(|e| !e.is_empty())
            .or_else(|| sdk.endpoint_url().map(str::to_owned));
        Oidc {
            client: aws_sdk_ssooidc::Client::from_conf(conf),
            region: region.to_owned(),
            endpoint,
        }
    }

    /// Where the browser authorizes a client: `/authorize` on the OIDC endpoint.
    pub fn authorize_endpoint(&self) -> String {
        let base = self
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("https://oidc.{}.amazonaws.com", self.region));
        format!("{}/authorize", base.trim_end_matches('/'))
    }

    /// A client registration for `method`, from the cache or registered now.
    pub async fn registration(
        &self,
        sso: &SsoConfig,
        method: Method,
    ) -> Result<Registration, SignInError> {
        let grant_types = grant_types(method);
        let path = registration_path(sso, method)?;
        if let Some(cached) = cache::read::<Registration>(&path)?
            && cached.is_valid()
        {
            return Ok(cached);
        }
        let mut request = self
            .client
            .register_client()
            .client_name(CLIENT_NAME)
            .client_type("public")
            .set_scopes(Some(sso.scopes.clone()));
        if method == Method::AuthorizationCode {
            request = request
                .set_grant_types(Some(grant_types.clone()))
                .redirect_uris(REDIRECT)
                .issuer_url(&sso.start_url);
        }
        let out = request
            .send()
            .await
            .map_err(|e| sdk_error("RegisterClient", &e))?;
        let expires = chrono::DateTime::from_timestamp(out.client_secret_expires_at(), 0)
            .unwrap_or_else(|| Utc::now() + chrono::Duration::days(90));
        let registration = Registration {
            client_id: out.client_id().unwrap_or_default().to_owned(),
            client_secret: out.client_secret().unwrap_or_default().to_owned(),
            expires_at: cache::format_time(expires),
            scopes: sso.scopes.clone(),
            grant_types,
        };
        cache::write(&path, &registration)?;
        Ok(registration)
    }

    /// The device authorization grant.
    pub async fn device_code(
        &self,
        sso: &SsoConfig,
        registration: &Registration,
        open_browser: bool,
        prompt: &(dyn Fn(Prompt) + Send + Sync),
    ) -> Result<Issued, SignInError> {
        let device = self
            .client
            .start_device_authorization()
            .client_id(&registration.client_id)
            .client_secret(&registration.client_secret)
            .start_url(&sso.start_url)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(err) if err.is_invalid_client_exception() => SignInError::InvalidClient,
                _ => sdk_error("StartDeviceAuthorization", &e),
            })?;
        let uri_complete = device.verification_uri_complete().unwrap_or_default();
        let opened = open_browser && super::browser::open(uri_complete);
        prompt(Prompt::Device {
            uri: device.verification_uri().unwrap_or_default().to_owned(),
            uri_complete: uri_complete.to_owned(),
            user_code: device.user_code().unwrap_or_default().to_owned(),
            opened,
        });
        let mut interval =
            Duration::from_secs(u64::try_from(device.interval()).unwrap_or(5).max(1));
        let deadline = tokio::time::Instant::now()
            + Duration::from_secs(u64::try_from(device.expires_in()).unwrap_or(600));
        loop {
            tokio::time::sleep(interval).await;
            if tokio::time::Instant::now() > deadline {
                return Err(SignInError::CodeExpired);
            }
            let answer = self
                .client
                .create_token()
                .client_id(&registration.client_id)
                .client_secret(&registration.client_secret)
                .grant_type(DEVICE_GRANT)
                .device_code(device.device_code().unwrap_or_default())
                .send()
                .await;
            match answer {
                Ok(out) => return Ok(issued(&out)),
                Err(err) => match err.as_service_error() {
                    Some(e) if e.is_authorization_pending_exception() => {}
                    Some(e) if e.is_slow_down_exception() => {
                        interval += Duration::from_secs(5);
                        prompt(Prompt::SlowDown { interval });
                    }
                    Some(e) if e.is_expired_token_exception() => {
                        return Err(SignInError::CodeExpired);
                    }
                    Some(e) if e.is_access_denied_exception() => return Err(SignInError::Denied),
                    _ => return Err(sdk_error("CreateToken", &err)),
                },
            }
        }
    }

    /// Authorization code with PKCE: the browser comes back to a loopback listener.
    pub async fn authorization_code(
        &self,
        sso: &SsoConfig,
        registration: &Registration,
        authorize_endpoint: &str,
        open_browser: bool,
        prompt: &(dyn Fn(Prompt) + Send + Sync),
    ) -> Result<Issued, SignInError> {
        let pkce = Pkce::new();
        let state = uuid::Uuid::new_v4().to_string();
        let loopback = Loopback::start(&state)
            .await
            .map_err(|e| SignInError::Service(format!("cannot listen for the browser: {e}")))?;
        let redirect = loopback.redirect_uri();
        let encode = |s: &str| {
            percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
        };
        let url = format!(
            "{authorize_endpoint}?response_type=code&client_id={}&redirect_uri={}&state={}\
             &code_challenge_method=S256&scopes={}&code_challenge={}",
            encode(&registration.client_id),
            encode(&redirect),
            encode(&state),
            encode(&sso.scopes.join(" ")),
            encode(&pkce.challenge),
        );
        let opened = open_browser && super::browser::open(&url);
        prompt(Prompt::Browser {
            url: url.clone(),
            opened,
        });
        let code = loopback.code(AUTHORIZE_TIMEOUT).await?;
        let out = self
            .client
            .create_token()
            .client_id(&registration.client_id)
            .client_secret(&registration.client_secret)
            .grant_type("authorization_code")
            .code(code)
            .code_verifier(&pkce.verifier)
            .redirect_uri(&redirect)
            .send()
            .await
            .map_err(|e| match e.as_service_error() {
                Some(err) if err.is_access_denied_exception() => SignInError::Denied,
                _ => sdk_error("CreateToken", &e),
            })?;
        Ok(issued(&out))
    }

    /// A new access token from the refresh token.
    pub async fn refresh(&self, token: &CachedToken) -> Result<Issued, SignInError> {
        let out = self
            .client
            .create_token()
            .client_id(token.client_id.clone().unwrap_or_default())
            .client_secret(token.client_secret.clone().unwrap_or_default())
            .grant_type("refresh_token")
            .refresh_token(token.refresh_token.clone().unwrap_or_default())
            .send()
            .await
            .map_err(|e| sdk_error("CreateToken (refresh)", &e))?;
        Ok(issued(&out))
    }
}

fn grant_types(method: Method) -> Vec<String> {
    match method {
        Method::AuthorizationCode => vec!["authorization_code".into(), "refresh_token".into()],
        Method::DeviceCode => Vec::new(),
    }
}

/// Where the client registration for `method` is cached.
pub fn registration_path(
    sso: &SsoConfig,
    method: Method,
) -> Result<std::path::PathBuf, SignInError> {
    cache::registration_path(
        &sso.region,
        &sso.scopes,
        sso.cache_key(),
        &sso.start_url,
        &grant_types(method),
    )
}

fn issued(out: &aws_sdk_ssooidc::operation::create_token::CreateTokenOutput) -> Issued {
    Issued {
        access_token: out.access_token().unwrap_or_default().to_owned(),
        expires_in: i64::from(out.expires_in()),
        refresh_token: out.refresh_token().map(str::to_owned),
    }
}

/// The token as the cache holds it.
pub fn to_cache(sso: &SsoConfig, registration: &Registration, issued: &Issued) -> CachedToken {
    let expires = Utc::now() + chrono::Duration::seconds(issued.expires_in);
    let session = sso.session_name.is_some();
    CachedToken {
        start_url: sso.start_url.clone(),
        region: Some(sso.region.clone()),
        access_token: issued.access_token.clone(),
        expires_at: cache::format_time(expires),
        // Legacy profiles cache only the token, as the AWS CLI does.
        client_id: session.then(|| registration.client_id.clone()),
        client_secret: session.then(|| registration.client_secret.clone()),
        registration_expires_at: session.then(|| registration.expires_at.clone()),
        refresh_token: issued.refresh_token.clone().filter(|_| session),
    }
}
