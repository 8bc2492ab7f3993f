//! What the simulator knows: the managed instances (their SSM agents), the Run Command
//! invocations, the Session Manager sessions, the fault rules and the request ledger.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::faults::Fault;

/// An instance's SSM agent as the simulator plays it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManagedInstance {
    pub instance_id: String,
    /// `Online`, `ConnectionLost` or `Inactive`.
    #[serde(default = "online")]
    pub ping_status: String,
    /// `Linux` or `Windows`.
    #[serde(default = "linux")]
    pub platform_type: String,
    /// A compromised host lies in its commands' reports (game days: evidence a host cannot
    /// fake; see docs/game-days.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lies: Option<Lie>,
}

impl ManagedInstance {
    /// An honest Linux host whose agent is online.
    pub fn new(instance_id: impl Into<String>) -> ManagedInstance {
        ManagedInstance {
            instance_id: instance_id.into(),
            ping_status: online(),
            platform_type: linux(),
            lies: None,
        }
    }
}

/// What a compromised host misstates in the `size=` / `sha256=` lines of a collection's
/// report, after it ran the script truthfully.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Lie {
    /// Reports one byte more than it uploaded.
    Size,
    /// Reports a SHA-256 of zeros.
    Hash,
}

fn online() -> String {
    "Online".into()
}

fn linux() -> String {
    "Linux".into()
}

/// One command on one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation {
    pub command_id: String,
    pub instance_id: String,
    pub comment: String,
    /// The script sent (SSM returns it as the command's `commands` parameter).
    pub script: String,
    /// `Pending`, `InProgress`, `Success`, `Failed`, `TimedOut`, `Cancelled`,
    /// `Undeliverable`.
    pub status: String,
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The shell's process id while it runs (for cancellation).
    pub pid: Option<u32>,
}

/// An active Session Manager session (started by StartSession, or seeded for drills).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub session_id: String,
    pub target: String,
    pub owner: String,
}

/// A session's agent and the token its next websocket must present.
#[derive(Debug)]
pub struct LiveSession {
    /// A secret: never logged.
    pub token: String,
    pub agent: tokio::sync::mpsc::UnboundedSender<super::agent::Event>,
}

/// The simulator's state, behind one lock.
#[derive(Debug, Default)]
pub struct SimState {
    pub managed: BTreeMap<String, ManagedInstance>,
    pub invocations: BTreeMap<String, Invocation>,
    pub sessions: BTreeMap<String, Session>,
    /// The sessions with a running agent (a shell or port forwarding), by session id.
    pub live: BTreeMap<String, LiveSession>,
    /// Counts websocket attachments, so a stale one cannot detach a newer one.
    pub attachments: u64,
    /// When set, sessions require KMS encryption with this key (as Session Manager
    /// preferences can).
    pub session_kms_key: Option<String>,
    pub faults: Vec<Fault>,
    /// Secrets handed out outside sign-in (session stream tokens, role credentials), for
    /// tests that scan artifacts for leaks.
    pub issued: Vec<String>,
    /// Access key id → secret of the keys whose data-channel upgrades the sandbox can
    /// verify: role credentials it handed out, and keys it was told to trust.
    pub signing_keys: BTreeMap<String, String>,
    /// Access key id → secret of the keys whose form requests are re-signed for moto.
    pub resign_keys: BTreeMap<String, String>,
    /// Where commands run: a throwaway directory.
    pub sandbox_dir: PathBuf,
    /// Requests answered or forwarded, by `service:Operation` (for drills and tests).
    pub counts: BTreeMap<String, u64>,
    /// Every AWS request, in order, and how far it got.
    pub ledger: super::ledger::Ledger,
    /// Snapshot and draining times.
    pub timing: super::timing::Timing,
    /// Auto Scaling's transitional lifecycle states under way.
    pub lifecycle: super::lifecycle::Lifecycle,
    /// New security groups not yet visible to the calls that follow.
    pub consistency: super::consistency::Consistency,
    /// AWS's clock minus this machine's, as the answers' `Date` shows it.
    pub clock_offset: chrono::TimeDelta,
    /// IAM Identity Center sign-in.
    pub sso: super::sso::SsoState,
    /// The SSM agent version the sandbox's agents announce (default: a current one).
    pub agent_version: Option<String>,
    /// The ports a port-forwarding session can reach, and what serves each on this machine.
    pub ports: BTreeMap<u16, std::net::SocketAddr>,
}
