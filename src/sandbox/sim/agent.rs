//! The sandbox's Session Manager agent: one task per session, owning a real shell on a
//! pseudo-terminal in the throwaway directory and the agent's end of the data channel
//! (handshake, acknowledgements, resends, reordering). As the real agent does
//! (amazon-ssm-agent, `agent/session/plugins/sessionplugin/sessionplugin.go`: a handshake
//! only when the session plugin requires one or encryption is on; the shell plugin does not
//! require one), an unencrypted shell starts at once with no handshake, and a session whose
//! preferences ask for KMS starts with the handshake. At most one websocket is attached at a
//! time, so a client that resumes after a dropped connection finds its shell as it left it.
//! Frame faults (`ssmmessages:<message_type>`) are applied here.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::datachannel::crypto::{Cipher, Side};
use crate::datachannel::payload::{
    ChannelClosed, HandshakeComplete, HandshakeRequest, RequestedClientAction, Size,
};
use crate::datachannel::{Frame, MessageType, PayloadType, Stream};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;

use super::agent_kms::{self, AgentKms};
use super::faults::{self, FaultKind, Verdict};
use super::state::SimState;

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

/// How long the agent waits for the client to acknowledge the last output before closing.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// The banner the shell starts with.
fn banner(target: &str) -> String {
    format!(
        "\r\n*** GAME DAY / SANDBOX ***\r\nThis shell stands in for {target}: it runs on this \
         machine, in a throwaway directory, as you. Nothing here touches a real server.\r\n\r\n"
    )
}

/// Starts the agent of a new session.
pub fn spawn(
    state: Arc<Mutex<SimState>>,
    session_id: String,
    target: String,
    dir: PathBuf,
    kms: Option<AgentKms>,
) -> mpsc::UnboundedSender<Event> {
    let (events, receiver) = mpsc::unbounded_channel();
    let agent = Agent {
        me: events.clone(),
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
        shell: None,
        closing: None,
    };
    tokio::spawn(agent.run(receiver));
    events
}

/// The shell, and the way to its terminal.
struct Shell {
    child: tokio::process::Child,
    input: mpsc::UnboundedSender<ShellInput>,
}

/// What goes to the shell's terminal.
enum ShellInput {
    Bytes(Vec<u8>),
    Resize(Size),
}

struct Agent {
    /// Its own mailbox (for results of work it spawns).
    me: mpsc::UnboundedSender<Event>,
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
    shell: Option<Shell>,
    /// Set when the shell ended: close once the client acknowledged everything.
    closing: Option<Instant>,
}

