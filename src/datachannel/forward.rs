//! Port forwarding over a data channel, without the AWS plugin: connections to a loopback
//! listener carried to a port of the server, as the plugin carries them
//! (session-manager-plugin `sessionmanagerplugin/session/portsession/`). With an agent that
//! multiplexes (newer than 3.0.196.0), every connection is its own smux v1 stream over the
//! one channel, any number at once; with an older agent, one connection at a time, and a
//! `DisconnectToPort` flag when it closes so the agent closes its side too.

use std::future::Future;
use std::net::SocketAddr;
use std::num::NonZeroU64;

use async_smux::MuxBuilder;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use super::client::{Channel, ChannelEvent, Command, INPUT_CHUNK};
use super::payload::flag;

/// The last agent without smux port forwarding (the plugin's `version.go`).
const LAST_AGENT_WITHOUT_MUX: &str = "3.0.196.0";
/// The last agent that needs smux keep-alives (newer ones disable theirs: they break the
/// session's idle timeout).
const LAST_AGENT_WITH_KEEPALIVE: &str = "3.1.1511.0";
/// smux's default keep-alive interval, in seconds (xtaci/smux `DefaultConfig`).
const KEEPALIVE_SECONDS: u64 = 10;
/// The in-process pipe between the smux session and the channel.
const MUX_PIPE: usize = 64 * 1024;

/// How connections are carried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// One connection at a time, its bytes as they are.
    Basic,
    /// smux v1: one stream per connection.
    Mux { keep_alive: bool },
}

impl Mode {
    /// As the plugin chooses: smux for local port forwarding with an agent newer than
    /// 3.0.196.0, keep-alives only for agents up to 3.1.1511.0.
    pub fn for_agent(agent_version: &str, properties: &Value) -> Mode {
        let local = properties["type"].as_str() == Some("LocalPortForwarding");
        if local && newer(agent_version, LAST_AGENT_WITHOUT_MUX) {
            Mode::Mux {
                keep_alive: !newer(agent_version, LAST_AGENT_WITH_KEEPALIVE),
            }
        } else {
            Mode::Basic
        }
    }
}

/// Whether dotted version `a` is newer than `b` (numerically, part by part; an unreadable
/// version is the oldest).
pub fn newer(a: &str, b: &str) -> bool {
    let parts = |v: &str| -> Vec<u64> {
        v.split('.')
            .map(|p| p.trim().parse().unwrap_or(0))
            .collect()
    };
    parts(a) > parts(b)
}

/// What the responder is told while forwarding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The session is ready and carries connections this way.
    Ready(Mode),
    /// A local connection was accepted.
    Accepted(SocketAddr),
    /// The agent could not connect to the port on the server.
    PortRefused,
    /// The channel dropped and is resuming (attempt n).
    Reconnecting(u32),
    Reconnected,
}

/// Forwards connections to `listener` over `channel` until the agent closes the channel
/// (`Ok` with its message), the channel fails (`Err`), or `stop` resolves (a
/// `TerminateSession` flag to the agent, then `Ok`).
pub async fn serve(
    mut channel: Channel,
    listener: TcpListener,
    stop: impl Future<Output = ()>,
    notices: mpsc::UnboundedSender<Notice>,
) -> Result<String, String> {
    tokio::pin!(stop);
    let mode = loop {
        tokio::select! {
            event = channel.next() => match event {
                Some(ChannelEvent::Ready { agent_version, properties, .. }) => {
                    break Mode::for_agent(&agent_version, &properties);
                }
                Some(other) => {
                    if let Some(end) = common(other, &notices) {
                        return end;
                    }
                }
                None => return Err("the data channel ended before the session was ready".into()),
            },
            () = &mut stop => {
                channel.close();
                return Ok("stopped before the session was ready".into());
            }
        }
    };
    let _ = notices.send(Notice::Ready(mode));
    let forwarding = Forwarding {
        channel,
        listener,
        notices,
    };
    match mode {
        Mode::Basic => forwarding.basic(stop).await,
        Mode::Mux { keep_alive } => forwarding.mux(keep_alive, stop).await,
    }
}

/// Events both modes handle alike; `Some` when the forwarding ends.
fn common(
    event: ChannelEvent,
    notices: &mpsc::UnboundedSender<Notice>,
) -> Option<Result<String, String>> {
    let notice = match event {
        ChannelEvent::Closed { message } => return Some(Ok(message)),
        ChannelEvent::Failed(message) => return Some(Err(message)),
        ChannelEvent::Flag(flag::CONNECT_TO_PORT_ERROR) => Notice::PortRefused,
        ChannelEvent::Reconnecting { attempt } => Notice::Reconnecting(attempt),
        ChannelEvent::Reconnected => Notice::Reconnected,
        ChannelEvent::Flag(other) => {
            tracing::warn!("ignored flag {other} from the agent");
            return None;
        }
        ChannelEvent::Ready { .. } | ChannelEvent::Output(_) => return None,
    };
    let _ = notices.send(notice);
    None
}

/// Reads from the connection if there is one; never resolves without one.
pub async fn read_some(conn: &mut Option<TcpStream>, buffer: &mut [u8]) -> std::io::Result<usize> {
    match conn {
        Some(conn) => conn.read(buffer).await,
        None => std::future::pending().await,
    }
}

