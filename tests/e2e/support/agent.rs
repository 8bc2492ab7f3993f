//! A stand-in for the SSM agent side of Run Command (moto answers every command with
//! `Success` and no output): a loopback SSM endpoint that really runs the script of each
//! `SendCommand` with `bash` on this machine and reports its status, exit code and output.
//! Knobs make the agent offline, a Windows host, a command that times out, or a host that
//! misreports the size it uploaded. Every other SSM call goes on to moto unchanged.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// One command's invocation, as the stub reports it.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub status: String,
    pub exit_code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// What the agent is and has seen.
#[derive(Debug)]
pub struct AgentState {
    pub ping_status: String,
    pub platform_type: String,
    /// Answer every command with this status instead of running it (e.g. `TimedOut`).
    pub forced_status: Option<String>,
    /// Report one byte more than was uploaded.
    pub misreport_size: bool,
    /// Report a SHA-256 other than the one computed.
    pub misreport_hash: bool,
    /// The scripts received, in order.
    pub scripts: Vec<String>,
    pub invocations: BTreeMap<String, Invocation>,
}

pub struct Agent {
    pub endpoint: String,
    pub state: Arc<Mutex<AgentState>>,
}

/// Starts the stub for `instance`: Online, Linux.
pub fn agent(instance: &str) -> Agent {
    let state = Arc::new(Mutex::new(AgentState {
        ping_status: "Online".into(),
        platform_type: "Linux".into(),
        forced_status: None,
        misreport_size: false,
        misreport_hash: false,
        scripts: Vec::new(),
        invocations: BTreeMap::new(),
    }));
    let shared = state.clone();
    let instance = instance.to_owned();
    let endpoint = super::stub::serve_raw(move |head, raw| {
        let target = super::stub::target_of(head);
        let request: Value = serde_json::from_slice(raw).unwrap_or(Value::Null);
        let made = |status: u16, body: Value| super::stub::Reply::Made(status, body.to_string());
        let answer = match target.trim_start_matches("AmazonSSM.") {
            "DescribeInstanceInformation" => {
                let s = shared.lock().unwrap();
                json!({ "InstanceInformationList": [{
                    "InstanceId": instance, "PingStatus": s.ping_status,
                    "AgentVersion": "3.3.1142.0", "PlatformType": s.platform_type,
                    "PlatformName": "Ubuntu" }] })
            }
            "SendCommand" => {
                let script = request["Parameters"]["commands"][0]
                    .as_str()
                    .unwrap_or("")
                    .to_owned();
                let id = format!(
                    "c0ffee00-0000-4000-8000-{:012}",
                    shared.lock().unwrap().scripts.len()
                );
                start(&shared, &id, script);
                json!({ "Command": { "CommandId": id, "Status": "Pending" } })
            }
            "DescribeSessions" => json!({ "Sessions": [] }),
            "ListCommands" => {
                let s = shared.lock().unwrap();
                let commands: Vec<Value> = s
                    .invocations
                    .iter()
                    .map(|(id, i)| json!({ "CommandId": id, "Status": i.status }))
                    .collect();
                json!({ "Commands": commands })
            }
            "GetCommandInvocation" => {
                let id = request["CommandId"].as_str().unwrap_or("");
                let s = shared.lock().unwrap();
                match s.invocations.get(id) {
                    None => return made(400, json!({ "__type": "InvocationDoesNotExist" })),
                    Some(i) => json!({
                        "CommandId": id, "InstanceId": instance, "Status": i.status,
                        "StatusDetails": i.status, "ResponseCode": i.exit_code,
                        "StandardOutputContent": i.stdout, "StandardErrorContent": i.stderr }),
                }
            }
            // Everything else (parameters, …) is moto's.
            _ => {
                let moto = super::moto().endpoint();
                return super::stub::Reply::Raw(super::stub::forward(&moto, head, raw));
            }
        };
        made(200, answer)
    });
    Agent { endpoint, state }
}

fn start(state: &Arc<Mutex<AgentState>>, id: &str, script: String) {
    let mut s = state.lock().unwrap();
    s.scripts.push(script.clone());
    if let Some(status) = s.forced_status.clone() {
        s.invocations.insert(
            id.to_owned(),
            Invocation {
                status,
                exit_code: -1,
                stdout: String::new(),
                stderr: String::new(),
            },
        );
        return;
    }
    s.invocations.insert(
        id.to_owned(),
        Invocation {
            status: "InProgress".into(),
            exit_code: -1,
            stdout: String::new(),
            stderr: String::new(),
        },
    );
    let state = state.clone();
    let id = id.to_owned();
    std::thread::spawn(move || {
        let out = std::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .output()
            .unwrap();
        let mut stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let mut s = state.lock().unwrap();
        if s.misreport_size
            && let Some(at) = stdout.find("size=")
        {
            let size: u64 = stdout[at + 5..].trim().parse().unwrap_or(0);
            stdout = format!("{}size={}\n", &stdout[..at], size + 1);
        }
        if s.misreport_hash
            && let Some(at) = stdout.find("sha256=")
        {
            stdout.replace_range(at + 7..at + 7 + 64, &"0".repeat(64));
        }
        let code = out.status.code().unwrap_or(-1);
        s.invocations.insert(
            id,
            Invocation {
                status: if code == 0 { "Success" } else { "Failed" }.into(),
                exit_code: code,
                stdout,
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            },
        );
    });
}
