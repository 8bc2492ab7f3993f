//! The client end of a data channel: connects to the stream URL, sends the open frame,
//! answers the agent's handshake when it asks for one, then moves input and output through
//! the reliability layer in one task — acknowledging, resending, reordering, honouring
//! pause/start publication, keeping the websocket alive, and resuming (a new token from
//! `ResumeSession`) when the connection drops. The session is ready, as the AWS plugin has
//! it, on the handshake's completion, or — for an agent that skips the handshake, as the
//! real agent does for an unencrypted shell — on its first output or `start_publication`.
//! The caller sees [`ChannelEvent`]s and sends [`Command`]s.

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::frame::{Frame, MessageType, PayloadType};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::connect::{Signing, Socket, connect};
use super::crypto::{Cipher, Side};
use super::payload::{
    ACTION_FAILED, ACTION_SUCCESS, ACTION_UNSUPPORTED, ChannelClosed, HandshakeComplete,
    HandshakeRequest, HandshakeResponse, ProcessedClientAction, Size,
};
use super::stream::Stream;

/// The client version announced to the agent (agents gate features on it).
pub const CLIENT_VERSION: &str = "1.2.707.0";
/// Websocket keep-alive, as the AWS plugin does.
const PING_EVERY: Duration = Duration::from_secs(300);
/// Reconnection attempts after a dropped connection, with doubling back-off.
const RESUME_ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// How long frames still arriving are read after a write failed.
const DRAIN: Duration = Duration::from_millis(500);
/// Largest input chunk per frame, as the plugin sends.
pub const INPUT_CHUNK: usize = 1024;

/// Asks the service for a new token for the same session (`ResumeSession`).
pub trait Resumer: Send + Sync + 'static {
    /// The new token; `Ok(None)` when the session has ended or timed out.
    fn resume(&self) -> Pin<Box<dyn Future<Output = Result<Option<String>, String>> + Send + '_>>;
}

/// What happens on the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChannelEvent {
    /// The session is ready (the handshake completed, or the agent skipped it); input is
    /// now delivered. `agent_version` is empty when there was no handshake.
    Ready {
        agent_version: String,
        message: String,
        /// The session's properties from the handshake (a port session's port numbers and
        /// forwarding type); `Null` without a handshake.
        properties: Value,
    },
    /// Shell output (or, for a port session, the bytes from the port), in order.
    Output(Vec<u8>),
    /// A control flag from the agent (see [`super::payload::flag`]).
    Flag(u32),
    /// The connection dropped; resuming (attempt n of the limit).
    Reconnecting { attempt: u32 },
    /// Resumed on a new connection; nothing was lost.
    Reconnected,
    /// The agent closed the channel (the shell exited, or the session was terminated).
    Closed { message: String },
    /// The channel failed and cannot continue.
    Failed(String),
}

/// What the caller asks of the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Keystrokes for the remote shell.
    Input(Vec<u8>),
    /// The local terminal's size.
    Resize(Size),
    /// A control flag for the agent (see [`super::payload::flag`]).
    Flag(u32),
    /// Stop: close the websocket (the caller terminates the session).
    Close,
}

/// A running channel.
pub struct Channel {
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedReceiver<ChannelEvent>,
}

/// A data key: `(plaintext, ciphertext blob)`.
pub type DataKey = (Vec<u8>, Vec<u8>);

/// A boxed future of a [`DataKey`].
pub type DataKeyFuture<'a> = Pin<Box<dyn Future<Output = Result<DataKey, String>> + Send + 'a>>;

/// Asks KMS for a session data key (`kms:GenerateDataKey`, 64 bytes, with the encryption
/// context).
pub trait DataKeys: Send + Sync + 'static {
    fn generate(&self, key_id: &str, context: Vec<(String, String)>) -> DataKeyFuture<'_>;
}

/// What the session is for: the agent names it in the handshake, and the client refuses a
/// session type it did not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// An interactive shell (`Standard_Stream`, or `InteractiveCommands`).
    Shell,
    /// Port forwarding (`Port`): input and output are the port's bytes, untouched.
    Port,
}

/// Where and how to connect.
pub struct Endpoint {
    pub kind: SessionKind,
    pub session_id: String,
    /// The instance (for the KMS encryption context).
    pub target: String,
    pub stream_url: String,
    pub token: String,
    /// The terminal size to announce when the session is ready.
    pub size: Option<Size>,
    /// KMS, for accounts whose Session Manager preferences require encryption.
    pub keys: Option<Box<dyn DataKeys>>,
    /// Signs the websocket upgrade with SigV4 (as current plugins do); `None` sends the
    /// token alone.
    pub signing: Option<Signing>,
}

