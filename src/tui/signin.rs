//! The sign-in screen: when the profile signs in through IAM Identity Center and there is no
//! usable token (or no account and role yet), the TUI starts here — the browser or device
//! flow with its address, user code and QR code while it waits, then the account and the
//! role to pick — and goes on to the servers with the role's credentials.

use super::action::{Command, Outcome};
use super::app::Effect;
use crate::signin::Prompt;

/// Where the sign-in is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stage {
    /// Enter signs in with the browser, `d` with a device code.
    Ready,
    /// The flow runs; the prompt says what to open.
    Waiting(Option<Prompt>),
    PickAccount,
    PickRole,
    /// The role's credentials are being set up.
    Finishing,
    Failed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub start_url: String,
    /// The login command, for messages.
    pub login: String,
    pub stage: Stage,
    /// `(id, name)`.
    pub accounts: Vec<(String, String)>,
    pub roles: Vec<String>,
    pub account: Option<String>,
    /// Fixed by the profile, when it names them.
    pub profile_account: Option<String>,
    pub profile_role: Option<String>,
    pub cursor: usize,
}

/// Results of the sign-in effects.
#[derive(Debug)]
pub enum SignInResult {
    Prompt(Prompt),
    /// The token is in the cache.
    SignedIn(Outcome<()>),
    Accounts(Outcome<Vec<(String, String)>>),
    Roles(Outcome<Vec<String>>),
    /// The role's credentials are in use.
    Ready(Outcome<()>),
}

impl SignIn {
    pub fn new(sso: &crate::signin::SsoConfig) -> SignIn {
        SignIn {
            start_url: sso.start_url.clone(),
            login: sso.login_command(),
            stage: Stage::Ready,
            accounts: Vec::new(),
            roles: Vec::new(),
            account: None,
            profile_account: sso.account_id.clone(),
            profile_role: sso.role_name.clone(),
            cursor: 0,
        }
    }

    /// A key on the sign-in screen.
    pub fn key(&mut self, command: Command) -> Vec<Effect> {
        match (&self.stage, command) {
            (Stage::Ready | Stage::Failed(_), Command::Open) => {
                self.stage = Stage::Waiting(None);
                vec![Effect::SignIn { device_code: false }]
            }
            (Stage::Ready | Stage::Failed(_), Command::DryRun) => {
                // `d`: the device-code flow (another device, or no browser here).
                self.stage = Stage::Waiting(None);
                vec![Effect::SignIn { device_code: true }]
            }
            (Stage::Waiting(_), Command::Back) => {
                self.stage = Stage::Ready;
                vec![Effect::CancelSignIn]
            }
            (Stage::PickAccount | Stage::PickRole, Command::Up) => {
                self.cursor = self.cursor.saturating_sub(1);
                Vec::new()
            }
            (Stage::PickAccount, Command::Down) => {
                self.cursor = (self.cursor + 1).min(self.accounts.len().saturating_sub(1));
                Vec::new()
            }
            (Stage::PickRole, Command::Down) => {
                self.cursor = (self.cursor + 1).min(self.roles.len().saturating_sub(1));
                Vec::new()
            }
            (Stage::PickAccount, Command::Open) => match self.accounts.get(self.cursor) {
                Some((id, _)) => self.account_chosen(id.clone()),
                None => Vec::new(),
            },
            (Stage::PickRole, Command::Open) => match self.roles.get(self.cursor).cloned() {
                Some(role) => self.role_chosen(role),
                None => Vec::new(),
            },
            _ => Vec::new(),
        }
    }

    fn account_chosen(&mut self, account: String) -> Vec<Effect> {
        self.account = Some(account.clone());
        self.cursor = 0;
        match self.profile_role.clone() {
            Some(role) => self.role_chosen(role),
            None => {
                self.stage = Stage::PickRole;
                self.roles.clear();
                vec![Effect::ListRoles(account)]
            }
        }
    }

    fn role_chosen(&mut self, role: String) -> Vec<Effect> {
        let Some(account) = self.account.clone() else {
            return Vec::new();
        };
        self.stage = Stage::Finishing;
        vec![Effect::UseRole { account, role }]
    }

    /// An effect's result; `true` once the TUI may go on to the servers.
    pub fn take(&mut self, result: SignInResult) -> (Vec<Effect>, bool) {
        match result {
            SignInResult::Prompt(prompt) => {
                if matches!(self.stage, Stage::Waiting(_)) {
                    self.stage = Stage::Waiting(Some(prompt));
                }
            }
            SignInResult::SignedIn(Err(err))
            | SignInResult::Accounts(Err(err))
            | SignInResult::Roles(Err(err))
            | SignInResult::Ready(Err(err)) => self.stage = Stage::Failed(err.one_line()),
            SignInResult::SignedIn(Ok(())) => {
                self.cursor = 0;
                return match self.profile_account.clone() {
                    Some(account) => (self.account_chosen(account), false),
                    None => {
                        self.stage = Stage::PickAccount;
                        (vec![Effect::ListAccounts], false)
                    }
                };
            }
            SignInResult::Accounts(Ok(accounts)) => {
                if let [(only, _)] = accounts.as_slice() {
                    let only = only.clone();
                    self.accounts = accounts;
                    return (self.account_chosen(only), false);
                }
                self.accounts = accounts;
            }
            SignInResult::Roles(Ok(roles)) => {
                if let [only] = roles.as_slice() {
                    let only = only.clone();
                    self.roles = roles;
                    return (self.role_chosen(only), false);
                }
                self.roles = roles;
            }
            SignInResult::Ready(Ok(())) => return (Vec::new(), true),
        }
        (Vec::new(), false)
    }
}