struct Forwarding {
    channel: Channel,
    listener: TcpListener,
    notices: mpsc::UnboundedSender<Notice>,
}

impl Forwarding {
    /// The end on `stop`: the agent is told to end the session, then the channel closes.
    fn stopped(&self) -> Result<String, String> {
        self.channel.flag(flag::TERMINATE_SESSION);
        self.channel.close();
        Ok("stopped".into())
    }

    /// One connection at a time; the next is accepted once the current one closed.
    async fn basic(mut self, stop: impl Future<Output = ()>) -> Result<String, String> {
        tokio::pin!(stop);
        let mut conn: Option<TcpStream> = None;
        let mut buffer = vec![0; INPUT_CHUNK];
        loop {
            tokio::select! {
                accepted = self.listener.accept(), if conn.is_none() => {
                    if let Ok((stream, peer)) = accepted {
                        conn = Some(stream);
                        let _ = self.notices.send(Notice::Accepted(peer));
                    }
                }
                read = read_some(&mut conn, &mut buffer) => match read {
                    Ok(n) if n > 0 => self.channel.input(&buffer[..n]),
                    _ => {
                        conn = None;
                        self.channel.flag(flag::DISCONNECT_TO_PORT);
                    }
                },
                event = self.channel.next() => match event {
                    Some(ChannelEvent::Output(bytes)) => match conn.as_mut() {
                        Some(stream) => {
                            if stream.write_all(&bytes).await.is_err() {
                                conn = None;
                                self.channel.flag(flag::DISCONNECT_TO_PORT);
                            }
                        }
                        None => tracing::debug!("dropped {} bytes for a closed connection", bytes.len()),
                    },
                    Some(other) => {
                        if let Some(end) = common(other, &self.notices) {
                            return end;
                        }
                    }
                    None => return Err("the data channel ended".into()),
                },
                () = &mut stop => return self.stopped(),
            }
        }
    }

    /// Every connection its own smux stream; the smux session's bytes travel as the
    /// channel's input and output.
    async fn mux(
        mut self,
        keep_alive: bool,
        stop: impl Future<Output = ()>,
    ) -> Result<String, String> {
        tokio::pin!(stop);
        let (ours, carrier) = tokio::io::duplex(MUX_PIPE);
        let mut builder = MuxBuilder::client();
        if keep_alive && let Some(seconds) = NonZeroU64::new(KEEPALIVE_SECONDS) {
            builder.with_keep_alive_interval(seconds);
        }
        let (connector, _acceptor, worker) = builder.with_connection(ours).build();
        let worker = tokio::spawn(worker);
        let (mut from_mux, mut to_mux) = tokio::io::split(carrier);
        // The smux session's output, in chunks the size the plugin sends.
        let commands = self.channel.commands();
        let pump = tokio::spawn(async move {
            let mut buffer = vec![0; INPUT_CHUNK];
            while let Ok(n) = from_mux.read(&mut buffer).await {
                if n == 0 || commands.send(Command::Input(buffer[..n].to_vec())).is_err() {
                    break;
                }
            }
        });
        let end = loop {
            tokio::select! {
                accepted = self.listener.accept() => {
                    let Ok((mut local, peer)) = accepted else { continue };
                    match connector.connect() {
                        Ok(mut stream) => {
                            let _ = self.notices.send(Notice::Accepted(peer));
                            tokio::spawn(async move {
                                let _ = tokio::io::copy_bidirectional(&mut local, &mut stream).await;
                            });
                        }
                        Err(err) => break Err(format!("cannot open a stream for {peer}: {err}")),
                    }
                }
                event = self.channel.next() => match event {
                    Some(ChannelEvent::Output(bytes)) => {
                        if to_mux.write_all(&bytes).await.is_err() {
                            break Err("the multiplexer stopped".into());
                        }
                    }
                    Some(other) => {
                        if let Some(end) = common(other, &self.notices) {
                            break end;
                        }
                    }
                    None => break Err("the data channel ended".into()),
                },
                () = &mut stop => break self.stopped(),
            }
        };
        pump.abort();
        worker.abort();
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions_compare_part_by_part() {
        assert!(newer("3.0.197.0", "3.0.196.0"));
        assert!(newer("3.10.0.0", "3.9.999.0"));
        assert!(!newer("3.0.196.0", "3.0.196.0"));
        assert!(!newer("", "3.0.196.0"));
    }

    #[test]
    fn the_mode_follows_the_agent_version_as_the_plugin_chooses() {
        let local = json!({ "portNumber": "4000", "type": "LocalPortForwarding" });
        assert_eq!(Mode::for_agent("3.0.196.0", &local), Mode::Basic);
        assert_eq!(
            Mode::for_agent("3.1.1511.0", &local),
            Mode::Mux { keep_alive: true }
        );
        assert_eq!(
            Mode::for_agent("3.3.1142.0", &local),
            Mode::Mux { keep_alive: false }
        );
        // Not local port forwarding (the agent did not say): one stream, as it is.
        assert_eq!(Mode::for_agent("3.3.1142.0", &json!({})), Mode::Basic);
    }
}