impl Channel {
    /// Connects and starts the channel task; fails if the first connection cannot be made.
    pub async fn open(endpoint: Endpoint, resumer: impl Resumer) -> Result<Channel, String> {
        let socket = connect(
            &endpoint.stream_url,
            &endpoint.token,
            endpoint.signing.as_ref(),
        )
        .await?;
        let (commands, command_rx) = mpsc::unbounded_channel();
        let (event_tx, events) = mpsc::unbounded_channel();
        let task = Task {
            endpoint,
            resumer: Box::new(resumer),
            stream: Stream::new(MessageType::InputStreamData),
            events: event_tx,
            ready: false,
            handshaking: false,
            paused: false,
            queued: std::collections::VecDeque::new(),
            pending_agent: None,
            properties: Value::Null,
            cipher: None,
        };
        tokio::spawn(task.run(socket, command_rx));
        Ok(Channel { commands, events })
    }

    /// Sends keystrokes (split into frames of at most [`INPUT_CHUNK`] bytes).
    pub fn input(&self, bytes: &[u8]) {
        for chunk in bytes.chunks(INPUT_CHUNK) {
            let _ = self.commands.send(Command::Input(chunk.to_vec()));
        }
    }

    pub fn resize(&self, size: Size) {
        let _ = self.commands.send(Command::Resize(size));
    }

    pub fn close(&self) {
        let _ = self.commands.send(Command::Close);
    }

    /// Sends a control flag (a port session's disconnect or terminate).
    pub fn flag(&self, flag: u32) {
        let _ = self.commands.send(Command::Flag(flag));
    }

    /// The next event; `None` once the channel task has ended.
    pub async fn next(&mut self) -> Option<ChannelEvent> {
        self.events.recv().await
    }

    /// A handle for sending commands from another task.
    pub fn commands(&self) -> mpsc::UnboundedSender<Command> {
        self.commands.clone()
    }
}

/// Why the connection loop stopped.
enum Stop {
    /// Channel closed or the caller closed it: the task ends.
    Done,
    /// The connection dropped: resume.
    Dropped,
}

struct Task {
    endpoint: Endpoint,
    resumer: Box<dyn Resumer>,
    stream: Stream,
    events: mpsc::UnboundedSender<ChannelEvent>,
    ready: bool,
    /// The agent's handshake request was answered and its completion is awaited.
    handshaking: bool,
    /// The agent asked us to stop publishing (flow control).
    paused: bool,
    /// Input waiting for the session to be ready, for start_publication, or for room in
    /// the resend buffer.
    queued: std::collections::VecDeque<Command>,
    /// The agent's version, from its handshake request.
    pending_agent: Option<String>,
    /// The session's properties, from the handshake's SessionType action.
    properties: Value,
    /// Set when the handshake agreed on KMS encryption.
    cipher: Option<Cipher>,
}

impl Task {
    async fn run(mut self, mut socket: Socket, mut commands: mpsc::UnboundedReceiver<Command>) {
        loop {
            match self.connection(&mut socket, &mut commands).await {
                Stop::Done => {
                    let _ = socket.close(None).await;
                    return;
                }
                Stop::Dropped => match self.reconnect().await {
                    Some(next) => socket = next,
                    None => return,
                },
            }
        }
    }

    fn emit(&self, event: ChannelEvent) {
        let _ = self.events.send(event);
    }

    async fn reconnect(&mut self) -> Option<Socket> {
        let mut backoff = FIRST_BACKOFF;
        let mut last_error = String::from("the data channel did not reopen");
        for attempt in 1..=RESUME_ATTEMPTS {
            self.emit(ChannelEvent::Reconnecting { attempt });
            tokio::time::sleep(backoff).await;
            backoff *= 2;
            let token = match self.resumer.resume().await {
                Ok(Some(token)) => token,
                Ok(None) => {
                    self.emit(ChannelEvent::Closed {
                        message: "the session ended while disconnected (it may have timed out)"
                            .into(),
                    });
                    return None;
                }
                Err(err) => {
                    last_error = err;
                    continue;
                }
            };
            self.endpoint.token = token;
            let endpoint = &self.endpoint;
            match connect(
                &endpoint.stream_url,
                &endpoint.token,
                endpoint.signing.as_ref(),
            )
            .await
            {
                Ok(mut socket) => {
                    let frames = self.stream.outstanding(Instant::now());
                    if flush(&mut socket, frames).await {
                        self.emit(ChannelEvent::Reconnected);
                        return Some(socket);
                    }
                }
                Err(err) => last_error = err,
            }
        }
        self.emit(ChannelEvent::Failed(format!(
            "the connection to session {} dropped and could not be resumed after \
             {RESUME_ATTEMPTS} attempts: {last_error}",
            self.endpoint.session_id
        )));
        None
    }

