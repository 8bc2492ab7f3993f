//! What can go wrong signing in, with how to fix it.

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

impl From<SignInError> for crate::aws::ProviderFailure {
    fn from(err: SignInError) -> Self {
        crate::aws::ProviderFailure {
            message: err.to_string(),
            needs_sign_in: err.needs_sign_in(),
        }
    }
}
