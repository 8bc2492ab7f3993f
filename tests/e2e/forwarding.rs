//! Port forwarding with the native client, end to end with the real Rust SDK against the
//! sandbox's agent: StartSession with `AWS-StartPortForwardingSession` → the agent's
//! handshake (SessionType `Port`) → connections to a local listener carried to a real TCP
//! server the sandbox serves the port with. A current agent multiplexes (smux v1, several
//! connections at once); an old one (3.0.196.0) takes one connection at a time and closes
//! its side on `DisconnectToPort`; a port nothing serves is reported by the agent's
//! `ConnectToPortError`; the `TerminateSession` flag ends the session at the agent. What
//! happened is counted where it happened: at the TCP server and in the sandbox's sessions.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, oneshot};
use tokio::task::JoinHandle;

use crate::sessions::sandbox;
use crate::support::{self, Account};
use breakglass::aws::{SessionApi, SessionResumer, SsmApi};
use breakglass::datachannel::client::{Channel, Endpoint, SessionKind};
use breakglass::datachannel::forward::{self, Mode, Notice};

const TARGET: &str = "i-0123456789abcdef0";
const WAIT: Duration = Duration::from_secs(30);

/// A TCP echo server standing in for the service on the server's port; it counts the
/// connections it accepted and those that ended.
pub(crate) struct Echo {
    pub address: SocketAddr,
    pub accepted: Arc<AtomicUsize>,
    pub ended: Arc<AtomicUsize>,
}

