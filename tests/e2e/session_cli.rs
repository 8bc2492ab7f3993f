//! `breakglass session` and `breakglass forward` end to end against the game-day simulator:
//! a real terminal (tmux) types into the sandbox shell through the native client, the
//! transcript's SHA-256 is in the audit trail and the session is terminated; the plugin
//! hand-off with a fake `session-manager-plugin` on PATH (the real one is in no package
//! registry reachable here) recording its arguments and environment; clear errors for an
//! offline agent, a target matching several servers, and a missing plugin.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::procs;
use crate::support::tmux::Tmux;
use crate::support::{Account, REGION};
use breakglass::aws::SsmApi;
use breakglass::sandbox::{Seeder, Simulator};
use sha2::{Digest, Sha256};

const WAIT: Duration = Duration::from_secs(60);

struct Sandbox {
    account: Account,
    sim: Simulator,
    servers: Vec<(String, String)>,
}

impl Sandbox {
    async fn new() -> Sandbox {
        let account = Account::new().await;
        let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
        // Shells sign their upgrade with the account's key: the sandbox verifies it.
        sim.trust_keys([account.key()]);
        let ctx = account.context_at(&sim.endpoint()).await;
        let estate = Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
        sim.manage(estate.agents());
        Sandbox {
            account,
            sim,
            servers: estate.servers,
        }
    }

    fn id(&self, name: &str) -> String {
        self.servers
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .clone()
    }

    fn audit(&self) -> PathBuf {
        self.account.home().join("audit.jsonl")
    }

    fn bg(&self) -> support::Bg {
        self.account
            .bg()
            .env("AWS_ENDPOINT_URL", self.sim.endpoint())
            .env("BREAKGLASS_AUDIT_LOG", self.audit())
    }

    fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.audit())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    async fn active_sessions(&self, id: &str) -> usize {
        let ctx = self.account.context_at(&self.sim.endpoint()).await;
        ctx.ssm(REGION)
            .describe_active_sessions(id)
            .await
            .unwrap()
            .value
            .len()
    }
}

