//! The responder's terminal during a shell: raw mode (restored on every exit path), its
//! size, and the loop that moves keystrokes to the remote shell and its output back,
//! recording both, passing Ctrl-C / Ctrl-Z / Ctrl-\ through as bytes, sending resizes, and
//! ending on the remote's close, a failure, or the terminal hanging up.

use std::future::Future;

use std::io::Write;

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

use super::hangup::Hangup;
use super::transcript::Transcript;

/// What the remote side reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteEvent {
    Output(Vec<u8>),
    /// A line for the responder (reconnecting, resumed).
    Notice(String),
    Closed(String),
    Failed(String),
}

/// A remote shell: the native data channel, or the AWS plugin on a pseudo-terminal.
pub trait Remote {
    fn input(&mut self, bytes: &[u8]);
    fn resize(&mut self, cols: u16, rows: u16);
    fn next(&mut self) -> impl Future<Output = Option<RemoteEvent>> + Send;
}

/// How the shell ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The remote closed it (exit, idle timeout, terminated); its message.
    Closed(String),
    Failed(String),
    /// The terminal went away (SIGHUP / SIGTERM) or stdin closed.
    Hangup,
}

impl End {
    pub fn describe(&self) -> String {
        match self {
            End::Closed(message) if message.is_empty() => "closed".into(),
            End::Closed(message) => format!("closed: {message}"),
            End::Failed(message) => format!("failed: {message}"),
            End::Hangup => "the local terminal hung up".into(),
        }
    }
}

/// Raw mode while alive, when stdin is a terminal.
pub struct RawMode(bool);

impl RawMode {
    pub fn enable() -> RawMode {
        use std::io::IsTerminal;
        RawMode(std::io::stdin().is_terminal() && crossterm::terminal::enable_raw_mode().is_ok())
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        if self.0 {
            let _ = crossterm::terminal::disable_raw_mode();
        }
    }
}

/// The terminal's size, `(cols, rows)`; 80×24 when it cannot be read.
pub fn size() -> (u16, u16) {
    crossterm::terminal::size().unwrap_or((80, 24))
}

/// Keystrokes in chunks of at most 1024 bytes, read on a thread of their own (stdin reads
/// block); the channel closes when stdin does.
fn keystrokes() -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel(64);
    std::thread::spawn(move || {
        use std::io::Read;
        let mut stdin = std::io::stdin();
        let mut buffer = [0u8; 1024];
        while let Ok(n) = stdin.read(&mut buffer) {
            if n == 0 || tx.blocking_send(buffer[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    rx
}

/// Runs the shell until it ends. Transcript write errors are kept, not fatal: the second
/// value says what could not be recorded.
pub async fn attach<R: Remote>(
    remote: &mut R,
    mut transcript: Option<&mut Transcript>,
) -> (End, Option<String>) {
    let _raw = RawMode::enable();
    let mut stdin = keystrokes();
    let mut stdout = std::io::stdout();
    let mut winch = signal(SignalKind::window_change()).ok();
    let mut hangup = Hangup::listen();
    let mut record_error = None;
    let keep = |result: std::io::Result<()>, record_error: &mut Option<String>| {
        if let Err(err) = result {
            record_error.get_or_insert_with(|| err.to_string());
        }
    };
    let end = loop {
        tokio::select! {
            read = stdin.recv() => match read {
                None => break End::Hangup,
                Some(bytes) => {
                    if let Some(t) = transcript.as_deref_mut() {
                        keep(t.input(&bytes), &mut record_error);
                    }
                    remote.input(&bytes);
                }
            },
            event = remote.next() => match event {
                Some(RemoteEvent::Output(bytes)) => {
                    if let Some(t) = transcript.as_deref_mut() {
                        keep(t.output(&bytes), &mut record_error);
                    }
                    let _ = stdout.write_all(&bytes);
                    let _ = stdout.flush();
                }
                Some(RemoteEvent::Notice(text)) => {
                    let _ = stdout.write_all(format!("\r\n[breakglass] {text}\r\n").as_bytes());
                    let _ = stdout.flush();
                }
                Some(RemoteEvent::Closed(message)) => break End::Closed(message),
                Some(RemoteEvent::Failed(message)) => break End::Failed(message),
                None => break End::Closed(String::new()),
            },
            Some(()) = async { winch.as_mut()?.recv().await } => {
                let (cols, rows) = size();
                if let Some(t) = transcript.as_deref_mut() {
                    keep(t.resize(cols, rows), &mut record_error);
                }
                remote.resize(cols, rows);
            }
            () = hangup.recv() => break End::Hangup,
        }
    };
    (end, record_error)
}
