//! The SSM operations the simulator answers itself (moto lacks them or answers them
//! unrealistically): managed-instance inventory and Run Command (sessions are in
//! `sessions.rs`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::runcmd;
use super::state::SimState;

/// Operations answered here; every other SSM call goes to moto.
pub const HANDLED: &[&str] = &[
    "DescribeInstanceInformation",
    "SendCommand",
    "GetCommandInvocation",
    "ListCommands",
    "CancelCommand",
];

fn error(code: &str, message: &str) -> (u16, Value) {
    (400, json!({ "__type": code, "message": message }))
}

fn now() -> f64 {
    chrono::Utc::now().timestamp_millis() as f64 / 1000.0
}

/// The values of the `InstanceIds` filter, in either filter style.
fn instance_filter(body: &Value) -> Option<Vec<String>> {
    let from = |list: &Value, key: &str, values: &str| {
        list.as_array()?.iter().find_map(|f| {
            (f[key] == "InstanceIds").then(|| {
                f[values]
                    .as_array()
                    .map(|v| {
                        v.iter()
                            .filter_map(|x| x.as_str().map(str::to_owned))
                            .collect()
                    })
                    .unwrap_or_default()
            })
        })
    };
    from(&body["Filters"], "Key", "Values")
        .or_else(|| from(&body["InstanceInformationFilterList"], "key", "valueSet"))
}

/// Answers `operation`, or `None` to let moto answer it.
pub fn handle(state: &Arc<Mutex<SimState>>, operation: &str, body: &Value) -> Option<(u16, Value)> {
    let lock = || state.lock().unwrap_or_else(|p| p.into_inner());
    Some(match operation {
        "DescribeInstanceInformation" => {
            let wanted = instance_filter(body);
            let s = lock();
            let list: Vec<Value> = s
                .managed
                .values()
                .filter(|m| wanted.as_ref().is_none_or(|w| w.contains(&m.instance_id)))
                .map(|m| {
                    json!({
                        "InstanceId": m.instance_id, "PingStatus": m.ping_status,
                        "PlatformType": m.platform_type, "AgentVersion": "3.3.1142.0",
                        "PlatformName": if m.platform_type == "Linux" { "Ubuntu" } else { "Microsoft Windows Server 2022" },
                        "ResourceType": "EC2Instance", "LastPingDateTime": now(),
                    })
                })
                .collect();
            (200, json!({ "InstanceInformationList": list }))
        }
        "SendCommand" => {
            let document = body["DocumentName"].as_str().unwrap_or_default();
            if document != "AWS-RunShellScript" {
                return Some(error(
                    "InvalidDocument",
                    "the sandbox runs AWS-RunShellScript only",
                ));
            }
            let instances: Vec<String> = body["InstanceIds"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            if instances.is_empty() || instances.iter().any(|i| !lock().managed.contains_key(i)) {
                return Some(error(
                    "InvalidInstanceId",
                    "the instance is not managed by SSM",
                ));
            }
            let script = body["Parameters"]["commands"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("\n")
                })
                .unwrap_or_default();
            let timeout = body["Parameters"]["executionTimeout"][0]
                .as_str()
                .and_then(|t| t.parse().ok())
                .unwrap_or(3600);
            let comment = body["Comment"].as_str().unwrap_or_default().to_owned();
            let command_id = uuid::Uuid::now_v7().to_string();
            for instance in &instances {
                runcmd::start(
                    state,
                    &command_id,
                    instance,
                    &comment,
                    script.clone(),
                    Duration::from_secs(timeout),
                );
            }
            (
                200,
                json!({ "Command": {
                "CommandId": command_id, "DocumentName": document, "Comment": comment,
                "InstanceIds": instances, "Status": "Pending", "RequestedDateTime": now() } }),
            )
        }
        "GetCommandInvocation" => {
            let id = body["CommandId"].as_str().unwrap_or_default();
            let instance = body["InstanceId"].as_str().unwrap_or_default();
            let s = lock();
            match s.invocations.get(id).filter(|i| i.instance_id == instance) {
                None => error("InvocationDoesNotExist", "no such invocation"),
                Some(i) => (
                    200,
                    json!({
                    "CommandId": i.command_id, "InstanceId": i.instance_id, "Comment": i.comment,
                    "DocumentName": "AWS-RunShellScript", "Status": i.status,
                    "StatusDetails": i.status, "ResponseCode": i.exit_code,
                    "StandardOutputContent": i.stdout, "StandardErrorContent": i.stderr }),
                ),
            }
        }
        "ListCommands" => {
            let instance = body["InstanceId"].as_str();
            let command = body["CommandId"].as_str();
            let s = lock();
            let commands: Vec<Value> = s
                .invocations
                .values()
                .filter(|i| instance.is_none_or(|x| x == i.instance_id))
                .filter(|i| command.is_none_or(|x| x == i.command_id))
                .map(|i| {
                    json!({ "CommandId": i.command_id, "Status": i.status,
                                  "InstanceIds": [i.instance_id], "Comment": i.comment,
                                  "DocumentName": "AWS-RunShellScript",
                                  "Parameters": { "commands": [i.script] } })
                })
                .collect();
            (200, json!({ "Commands": commands }))
        }
        "CancelCommand" => {
            let id = body["CommandId"].as_str().unwrap_or_default();
            if runcmd::cancel(state, id) {
                (200, json!({}))
            } else {
                error("InvalidCommandId", "no such command")
            }
        }
        _ => return None,
    })
}
