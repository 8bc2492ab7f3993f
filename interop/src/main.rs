//! Drives the breakglass sandbox's agent with `aws-ssm-bridge` (an independent
//! implementation of the Session Manager data channel and of smux):
//! `breakglass-interop INSTANCE_ID shell` opens a shell, runs one command and checks its
//! output; `breakglass-interop INSTANCE_ID port` forwards a local port to port 4000 (the
//! sandbox's stand-in admin UI) and fetches its page over three connections at once. AWS
//! settings come from the environment (`AWS_ENDPOINT_URL` names the sandbox). Exit 0 when
//! what was asked for came back. The other way round, `breakglass-interop mock-agent
//! BEHAVIOUR` serves aws-ssm-bridge's own mock agent for breakglass's client (`mock_agent.rs`).

mod mock_agent;

use std::sync::Arc;
use std::time::Duration;

use aws_ssm_bridge::documents::PortForwardingSession;
use aws_ssm_bridge::{
    EndpointPolicy, PortForwardConfig, PortForwarder, SessionBuilder, SessionConfig,
    SessionManager, ShutdownSignal,
};
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const EXPECTED: &str = "interop-42";
/// What the sandbox's stand-in admin UI page says.
const ADMIN_UI_MARK: &str = "GAME DAY / SANDBOX";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [first, behaviour] = args.as_slice()
        && first == "mock-agent"
    {
        return match mock_agent::serve(behaviour).await {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("interop: {err}");
                std::process::ExitCode::from(2)
            }
        };
    }
    let (target, mode) = match args.as_slice() {
        [target] => (target.as_str(), "shell"),
        [target, mode] => (target.as_str(), mode.as_str()),
        _ => {
            eprintln!(
                "usage: breakglass-interop INSTANCE_ID [shell|port], or mock-agent BEHAVIOUR"
            );
            return std::process::ExitCode::from(2);
        }
    };
    let result = match mode {
        "shell" => shell(target)
            .await
            .map(|()| "ran a command in a sandbox shell"),
        "port" => port(target)
            .await
            .map(|()| "fetched the stand-in admin UI over 3 multiplexed connections"),
        other => Err(format!("unknown mode {other:?}: shell or port")),
    };
    match result {
        Ok(what) => {
            println!("interop: aws-ssm-bridge {what} on {target}");
            std::process::ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("interop: FAILED: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn shell(target: &str) -> Result<(), String> {
    let manager = SessionManager::new().await.map_err(|e| e.to_string())?;
    let config = SessionConfig {
        // The sandbox's stream URL is ws://127.0.0.1:…, not an AWS endpoint.
        endpoint_policy: EndpointPolicy::AllowAny,
        ..SessionConfig::new(target)
    };
    let session = manager
        .start_session(config)
        .await
        .map_err(|e| format!("start session: {e}"))?;
    let mut output = session.output();
    session
        .wait_ready()
        .await
        .map_err(|e| format!("the session never became ready: {e}"))?;
    session
        .send(b"echo interop-$((6*7))\r".to_vec())
        .await
        .map_err(|e| format!("send: {e}"))?;
    let mut seen = String::new();
    let found = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(chunk) = output.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk));
            // The echo of the typed line has `$((6*7))`; only the command's output has 42.
            if seen.contains(EXPECTED) {
                return true;
            }
        }
        false
    })
    .await;
    let _ = session.terminate().await;
    match found {
        Ok(true) => Ok(()),
        _ => Err(format!("no {EXPECTED:?} in the output: {seen:?}")),
    }
}

/// Port 4000 through aws-ssm-bridge's forwarder: three connections at once, each an HTTP GET
/// that must come back with the stand-in page.
async fn port(target: &str) -> Result<(), String> {
    let session = SessionBuilder::new(target)
        .document(PortForwardingSession::new(4000))
        .endpoint_policy(EndpointPolicy::AllowAny)
        .start()
        .await
        .map_err(|e| format!("start session: {e}"))?;
    let session = Arc::new(session);
    let forwarder = PortForwarder::bind(PortForwardConfig {
        local_addr: "127.0.0.1:0".parse().map_err(|e| format!("{e}"))?,
        ..Default::default()
    })
    .await
    .map_err(|e| format!("bind: {e}"))?;
    let local = forwarder.local_addr();
    let shutdown = ShutdownSignal::new();
    let forwarding = tokio::spawn(forwarder.forward(Arc::clone(&session), shutdown.clone()));
    let fetches = (0..3).map(|_| async move {
        let mut conn = tokio::net::TcpStream::connect(local)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        conn.write_all(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
            .await
            .map_err(|e| format!("write: {e}"))?;
        let mut page = Vec::new();
        conn.read_to_end(&mut page)
            .await
            .map_err(|e| format!("read: {e}"))?;
        Ok::<String, String>(String::from_utf8_lossy(&page).into_owned())
    });
    let pages = tokio::time::timeout(Duration::from_secs(60), futures::future::join_all(fetches))
        .await
        .map_err(|_| "no answer through the forward within 60 s".to_owned())?;
    shutdown.shutdown();
    let _ = forwarding.await;
    let _ = session.terminate().await;
    for page in pages {
        let page = page?;
        if !page.contains(ADMIN_UI_MARK) {
            return Err(format!("not the stand-in admin UI page: {page:?}"));
        }
    }
    Ok(())
}