    async fn connection(
        &mut self,
        socket: &mut Socket,
        commands: &mut mpsc::UnboundedReceiver<Command>,
    ) -> Stop {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let mut ping = tokio::time::interval(PING_EVERY);
        ping.tick().await;
        loop {
            let mut out: Vec<Vec<u8>> = Vec::new();
            tokio::select! {
                message = socket.next() => match message {
                    Some(Ok(Message::Binary(bytes))) => {
                        match self.frame(&bytes, &mut out).await {
                            Ok(true) => {}
                            Ok(false) => {
                                flush(socket, out).await;
                                return Stop::Done;
                            }
                            Err(err) => {
                                // What was answered first still goes (a failed handshake's
                                // response tells the agent why).
                                flush(socket, out).await;
                                self.emit(ChannelEvent::Failed(err));
                                return Stop::Done;
                            }
                        }
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Stop::Dropped,
                    Some(Ok(_)) => {}
                },
                command = commands.recv() => match command {
                    None | Some(Command::Close) => return Stop::Done,
                    Some(command) => {
                        self.queued.push_back(command);
                        self.publish(&mut out);
                    }
                },
                _ = tick.tick() => match self.stream.due(Instant::now()) {
                    Ok(frame) => {
                        out.extend(frame);
                        // Acknowledgements may have made room for held-back input.
                        self.publish(&mut out);
                    }
                    Err(gave_up) => {
                        self.emit(ChannelEvent::Failed(gave_up.to_string()));
                        return Stop::Done;
                    }
                },
                _ = ping.tick() => {
                    if socket.send(Message::Ping(Vec::new().into())).await.is_err() {
                        return Stop::Dropped;
                    }
                }
            }
            if !flush(socket, out).await {
                return self.drain(socket).await;
            }
        }
    }

    /// After a failed write: what the agent sent before the connection went (a
    /// channel_closed with its reason, as the plugin's independent reader would see it) is
    /// still read; then the connection counts as dropped.
    async fn drain(&mut self, socket: &mut Socket) -> Stop {
        let deadline = tokio::time::Instant::now() + DRAIN;
        while let Ok(Some(Ok(message))) = tokio::time::timeout_at(deadline, socket.next()).await {
            if let Message::Binary(bytes) = message {
                // Nothing can be answered any more.
                let mut unsent = Vec::new();
                match self.frame(&bytes, &mut unsent).await {
                    Ok(true) => {}
                    Ok(false) => return Stop::Done,
                    Err(err) => {
                        self.emit(ChannelEvent::Failed(err));
                        return Stop::Done;
                    }
                }
            }
        }
        Stop::Dropped
    }

    /// Sends queued input unless the session is not ready yet, publication is paused, or
    /// the resend buffer is full (the rest waits, in order).
    fn publish(&mut self, out: &mut Vec<Vec<u8>>) {
        if !self.ready || self.paused {
            return;
        }
        while self.stream.has_room()
            && let Some(command) = self.queued.pop_front()
        {
            let (payload_type, payload) = match command {
                Command::Input(bytes) => {
                    let bytes = match self.endpoint.kind {
                        SessionKind::Shell => lone_newline(bytes),
                        SessionKind::Port => bytes,
                    };
                    let bytes = match &self.cipher {
                        Some(cipher) => cipher.seal(&bytes),
                        None => bytes,
                    };
                    (PayloadType::Output, bytes)
                }
                Command::Resize(size) => (
                    PayloadType::Size,
                    serde_json::to_vec(&size).unwrap_or_default(),
                ),
                Command::Flag(flag) => (PayloadType::Flag, flag.to_be_bytes().to_vec()),
                Command::Close => continue,
            };
            out.push(self.stream.send(payload_type, payload, Instant::now()));
        }
    }

    /// Handles one binary frame; `Ok(false)` when the channel closed.
    async fn frame(&mut self, bytes: &[u8], out: &mut Vec<Vec<u8>>) -> Result<bool, String> {
        let frame = match Frame::decode(bytes) {
            Ok(frame) => frame,
            // A corrupt frame, or one of a message type this client does not know, is
            // dropped (as the plugin does); a stream-data frame is resent by the agent.
            Err(err) => {
                tracing::warn!("dropped a data-channel frame: {err}");
                return Ok(true);
            }
        };
        let received = self.stream.receive(frame, Instant::now());
        out.extend(received.replies);
        for data in received.delivered {
            self.data(data, out).await?;
        }
        match received.control {
            Some(frame) if frame.message_type == MessageType::ChannelClosed => {
                let closed: ChannelClosed =
                    serde_json::from_slice(&frame.payload).unwrap_or_default();
                self.emit(ChannelEvent::Closed {
                    message: closed.output,
                });
                return Ok(false);
            }
            Some(frame) if frame.message_type == MessageType::PausePublication => {
                self.paused = true;
            }
            Some(frame) if frame.message_type == MessageType::StartPublication => {
                self.paused = false;
                if !self.handshaking {
                    self.become_ready(String::new(), String::new());
                }
                self.publish(out);
            }
            _ => {}
        }
        Ok(true)
    }

    /// One in-order stream-data frame from the agent.
    async fn data(&mut self, frame: Frame, out: &mut Vec<Vec<u8>>) -> Result<(), String> {
        match frame.payload_type {
            PayloadType::HandshakeRequest => {
                let request: HandshakeRequest = serde_json::from_slice(&frame.payload)
                    .map_err(|e| format!("the agent's handshake request is malformed: {e}"))?;
                let response = self.handshake(&request).await;
                // The response goes to the agent whatever happened, so it knows why the
                // client stops (as the plugin does); a failed action then ends the channel.
                let payload = serde_json::to_vec(&response).unwrap_or_default();
                out.push(
                    self.stream
                        .send(PayloadType::HandshakeResponse, payload, Instant::now()),
                );
                if let Some(action) = response
                    .processed_client_actions
                    .iter()
                    .find(|a| a.action_status != ACTION_SUCCESS)
                {
                    return Err(action.error.clone());
                }
                self.handshaking = true;
                self.pending_agent = Some(request.agent_version);
            }
            PayloadType::HandshakeComplete => {
                let complete: HandshakeComplete =
                    serde_json::from_slice(&frame.payload).unwrap_or(HandshakeComplete {
                        handshake_time_to_complete: 0,
                        customer_message: String::new(),
                    });
                self.handshaking = false;
                let agent_version = self.pending_agent.take().unwrap_or_default();
                self.become_ready(agent_version, complete.customer_message);
                self.publish(out);
            }
            PayloadType::EncChallengeRequest => {
                let cipher = self
                    .cipher
                    .as_ref()
                    .ok_or("the agent sent an encryption challenge without encryption")?;
                let request: Challenge = serde_json::from_slice(&frame.payload)
                    .map_err(|e| format!("the agent's encryption challenge is malformed: {e}"))?;
                let challenge = BASE64
                    .decode(request.challenge)
                    .map_err(|e| format!("the encryption challenge is not base64: {e}"))?;
                let plain = cipher.open(&challenge)?;
                let answer = Challenge {
                    challenge: BASE64.encode(cipher.seal(&plain)),
                };
                let payload = serde_json::to_vec(&answer).unwrap_or_default();
                out.push(self.stream.send(
                    PayloadType::EncChallengeResponse,
                    payload,
                    Instant::now(),
                ));
            }
            PayloadType::Output | PayloadType::StdErr => {
                let payload = match &self.cipher {
                    Some(cipher) => cipher.open(&frame.payload)?,
                    None => frame.payload,
                };
                // An agent that skips the handshake starts with output.
                if !self.handshaking {
                    self.become_ready(String::new(), String::new());
                    self.publish(out);
                }
                self.emit(ChannelEvent::Output(payload));
            }
            PayloadType::Flag => match <[u8; 4]>::try_from(frame.payload.as_slice()) {
                Ok(bytes) => self.emit(ChannelEvent::Flag(u32::from_be_bytes(bytes))),
                Err(_) => tracing::warn!("dropped a flag frame of {} bytes", frame.payload.len()),
            },
            other => tracing::warn!(
                "dropped a data-channel frame with payload type {} this client does not use",
                other.code()
            ),
        }
        Ok(())
    }

    /// The session is ready: once, with the terminal size as the first thing sent.
    fn become_ready(&mut self, agent_version: String, message: String) {
        if self.ready {
            return;
        }
        self.ready = true;
        self.emit(ChannelEvent::Ready {
            agent_version,
            message,
            properties: self.properties.clone(),
        });
        if let Some(size) = self.endpoint.size {
            self.queued.push_front(Command::Resize(size));
        }
    }

    /// The answers to the agent's requested actions: a shell session, and KMS encryption
    /// when a key provider is there; anything else is unsupported, with a reason.
    async fn handshake(&mut self, request: &HandshakeRequest) -> HandshakeResponse {
        let mut processed = Vec::new();
        for action in &request.requested_client_actions {
            let (status, result, error) = match action.action_type.as_str() {
                "SessionType" => {
                    let answer = session_type(self.endpoint.kind, &action.action_parameters);
                    if answer.0 == ACTION_SUCCESS {
                        self.properties = action.action_parameters["Properties"].clone();
                    }
                    answer
                }
                "KMSEncryption" => self.kms(&action.action_parameters).await,
                other => (
                    ACTION_UNSUPPORTED,
                    Value::Null,
                    format!(
                        "the agent asked for {other}, which the native client does not support; \
                         use --plugin"
                    ),
                ),
            };
            processed.push(ProcessedClientAction {
                action_type: action.action_type.clone(),
                action_status: status,
                action_result: result,
                error,
            });
        }
        let errors = processed
            .iter()
            .filter(|a| !a.error.is_empty())
            .map(|a| a.error.clone())
            .collect();
        HandshakeResponse {
            client_version: CLIENT_VERSION.into(),
            processed_client_actions: processed,
            errors,
        }
    }

    /// KMSEncryption: a data key from KMS, its ciphertext for the agent.
    async fn kms(&mut self, parameters: &Value) -> (u32, Value, String) {
        let Some(keys) = &self.endpoint.keys else {
            return (
                ACTION_UNSUPPORTED,
                Value::Null,
                "the account's Session Manager preferences require KMS encryption, and no KMS \
                 access was given"
                    .into(),
            );
        };
        let key_id = parameters["KMSKeyId"].as_str().unwrap_or_default();
        let context = vec![
            (
                "aws:ssm:SessionId".to_owned(),
                self.endpoint.session_id.clone(),
            ),
            ("aws:ssm:TargetId".to_owned(), self.endpoint.target.clone()),
        ];
        match keys.generate(key_id, context).await {
            Ok((plaintext, blob)) => match Cipher::new(&plaintext, Side::Client) {
                Ok(cipher) => {
                    self.cipher = Some(cipher);
                    let result = serde_json::json!({
                        "KMSCipherTextKey": BASE64.encode(&blob),
                        "KMSCipherTextHash": BASE64.encode(Sha256::digest(&blob)),
                    });
                    (ACTION_SUCCESS, result, String::new())
                }
                Err(err) => (ACTION_FAILED, Value::Null, err),
            },
            Err(err) => (
                ACTION_FAILED,
                Value::Null,
                format!("the session's KMS key {key_id} is not usable: {err}"),
            ),
        }
    }
}

/// The encryption challenge, both ways.
#[derive(serde::Serialize, serde::Deserialize)]
struct Challenge {
    #[serde(rename = "Challenge")]
    challenge: String,
}

/// Whether the agent's session type is the one this client started.
fn session_type(kind: SessionKind, parameters: &Value) -> (u32, Value, String) {
    match (kind, parameters["SessionType"].as_str()) {
        (SessionKind::Shell, Some("Standard_Stream" | "InteractiveCommands"))
        | (SessionKind::Port, Some("Port")) => (ACTION_SUCCESS, Value::Null, String::new()),
        (_, other) => (
            ACTION_UNSUPPORTED,
            Value::Null,
            format!(
                "the agent offered session type {} for a {} session; the native client \
                 does not run that (use --plugin)",
                other.unwrap_or("(none)"),
                match kind {
                    SessionKind::Shell => "shell",
                    SessionKind::Port => "port forwarding",
                }
            ),
        ),
    }
}

/// A lone newline is sent as carriage return, as the AWS plugin does.
fn lone_newline(bytes: Vec<u8>) -> Vec<u8> {
    if bytes == b"\n" {
        b"\r".to_vec()
    } else {
        bytes
    }
}

/// Writes frames; false if the connection failed.
async fn flush(socket: &mut Socket, frames: Vec<Vec<u8>>) -> bool {
    for frame in frames {
        if socket.send(Message::Binary(frame.into())).await.is_err() {
            return false;
        }
    }
    true
}