impl Agent {
    async fn run(mut self, mut events: mpsc::UnboundedReceiver<Event>) {
        let (output_tx, mut output) = mpsc::channel::<Vec<u8>>(16);
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
                            self.start_shell(sender);
                            self.send_stream(PayloadType::Output, banner(&self.target).into_bytes());
                        }
                    }
                    Some(Event::Detach { generation }) => {
                        if self.socket.as_ref().is_some_and(|(g, _)| *g == generation) {
                            self.socket = None;
                        }
                    }
                    Some(Event::Frame(bytes)) => {
                        // The client's answer to the handshake starts the shell.
                        if self.take_frame(&bytes) && let Some(sender) = output_tx.take() {
                            self.start_shell(sender);
                        }
                    }
                },
                // Output waits while the resend buffer is full (the client acknowledges
                // slowly or not at all): the shell blocks on its terminal, nothing is lost.
                chunk = output.recv(), if self.shell.is_some() && self.closing.is_none() && self.stream.has_room() => match chunk {
                    Some(bytes) => self.send_stream(PayloadType::Output, bytes),
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
    /// now (no handshake: the session is not encrypted).
    fn attach(&mut self, generation: u64, socket: mpsc::UnboundedSender<Outbound>) -> bool {
        if let Some((_, old)) = self.socket.replace((generation, socket)) {
            let _ = old.send(Outbound::Close);
        }
        if !self.connected_before {
            self.connected_before = true;
            if self.kms.is_none() {
                return true;
            }
            let request = HandshakeRequest {
                agent_version: "3.3.1142.0".into(),
                requested_client_actions: std::iter::once(RequestedClientAction {
                    action_type: "SessionType".into(),
                    action_parameters: serde_json::json!({
                        "SessionType": "Standard_Stream", "Properties": null }),
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
                // Only sent when there was a handshake, which is only with KMS.
                let Some(kms) = self.kms.clone() else {
                    return false;
                };
                let response: serde_json::Value =
                    serde_json::from_slice(&frame.payload).unwrap_or_default();
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
                    if let Some(shell) = &self.shell {
                        let _ = shell.input.send(ShellInput::Resize(size));
                    }
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
                if let Some(shell) = &self.shell {
                    let _ = shell.input.send(ShellInput::Bytes(payload));
                }
            }
            _ => {}
        }
        false
    }

    fn start_shell(&mut self, output: mpsc::Sender<Vec<u8>>) {
        let started = pty_process::open().and_then(|(pty, pts)| {
            if let Some(size) = self.size {
                pty.resize(pty_size(size))?;
            }
            let (program, args) = shell_command();
            let child = pty_process::Command::new(program)
                .args(args)
                .current_dir(&self.dir)
                .env_clear()
                .env("HOME", &self.dir)
                .env("PATH", "/usr/local/bin:/usr/bin:/bin")
                .env("TERM", "xterm-256color")
                .env("PS1", "sandbox$ ")
                .kill_on_drop(true)
                .spawn(pts)?;
            Ok((pty, child))
        });
        match started {
            Ok((pty, child)) => {
                let (mut reader, mut writer) = pty.into_split();
                let (input, mut inputs) = mpsc::unbounded_channel();
                tokio::spawn(async move {
                    while let Some(next) = inputs.recv().await {
                        let done = match next {
                            ShellInput::Bytes(bytes) => writer.write_all(&bytes).await.is_err(),
                            ShellInput::Resize(size) => writer.resize(pty_size(size)).is_err(),
                        };
                        if done {
                            break;
                        }
                    }
                });
                tokio::spawn(async move {
                    let mut buffer = vec![0; 1024];
                    // A terminal whose shell exited reads EOF or EIO: either ends the session.
                    while let Ok(n) = reader.read(&mut buffer).await {
                        if n == 0 || output.send(buffer[..n].to_vec()).await.is_err() {
                            break;
                        }
                    }
                });
                self.shell = Some(Shell { child, input });
            }
            Err(err) => {
                let message = format!("the sandbox could not start a shell: {err}\r\n");
                self.send_stream(PayloadType::Output, message.into_bytes());
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
        self.send_stream(PayloadType::Output, banner(&self.target).into_bytes());
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
            output: String::new(),
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
        if let Some(mut shell) = self.shell.take() {
            let _ = shell.child.start_kill();
            let _ = shell.child.wait().await;
        }
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.sessions.remove(&self.session_id);
        s.live.remove(&self.session_id);
    }
}

fn pty_size(size: Size) -> pty_process::Size {
    let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
    pty_process::Size::new(clamp(size.rows), clamp(size.cols))
}

/// The shell a session runs: `bash -i`, through `env --default-signal=INT,QUIT` where this
/// system's `env` has it (GNU coreutils 8.31 and later). A shell the SSM agent starts has
/// Ctrl-C and Ctrl-\ at their defaults; without this, a simulator hosted by a process that
/// ignores them (a job started in the background of a script ignores both) would hand them
/// on, ignored, to the shell and every command in it — and Ctrl-C could stop nothing.
fn shell_command() -> (&'static str, &'static [&'static str]) {
    const BASH: &[&str] = &["--noprofile", "--norc", "-i"];
    const ENV: &[&str] = &[
        "--default-signal=INT,QUIT",
        "bash",
        "--noprofile",
        "--norc",
        "-i",
    ];
    static RESETS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let resets = *RESETS.get_or_init(|| {
        std::process::Command::new("env")
            .args(["--default-signal=INT,QUIT", "true"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if resets { ("env", ENV) } else { ("bash", BASH) }
}
