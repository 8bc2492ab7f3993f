//! The sandbox's Session Manager agent: one task per session, owning what the session runs —
//! a real shell on a pseudo-terminal in the throwaway directory (`agent_shell.rs`), or port
//! forwarding (`agent_port.rs`) — and the agent's end of the data channel (handshake,
//! acknowledgements, resends, reordering). As the real agent does (amazon-ssm-agent,
//! `agent/session/plugins/sessionplugin/sessionplugin.go`: a handshake only when the session
//! plugin requires one or encryption is on; the shell plugin does not require one, the port
//! plugin does), an unencrypted shell starts at once with no handshake, a shell whose
//! preferences ask for KMS starts with the handshake, and so does every port session. At most one websocket is attached at a
//! time, so a client that resumes after a dropped connection finds its shell as it left it.
//! Frame faults (`ssmmessages:<message_type>`) are applied here.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::datachannel::crypto::{Cipher, Side};
use crate::datachannel::forward::newer;
use crate::datachannel::payload::{
    ChannelClosed, HandshakeComplete, HandshakeRequest, RequestedClientAction, Size,
};
use crate::datachannel::{Frame, MessageType, PayloadType, Stream};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::agent_kms::{self, AgentKms};
use super::faults::{self, FaultKind, Verdict};
use super::state::SimState;
use super::{agent_port, agent_shell};

/// What the agent task is told.
#[derive(Debug)]
pub enum Event {
    /// A websocket opened with the session's current token.
    Attach {
        generation: u64,
        socket: mpsc::UnboundedSender<Outbound>,
    },
    /// A binary message from the client.
    Frame(Vec<u8>),
    /// The websocket of that generation closed.
    Detach { generation: u64 },
    /// TerminateSession.
    Terminate,
    /// The client's data key, decrypted (or why not).
    DataKey(Result<Vec<u8>, String>),
}

/// What the agent asks the websocket to do.
#[derive(Debug, PartialEq, Eq)]
pub enum Outbound {
    Binary(Vec<u8>),
    Close,
}

/// The agent version the sandbox announces unless told otherwise (`Simulator::set_agent_version`).
pub const AGENT_VERSION: &str = "3.3.1142.0";
/// The first plugin version the agent multiplexes port forwarding for (the agent's
/// `port.go`, `GetSession`).
const FIRST_MUX_CLIENT: &str = "1.1.70.0";
/// The last agent version without multiplexed port forwarding.
const LAST_AGENT_WITHOUT_MUX: &str = "3.0.196.0";

/// What a session runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plugin {
    /// An interactive shell (`SSM-SessionManagerRunShell`).
    Shell,
    /// Port forwarding (`AWS-StartPortForwardingSession`) to `port`, served by `to` (`None`
    /// when the sandbox serves nothing there).
    Port {
        port: u16,
        local_port: String,
        to: Option<std::net::SocketAddr>,
    },
}

/// What runs a session's plugin: its process, if any, and the way to its input.
pub struct Backend {
    pub child: Option<tokio::process::Child>,
    pub input: mpsc::UnboundedSender<BackendInput>,
}

/// What the client sends the plugin.
pub enum BackendInput {
    Bytes(Vec<u8>),
    Resize(Size),
    Flag(u32),
}

/// What the plugin sends the client: stream data, or why it ended.
pub enum Out {
    Stream(PayloadType, Vec<u8>),
    Ended(String),
}

/// How long the agent waits for the client to acknowledge the last output before closing.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// The banner the shell starts with.
fn banner(target: &str) -> String {
    format!(
        "\r\n*** GAME DAY / SANDBOX ***\r\nThis shell stands in for {target}: it runs on this \
         machine, in a throwaway directory, as you. Nothing here touches a real server.\r\n\r\n"
    )
}

/// The agent of a new session: who it is for, and what it runs.
pub struct Spawn {
    pub session_id: String,
    pub target: String,
    pub dir: PathBuf,
    pub plugin: Plugin,
    /// Set when the session must be encrypted (shells only, as with the real agent).
    pub kms: Option<AgentKms>,
    pub agent_version: String,
}

/// Starts the agent of a new session.
pub fn spawn(state: Arc<Mutex<SimState>>, new: Spawn) -> mpsc::UnboundedSender<Event> {
    let (events, receiver) = mpsc::unbounded_channel();
    let Spawn {
        session_id,
        target,
        dir,
        plugin,
        kms,
        agent_version,
    } = new;
    let kms = kms.filter(|_| plugin == Plugin::Shell);
    let agent = Agent {
        me: events.clone(),
        plugin,
        agent_version,
        client_version: None,
        farewell: String::new(),
        kms,
        cipher: None,
        challenge: None,
        state,
        session_id,
        target,
        dir,
        stream: Stream::new(MessageType::OutputStreamData),
        socket: None,
        held: None,
        connected_before: false,
        size: None,
        backend: None,
        closing: None,
    };
    tokio::spawn(agent.run(receiver));
    events
}

