//! A small timing harness for the benchmarks (`harness = false`): medians of repeated runs
//! and ratios against a baseline measured in the same run. Figures go to stdout as
//! `name: median (ratio to baseline)`, for docs/performance.md.
#![allow(dead_code)]

use std::time::{Duration, Instant};

/// The median of `runs` timings of `f`.
pub fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs.max(1))
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

/// Prints a figure and its ratio to the baseline.
pub fn report(name: &str, value: Duration, baseline: Duration) {
    let ratio = value.as_secs_f64() / baseline.as_secs_f64().max(f64::MIN_POSITIVE);
    println!(
        "{name}: {} ({ratio:.2}x the baseline {})",
        show(value),
        show(baseline)
    );
}

pub fn show(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} µs", s * 1e6)
    }
}

/// Peak resident memory of this process (Linux `VmHWM`), in MiB.
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

/// CPU seconds a process has used (utime + stime from /proc, in USER_HZ = 1/100 s).
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name: utime and stime are the 12th and 13th.
    let after = stat.rsplit(')').next().unwrap_or_default();
    let fields: Vec<&str> = after.split_whitespace().collect();
    fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|t| t.parse::<f64>().ok()).sum::<f64>())
        .unwrap_or(0.0)
        / 100.0
}
