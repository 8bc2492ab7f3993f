//! Sign-in through AWS IAM Identity Center (SSO), interoperable with the AWS CLI: settings
//! from `~/.aws/config` ([`profile`]), the shared token cache ([`cache`]), the OIDC flows
//! ([`flow`]), the portal's accounts, roles and role credentials ([`portal`]), and the SDK
//! credentials provider that uses them in-process ([`provider`]). See docs/sign-in.md.

mod browser;
pub mod cache;
mod error;
pub mod flow;
mod loopback;
mod pkce;
pub mod portal;
pub mod profile;
pub mod provider;
mod qr;
mod role;
pub mod selection;
mod session;

pub use browser::available as browser_available;
pub use error::SignInError;
pub use flow::{Method, Prompt};
pub use profile::SsoConfig;
pub use provider::{SsoRoleProvider, TokenSource};
pub use qr::qr_code;
pub use role::{SsoRole, resolve_role, selection_key};
pub use session::{forget, ready, sign_in};
