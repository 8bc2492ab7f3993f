//! breakglass's native client against an agent nobody here wrote: aws-ssm-bridge's own mock
//! agent (its test gateway, served by `breakglass-interop mock-agent`, see interop/). One
//! that skips the handshake as older and unencrypted agents do, one that shakes hands, one
//! that delivers output out of order, one that closes the channel with a reason. What the
//! agent saw is its own report, printed when it stops. Run by `scripts/interop`, which
//! builds the mock and names it in `BREAKGLASS_INTEROP_BIN`; ignored otherwise.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::sessions::NoResume;
use breakglass::datachannel::client::{Channel, ChannelEvent, Endpoint, SessionKind};
use breakglass::datachannel::payload::Size;

const WAIT: Duration = Duration::from_secs(30);

/// aws-ssm-bridge's mock agent, running.
struct MockAgent {
    child: Child,
    lines: BufReader<std::process::ChildStdout>,
    url: String,
}

impl MockAgent {
    fn start(behaviour: &str) -> MockAgent {
        let bin = std::env::var("BREAKGLASS_INTEROP_BIN")
            .expect("BREAKGLASS_INTEROP_BIN names breakglass-interop (run scripts/interop)");
        let mut child = Command::new(bin)
            .args(["mock-agent", behaviour])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the mock agent");
        let mut lines = BufReader::new(child.stdout.take().unwrap());
        let mut url = String::new();
        lines.read_line(&mut url).unwrap();
        MockAgent {
            child,
            lines,
            url: url.trim().to_owned(),
        }
    }

    /// Stops it; what it saw.
    fn report(mut self) -> Value {
        drop(self.child.stdin.take());
        let mut line = String::new();
        self.lines.read_line(&mut line).unwrap();
        let _ = self.child.wait();
        serde_json::from_str(&line).expect("the mock agent's report")
    }

    async fn open(&self) -> Channel {
        Channel::open(
            Endpoint {
                kind: SessionKind::Shell,
                session_id: "mock-session".into(),
                target: "i-0123456789abcdef0".into(),
                stream_url: self.url.clone(),
                token: "interop-token".into(),
                size: Some(Size { cols: 80, rows: 24 }),
                keys: None,
                signing: None,
            },
            NoResume,
        )
        .await
        .expect("connect to the mock agent")
    }
}

async fn next(channel: &mut Channel) -> ChannelEvent {
    tokio::time::timeout(WAIT, channel.next())
        .await
        .expect("no event from the mock agent")
        .expect("the channel ended")
}

/// Output until it contains `text`.
async fn output_until(channel: &mut Channel, text: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(text) {
        match next(channel).await {
            ChannelEvent::Output(bytes) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            ChannelEvent::Ready { .. } => {}
            other => panic!("{other:?} before {text:?} (output so far {seen:?})"),
        }
    }
    seen
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the interop build: scripts/interop"]
async fn a_shell_whose_agent_skips_the_handshake_takes_input_after_its_first_output() {
    let agent = MockAgent::start("legacy");
    let mut channel = agent.open().await;
    assert_eq!(
        next(&mut channel).await,
        ChannelEvent::Ready {
            agent_version: String::new(),
            message: String::new(),
            properties: Value::Null,
        }
    );
    output_until(&mut channel, "legacy-shell$ ").await;
    channel.input(b"interop-ping\r");
    output_until(&mut channel, "interop-ping").await;
    channel.close();
    let seen = agent.report();
    assert_eq!(seen["handshake_response"], Value::Null);
    assert_eq!(seen["inputs"], serde_json::json!(["interop-ping\r"]));
    // The terminal size went first, once the session was ready.
    let size: Value = serde_json::from_str(seen["terminal_sizes"][0].as_str().unwrap()).unwrap();
    assert_eq!(size, serde_json::json!({ "cols": 80, "rows": 24 }));
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the interop build: scripts/interop"]
async fn a_shell_whose_agent_shakes_hands_is_ready_on_completion() {
    let agent = MockAgent::start("echo");
    let mut channel = agent.open().await;
    match next(&mut channel).await {
        ChannelEvent::Ready {
            agent_version,
            message,
            ..
        } => {
            assert_eq!(agent_version, "3.3.1345.0");
            assert_eq!(message, "mock gateway ready");
        }
        other => panic!("not ready: {other:?}"),
    }
    channel.input(b"after-handshake\r");
    output_until(&mut channel, "after-handshake").await;
    channel.close();
    let seen = agent.report();
    let response: Value =
        serde_json::from_str(seen["handshake_response"].as_str().expect("a response")).unwrap();
    assert_eq!(
        response["ProcessedClientActions"][0]["ActionType"],
        "SessionType"
    );
    assert_eq!(response["ProcessedClientActions"][0]["ActionStatus"], 1);
    assert_eq!(seen["inputs"], serde_json::json!(["after-handshake\r"]));
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the interop build: scripts/interop"]
async fn output_the_agent_sends_out_of_order_arrives_in_order() {
    let agent = MockAgent::start("out-of-order");
    let mut channel = agent.open().await;
    assert!(matches!(
        next(&mut channel).await,
        ChannelEvent::Ready { .. }
    ));
    channel.input(b"x");
    let seen = output_until(&mut channel, "third ").await;
    assert_eq!(seen, "first second third ");
    channel.close();
    agent.report();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the interop build: scripts/interop"]
async fn the_agents_reason_for_closing_reaches_the_responder() {
    let agent = MockAgent::start("closed-with-reason");
    let mut channel = agent.open().await;
    assert!(matches!(
        next(&mut channel).await,
        ChannelEvent::Ready { .. }
    ));
    assert_eq!(
        next(&mut channel).await,
        ChannelEvent::Closed {
            message: "Connection refused by 10.0.0.7:5432".into()
        }
    );
    agent.report();
}