struct Agent {
    /// Its own mailbox (for results of work it spawns).
    me: mpsc::UnboundedSender<Event>,
    plugin: Plugin,
    agent_version: String,
    /// The client's version, from its handshake response.
    client_version: Option<String>,
    /// The channel_closed message: why the plugin ended, when it says.
    farewell: String,
    /// Set when the sandbox requires KMS encryption.
    kms: Option<AgentKms>,
    cipher: Option<Cipher>,
    /// The plaintext of the encryption challenge sent.
    challenge: Option<Vec<u8>>,
    state: Arc<Mutex<SimState>>,
    session_id: String,
    target: String,
    dir: PathBuf,
    stream: Stream,
    socket: Option<(u64, mpsc::UnboundedSender<Outbound>)>,
    /// A frame held back by a reorder fault.
    held: Option<Vec<u8>>,
    connected_before: bool,
    size: Option<Size>,
    backend: Option<Backend>,
    /// Set when the shell ended: close once the client acknowledged everything.
    closing: Option<Instant>,
}

impl Agent {
    async fn run(mut self, mut events: mpsc::UnboundedReceiver<Event>) {
        let (output_tx, mut output) = mpsc::channel::<Out>(16);
        let mut output_tx = Some(output_tx);
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    None | Some(Event::Terminate) => break,
                    Some(Event::DataKey(key)) => self.data_key(key),
                    Some(Event::Attach { generation, socket }) => {
                        // Without encryption the shell starts with the first connection.
                        if self.attach(generation, socket) && let Some(sender) = output_tx.take() {
                            self.start(sender);
                            self.send_stream(PayloadType::Output, banner(&self.target).into_bytes());
                        }
                    }
                    Some(Event::Detach { generation }) => {
                        if self.socket.as_ref().is_some_and(|(g, _)| *g == generation) {
                            self.socket = None;
                        }
                    }
                    Some(Event::Frame(bytes)) => {
                        // The handshake's completion starts the plugin.
                        if self.take_frame(&bytes) && let Some(sender) = output_tx.take() {
                            self.start(sender);
                        }
                    }
                },
                // Output waits while the resend buffer is full (the client acknowledges
                // slowly or not at all): the shell blocks on its terminal, nothing is lost.
                chunk = output.recv(), if self.backend.is_some() && self.closing.is_none() && self.stream.has_room() => match chunk {
                    Some(Out::Stream(payload_type, bytes)) => self.send_stream(payload_type, bytes),
                    Some(Out::Ended(reason)) => self.farewell = reason,
                    None => self.closing = Some(Instant::now()),
                },
                _ = tick.tick() => {
                    match self.stream.due(Instant::now()) {
                        Ok(frame) => frame.into_iter().for_each(|f| self.emit(MessageType::OutputStreamData, f)),
                        Err(_) => break,
                    }
                    if self.closing.is_some_and(|since| self.stream.unacknowledged() == 0 || since.elapsed() > CLOSE_GRACE) {
                        break;
                    }
                }
            }
        }
        self.close().await;
    }

    /// A connection of the client's; true when it is the first and the shell should start
    /// now (no handshake: an unencrypted shell).
    fn attach(&mut self, generation: u64, socket: mpsc::UnboundedSender<Outbound>) -> bool {
        if let Some((_, old)) = self.socket.replace((generation, socket)) {
            let _ = old.send(Outbound::Close);
        }
        if !self.connected_before {
            self.connected_before = true;
            if self.kms.is_none() && self.plugin == Plugin::Shell {
                return true;
            }
            let session_type = match &self.plugin {
                Plugin::Shell => serde_json::json!({
                    "SessionType": "Standard_Stream", "Properties": null }),
                // The document's properties, its parameters filled in.
                Plugin::Port {
                    port, local_port, ..
                } => serde_json::json!({
                    "SessionType": "Port",
                    "Properties": { "portNumber": port.to_string(), "type": "LocalPortForwarding",
                                    "localPortNumber": local_port } }),
            };
            let request = HandshakeRequest {
                agent_version: self.agent_version.clone(),
                requested_client_actions: std::iter::once(RequestedClientAction {
                    action_type: "SessionType".into(),
                    action_parameters: session_type,
                })
                .chain(self.kms.as_ref().map(agent_kms::requested_action))
                .collect(),
            };
            let payload = serde_json::to_vec(&request).unwrap_or_default();
            self.send_stream(PayloadType::HandshakeRequest, payload);
        } else {
            for frame in self.stream.outstanding(Instant::now()) {
                self.emit(MessageType::OutputStreamData, frame);
            }
        }
        false
    }

    /// Handles one binary message; true when it completed the handshake.
    fn take_frame(&mut self, bytes: &[u8]) -> bool {
        let Ok(frame) = Frame::decode(bytes) else {
            return false;
        };
        let copies = match self.fault(frame.message_type) {
            Some(FaultKind::DropFrame) => return false,
            Some(FaultKind::DuplicateFrame) => 2,
            Some(FaultKind::Disconnect) => {
                self.disconnect();
                return false;
            }
            _ => 1,
        };
        let mut handshake_done = false;
        for _ in 0..copies {
            let received = self.stream.receive(frame.clone(), Instant::now());
            for reply in received.replies {
                self.emit(MessageType::Acknowledge, reply);
            }
            for data in received.delivered {
                handshake_done |= self.input(data);
            }
        }
        handshake_done
    }

    /// One in-order frame from the client; true for the handshake response.
    fn input(&mut self, frame: Frame) -> bool {
        match frame.payload_type {
            PayloadType::HandshakeResponse => {
                let response: serde_json::Value =
                    serde_json::from_slice(&frame.payload).unwrap_or_default();
                self.client_version = response["ClientVersion"].as_str().map(str::to_owned);
                let refused = response["ProcessedClientActions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|a| a["ActionStatus"] != 1);
                if let Some(action) = refused {
                    // Counted, so a test sees the client answered before it stopped.
                    self.count("ssmmessages:HandshakeResponse(refused)");
                    let error = action["Error"]
                        .as_str()
                        .unwrap_or("no reason given")
                        .to_owned();
                    self.refuse(&format!("the client refused the session: {error}"));
                    return false;
                }
                // Without encryption (a port session) the handshake is done.
                let Some(kms) = self.kms.clone() else {
                    return self.complete_handshake();
                };
                match agent_kms::cipher_text_key(&response) {
                    Ok(blob) => {
                        let me = self.me.clone();
                        let (session, target) = (self.session_id.clone(), self.target.clone());
                        self.count("kms:Decrypt");
                        tokio::spawn(async move {
                            let key = agent_kms::decrypt(&kms, &blob, &session, &target).await;
                            let _ = me.send(Event::DataKey(key));
                        });
                    }
                    Err(err) => {
                        // Counted, so a test sees the client answered before it stopped.
                        self.count("ssmmessages:HandshakeResponse(refused)");
                        self.refuse(&err);
                    }
                }
            }
            PayloadType::EncChallengeResponse => {
                let answer = serde_json::from_slice::<serde_json::Value>(&frame.payload)
                    .ok()
                    .and_then(|v| v["Challenge"].as_str().map(str::to_owned))
                    .and_then(|c| BASE64.decode(c).ok());
                let opened = match (&self.cipher, answer) {
                    (Some(cipher), Some(sealed)) => cipher.open(&sealed).ok(),
                    _ => None,
                };
                if opened.is_some() && opened == self.challenge {
                    return self.complete_handshake();
                }
                self.refuse("the encryption challenge was not answered with the session key");
            }
            PayloadType::Size => {
                if let Ok(size) = serde_json::from_slice::<Size>(&frame.payload) {
                    self.size = Some(size);
                    self.to_backend(BackendInput::Resize(size));
                }
            }
            PayloadType::Flag => {
                if let Ok(bytes) = <[u8; 4]>::try_from(frame.payload.as_slice()) {
                    self.to_backend(BackendInput::Flag(u32::from_be_bytes(bytes)));
                }
            }
            PayloadType::Output => {
                let payload = match &self.cipher {
                    Some(cipher) => match cipher.open(&frame.payload) {
                        Ok(plain) => plain,
                        Err(_) => return false,
                    },
                    None => frame.payload,
                };
                self.to_backend(BackendInput::Bytes(payload));
            }
            _ => {}
        }
        false
    }

    fn to_backend(&self, input: BackendInput) {
        if let Some(backend) = &self.backend {
            let _ = backend.input.send(input);
        }
    }

    /// Starts what the session runs; its output goes to `output`.
    fn start(&mut self, output: mpsc::Sender<Out>) {
        let started = match &self.plugin {
            Plugin::Shell => agent_shell::start(&self.dir, self.size, output),
            Plugin::Port { to, .. } => {
                // The agent multiplexes for a client that can (the agent's `port.go`); an
                // agent older than multiplexing cannot.
                let client = self.client_version.as_deref().unwrap_or_default();
                let mux = newer(&self.agent_version, LAST_AGENT_WITHOUT_MUX)
                    && !newer(FIRST_MUX_CLIENT, client);
                Ok(agent_port::start(mux, *to, output))
            }
        };
        match started {
            Ok(backend) => self.backend = Some(backend),
            Err(err) => {
                self.send_stream(PayloadType::Output, format!("{err}\r\n").into_bytes());
                self.closing = Some(Instant::now());
            }
        }
    }

    fn complete_handshake(&mut self) -> bool {
        let complete = HandshakeComplete {
            handshake_time_to_complete: 1_000_000,
            customer_message: String::new(),
        };
        let payload = serde_json::to_vec(&complete).unwrap_or_default();
        self.send_stream(PayloadType::HandshakeComplete, payload);
        if self.plugin == Plugin::Shell {
            self.send_stream(PayloadType::Output, banner(&self.target).into_bytes());
        }
        true
    }

    /// The decrypted data key: encrypt from now on and challenge the client with it.
    fn data_key(&mut self, key: Result<Vec<u8>, String>) {
        let cipher = key.and_then(|k| Cipher::new(&k, Side::Agent));
        match cipher {
            Ok(cipher) => {
                let challenge: [u8; 32] = rand::random();
                let sealed = cipher.seal(&challenge);
                self.challenge = Some(challenge.to_vec());
                self.cipher = Some(cipher);
                let payload = serde_json::json!({ "Challenge": BASE64.encode(sealed) });
                self.send_stream(
                    PayloadType::EncChallengeRequest,
                    serde_json::to_vec(&payload).unwrap_or_default(),
                );
            }
            Err(err) => self.refuse(&err),
        }
    }

    /// Ends the session during the handshake, telling the client why.
    fn refuse(&mut self, reason: &str) {
        self.cipher = None;
        let message = format!("the sandbox agent refused the session: {reason}\r\n");
        self.send_stream(PayloadType::Output, message.into_bytes());
        self.closing = Some(Instant::now());
    }

    fn count(&self, name: &str) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *s.counts.entry(name.to_owned()).or_default() += 1;
    }

    fn send_stream(&mut self, payload_type: PayloadType, payload: Vec<u8>) {
        let payload = match (&self.cipher, payload_type) {
            (Some(cipher), PayloadType::Output | PayloadType::StdErr | PayloadType::ExitCode) => {
                cipher.seal(&payload)
            }
            _ => payload,
        };
        let bytes = self.stream.send(payload_type, payload, Instant::now());
        self.emit(MessageType::OutputStreamData, bytes);
    }

    /// The first matching frame fault for a frame of this type (and counts the frame).
    fn fault(&self, message_type: MessageType) -> Option<FaultKind> {
        let name = format!("ssmmessages:{}", message_type.as_str());
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *s.counts.entry(name.clone()).or_default() += 1;
        match faults::apply(&mut s.faults, &name, true).verdict {
            Verdict::Fail(kind) => Some(kind),
            Verdict::Pass { .. } => None,
        }
    }

    /// Sends a frame to the client, through the frame faults.
    fn emit(&mut self, message_type: MessageType, bytes: Vec<u8>) {
        let copies = match self.fault(message_type) {
            Some(FaultKind::DropFrame) => return,
            Some(FaultKind::ReorderFrame) if self.held.is_none() => {
                self.held = Some(bytes);
                return;
            }
            Some(FaultKind::DuplicateFrame) => 2,
            Some(FaultKind::Disconnect) => {
                self.disconnect();
                return;
            }
            _ => 1,
        };
        let Some((_, socket)) = &self.socket else {
            return;
        };
        for _ in 0..copies {
            let _ = socket.send(Outbound::Binary(bytes.clone()));
        }
        if let Some(held) = self.held.take() {
            let _ = socket.send(Outbound::Binary(held));
        }
    }

    fn disconnect(&mut self) {
        if let Some((_, socket)) = self.socket.take() {
            let _ = socket.send(Outbound::Close);
        }
    }

    /// Ends the session: channel_closed to the client, the shell killed, the session gone.
    async fn close(mut self) {
        let closed = ChannelClosed {
            message_id: uuid::Uuid::new_v4().to_string(),
            created_date: chrono::Utc::now().to_rfc3339(),
            destination_id: self.target.clone(),
            session_id: self.session_id.clone(),
            message_type: MessageType::ChannelClosed.as_str().into(),
            schema_version: 1,
            output: std::mem::take(&mut self.farewell),
        };
        let frame = Frame::new(
            MessageType::ChannelClosed,
            0,
            0,
            PayloadType::Output,
            serde_json::to_vec(&closed).unwrap_or_default(),
        );
        self.emit(MessageType::ChannelClosed, frame.encode());
        self.disconnect();
        if let Some(mut child) = self.backend.take().and_then(|b| b.child) {
            let _ = child.start_kill();
            let _ = child.wait().await;
        }
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.sessions.remove(&self.session_id);
        s.live.remove(&self.session_id);
    }
}