/// A fake `session-manager-plugin` that records its arguments and the response variable,
/// prints a line, and exits.
fn fake_plugin(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("session-manager-plugin");
    let record = dir.join("plugin-call.json");
    std::fs::write(
        &script,
        format!(
            "#!/usr/bin/env python3\nimport json, os, sys\n\
             json.dump({{'argv': sys.argv[1:], 'response': os.environ.get('AWS_SSM_START_SESSION_RESPONSE')}}, open('{}', 'w'))\n\
             print('fake plugin connected')\n",
            record.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    bin
}

fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_recorded_shell_in_a_real_terminal_with_its_hash_in_the_audit_trail() {
    let sandbox = Sandbox::new().await;
    let target = sandbox.id("ss-prod-1");
    let cmd = sandbox
        .bg()
        .args(["session", "ss-prod-1", "--incident", "IR-SES-1"])
        .cmd;
    let tmux = Tmux::start_sized(&cmd, 100, 30);
    tmux.wait_for("sandbox$ ", WAIT);
    tmux.type_text("echo typed-$((6*7)); stty size");
    tmux.keys(&["Enter"]);
    tmux.wait_for("typed-42", WAIT);
    tmux.wait_for("30 100", WAIT);
    // Ctrl-C goes to the remote shell (it stops `sleep`), not to breakglass.
    // Typed once `sleep` runs in the shell's foreground: before that, bash itself would take
    // the interrupt. And it ends `sleep`, well before its 37 s.
    tmux.type_text("sleep 37");
    tmux.keys(&["Enter"]);
    let sleeping = procs::wait_foreground(&["sleep", "37"], WAIT);
    tmux.keys(&["C-c"]);
    procs::wait_gone(sleeping, Duration::from_secs(10));
    tmux.type_text("echo after-$((1+1))-interrupt");
    tmux.keys(&["Enter"]);
    tmux.wait_for("after-2-interrupt", Duration::from_secs(10));
    assert_eq!(sandbox.active_sessions(&target).await, 1);
    tmux.type_text("exit");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("[exit 0]", WAIT);
    assert!(screen.contains("Transcript:"), "{screen}");

    // The audit trail: StartSession intent/outcome, started, TerminateSession, ended.
    let records = sandbox.records();
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "intent",
            "outcome",
            "session_started",
            "intent",
            "outcome",
            "session_ended"
        ]
    );
    assert!(records.iter().all(|r| r["incident"] == "IR-SES-1"));
    let ended = &records[5]["body"];
    let path = ended["transcript"].as_str().unwrap();
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(
        ended["transcript_sha256"],
        hex::encode(Sha256::digest(&bytes))
    );
    let cast = String::from_utf8(bytes).unwrap();
    assert!(cast.lines().next().unwrap().contains("\"version\":2"));
    assert!(cast.contains("typed-42"), "the output is recorded");
    assert!(cast.contains("\"i\""), "and what was typed");
    let mode = std::fs::metadata(path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // No token in the audit trail; the chain verifies; no session lingers.
    let text = std::fs::read_to_string(sandbox.audit()).unwrap();
    assert!(!text.contains("TokenValue"), "{text}");
    sandbox.bg().args(["audit", "verify"]).run().assert_code(0);
    assert_eq!(sandbox.active_sessions(&target).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_plugin_gets_the_response_in_its_environment_and_is_recorded() {
    let sandbox = Sandbox::new().await;
    let target = sandbox.id("ss-prod-2");
    let bin = fake_plugin(sandbox.account.home());
    let cmd = sandbox
        .bg()
        .env("PATH", path_with(&bin))
        .args(["session", &target, "--plugin"])
        .cmd;
    let tmux = Tmux::start_sized(&cmd, 100, 30);
    tmux.wait_for("[exit 0]", WAIT);
    let call: serde_json::Value = serde_json::from_slice(
        &std::fs::read(sandbox.account.home().join("plugin-call.json")).unwrap(),
    )
    .unwrap();
    let argv: Vec<&str> = call["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect();
    assert_eq!(argv[0], "AWS_SSM_START_SESSION_RESPONSE");
    assert_eq!(argv[1], REGION);
    assert_eq!(argv[2], "StartSession");
    let request: serde_json::Value = serde_json::from_str(argv[4]).unwrap();
    assert_eq!(request["Target"], target);
    assert_eq!(argv[5], sandbox.sim.endpoint());
    let response: serde_json::Value =
        serde_json::from_str(call["response"].as_str().unwrap()).unwrap();
    let token = response["TokenValue"].as_str().unwrap();
    assert!(!token.is_empty() && response["StreamUrl"].as_str().unwrap().starts_with("ws://"));
    assert!(
        !argv.iter().any(|a| a.contains(token)),
        "the token is not in the process list"
    );
    // Recorded like a native session, and terminated.
    let records = sandbox.records();
    let started = records
        .iter()
        .find(|r| r["kind"] == "session_started")
        .unwrap();
    assert_eq!(started["body"]["client"], "plugin");
    let ended = records
        .iter()
        .find(|r| r["kind"] == "session_ended")
        .unwrap();
    let cast = std::fs::read_to_string(ended["body"]["transcript"].as_str().unwrap()).unwrap();
    assert!(cast.contains("fake plugin connected"), "{cast}");
    assert!(
        !std::fs::read_to_string(sandbox.audit())
            .unwrap()
            .contains(token)
    );
    assert_eq!(sandbox.active_sessions(&target).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_hands_the_port_session_to_the_plugin() {
    let sandbox = Sandbox::new().await;
    let bin = fake_plugin(sandbox.account.home());
    let run = sandbox
        .bg()
        .env("PATH", path_with(&bin))
        .args(["forward", "ss-prod-3", "4000", "14000", "--plugin"])
        .run();
    run.assert_code(0);
    let call: serde_json::Value = serde_json::from_slice(
        &std::fs::read(sandbox.account.home().join("plugin-call.json")).unwrap(),
    )
    .unwrap();
    let request: serde_json::Value =
        serde_json::from_str(call["argv"][4].as_str().unwrap()).unwrap();
    assert_eq!(request["DocumentName"], "AWS-StartPortForwardingSession");
    assert_eq!(request["Parameters"]["portNumber"][0], "4000");
    assert_eq!(request["Parameters"]["localPortNumber"][0], "14000");
    let records = sandbox.records();
    let started = records
        .iter()
        .find(|r| r["kind"] == "session_started")
        .unwrap();
    assert_eq!(started["body"]["forward"]["local_port"], 14000);
    assert!(records.iter().any(|r| r["kind"] == "session_ended"));
    assert_eq!(sandbox.active_sessions(&sandbox.id("ss-prod-3")).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn forward_carries_connections_with_the_built_in_client_until_ctrl_c() {
    use std::io::BufRead;
    let sandbox = Sandbox::new().await;
    let service = crate::forwarding::echo().await;
    sandbox.sim.serve_port(4000, service.address);
    // No plugin anywhere on PATH: the built-in client needs none.
    let mut child = sandbox
        .bg()
        .env("PATH", "/usr/bin:/bin")
        .args([
            "forward",
            "ss-prod-1",
            "4000",
            "0",
            "--incident",
            "IR-FWD-1",
        ])
        .spawn();
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stderr)
            .lines()
            .map_while(Result::ok)
        {
            let _ = lines_tx.send(line);
        }
    });
    let next_line = |what: &str| {
        lines
            .recv_timeout(WAIT)
            .unwrap_or_else(|_| panic!("no line saying {what}"))
    };
    let announced = next_line("where it forwards");
    let port: u16 = announced
        .strip_prefix("Forwarding 127.0.0.1:")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("not the forwarding line: {announced}"));
    assert!(next_line("the session is ready").contains("multiplexed"));
    let mut conn = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap();
    let back = crate::forwarding::round_trip(&mut conn, b"GET / HTTP/1.0\r\n\r\n").await;
    assert_eq!(back, b"GET / HTTP/1.0\r\n\r\n");
    assert!(next_line("the connection").starts_with("Connection accepted from 127.0.0.1:"));
    assert_eq!(
        service.accepted.load(std::sync::atomic::Ordering::SeqCst),
        1
    );

    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = tokio::task::spawn_blocking(move || child.wait().unwrap())
        .await
        .unwrap();
    assert_eq!(status.code(), Some(0));

    let records = sandbox.records();
    let started = records
        .iter()
        .find(|r| r["kind"] == "session_started")
        .unwrap();
    assert_eq!(started["body"]["client"], "native");
    assert_eq!(started["body"]["forward"]["local_port"], port);
    assert_eq!(started["incident"], "IR-FWD-1");
    let ended = records
        .iter()
        .find(|r| r["kind"] == "session_ended")
        .unwrap();
    assert_eq!(ended["body"]["end"], "closed: stopped");
    assert_eq!(sandbox.active_sessions(&sandbox.id("ss-prod-1")).await, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn offline_agents_ambiguous_targets_and_a_missing_plugin_are_clear_errors() {
    let sandbox = Sandbox::new().await;
    let run = sandbox.bg().args(["session", "ss-test-3"]).run();
    run.assert_code(1);
    assert!(run.stderr.contains("TargetNotConnected"), "{}", run.stderr);
    assert!(
        run.stderr.contains("SSM agent is offline"),
        "{}",
        run.stderr
    );
    // The refused start is in the audit trail too (intent and its failed outcome).
    let records = sandbox.records();
    assert_eq!(records.last().unwrap()["body"]["result"], "error");

    let run = sandbox
        .bg()
        .args(["session", "tag:Role=xroad-security-server"])
        .run();
    run.assert_code(2);
    assert!(run.stderr.contains("goes to one server"), "{}", run.stderr);

    let empty = sandbox.account.home().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let run = sandbox
        .bg()
        .env("PATH", format!("{}:/usr/bin:/bin", empty.display()))
        .args(["session", "ss-prod-1", "--plugin"])
        .run();
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("session-manager-plugin` is not on PATH"),
        "{}",
        run.stderr
    );
    let run = sandbox
        .bg()
        .env("PATH", format!("{}:/usr/bin:/bin", empty.display()))
        .args(["forward", "ss-prod-1", "4000", "--plugin"])
        .run();
    run.assert_code(2);

    // A local port already in use: said so before any session starts.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port().to_string();
    let run = sandbox
        .bg()
        .args(["forward", "ss-prod-1", "4000", &port])
        .run();
    run.assert_code(2);
    assert!(
        run.stderr
            .contains(&format!("cannot listen on 127.0.0.1:{port}")),
        "{}",
        run.stderr
    );
    let port_sessions = sandbox
        .sim
        .ledger()
        .iter()
        .filter(|e| e.operation == "ssm:StartSession")
        .count();
    assert_eq!(
        port_sessions, 1,
        "only the offline shell's StartSession was made"
    );
}
