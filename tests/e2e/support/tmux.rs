//! A real terminal for end-to-end tests: runs a command in a detached tmux session, types
//! into it, and polls the screen for expected text.

use std::process::Command;
use std::time::{Duration, Instant};

/// One tmux session running one command; killed on drop.
pub struct Tmux {
    name: String,
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

impl Tmux {
    /// Starts `cmd` (program, arguments and environment, nothing inherited) in a
    /// 120×40 terminal. When it exits, `[exit N]` is printed and the pane stays.
    pub fn start(cmd: &Command) -> Tmux {
        Tmux::start_sized(cmd, 120, 40)
    }

    /// Starts `cmd` in a terminal of `width`×`height`.
    pub fn start_sized(cmd: &Command, width: u16, height: u16) -> Tmux {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let name = format!("bg-test-{}-{n}", std::process::id());
        let mut line = String::from("env -i");
        for (key, value) in cmd.get_envs() {
            if let Some(value) = value {
                line.push(' ');
                line.push_str(&quote(&format!(
                    "{}={}",
                    key.to_string_lossy(),
                    value.to_string_lossy()
                )));
            }
        }
        line.push_str(" TERM=xterm-256color ");
        line.push_str(&quote(&cmd.get_program().to_string_lossy()));
        for arg in cmd.get_args() {
            line.push(' ');
            line.push_str(&quote(&arg.to_string_lossy()));
        }
        line.push_str("; echo \"[exit $?]\"; sleep 600");
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
                &line,
            ])
            .status()
            .expect("tmux is installed");
        assert!(status.success(), "tmux new-session failed");
        Tmux { name }
    }

    /// Types `text` and presses Enter.
    pub fn send_line(&self, text: &str) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.name, "-l", text])
            .status()
            .unwrap();
        assert!(status.success());
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.name, "Enter"])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Presses keys by tmux name (`j`, `Enter`, `Escape`, `C-c`).
    pub fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Types `text` literally.
    pub fn type_text(&self, text: &str) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.name, "-l", text])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Resizes the window.
    pub fn resize(&self, width: u16, height: u16) {
        let status = Command::new("tmux")
            .args([
                "resize-window",
                "-t",
                &self.name,
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// The pid of the program the session started (the child of the pane's shell).
    pub fn program_pid(&self) -> u32 {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.name, "#{pane_pid}"])
            .output()
            .unwrap();
        let shell: u32 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let children = std::fs::read_to_string(format!("/proc/{shell}/task/{shell}/children"))
            .unwrap_or_default();
        let pids: Vec<u32> = children
            .split_whitespace()
            .filter_map(|p| p.parse().ok())
            .collect();
        match pids.as_slice() {
            [one] => *one,
            other => panic!("the pane's shell {shell} has children {other:?}, not one"),
        }
    }

    /// Closes the terminal (the pane goes, as when a window or an SSH connection closes).
    pub fn close(&self) {
        let status = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Whether the program has the alternate screen on (a full-screen UI is showing).
    pub fn alternate_screen(&self) -> bool {
        let out = Command::new("tmux")
            .args(["display-message", "-p", "-t", &self.name, "#{alternate_on}"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim() == "1"
    }

    /// The visible screen only (no scrollback).
    pub fn visible(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The visible screen with its escape sequences (colours and attributes).
    pub fn visible_styled(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-e", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the visible screen shows `text`.
    pub fn wait_visible(&self, text: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.visible();
            if screen.contains(text) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!("`{text}` did not appear within {timeout:?}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The screen (and scrollback) as text.
    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-J", "-S", "-200", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits until the screen shows `text`; panics with the screen after `timeout`.
    pub fn wait_for(&self, text: &str, timeout: Duration) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!("`{text}` did not appear within {timeout:?}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}
