//! Session Manager's API in the sandbox: StartSession starts an agent (a shell, or port
//! forwarding to a port the sandbox serves) and hands out
//! a `ws://` stream URL on the simulator with a one-time token, ResumeSession issues a new
//! token for the same session, TerminateSession ends it, DescribeSessions lists them.

use serde_json::{Value, json};

use super::agent;
use super::agent_kms::AgentKms;
use super::request::caller_of;
use super::server::App;
use super::state::{LiveSession, Session};

/// The shell document, the one the sandbox's agents run.
pub const SHELL_DOCUMENT: &str = "SSM-SessionManagerRunShell";
/// Port forwarding, to the ports the sandbox was told to serve (`Simulator::serve_port`).
pub const PORT_DOCUMENT: &str = "AWS-StartPortForwardingSession";
/// Who owns sessions started in the sandbox.
pub const OWNER: &str = "arn:aws:sts::123456789012:assumed-role/IncidentResponder/responder";

fn error(code: &str, message: String) -> (u16, Value) {
    (400, json!({ "__type": code, "message": message }))
}

/// A fresh random stream token.
fn token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

fn stream_url(endpoint: &str, session_id: &str) -> String {
    let ws = endpoint.replacen("http://", "ws://", 1);
    format!("{ws}/v1/data-channel/{session_id}?role=publish_subscribe&cell-number=sandbox")
}

/// Answers `operation`, or `None` when it is not a session operation.
pub fn handle(
    app: &App,
    authorization: Option<&str>,
    operation: &str,
    body: &Value,
) -> Option<(u16, Value)> {
    let (state, endpoint) = (&app.state, app.endpoint.as_str());
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    Some(match operation {
        "StartSession" => {
            let target = body["Target"].as_str().unwrap_or_default().to_owned();
            let document = body["DocumentName"].as_str().unwrap_or(SHELL_DOCUMENT);
            if document != SHELL_DOCUMENT && document != PORT_DOCUMENT {
                return Some(error(
                    "InvalidDocument",
                    format!(
                        "the sandbox runs {SHELL_DOCUMENT} and {PORT_DOCUMENT} sessions only, \
                         not {document}"
                    ),
                ));
            }
            let online = s
                .managed
                .get(&target)
                .is_some_and(|m| m.ping_status == "Online");
            if !online {
                return Some(error(
                    "TargetNotConnected",
                    format!("{target} is not connected."),
                ));
            }
            let plugin = if document == SHELL_DOCUMENT {
                agent::Plugin::Shell
            } else {
                let parameter =
                    |name: &str| body["Parameters"][name][0].as_str().map(str::to_owned);
                let Some(port) = parameter("portNumber").and_then(|p| p.parse::<u16>().ok()) else {
                    return Some(error(
                        "ValidationException",
                        format!("{PORT_DOCUMENT} needs the parameter portNumber: a port number"),
                    ));
                };
                agent::Plugin::Port {
                    port,
                    local_port: parameter("localPortNumber").unwrap_or_default(),
                    to: s.ports.get(&port).copied(),
                }
            };
            let session_id = format!(
                "responder-{}",
                &hex::encode(rand::random::<[u8; 9]>())[..17]
            );
            let token = token();
            s.issued.push(token.clone());
            {
                let kms = s.session_kms_key.clone().map(|key_id| {
                    let (access_key, region) = caller_of(authorization);
                    AgentKms {
                        key_id,
                        access_key,
                        region,
                        moto: app.moto.clone(),
                        client: app.client.clone(),
                    }
                });
                let agent = agent::spawn(
                    state.clone(),
                    agent::Spawn {
                        session_id: session_id.clone(),
                        target: target.clone(),
                        dir: s.sandbox_dir.clone(),
                        plugin,
                        kms,
                        agent_version: s
                            .agent_version
                            .clone()
                            .unwrap_or_else(|| agent::AGENT_VERSION.into()),
                    },
                );
                s.live.insert(
                    session_id.clone(),
                    LiveSession {
                        token: token.clone(),
                        agent,
                    },
                );
            }
            s.sessions.insert(
                session_id.clone(),
                Session {
                    session_id: session_id.clone(),
                    target,
                    owner: OWNER.into(),
                },
            );
            (
                200,
                json!({ "SessionId": session_id, "TokenValue": token,
                        "StreamUrl": stream_url(endpoint, &session_id) }),
            )
        }
        "ResumeSession" => {
            let id = body["SessionId"].as_str().unwrap_or_default();
            let fresh = token();
            let s = &mut *s;
            match s.live.get_mut(id) {
                Some(live) => {
                    live.token.clone_from(&fresh);
                    s.issued.push(fresh.clone());
                    (
                        200,
                        json!({ "SessionId": id, "TokenValue": fresh,
                                "StreamUrl": stream_url(endpoint, id) }),
                    )
                }
                None => error(
                    "DoesNotExistException",
                    format!("Session {id} does not exist or has ended."),
                ),
            }
        }
        "TerminateSession" => {
            let id = body["SessionId"].as_str().unwrap_or_default().to_owned();
            s.sessions.remove(&id);
            if let Some(live) = s.live.remove(&id) {
                let _ = live.agent.send(agent::Event::Terminate);
            }
            (200, json!({ "SessionId": id }))
        }
        "DescribeSessions" => {
            let target = body["Filters"].as_array().and_then(|f| {
                f.iter()
                    .find(|x| x["key"] == "Target")
                    .and_then(|x| x["value"].as_str().map(str::to_owned))
            });
            let sessions: Vec<Value> = s
                .sessions
                .values()
                .filter(|x| target.as_ref().is_none_or(|t| *t == x.target))
                .map(|x| {
                    json!({ "SessionId": x.session_id, "Target": x.target,
                            "Owner": x.owner, "Status": "Connected" })
                })
                .collect();
            (200, json!({ "Sessions": sessions }))
        }
        _ => return None,
    })
}
