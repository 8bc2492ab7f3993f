//! The SSO portal (bearer-token API): the accounts and roles assigned to the signed-in user,
//! temporary role credentials, and sign-out.

use aws_sdk_sso::error::ProvideErrorMetadata;

use super::SignInError;

/// An account the user may sign in to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: String,
    pub name: String,
}

/// Temporary credentials of a role.
#[derive(Clone)]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Milliseconds since the epoch.
    pub expiration_ms: i64,
}

pub struct Portal {
    client: aws_sdk_sso::Client,
}

fn error<E, R>(
    operation: &str,
    err: &aws_sdk_sso::error::SdkError<E, R>,
    login: &str,
) -> SignInError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match err.as_service_error() {
        Some(e) if e.code() == Some("UnauthorizedException") => SignInError::NotSignedIn {
            reason: "the IAM Identity Center sign-in has expired or was signed out".into(),
            login: login.to_owned(),
        },
        Some(e) if e.code() == Some("ForbiddenException") => SignInError::NoSuchRole(
            e.message()
                .unwrap_or("the role is not assigned to you")
                .to_owned(),
        ),
        Some(e) => SignInError::Service(format!(
            "the SSO portal's {operation} failed: {} {}",
            e.code().unwrap_or("error"),
            e.message().unwrap_or_default()
        )),
        None => SignInError::Service(format!(
            "the SSO portal's {operation} could not be reached: {}",
            crate::text::error_chain(err)
        )),
    }
}

impl Portal {
    pub fn new(sdk: &aws_types::SdkConfig, region: &str) -> Portal {
        let conf = aws_sdk_sso::config::Builder::from(sdk)
            .region(aws_types::region::Region::new(region.to_owned()))
            .build();
        Portal {
            client: aws_sdk_sso::Client::from_conf(conf),
        }
    }

    pub async fn accounts(&self, token: &str, login: &str) -> Result<Vec<Account>, SignInError> {
        let mut pages = self
            .client
            .list_accounts()
            .access_token(token)
            .into_paginator()
            .send();
        let mut accounts = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| error("ListAccounts", &e, login))?;
            accounts.extend(page.account_list().iter().map(|a| Account {
                id: a.account_id().unwrap_or_default().to_owned(),
                name: a.account_name().unwrap_or_default().to_owned(),
            }));
        }
        Ok(accounts)
    }

    pub async fn roles(
        &self,
        token: &str,
        account_id: &str,
        login: &str,
    ) -> Result<Vec<String>, SignInError> {
        let mut pages = self
            .client
            .list_account_roles()
            .access_token(token)
            .account_id(account_id)
            .into_paginator()
            .send();
        let mut roles = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| error("ListAccountRoles", &e, login))?;
            roles.extend(
                page.role_list()
                    .iter()
                    .filter_map(|r| r.role_name().map(str::to_owned)),
            );
        }
        Ok(roles)
    }

    pub async fn role_credentials(
        &self,
        token: &str,
        account_id: &str,
        role_name: &str,
        login: &str,
    ) -> Result<RoleCredentials, SignInError> {
        let out = self
            .client
            .get_role_credentials()
            .access_token(token)
            .account_id(account_id)
            .role_name(role_name)
            .send()
            .await
            .map_err(|e| error("GetRoleCredentials", &e, login))?;
        let c = out.role_credentials().ok_or_else(|| {
            SignInError::Service("the SSO portal returned no role credentials".into())
        })?;
        Ok(RoleCredentials {
            access_key_id: c.access_key_id().unwrap_or_default().to_owned(),
            secret_access_key: c.secret_access_key().unwrap_or_default().to_owned(),
            session_token: c.session_token().unwrap_or_default().to_owned(),
            expiration_ms: c.expiration(),
        })
    }

    pub async fn logout(&self, token: &str) -> Result<(), SignInError> {
        self.client
            .logout()
            .access_token(token)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| error("Logout", &e, ""))
    }
}
