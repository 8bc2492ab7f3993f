//! End to end: `breakglass demo --seed-only` starts moto and the simulator, seeds the
//! estate, prints how to use it; the CLI runs `isolate` against it; on SIGTERM everything it
//! started is gone — no process left, no port left bound. And `breakglass demo` in a real
//! terminal (tmux) from a fresh HOME: it signs in, lists the servers and ends, leaving
//! nothing running or bound.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::tmux::Tmux;

fn port_of(endpoint: &str) -> u16 {
    endpoint
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

fn bound(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
}

/// `breakglass` in a fresh HOME (`support::Bg::in_home`), the emulator's install shared
/// through `BREAKGLASS_MOTO_VENV`.
fn breakglass(home: &std::path::Path) -> Command {
    let mut cmd = support::Bg::in_home(home).cmd;
    cmd.env(
        "BREAKGLASS_MOTO_VENV",
        breakglass::sandbox::venv_dir().unwrap(),
    );
    cmd
}

#[test]
fn demo_in_a_terminal_signs_in_lists_and_leaves_nothing_behind() {
    let _ = support::moto(); // installs the emulator once for the whole test binary
    let home = tempfile::tempdir().unwrap();
    let mut demo = breakglass(home.path());
    demo.arg("demo");
    let tmux = Tmux::start_sized(&demo, 100, 40);
    let screen = tmux.wait_for("[exit 0]", Duration::from_secs(180));
    assert!(screen.contains("GAME DAY"), "{screen}");
    assert!(screen.contains("signed in:"), "{screen}");
    assert!(
        screen.contains("ss-prod-1") && screen.contains("ss-test-3"),
        "{screen}"
    );
    // `emulator: moto at http://127.0.0.1:PORT (pid N); simulator at http://127.0.0.1:PORT`
    let line = screen
        .lines()
        .find(|l| l.starts_with("emulator:"))
        .unwrap_or_else(|| panic!("{screen}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let moto_port = port_of(words[3]);
    let moto_pid: u32 = words[5].trim_end_matches(");").parse().unwrap();
    let sim_port = port_of(words[8]);
    assert!(!bound(moto_port), "moto's port is still bound");
    assert!(!bound(sim_port), "the simulator's port is still bound");
    assert!(!alive(moto_pid), "moto is still running");
}

#[test]
fn demo_runs_a_drill_and_leaves_nothing_behind() {
    let home = tempfile::tempdir().unwrap();
    let mut demo = breakglass(home.path());
    let mut demo = demo
        .args(["demo", "--seed-only"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = demo.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    // Read stdout to its end in the background, as a terminal would.
    let (out_tx, out_rx) = std::sync::mpsc::channel();
    let stdout = BufReader::new(demo.stdout.take().unwrap());
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            let _ = out_tx.send(line);
        }
    });
    let mut exports = None;
    while let Ok(line) = out_rx.recv_timeout(Duration::from_secs(120)) {
        if let Some(rest) = line.trim().strip_prefix("export ") {
            exports = Some(rest.to_owned());
            break;
        }
    }
    let exports = exports.expect("demo prints the environment");
    let mut emulator = None;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        if line.starts_with("emulator:") {
            emulator = Some(line);
            break;
        }
    }
    let emulator = emulator.expect("demo names its emulator");
    // It signed in through the simulated IAM Identity Center, as a responder would.
    let mut signed_in = None;
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        if let Some(arn) = line.strip_prefix("signed in: ") {
            signed_in = Some(arn.to_owned());
            break;
        }
    }
    let arn = signed_in.expect("demo signs in");
    assert!(
        arn.starts_with("arn:aws:sts::123456789012:assumed-role/IncidentResponder/"),
        "{arn}"
    );
    assert!(exports.contains("AWS_PROFILE=sandbox"), "{exports}");
    assert!(
        !exports.contains("AWS_ACCESS_KEY_ID"),
        "no static keys: {exports}"
    );
    let cache = home.path().join(".aws/sso/cache");
    let cached = || {
        std::fs::read_dir(&cache)
            .map(|d| {
                d.filter_map(Result::ok)
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".json"))
                    .count()
            })
            .unwrap_or(0)
    };
    assert!(
        cached() > 0,
        "the sandbox's token is in the shared cache while it runs"
    );
    let moto_endpoint = emulator.split_whitespace().nth(3).unwrap().to_owned();
    let moto_pid: u32 = emulator
        .split("(pid ")
        .nth(1)
        .unwrap()
        .split(')')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let vars: Vec<(String, String)> = exports
        .split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap();
            (k.to_owned(), v.to_owned())
        })
        .collect();
    let endpoint = vars
        .iter()
        .find(|(k, _)| k == "AWS_ENDPOINT_URL")
        .unwrap()
        .1
        .clone();

    // A drill: isolate a production server through the simulator.
    let mut run = breakglass(home.path());
    let out = run
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .args([
            "run",
            "isolate",
            "-t",
            "ss-prod-1",
            "--incident",
            "DRILL-1",
            "--yes",
        ])
        .args(["--output", "json"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        doc["targets"][0]["steps"][0]["status"], "succeeded",
        "{doc:#}"
    );
    // The drill ran with the role the sign-in gave, not with keys.
    let mut who = breakglass(home.path());
    let who = who
        .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .args(["whoami"])
        .output()
        .unwrap();
    let who_out = String::from_utf8_lossy(&who.stdout);
    assert!(who.status.success(), "{who_out}");
    assert!(
        who_out.contains("assumed-role/IncidentResponder/"),
        "{who_out}"
    );
    assert!(
        who_out.contains("sign-in      https://sandbox.awsapps.com/start"),
        "{who_out}"
    );

    // The whole response on another server: memory and volatile data through the
    // simulator's Run Command (uploads by presigned URL through it to the evidence bucket),
    // then isolate, revoke, snapshot; and a capture on the server whose agent is offline.
    let drill = |args: &[&str]| {
        let mut run = breakglass(home.path());
        let out = run
            .envs(vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .args(args)
            .args(["--incident", "DRILL-1", "--yes", "--output", "json"])
            .output()
            .unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}\n{}", String::from_utf8_lossy(&out.stderr)));
        (out.status.code(), doc)
    };
    let (code, doc) = drill(&["run", "contain", "-t", "ss-prod-2"]);
    assert_eq!(code, Some(0), "{doc:#}");
    let statuses = support::runs::step_statuses(&doc);
    // The production servers share the sandbox's instance role: revoked for this one only.
    assert_eq!(
        statuses,
        [
            "succeeded",
            "succeeded",
            "succeeded",
            "succeeded",
            "succeeded"
        ],
        "{doc:#}"
    );
    let (code, doc) = drill(&["run", "capture-memory", "-t", "ss-test-3"]);
    assert_eq!(code, Some(1));
    let detail = doc["targets"][0]["steps"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("ConnectionLost"), "{detail}");

    // Stop it: nothing left running, no port left bound.
    let sim_port = port_of(&endpoint);
    let moto_port = port_of(&moto_endpoint);
    assert!(bound(sim_port) && bound(moto_port));
    Command::new("kill")
        .args(["-TERM", &demo.id().to_string()])
        .status()
        .unwrap();
    let status = demo.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while (bound(sim_port) || bound(moto_port) || alive(moto_pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!bound(sim_port), "the simulator's port is still bound");
    assert!(!bound(moto_port), "moto's port is still bound");
    assert!(!alive(moto_pid), "moto is still running");
    assert_eq!(
        cached(),
        0,
        "the sandbox's token and registration are removed"
    );
}

fn alive(pid: u32) -> bool {
    Command::new("kill")
        .args(["-0", &pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
