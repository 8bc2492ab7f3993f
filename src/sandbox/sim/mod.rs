//! The game-day simulator: a loopback HTTP server that answers the AWS APIs the emulator
//! lacks (SSM managed instances, Run Command with real states and output, Session Manager
//! sessions with a websocket data channel to a real shell, IAM Identity Center sign-in) and
//! forwards everything else to moto unchanged, with per-operation fault injection and a
//! ledger of every request. One
//! `AWS_ENDPOINT_URL` serves the SDK. See docs/game-days.md.

mod agent;
mod agent_kms;
mod agent_port;
mod agent_shell;
mod agent_ws;
mod capacity;
mod clock;
mod consistency;
mod faults;
mod ledger;
mod lifecycle;
mod request;
mod resign;
mod runcmd;
mod server;
mod sessions;
mod simulator;
mod ssm;
mod sso;
mod sso_routes;
mod state;
mod timing;
mod upgrade_auth;

pub use faults::{Fault, FaultKind};
pub use ledger::{Entry as LedgerEntry, Progress};
pub use simulator::Simulator;
pub use sso::{ACCOUNT_ID as SANDBOX_ACCOUNT, Knobs as SignInKnobs, ROLES as SANDBOX_ROLES};
pub use state::{Lie, ManagedInstance, Session};
