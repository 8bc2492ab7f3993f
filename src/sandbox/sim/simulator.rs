//! The simulator's handle: started on a loopback port in front of moto, its state and
//! faults reachable from tests and the demo, stopped (its directory removed) when dropped.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use super::state::{ManagedInstance, Session, SimState};
use super::{Fault, LedgerEntry, SignInKnobs, agent_ws, server};

/// A running simulator; stopped (and its sandbox directory removed) when dropped.
pub struct Simulator {
    address: SocketAddr,
    state: Arc<Mutex<SimState>>,
    task: tokio::task::JoinHandle<()>,
    sandbox_dir: PathBuf,
}

impl Simulator {
    /// Starts on a free port of 127.0.0.1, forwarding to the moto server at `moto`.
    pub async fn start(moto: &str) -> std::io::Result<Simulator> {
        let sandbox_dir = std::env::temp_dir().join(format!(
            "breakglass-sandbox-{}-{}",
            std::process::id(),
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&sandbox_dir)?;
        std::fs::write(
            sandbox_dir.join("README"),
            "GAME DAY / SANDBOX: commands of the breakglass simulator run here, not on a server.\n",
        )?;
        // Session shells: plain output, no bracketed-paste escapes around each prompt.
        std::fs::write(
            sandbox_dir.join(".inputrc"),
            "set enable-bracketed-paste off\n",
        )?;
        let state = Arc::new(Mutex::new(SimState {
            sandbox_dir: sandbox_dir.clone(),
            ..SimState::default()
        }));
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address = listener.local_addr()?;
        let app = axum::Router::new()
            .route(
                "/v1/data-channel/{session_id}",
                axum::routing::get(agent_ws::upgrade),
            )
            .fallback(server::dispatch)
            .with_state(server::App::new(
                state.clone(),
                moto,
                &format!("http://{address}"),
            ));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Simulator {
            address,
            state,
            task,
            sandbox_dir,
        })
    }

    /// `http://127.0.0.1:PORT`, the one `AWS_ENDPOINT_URL`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The throwaway directory commands run in (removed when the simulator stops).
    pub fn sandbox_dir(&self) -> &std::path::Path {
        &self.sandbox_dir
    }

    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Plays the SSM agents of these instances.
    pub fn manage(&self, instances: impl IntoIterator<Item = ManagedInstance>) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for m in instances {
            s.managed.insert(m.instance_id.clone(), m);
        }
    }

    /// Adds active Session Manager sessions (someone else's shells, for drills).
    pub fn open_sessions(&self, sessions: impl IntoIterator<Item = Session>) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        for session in sessions {
            s.sessions.insert(session.session_id.clone(), session);
        }
    }

    /// Adds fault rules.
    pub fn inject(&self, faults: impl IntoIterator<Item = Fault>) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.faults.extend(faults);
    }

    /// Approves every device sign-in at once (scripted drills and tests).
    pub fn auto_approve_sign_in(&self, on: bool) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .sso
            .auto_approve = on;
    }

    /// Requires KMS encryption of new sessions with `key_id` (or no longer, with `None`).
    pub fn require_session_encryption(&self, key_id: Option<String>) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .session_kms_key = key_id;
    }

    /// The fault rules not yet used up.
    pub fn faults(&self) -> Vec<Fault> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .faults
            .clone()
    }

    /// Sets the sign-in lifetimes and misbehaviour (see [`SignInKnobs`]).
    pub fn sign_in_knobs(&self, knobs: SignInKnobs) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .sso
            .knobs = knobs;
    }

    /// The user codes of device sign-ins waiting for approval.
    pub fn pending_user_codes(&self) -> Vec<String> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .sso
            .pending_user_codes()
    }

    /// Removes every fault rule.
    pub fn clear_faults(&self) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .faults
            .clear();
    }

    /// How long snapshots take to complete and deregistered targets drain.
    pub fn set_timing(&self, snapshots: std::time::Duration, draining: std::time::Duration) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.timing.snapshot_time = snapshots;
        s.timing.draining_time = draining;
    }

    /// How long Auto Scaling's transitions take (`EnteringStandby`, `Detaching`, `Pending`
    /// after ExitStandby or AttachInstances); zero by default, as moto has it.
    pub fn set_lifecycle_transition(&self, time: std::time::Duration) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.lifecycle.transition = time;
    }

    /// Holds `instance` of `group` in `state` (`Pending:Wait`, `Terminating:Wait`) for
    /// `time`, as a lifecycle hook holds it.
    pub fn hold_lifecycle(
        &self,
        instance: &str,
        group: &str,
        state: &str,
        time: std::time::Duration,
    ) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.lifecycle.hold(instance, group, state, time);
    }

    /// Makes AWS's clock `offset` away from this machine's, as the `Date` of every answer
    /// shows it (a responder's laptop with a wrong clock; keep within SigV4's five minutes).
    pub fn set_clock_offset(&self, offset: chrono::TimeDelta) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.clock_offset = offset;
    }

    /// How long a new security group stays invisible to the calls that name it (EC2's
    /// eventual consistency; zero by default, as moto has it).
    pub fn set_new_group_delay(&self, delay: std::time::Duration) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.consistency.delay = delay;
    }

    /// Serves `port` of every sandbox server with what listens at `at` on this machine:
    /// port-forwarding sessions to that port reach it (and nothing else is ever dialled).
    pub fn serve_port(&self, port: u16, at: std::net::SocketAddr) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.ports.insert(port, at);
    }

    /// The SSM agent version the sandbox's agents announce from now on (an old one, up to
    /// 3.0.196.0, forwards ports one connection at a time, as such agents did).
    pub fn set_agent_version(&self, version: &str) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.agent_version = Some(version.to_owned());
    }

    /// Trusts access keys (id, secret) the sandbox did not hand out itself — the keys a test
    /// or the demo's seeding signs with — so their data-channel upgrades verify. Role
    /// credentials from the sandbox's IAM Identity Center are trusted already.
    pub fn trust_keys(&self, keys: impl IntoIterator<Item = (String, String)>) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .signing_keys
            .extend(keys);
    }

    /// Registers access keys (id, secret) whose form-encoded requests are re-signed before
    /// they reach moto, so moto's IAM enforcement can check them (see `resign.rs`). For
    /// tests that run moto with IAM enforcement on; the secrets stay in memory.
    pub fn resign_for_moto(&self, keys: impl IntoIterator<Item = (String, String)>) {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .resign_keys
            .extend(keys);
    }

    /// Every secret the sandbox has handed out: OIDC client secrets, codes and tokens, role
    /// credentials' secret keys and session tokens, session stream tokens.
    pub fn issued_secrets(&self) -> Vec<String> {
        let s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.sso.secrets().chain(&s.issued).cloned().collect()
    }

    /// Requests seen, by `service:Operation`.
    pub fn counts(&self) -> std::collections::BTreeMap<String, u64> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .counts
            .clone()
    }

    /// Every AWS request received so far, in order, and how far each got.
    pub fn ledger(&self) -> Vec<LedgerEntry> {
        self.state
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .ledger
            .entries()
    }

    /// The first ledger entry that satisfies `found`, once there is one; `None` after
    /// `timeout`. Polls: for a test that acts once a call has reached (or been answered by)
    /// the emulator.
    pub async fn wait_for_request(
        &self,
        timeout: std::time::Duration,
        found: impl Fn(&LedgerEntry) -> bool,
    ) -> Option<LedgerEntry> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(entry) = self.ledger().into_iter().find(|e| found(e)) {
                return Some(entry);
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_dir_all(&self.sandbox_dir);
    }
}
