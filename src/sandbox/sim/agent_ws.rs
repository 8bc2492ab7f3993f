//! The websocket end of the sandbox's data channel (`/v1/data-channel/<session id>`): refuses
//! an upgrade without a valid SigV4 signature (`upgrade_auth.rs`), checks the open frame's
//! token against the session's current one, then shuttles binary frames
//! between the client and the session's agent until either side closes.

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use tokio::sync::mpsc;

use crate::datachannel::payload::OpenDataChannel;

use super::agent::{Event, Outbound};
use super::server::App;
use super::upgrade_auth;

/// How long a new connection has to send its open frame.
const OPEN_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub async fn upgrade(
    State(app): State<App>,
    Path(session_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    socket: WebSocketUpgrade,
) -> Response {
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let verified = {
        let s = app.state.lock().unwrap_or_else(|p| p.into_inner());
        upgrade_auth::verify(
            &headers,
            path,
            &s.signing_keys,
            std::time::SystemTime::now(),
        )
    };
    if let Err(reason) = verified {
        tracing::warn!("refused a data-channel upgrade: {reason}");
        return (StatusCode::FORBIDDEN, reason).into_response();
    }
    socket.on_upgrade(move |socket| serve(app, session_id, socket))
}

async fn serve(app: App, session_id: String, socket: WebSocket) {
    let (mut sink, mut incoming) = socket.split();
    let open = tokio::time::timeout(OPEN_TIMEOUT, incoming.next()).await;
    let Ok(Some(Ok(Message::Text(text)))) = open else {
        return;
    };
    let Ok(open) = serde_json::from_str::<OpenDataChannel>(text.as_str()) else {
        let _ = sink.close().await;
        return;
    };
    let attached = {
        let mut s = app.state.lock().unwrap_or_else(|p| p.into_inner());
        s.attachments += 1;
        let generation = s.attachments;
        s.live
            .get(&session_id)
            .filter(|live| live.token == open.token_value)
            .map(|live| (generation, live.agent.clone()))
    };
    // A wrong or spent token, or a session that ended: the service just closes.
    let Some((generation, agent)) = attached else {
        let _ = sink.close().await;
        return;
    };
    let (outbound, mut frames) = mpsc::unbounded_channel();
    if agent
        .send(Event::Attach {
            generation,
            socket: outbound,
        })
        .is_err()
    {
        let _ = sink.close().await;
        return;
    }
    loop {
        tokio::select! {
            out = frames.recv() => match out {
                Some(Outbound::Binary(bytes)) => {
                    if sink.send(Message::Binary(bytes.into())).await.is_err() {
                        break;
                    }
                }
                Some(Outbound::Close) | None => {
                    let _ = sink.close().await;
                    break;
                }
            },
            message = incoming.next() => match message {
                Some(Ok(Message::Binary(bytes))) => {
                    let _ = agent.send(Event::Frame(bytes.to_vec()));
                }
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Text(_))) => {}
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
            },
        }
    }
    let _ = agent.send(Event::Detach { generation });
}
