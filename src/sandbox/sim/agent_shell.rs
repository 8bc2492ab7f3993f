//! The sandbox agent's shell: `bash` on a real pseudo-terminal in the throwaway directory,
//! as the SSM agent's shell plugin runs one; its terminal's output goes to the agent, the
//! client's keystrokes and terminal size come back.

use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::agent::{Backend, BackendInput, Out};
use crate::datachannel::PayloadType;
use crate::datachannel::payload::Size;

/// Starts the shell; its output (and its end) go to `output`.
pub fn start(dir: &Path, size: Option<Size>, output: mpsc::Sender<Out>) -> Result<Backend, String> {
    let (pty, child) = pty_process::open()
        .and_then(|(pty, pts)| {
            if let Some(size) = size {
                pty.resize(pty_size(size))?;
            }
            let (program, args) = shell_command();
            let child = pty_process::Command::new(program)
                .args(args)
                .current_dir(dir)
                .env_clear()
                .env("HOME", dir)
                .env("PATH", "/usr/local/bin:/usr/bin:/bin")
                .env("TERM", "xterm-256color")
                .env("PS1", "sandbox$ ")
                .kill_on_drop(true)
                .spawn(pts)?;
            Ok((pty, child))
        })
        .map_err(|err| format!("the sandbox could not start a shell: {err}"))?;
    let (mut reader, mut writer) = pty.into_split();
    let (input, mut inputs) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Some(next) = inputs.recv().await {
            let done = match next {
                BackendInput::Bytes(bytes) => writer.write_all(&bytes).await.is_err(),
                BackendInput::Resize(size) => writer.resize(pty_size(size)).is_err(),
                BackendInput::Flag(_) => false,
            };
            if done {
                break;
            }
        }
    });
    tokio::spawn(async move {
        let mut buffer = vec![0; 1024];
        // A terminal whose shell exited reads EOF or EIO: either ends the session.
        while let Ok(n) = reader.read(&mut buffer).await {
            let chunk = Out::Stream(PayloadType::Output, buffer[..n].to_vec());
            if n == 0 || output.send(chunk).await.is_err() {
                break;
            }
        }
    });
    Ok(Backend {
        child: Some(child),
        input,
    })
}

fn pty_size(size: Size) -> pty_process::Size {
    let clamp = |v: u32| u16::try_from(v).unwrap_or(u16::MAX);
    pty_process::Size::new(clamp(size.rows), clamp(size.cols))
}

/// The shell a session runs: `bash -i`, through `env --default-signal=INT,QUIT` where this
/// system's `env` has it (GNU coreutils 8.31 and later). A shell the SSM agent starts has
/// Ctrl-C and Ctrl-\ at their defaults; without this, a simulator hosted by a process that
/// ignores them (a job started in the background of a script ignores both) would hand them
/// on, ignored, to the shell and every command in it — and Ctrl-C could stop nothing.
fn shell_command() -> (&'static str, &'static [&'static str]) {
    const BASH: &[&str] = &["--noprofile", "--norc", "-i"];
    const ENV: &[&str] = &[
        "--default-signal=INT,QUIT",
        "bash",
        "--noprofile",
        "--norc",
        "-i",
    ];
    static RESETS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    let resets = *RESETS.get_or_init(|| {
        std::process::Command::new("env")
            .args(["--default-signal=INT,QUIT", "true"])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    if resets { ("env", ENV) } else { ("bash", BASH) }
}
