//! Run Command in the sandbox: each command's script runs with bash in the simulator's
//! throwaway directory, moving through Pending → InProgress → Success / Failed / TimedOut /
//! Cancelled, with output truncated as SSM does.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::state::{Invocation, Lie, SimState};

/// SSM returns at most this many characters of each stream.
pub const OUTPUT_LIMIT: usize = 24_000;

fn truncate(text: &str) -> String {
    text.chars().take(OUTPUT_LIMIT).collect()
}

/// Starts `script` for `instance`; the invocation is visible at once as `Pending`.
pub fn start(
    state: &Arc<Mutex<SimState>>,
    command_id: &str,
    instance_id: &str,
    comment: &str,
    script: String,
    timeout: Duration,
) {
    let (online, lies, dir) = {
        let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
        let host = s.managed.get(instance_id);
        let online = host.is_some_and(|m| m.ping_status == "Online");
        let lies = host.and_then(|m| m.lies);
        s.invocations.insert(
            command_id.to_owned(),
            Invocation {
                command_id: command_id.to_owned(),
                instance_id: instance_id.to_owned(),
                comment: comment.to_owned(),
                script: script.clone(),
                status: if online { "Pending" } else { "Undeliverable" }.to_owned(),
                exit_code: -1,
                stdout: String::new(),
                stderr: String::new(),
                pid: None,
            },
        );
        (online, lies, s.sandbox_dir.clone())
    };
    if !online {
        return;
    }
    let state = state.clone();
    let id = command_id.to_owned();
    tokio::spawn(async move {
        // A moment in Pending, as a real agent takes to pick the command up.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let child = tokio::process::Command::new("bash")
            .arg("-c")
            .arg(&script)
            .current_dir(&dir)
            .env("HOME", &dir)
            .env("TMPDIR", &dir)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn();
        let update = |f: &dyn Fn(&mut Invocation)| {
            let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(i) = s.invocations.get_mut(&id) {
                f(i);
            }
        };
        let child = match child {
            Ok(child) => child,
            Err(err) => {
                update(&|i| {
                    i.status = "Failed".into();
                    i.stderr = format!("cannot start bash: {err}");
                });
                return;
            }
        };
        let pid = child.id();
        update(&|i| {
            i.status = "InProgress".into();
            i.pid = pid;
        });
        match tokio::time::timeout(timeout, child.wait_with_output()).await {
            Ok(Ok(out)) => {
                let code = out.status.code().unwrap_or(-1);
                let stdout = String::from_utf8_lossy(&out.stdout);
                let stdout =
                    truncate(&lies.map_or_else(|| stdout.to_string(), |l| lie(l, &stdout)));
                let stderr = truncate(&String::from_utf8_lossy(&out.stderr));
                update(&|i| {
                    if i.status != "Cancelled" {
                        i.status = if code == 0 { "Success" } else { "Failed" }.into();
                    }
                    i.exit_code = code;
                    i.stdout.clone_from(&stdout);
                    i.stderr.clone_from(&stderr);
                    i.pid = None;
                });
            }
            Ok(Err(err)) => update(&|i| {
                i.status = "Failed".into();
                i.stderr = err.to_string();
                i.pid = None;
            }),
            // The child is dropped with the future and killed.
            Err(_) => update(&|i| {
                i.status = "TimedOut".into();
                i.pid = None;
            }),
        }
    });
}

/// The report a lying host gives instead of `stdout`: each `size=N` or `sha256=H` word of
/// its output misstated.
fn lie(lie: Lie, stdout: &str) -> String {
    let word = |word: &str| match (lie, word.split_once('=')) {
        (Lie::Size, Some(("size", size))) => {
            format!("size={}", size.parse::<u64>().unwrap_or(0) + 1)
        }
        (Lie::Hash, Some(("sha256", _))) => format!("sha256={}", "0".repeat(64)),
        _ => word.to_owned(),
    };
    stdout
        .lines()
        .map(|line| line.split(' ').map(word).collect::<Vec<_>>().join(" ") + "\n")
        .collect()
}

/// Cancels a running invocation (kills its shell).
pub fn cancel(state: &Arc<Mutex<SimState>>, command_id: &str) -> bool {
    let mut s = state.lock().unwrap_or_else(|p| p.into_inner());
    let Some(invocation) = s.invocations.get_mut(command_id) else {
        return false;
    };
    if let Some(pid) = invocation.pid.take() {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
    }
    if matches!(invocation.status.as_str(), "Pending" | "InProgress") {
        invocation.status = "Cancelled".into();
    }
    true
}
