//! Handing a session to the AWS `session-manager-plugin`, as the AWS CLI does — the
//! StartSession response in the `AWS_SSM_START_SESSION_RESPONSE` environment variable
//! (so the token never shows in the process list), then region, `StartSession`, profile,
//! the request and the SSM endpoint as arguments — but on a pseudo-terminal breakglass
//! owns, so the transcript is recorded exactly as with the native client.

use std::path::PathBuf;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::terminal::{Remote, RemoteEvent};

/// The plugin's executable name.
pub const PROGRAM: &str = "session-manager-plugin";
/// The environment variable the plugin reads the StartSession response from.
pub const RESPONSE_VAR: &str = "AWS_SSM_START_SESSION_RESPONSE";

/// The plugin on PATH, or why not.
pub fn find() -> Result<PathBuf, String> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join(PROGRAM))
        .find(|candidate| candidate.is_file())
        .ok_or_else(|| {
            format!(
                "`{PROGRAM}` is not on PATH; install the AWS Session Manager plugin \
                 (https://docs.aws.amazon.com/systems-manager/latest/userguide/session-manager-working-with-install-plugin.html) \
                 or use the native client (leave out --plugin)"
            )
        })
}

/// What the plugin is started with.
pub struct Launch {
    pub program: PathBuf,
    /// `{SessionId, TokenValue, StreamUrl}` as JSON — a secret (the token).
    pub response: String,
    pub region: String,
    pub profile: String,
    /// `{Target, DocumentName?, Parameters?}` as JSON.
    pub request: String,
    pub endpoint: String,
}

impl Launch {
    /// The arguments, as the AWS CLI passes them to plugins that read the response from the
    /// environment.
    pub fn args(&self) -> Vec<String> {
        vec![
            RESPONSE_VAR.to_owned(),
            self.region.clone(),
            "StartSession".to_owned(),
            self.profile.clone(),
            self.request.clone(),
            self.endpoint.clone(),
        ]
    }
}

/// The plugin running on a pseudo-terminal.
pub struct Plugin {
    input: mpsc::UnboundedSender<Input>,
    output: mpsc::Receiver<Vec<u8>>,
    child: tokio::process::Child,
}

enum Input {
    Bytes(Vec<u8>),
    Resize(u16, u16),
}

impl Plugin {
    pub fn start(launch: &Launch, cols: u16, rows: u16) -> std::io::Result<Plugin> {
        let (pty, pts) = pty_process::open().map_err(std::io::Error::other)?;
        pty.resize(pty_process::Size::new(rows, cols))
            .map_err(std::io::Error::other)?;
        let child = pty_process::Command::new(&launch.program)
            .args(launch.args())
            .env(RESPONSE_VAR, &launch.response)
            .kill_on_drop(true)
            .spawn(pts)
            .map_err(std::io::Error::other)?;
        let (mut reader, mut writer) = pty.into_split();
        let (input, mut inputs) = mpsc::unbounded_channel::<Input>();
        tokio::spawn(async move {
            while let Some(next) = inputs.recv().await {
                let failed = match next {
                    Input::Bytes(bytes) => writer.write_all(&bytes).await.is_err(),
                    Input::Resize(cols, rows) => {
                        writer.resize(pty_process::Size::new(rows, cols)).is_err()
                    }
                };
                if failed {
                    break;
                }
            }
        });
        let (tx, output) = mpsc::channel(32);
        tokio::spawn(async move {
            let mut buffer = vec![0; 4096];
            while let Ok(n) = reader.read(&mut buffer).await {
                if n == 0 || tx.send(buffer[..n].to_vec()).await.is_err() {
                    break;
                }
            }
        });
        Ok(Plugin {
            input,
            output,
            child,
        })
    }
}

impl Remote for Plugin {
    fn input(&mut self, bytes: &[u8]) {
        let _ = self.input.send(Input::Bytes(bytes.to_vec()));
    }

    fn resize(&mut self, cols: u16, rows: u16) {
        let _ = self.input.send(Input::Resize(cols, rows));
    }

    async fn next(&mut self) -> Option<RemoteEvent> {
        if let Some(bytes) = self.output.recv().await {
            return Some(RemoteEvent::Output(bytes));
        }
        // The terminal closed: the plugin is exiting.
        Some(match self.child.wait().await {
            Ok(status) if status.success() => RemoteEvent::Closed(String::new()),
            Ok(status) => {
                RemoteEvent::Failed(format!("the session-manager-plugin exited with {status}"))
            }
            Err(err) => RemoteEvent::Failed(format!("the session-manager-plugin: {err}")),
        })
    }
}

/// The SSM endpoint the plugin should use: the override, else the regional one.
pub fn ssm_endpoint(region: &str) -> String {
    ["AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|e| !e.is_empty()))
        .unwrap_or_else(|| format!("https://ssm.{region}.amazonaws.com"))
}
