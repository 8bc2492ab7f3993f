//! Opens a shell through the breakglass sandbox with `aws-ssm-bridge` (an independent
//! implementation of the Session Manager data channel), runs one command and checks its
//! output: `breakglass-interop INSTANCE_ID`. AWS settings come from the environment
//! (`AWS_ENDPOINT_URL` names the sandbox). Exit 0 when the command's output came back.

use std::time::Duration;

use aws_ssm_bridge::{EndpointPolicy, SessionConfig, SessionManager};
use futures::StreamExt;

const EXPECTED: &str = "interop-42";

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let Some(target) = std::env::args().nth(1) else {
        eprintln!("usage: breakglass-interop INSTANCE_ID");
        return std::process::ExitCode::from(2);
    };
    match shell(&target).await {
        Ok(()) => {
            println!("interop: aws-ssm-bridge ran a command in a sandbox shell on {target}");
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
