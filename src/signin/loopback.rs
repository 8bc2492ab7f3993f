//! The loopback redirect of the authorization-code flow: a one-shot HTTP listener on
//! 127.0.0.1 (random port) that takes `/oauth/callback?code=…&state=…`, checks the state and
//! hands the code over.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Query, State};
use axum::response::Html;
use tokio::sync::oneshot;

use super::SignInError;

type Answer = Result<String, SignInError>;

pub struct Loopback {
    port: u16,
    answer: oneshot::Receiver<Answer>,
    server: tokio::task::JoinHandle<()>,
}

#[derive(Clone)]
struct Shared {
    state: String,
    answer: Arc<Mutex<Option<oneshot::Sender<Answer>>>>,
}

impl Loopback {
    pub async fn start(state: &str) -> std::io::Result<Loopback> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let (tx, answer) = oneshot::channel();
        let shared = Shared {
            state: state.to_owned(),
            answer: Arc::new(Mutex::new(Some(tx))),
        };
        let app = axum::Router::new()
            .route("/oauth/callback", axum::routing::get(callback))
            .with_state(shared);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Loopback {
            port,
            answer,
            server,
        })
    }

    pub fn redirect_uri(&self) -> String {
        format!("http://127.0.0.1:{}/oauth/callback", self.port)
    }

    /// Waits for the browser (at most `timeout`).
    pub async fn code(self, timeout: Duration) -> Answer {
        let answer = tokio::time::timeout(timeout, self.answer).await;
        self.server.abort();
        match answer {
            Ok(Ok(answer)) => answer,
            Ok(Err(_)) => Err(SignInError::Service("the sign-in listener stopped".into())),
            Err(_) => Err(SignInError::CodeExpired),
        }
    }
}

async fn callback(
    State(shared): State<Shared>,
    Query(query): Query<std::collections::HashMap<String, String>>,
) -> Html<&'static str> {
    let answer = if query.get("state") != Some(&shared.state) {
        Err(SignInError::Service(
            "the browser came back with a different state; sign in again".into(),
        ))
    } else if let Some(error) = query.get("error") {
        if error == "access_denied" {
            Err(SignInError::Denied)
        } else {
            Err(SignInError::Service(format!("the sign-in failed: {error}")))
        }
    } else if let Some(code) = query.get("code") {
        Ok(code.clone())
    } else {
        Err(SignInError::Service(
            "the browser came back without a code".into(),
        ))
    };
    let page = if answer.is_ok() {
        "<!doctype html><title>breakglass</title><p>Signed in to breakglass. You can close this window.</p>"
    } else {
        "<!doctype html><title>breakglass</title><p>The sign-in did not complete; see the terminal.</p>"
    };
    if let Some(tx) = shared
        .answer
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take()
    {
        let _ = tx.send(answer);
    }
    Html(page)
}
