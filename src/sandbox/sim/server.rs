//! The simulator's HTTP side: every request is classified (service and operation), counted,
//! written into the ledger, put through the fault rules, then answered here (the SSM operations moto lacks) or
//! forwarded to moto unchanged. `/sim-api/…` is the control surface for drills and tests.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Response, StatusCode, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

use super::faults::{self, Fault, Verdict};
use super::ledger::{self, Progress};
use super::lifecycle;
use super::request::{classify, credential_of, service_of};
use super::resign::resign;
use super::state::{ManagedInstance, Session, SimState};
use super::{capacity, consistency};
use super::{sessions, ssm};

/// Largest request body read into memory (API calls); uploads stream through.
const BODY_LIMIT: usize = 16 * 1024 * 1024;

#[derive(Clone)]
pub struct App {
    pub state: Arc<Mutex<SimState>>,
    pub moto: String,
    /// The simulator's own `http://127.0.0.1:PORT` (for URLs it hands out).
    pub endpoint: String,
    pub client: Client<HttpConnector, Body>,
}

impl App {
    pub fn new(state: Arc<Mutex<SimState>>, moto: &str, endpoint: &str) -> App {
        App {
            state,
            moto: moto.trim_end_matches('/').to_owned(),
            endpoint: endpoint.to_owned(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }
}

fn reply(status: u16, content_type: &str, body: String) -> Response<Body> {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Ok(value) = HeaderValue::from_str(content_type) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    response.headers_mut().insert(
        "x-amzn-RequestId",
        HeaderValue::from_static("sandbox-request"),
    );
    response
}

/// Every request.
pub async fn dispatch(State(app): State<App>, request: Request) -> Response<Body> {
    if request.uri().path().starts_with("/sim-api/") {
        return admin(&app, request).await;
    }
    if super::sso_routes::is_sso(request.uri().path()) {
        return super::sso_routes::handle(&app, request).await;
    }
    let (parts, body) = request.into_parts();
    let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
    let Some(service) = service_of(header("authorization"), parts.uri.query()) else {
        return forward(&app, parts, body).await;
    };
    let content_type = header("content-type").unwrap_or_default();
    let scope = credential_of(header("authorization"), parts.uri.query()).unwrap_or_default();
    let access_key = scope.split('/').next().unwrap_or_default();
    let resign_secret = app
        .state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .resign_keys
        .get(access_key)
        .cloned();
    let small = content_type.contains("json")
        || content_type.contains("x-www-form-urlencoded")
        || resign_secret.is_some();
    let (bytes, body) = if small {
        match axum::body::to_bytes(body, BODY_LIMIT).await {
            Ok(bytes) => (bytes.clone(), Body::from(bytes)),
            Err(err) => return reply(400, "text/plain", format!("cannot read the request: {err}")),
        }
    } else {
        (Bytes::new(), body)
    };
    let call = classify(
        &service,
        parts.method.as_str(),
        parts.uri.path(),
        header("x-amz-target"),
        &bytes,
    );
    let resources = ledger::resources(&service, parts.uri.path(), &bytes);
    let at_max_size = if capacity::asks(&call.name()) && resign_secret.is_none() {
        capacity::refusal(&app, header("authorization"), &bytes).await
    } else {
        None
    };
    let (seq, verdict) = {
        let mut s = app.state.lock().unwrap_or_else(|p| p.into_inner());
        *s.counts.entry(call.name()).or_default() += 1;
        let unseen = (service == "ec2")
            .then(|| s.consistency.unseen_in(&bytes))
            .flatten();
        if let Some(group) = unseen {
            return refused(&mut s, call.name(), resources, "not_yet_visible", {
                consistency::not_found(&group)
            });
        }
        let refusal = s
            .lifecycle
            .refuses(&call.name(), &String::from_utf8_lossy(&bytes));
        if let Some(message) = refusal {
            let error = lifecycle::validation_error(&message);
            return refused(&mut s, call.name(), resources, "not_in_service", error);
        }
        if let Some(message) = at_max_size {
            let error = lifecycle::validation_error(&message);
            return refused(&mut s, call.name(), resources, "at_max_size", error);
        }
        let applied = faults::apply(&mut s.faults, &call.name(), false);
        let held = matches!(applied.verdict, Verdict::Pass { before, .. } if !before.is_zero());
        let seq = s.ledger.push(call.name(), resources, &applied.kinds, held);
        (seq, applied.verdict)
    };
    let (before, after, cut) = match verdict {
        Verdict::Fail(kind) => {
            let (status, content_type, body) = faults::error_response(&kind, call.protocol);
            app.record(seq, Progress::Refused, Some(status), None);
            return reply(status, content_type, body);
        }
        Verdict::Pass { before, after, cut } => (before, after, cut),
    };
    if !before.is_zero() {
        tokio::time::sleep(before).await;
        app.record(seq, Progress::Made, None, None);
    }
    let request = Call {
        parts,
        body,
        bytes,
        call,
        scope,
        resign_secret,
    };
    if after.is_zero() && !cut {
        return answered(app, request, seq).await;
    }
    // The call is made whatever happens to this connection (a client killed while it
    // waits), as AWS would; then the answer is held, or the connection cut.
    let made = tokio::spawn(answered(app.clone(), request, seq));
    let response = made
        .await
        .unwrap_or_else(|e| reply(500, "text/plain", format!("the call failed: {e}")));
    tokio::time::sleep(after).await;
    if cut {
        app.record(seq, Progress::Cut, None, None);
        return cut_connection();
    }
    response
}

/// Refuses a call as AWS would, with the reason (`fault`) in the ledger.
fn refused(
    s: &mut SimState,
    call: String,
    resources: Vec<String>,
    fault: &'static str,
    (status, content_type, body): (u16, &'static str, String),
) -> Response<Body> {
    let seq = s.ledger.push(call, resources, &[fault], false);
    s.ledger.update(seq, Progress::Refused, Some(status), None);
    reply(status, content_type, body)
}

/// Answers a call and writes its answer into the ledger.
async fn answered(app: App, request: Call, seq: u64) -> Response<Body> {
    let response = answer(app.clone(), request).await;
    let version = response
        .headers()
        .get("x-amz-version-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    app.record(
        seq,
        Progress::Answered,
        Some(response.status().as_u16()),
        version,
    );
    response
}

impl App {
    /// Moves ledger entry `seq` on to `progress`.
    fn record(&self, seq: u64, progress: Progress, status: Option<u16>, version: Option<String>) {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        s.ledger.update(seq, progress, status, version);
    }
}

/// A request on its way to its answer.
struct Call {
    parts: axum::http::request::Parts,
    body: Body,
    /// The body, when it was read (JSON and form requests).
    bytes: Bytes,
    call: super::request::Classified,
    /// The SigV4 credential scope.
    scope: String,
    /// Set when the caller's requests are re-signed for moto (`resign.rs`).
    resign_secret: Option<String>,
}

/// Answers a call: the SSM operations the simulator plays, otherwise moto's answer (with
/// the timing's rewrite of describe answers).
async fn answer(app: App, request: Call) -> Response<Body> {
    let Call {
        mut parts,
        mut body,
        bytes,
        call,
        scope,
        resign_secret,
    } = request;
    if call.service == "ssm" {
        let json: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let authorization = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        let answer = if ssm::HANDLED.contains(&call.operation.as_str()) {
            ssm::handle(&app.state, &call.operation, &json)
        } else {
            sessions::handle(&app, authorization, &call.operation, &json)
        };
        if let Some((status, answer)) = answer {
            return reply(status, "application/x-amz-json-1.1", answer.to_string());
        }
    }
    let timed = {
        let s = app.state.lock().unwrap_or_else(|p| p.into_inner());
        s.timing.wants(&call.name()) || s.lifecycle.wants(&call.name())
    };
    if let Some(secret) = resign_secret {
        match resign(&mut parts, &bytes, &scope, &secret) {
            Ok(resigned) => body = Body::from(resigned),
            Err(err) => return reply(500, "text/plain", format!("cannot re-sign: {err}")),
        }
    }
    let response = forward(&app, parts, body).await;
    if call.name() == "ec2:CreateSecurityGroup" {
        return noted_group(&app, response).await;
    }
    if !timed {
        return response;
    }
    // A small describe answer: read it, let the timing rewrite it.
    let (mut head, body) = response.into_parts();
    let Ok(answer) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return reply(
            502,
            "text/plain",
            "cannot read the emulator's answer".into(),
        );
    };
    let rewritten = {
        let mut s = app.state.lock().unwrap_or_else(|p| p.into_inner());
        let (operation, request) = (call.name(), String::from_utf8_lossy(&bytes));
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let answer = s.timing.answer(&operation, &request, answer);
        if head.status.is_success() {
            s.lifecycle.answer(&operation, &request, answer)
        } else {
            answer
        }
    };
    head.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(head, Body::from(rewritten))
}

/// A `CreateSecurityGroup` answer, its new group noted as not yet visible.
async fn noted_group(app: &App, response: Response<Body>) -> Response<Body> {
    if app
        .state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .consistency
        .delay
        .is_zero()
    {
        return response;
    }
    let (head, body) = response.into_parts();
    let Ok(answer) = axum::body::to_bytes(body, BODY_LIMIT).await else {
        return reply(
            502,
            "text/plain",
            "cannot read the emulator's answer".into(),
        );
    };
    if head.status.is_success() {
        let mut s = app.state.lock().unwrap_or_else(|p| p.into_inner());
        s.consistency.created(&String::from_utf8_lossy(&answer));
    }
    Response::from_parts(head, Body::from(answer))
}

/// A response that breaks off: its body fails at once, so the server drops the connection
/// and the client sees it reset with no answer.
fn cut_connection() -> Response<Body> {
    let broken = futures::stream::once(async {
        Err::<Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "connection reset (injected by the sandbox)",
        ))
    });
    Response::new(Body::from_stream(broken))
}

