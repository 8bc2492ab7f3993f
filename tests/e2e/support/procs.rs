//! Processes on this machine as `/proc` shows them, for tests that wait on a condition (a
//! command running in a terminal's foreground) instead of sleeping.

use std::time::{Duration, Instant};

/// The pid of a process whose command line is exactly `argv`, once it is its terminal's
/// foreground process group (so a Ctrl-C typed there reaches it); fails the test after
/// `timeout`.
pub fn wait_foreground(argv: &[&str], timeout: Duration) -> u32 {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(pid) = foreground(argv) {
            return pid;
        }
        assert!(
            Instant::now() < deadline,
            "no process `{}` in a terminal's foreground within {timeout:?}",
            argv.join(" ")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until process `pid` has ended; fails the test after `timeout`.
pub fn wait_gone(pid: u32, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while std::path::Path::new(&format!("/proc/{pid}")).exists() && !zombie(pid) {
        assert!(
            Instant::now() < deadline,
            "process {pid} still runs after {timeout:?} ({}; this process: {})",
            signals(pid),
            signals(std::process::id())
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The signal masks `/proc/PID/status` shows (blocked, ignored, caught), for a failure
/// message.
fn signals(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("SigBlk") || l.starts_with("SigIgn") || l.starts_with("SigCgt"))
        .collect::<Vec<_>>()
        .join(" ")
}

fn foreground(argv: &[&str]) -> Option<u32> {
    let wanted: Vec<u8> = argv
        .iter()
        .flat_map(|a| [a.as_bytes(), b"\0"].concat())
        .collect();
    std::fs::read_dir("/proc").ok()?.find_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        if cmdline != wanted {
            return None;
        }
        let (pgrp, tpgid) = stat_groups(pid)?;
        (pgrp == tpgid).then_some(pid)
    })
}

/// `(pgrp, tpgid)` from `/proc/PID/stat` (fields 5 and 8; the name in field 2 may hold
/// spaces, so the count starts after its closing parenthesis).
fn stat_groups(pid: u32) -> Option<(i64, i64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some((fields.get(2)?.parse().ok()?, fields.get(5)?.parse().ok()?))
}

fn zombie(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            s.rsplit_once(')')
                .map(|(_, rest)| rest.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}
