//! `breakglass-interop mock-agent BEHAVIOUR`: serves aws-ssm-bridge's own mock agent (its
//! test gateway, compiled from the crate's source by build.rs) on a loopback port for
//! breakglass's native client to drive (tests/e2e/interop.rs). Prints the data channel's
//! URL, serves until stdin closes, then prints what the agent saw as one JSON line.

use tokio::io::AsyncReadExt;

include!(concat!(env!("OUT_DIR"), "/mock.rs"));

use common::{Behaviour, MockGateway};

pub async fn serve(behaviour: &str) -> Result<(), String> {
    let behaviour = match behaviour {
        "legacy" => Behaviour::LegacyNoHandshake,
        "echo" => Behaviour::Echo,
        "out-of-order" => Behaviour::OutOfOrder,
        "closed-with-reason" => Behaviour::ChannelClosedWithReason,
        other => {
            return Err(format!(
                "unknown behaviour {other:?}: legacy, echo, out-of-order or closed-with-reason"
            ));
        }
    };
    let gateway = MockGateway::start(behaviour).await;
    println!("{}", gateway.url());
    let mut ignored = Vec::new();
    let _ = tokio::io::stdin().read_to_end(&mut ignored).await;
    let seen = gateway.observed().await;
    let lossy = |bytes: &Vec<u8>| String::from_utf8_lossy(bytes).into_owned();
    let report = serde_json::json!({
        "connections": seen.connections,
        "inputs": seen.inputs.iter().map(lossy).collect::<Vec<_>>(),
        "sequences": seen.sequences,
        "handshake_response": seen.handshake_response,
        "terminal_sizes": seen.terminal_sizes,
        "upgrade_headers": seen.upgrade_headers.iter().map(|(name, _)| name).collect::<Vec<_>>(),
    });
    println!("{report}");
    Ok(())
}