/// Sends the request to moto unchanged and streams the answer back.
async fn forward(app: &App, mut parts: axum::http::request::Parts, body: Body) -> Response<Body> {
    let path = parts
        .uri
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let uri = format!("{}{path}", app.moto);
    parts.uri = match uri.parse() {
        Ok(uri) => uri,
        Err(err) => return reply(500, "text/plain", format!("bad upstream URI: {err}")),
    };
    let request = axum::http::Request::from_parts(parts, body);
    match app.client.request(request).await {
        Ok(mut response) => {
            let offset = app
                .state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clock_offset;
            super::clock::shift(response.headers_mut(), offset);
            response.map(Body::new)
        }
        Err(err) => reply(
            502,
            "text/plain",
            format!("the sandbox could not reach its emulator: {err}"),
        ),
    }
}

/// `/sim-api/…`: register managed instances and sessions, set and clear faults, read counts.
async fn admin(app: &App, request: Request) -> Response<Body> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let bytes = axum::body::to_bytes(request.into_body(), BODY_LIMIT)
        .await
        .unwrap_or_default();
    let mut s = app.state.lock().unwrap_or_else(|p| p.into_inner());
    let bad = |e: serde_json::Error| reply(400, "text/plain", format!("bad request: {e}"));
    match (method.as_str(), path.as_str()) {
        ("POST", "/sim-api/managed") => {
            match serde_json::from_slice::<Vec<ManagedInstance>>(&bytes) {
                Ok(list) => {
                    for m in list {
                        s.managed.insert(m.instance_id.clone(), m);
                    }
                    reply(200, "application/json", "{}".into())
                }
                Err(e) => bad(e),
            }
        }
        ("POST", "/sim-api/sessions") => match serde_json::from_slice::<Vec<Session>>(&bytes) {
            Ok(list) => {
                for x in list {
                    s.sessions.insert(x.session_id.clone(), x);
                }
                reply(200, "application/json", "{}".into())
            }
            Err(e) => bad(e),
        },
        ("POST", "/sim-api/faults") => match serde_json::from_slice::<Vec<Fault>>(&bytes) {
            Ok(list) => {
                s.faults.extend(list);
                reply(200, "application/json", "{}".into())
            }
            Err(e) => bad(e),
        },
        ("DELETE", "/sim-api/faults") => {
            s.faults.clear();
            reply(200, "application/json", "{}".into())
        }
        ("POST", "/sim-api/timing") => match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => {
                let seconds = |k: &str| std::time::Duration::from_secs(v[k].as_u64().unwrap_or(0));
                s.timing.snapshot_time = seconds("snapshot_seconds");
                s.timing.draining_time = seconds("draining_seconds");
                s.lifecycle.transition = seconds("lifecycle_seconds");
                s.consistency.delay =
                    std::time::Duration::from_millis(v["new_group_millis"].as_u64().unwrap_or(0));
                reply(200, "application/json", "{}".into())
            }
            Err(e) => bad(e),
        },
        ("POST", "/sim-api/sso") => match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => {
                s.sso.auto_approve = v["auto_approve"].as_bool().unwrap_or(false);
                match serde_json::from_value(v) {
                    Ok(knobs) => {
                        s.sso.knobs = knobs;
                        reply(200, "application/json", "{}".into())
                    }
                    Err(e) => bad(e),
                }
            }
            Err(e) => bad(e),
        },
        ("POST", "/sim-api/session-encryption") => match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => {
                s.session_kms_key = v["kms_key_id"].as_str().map(str::to_owned);
                reply(200, "application/json", "{}".into())
            }
            Err(e) => bad(e),
        },
        ("GET", "/sim-api/ledger") => reply(
            200,
            "application/json",
            serde_json::to_string(&s.ledger.entries()).unwrap_or_default(),
        ),
        ("GET", "/sim-api/counts") => reply(
            200,
            "application/json",
            serde_json::to_string(&s.counts).unwrap_or_default(),
        ),
        _ => reply(
            404,
            "text/plain",
            format!("no such sandbox control: {method} {path}"),
        ),
    }
}