pub(crate) async fn echo() -> Echo {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let ended = Arc::new(AtomicUsize::new(0));
    let (a, e) = (accepted.clone(), ended.clone());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            let e = e.clone();
            tokio::spawn(async move {
                let (mut read, mut write) = conn.split();
                let _ = tokio::io::copy(&mut read, &mut write).await;
                e.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    Echo {
        address,
        accepted,
        ended,
    }
}

/// A forwarding in progress: its local port, what it told the responder, how to stop it.
struct Forward {
    local: SocketAddr,
    notices: mpsc::UnboundedReceiver<Notice>,
    stop: Option<oneshot::Sender<()>>,
    serving: JoinHandle<Result<String, String>>,
    session_id: String,
}

impl Forward {
    /// Starts a port session to `port` of the target and forwards a fresh local port to it.
    async fn start(account: &Account, ssm: &breakglass::aws::Ssm, port: u16) -> Forward {
        let parameters = [("portNumber".to_owned(), vec![port.to_string()])];
        let access = ssm
            .start_session(TARGET, Some("AWS-StartPortForwardingSession"), &parameters)
            .await
            .unwrap();
        let session_id = access.session_id.clone();
        let channel = Channel::open(
            Endpoint {
                kind: SessionKind::Port,
                session_id: access.session_id,
                target: TARGET.into(),
                stream_url: access.stream_url,
                token: access.token,
                size: None,
                keys: None,
                signing: Some(account.signing()),
            },
            SessionResumer {
                ssm: ssm.clone(),
                session_id: session_id.clone(),
            },
        )
        .await
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let local = listener.local_addr().unwrap();
        let (notices_tx, notices) = mpsc::unbounded_channel();
        let (stop, stopped) = oneshot::channel::<()>();
        let serving = tokio::spawn(forward::serve(
            channel,
            listener,
            async {
                let _ = stopped.await;
            },
            notices_tx,
        ));
        Forward {
            local,
            notices,
            stop: Some(stop),
            serving,
            session_id,
        }
    }

    async fn notice(&mut self) -> Notice {
        tokio::time::timeout(WAIT, self.notices.recv())
            .await
            .expect("no notice from the forwarder")
            .expect("the forwarder ended")
    }

    /// Ctrl-C: the forwarder's end.
    async fn stop(mut self) -> Result<String, String> {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(WAIT, self.serving)
            .await
            .expect("the forwarder did not stop")
            .unwrap()
    }
}

/// Writes `bytes` on a connection and reads the same number back.
pub(crate) async fn round_trip(conn: &mut TcpStream, bytes: &[u8]) -> Vec<u8> {
    let (mut read, mut write) = conn.split();
    let mut back = vec![0; bytes.len()];
    let (wrote, got) = tokio::join!(write.write_all(bytes), async {
        tokio::time::timeout(WAIT, read.read_exact(&mut back)).await
    });
    wrote.unwrap();
    got.expect("no echo").unwrap();
    back
}

async fn session_gone(ssm: &breakglass::aws::Ssm, session_id: &str) {
    support::eventually(WAIT, "the agent ended the session", || async {
        let active = ssm.describe_active_sessions(TARGET).await.unwrap().value;
        (!active.iter().any(|(id, _)| id == session_id)).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_current_agent_multiplexes_several_connections_over_one_session() {
    let (account, sim, ssm) = sandbox().await;
    let service = echo().await;
    sim.serve_port(4000, service.address);
    let mut forward = Forward::start(&account, &ssm, 4000).await;
    assert_eq!(
        forward.notice().await,
        Notice::Ready(Mode::Mux { keep_alive: false })
    );

    // Three connections open at once, each with its own bytes; one carries 256 KiB, far more
    // than one frame (1 KiB) or one smux frame holds.
    let mut conns = Vec::new();
    for _ in 0..3 {
        conns.push(TcpStream::connect(forward.local).await.unwrap());
    }
    let big: Vec<u8> = (0..256 * 1024).map(|i| (i % 251) as u8).collect();
    let mut trips = Vec::new();
    for (i, mut conn) in conns.into_iter().enumerate() {
        let bytes = if i == 1 {
            big.clone()
        } else {
            format!("connection {i}\n").into_bytes()
        };
        trips.push(tokio::spawn(async move {
            let back = round_trip(&mut conn, &bytes).await;
            (back == bytes, conn)
        }));
    }
    let mut open = Vec::new();
    for trip in trips {
        let (same, conn) = trip.await.unwrap();
        assert!(same, "a connection got back other bytes than it sent");
        open.push(conn);
    }
    // All three reached the service as connections of their own, at the same time.
    assert_eq!(service.accepted.load(Ordering::SeqCst), 3);
    assert_eq!(service.ended.load(Ordering::SeqCst), 0);
    for _ in 0..3 {
        assert!(matches!(forward.notice().await, Notice::Accepted(_)));
    }

    // Ctrl-C sends TerminateSession to the agent, which ends the session itself (nothing
    // here calls the TerminateSession API).
    let session_id = forward.session_id.clone();
    assert_eq!(forward.stop().await, Ok("stopped".into()));
    session_gone(&ssm, &session_id).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_old_agent_takes_one_connection_at_a_time_and_closes_its_side_after_each() {
    let (account, sim, ssm) = sandbox().await;
    let service = echo().await;
    sim.serve_port(4000, service.address);
    sim.set_agent_version("3.0.196.0");
    let mut forward = Forward::start(&account, &ssm, 4000).await;
    assert_eq!(forward.notice().await, Notice::Ready(Mode::Basic));

    let mut first = TcpStream::connect(forward.local).await.unwrap();
    assert_eq!(round_trip(&mut first, b"first\n").await, b"first\n");
    // The agent dialled the port when the session started.
    assert_eq!(service.accepted.load(Ordering::SeqCst), 1);
    drop(first);
    // DisconnectToPort: the agent closed its connection to the service too.
    support::eventually(WAIT, "the agent's connection closed", || async {
        (service.ended.load(Ordering::SeqCst) == 1).then_some(())
    })
    .await;
    assert_eq!(service.accepted.load(Ordering::SeqCst), 1);

    // The next connection: the agent dials again on its first bytes.
    let mut second = TcpStream::connect(forward.local).await.unwrap();
    assert_eq!(round_trip(&mut second, b"second\n").await, b"second\n");
    assert_eq!(service.accepted.load(Ordering::SeqCst), 2);

    let session_id = forward.session_id.clone();
    assert_eq!(forward.stop().await, Ok("stopped".into()));
    session_gone(&ssm, &session_id).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_port_nothing_serves_is_reported_and_the_connection_closed() {
    let (account, _sim, ssm) = sandbox().await;
    let mut forward = Forward::start(&account, &ssm, 4000).await;
    assert!(matches!(
        forward.notice().await,
        Notice::Ready(Mode::Mux { .. })
    ));
    let mut conn = TcpStream::connect(forward.local).await.unwrap();
    assert!(matches!(forward.notice().await, Notice::Accepted(_)));
    assert_eq!(forward.notice().await, Notice::PortRefused);
    // The agent closed the stream: the local connection ends.
    let mut rest = Vec::new();
    let read = tokio::time::timeout(WAIT, conn.read_to_end(&mut rest)).await;
    assert!(read.expect("the connection stayed open").is_ok());
    assert!(rest.is_empty());
    // The session itself goes on: another connection is accepted.
    let _again = TcpStream::connect(forward.local).await.unwrap();
    assert!(matches!(forward.notice().await, Notice::Accepted(_)));
    assert_eq!(forward.stop().await, Ok("stopped".into()));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_port_forward_is_not_encrypted_even_where_shells_must_be() {
    // As the agent has it (`sessionplugin.go`, `isEncryptionEnabled`: never for the port
    // plugin), so a forward needs no KMS access even where the preferences name a key.
    let (account, sim, ssm) = sandbox().await;
    let service = echo().await;
    sim.serve_port(4000, service.address);
    sim.require_session_encryption(Some("alias/not-used-for-ports".into()));
    let mut forward = Forward::start(&account, &ssm, 4000).await;
    assert!(matches!(
        forward.notice().await,
        Notice::Ready(Mode::Mux { .. })
    ));
    let mut conn = TcpStream::connect(forward.local).await.unwrap();
    assert_eq!(round_trip(&mut conn, b"plain\n").await, b"plain\n");
    assert_eq!(sim.counts().get("kms:Decrypt"), None);
    assert_eq!(forward.stop().await, Ok("stopped".into()));
}
