//! The cockpit's runs and shells in a real terminal (tmux, the real binary, 80×24) against
//! the game-day simulator in front of the emulator: a run on several marked servers, Ctrl-C
//! during a run (the simulator holds the call in flight; its ledger shows it made once) and
//! the resume that finishes it, the terminal closing during a run (the run stops the same
//! way, and breakglass ends), the hand-off of the terminal to a Session Manager shell and
//! back, and the terminal given back after a panic.

use crate::support;

use std::time::Duration;

use crate::support::estate::{breakglass_groups, id, state};
use crate::support::procs;
use crate::support::tmux::Tmux;
use crate::support::{Account, REGION};
use breakglass::sandbox::{Estate, Fault, FaultKind, Progress, Seeder, Simulator};

const WAIT: Duration = Duration::from_secs(60);

/// The seeded estate behind the simulator, and the cockpit started on it in tmux.
struct Cockpit {
    account: Account,
    sim: Simulator,
    estate: Estate,
    tui: Tmux,
}

impl Cockpit {
    async fn start() -> Cockpit {
        let account = Account::new().await;
        let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
        // Shells sign their upgrade with the account's key: the sandbox verifies it.
        sim.trust_keys([account.key()]);
        let ctx = account.context_at(&sim.endpoint()).await;
        let estate = Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
        sim.manage(estate.agents());
        let cmd = account
            .bg()
            .env("AWS_ENDPOINT_URL", sim.endpoint())
            .env("BREAKGLASS_AUDIT_LOG", account.home().join("audit.jsonl"))
            .cmd;
        let tui = Tmux::start_sized(&cmd, 80, 24);
        tui.wait_visible("ss-test-3", WAIT);
        Cockpit {
            account,
            sim,
            estate,
            tui,
        }
    }

    /// Narrows the list to the servers whose row contains `text`.
    fn filter(&self, text: &str, shown: &str) {
        self.tui.keys(&["/"]);
        self.tui.type_text(text);
        self.tui.keys(&["Enter"]);
        self.tui.wait_visible(shown, WAIT);
    }

    /// Picks `isolate` for the selected (or marked) servers, gives the incident id and
    /// confirms the plan by typing `confirm` when asked with `prompt`.
    fn isolate(&self, incident: &str, prompt: &str, confirm: &str) {
        self.tui.keys(&["p"]);
        self.tui.wait_visible("Playbook for", WAIT);
        self.tui.keys(&["j", "j", "j", "j", "Enter"]); // isolate: the fifth playbook
        self.tui.wait_visible("Type it:", WAIT);
        self.tui.type_text(incident);
        self.tui.keys(&["Enter"]);
        self.tui.wait_visible("Plan: isolate · LIVE", WAIT);
        self.tui.keys(&["Enter"]);
        self.tui.wait_visible(prompt, WAIT);
        self.tui.type_text(confirm);
        self.tui.keys(&["Enter"]);
    }

    /// Starts isolating ss-prod-3 (the list filtered to it) with its first group swap held
    /// 5 s by the simulator; returns once the ledger shows the swap held.
    async fn isolate_held(&self, incident: &str) {
        self.sim.inject([Fault::on(
            "ec2:ModifyNetworkInterfaceAttribute",
            FaultKind::Latency { millis: 5_000 },
        )
        .times(1)]);
        self.isolate(incident, "Type `ss-prod-3` to run it", "ss-prod-3");
        self.sim
            .wait_for_request(WAIT, |e| {
                e.operation == "ec2:ModifyNetworkInterfaceAttribute" && e.progress == Progress::Held
            })
            .await
            .expect("the swap reaches EC2");
    }

    /// The held swap was made once, then the one closing its interface, nothing after.
    fn held_swap_made_and_closed(&self) {
        support::ledger::held_swap_made_and_closed(&self.sim);
    }

    fn records(&self) -> Vec<serde_json::Value> {
        std::fs::read_to_string(self.account.home().join("audit.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Whether the emulator holds `name` isolated: tagged so, every interface in the
    /// quarantine group only.
    async fn isolated(&self, name: &str) -> bool {
        let ctx = self.account.context().await;
        let after = state(&ctx, &id(&self.estate, name)).await;
        let groups = breakglass_groups(&ctx, &self.estate.network.vpc_id).await;
        let quarantine = groups
            .get("breakglass-quarantine")
            .map(|g| vec![g[0].id.clone()]);
        after.tags.get("breakglass:state").map(String::as_str) == Some("isolated")
            && !after.interfaces.is_empty()
            && after
                .interfaces
                .iter()
                .all(|(_, g)| Some(g) == quarantine.as_ref())
    }

    fn quit(&self) {
        self.tui.keys(&["q"]);
        self.tui.wait_for("[exit 0]", WAIT);
        assert!(!self.tui.alternate_screen(), "the terminal is restored");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn marked_servers_are_isolated_in_one_run_and_the_others_are_not() {
    let cockpit = Cockpit::start().await;
    cockpit.filter("prod", "Servers 3/6");
    // Space marks the row under the cursor and moves down: the first two production servers.
    cockpit.tui.keys(&["space", "space"]);
    cockpit.tui.keys(&["p"]);
    let screen = cockpit.tui.wait_visible("Playbook for", WAIT);
    assert!(
        screen.contains("ss-prod-1") && screen.contains("ss-prod-2"),
        "{screen}"
    );
    assert!(!screen.contains("ss-prod-3"), "{screen}");
    cockpit.tui.keys(&["Escape"]);
    // Several targets: the confirmation is their number.
    cockpit.isolate("IR-TUI-M", "Type the number of targets (2)", "2");
    cockpit.tui.wait_visible("Run isolate · succeeded", WAIT);
    assert!(cockpit.isolated("ss-prod-1").await);
    assert!(cockpit.isolated("ss-prod-2").await);
    let ctx = cockpit.account.context().await;
    let third = state(&ctx, &id(&cockpit.estate, "ss-prod-3")).await;
    assert_eq!(third.tags.get("breakglass:state"), None);
    // One run, both targets in it.
    let records = cockpit.records();
    let runs: Vec<_> = records
        .iter()
        .filter(|r| r["kind"] == "run_started")
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    cockpit.tui.keys(&["Enter"]);
    cockpit.quit();
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_a_cockpit_run_after_the_call_in_flight_and_resume_finishes_it() {
    let cockpit = Cockpit::start().await;
    cockpit.filter("prod-3", "Servers 1/6");
    cockpit.isolate_held("IR-TUI-C").await;
    cockpit.tui.keys(&["C-c"]);
    cockpit
        .tui
        .wait_visible("stopping after the call in flight", WAIT);
    let screen = cockpit.tui.wait_visible("Run isolate · interrupted", WAIT);
    assert!(screen.contains("breakglass resume"), "{screen}");
    // The held call was made, once, and recorded; then only the swap that closes its
    // interface again; nothing else after it was started.
    cockpit.held_swap_made_and_closed();
    let records = cockpit.records();
    let finished = records.iter().rfind(|r| r["kind"] == "run_finished");
    assert_eq!(finished.unwrap()["body"]["status"], "interrupted");
    assert!(!cockpit.isolated("ss-prod-3").await);
    let run_id = records[0]["run_id"].as_str().unwrap().to_owned();
    cockpit.tui.keys(&["Enter"]);
    cockpit.quit();

    // The resume the screen names finishes the isolation.
    let resumed = cockpit
        .account
        .bg()
        .env("AWS_ENDPOINT_URL", cockpit.sim.endpoint())
        .env(
            "BREAKGLASS_AUDIT_LOG",
            cockpit.account.home().join("audit.jsonl"),
        )
        .args(["resume", &run_id, "--yes"])
        .run();
    resumed.assert_code(0);
    assert!(cockpit.isolated("ss-prod-3").await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_terminal_that_goes_away_stops_the_run_after_the_call_in_flight_and_ends() {
    let cockpit = Cockpit::start().await;
    cockpit.filter("prod-3", "Servers 1/6");
    // A shell first: it listens for SIGHUP as well, and the cockpit must still end on one
    // (it used to stay behind, spinning on the dead terminal).
    cockpit.tui.keys(&["s"]);
    cockpit.tui.wait_for("sandbox$ ", WAIT);
    cockpit.tui.type_text("exit");
    cockpit.tui.keys(&["Enter"]);
    cockpit.tui.wait_visible("session to ss-prod-3", WAIT);
    cockpit.isolate_held("IR-TUI-H").await;
    let breakglass = cockpit.tui.program_pid();
    cockpit.tui.close();
    procs::wait_gone(breakglass, WAIT);
    // It stopped as on Ctrl-C: the call in flight made once and recorded (and its interface
    // closed again), the run recorded as interrupted (resumable), nothing else after it.
    cockpit.held_swap_made_and_closed();
    let records = cockpit.records();
    let last = records.last().unwrap();
    assert_eq!(last["kind"], "run_finished", "{last}");
    assert_eq!(last["body"]["status"], "interrupted", "{last}");
    let swap_outcome = records.iter().rfind(|r| {
        r["kind"] == "outcome" && r["body"]["operation"] == "ModifyNetworkInterfaceAttribute"
    });
    assert!(swap_outcome.is_some(), "the call in flight is recorded");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_shell_takes_the_terminal_and_gives_it_back_to_the_cockpit() {
    let cockpit = Cockpit::start().await;
    cockpit.filter("prod-1", "Servers 1/6");
    cockpit.tui.keys(&["s"]);
    cockpit.tui.wait_for("sandbox$ ", WAIT);
    assert!(
        !cockpit.tui.alternate_screen(),
        "the shell has the normal screen"
    );
    cockpit.tui.type_text("echo from-$((2*3))");
    cockpit.tui.keys(&["Enter"]);
    cockpit.tui.wait_for("from-6", WAIT);
    cockpit.tui.type_text("exit");
    cockpit.tui.keys(&["Enter"]);
    let shell = id(&cockpit.estate, "ss-prod-1");
    let screen = cockpit.tui.wait_visible("session to ss-prod-1", WAIT);
    assert!(
        screen.contains(&format!("session to ss-prod-1 ({shell}) ended")),
        "{screen}"
    );
    assert!(screen.contains("Servers 1/6"), "{screen}");
    assert!(cockpit.tui.alternate_screen(), "the cockpit has it back");
    // Keys reach the cockpit again.
    cockpit.tui.keys(&["Escape"]);
    cockpit.tui.wait_visible("Servers 6/6", WAIT);
    let kinds: Vec<String> = cockpit
        .records()
        .iter()
        .map(|r| r["kind"].as_str().unwrap().to_owned())
        .collect();
    assert!(kinds.contains(&"session_started".to_owned()), "{kinds:?}");
    assert!(kinds.contains(&"session_ended".to_owned()), "{kinds:?}");
    cockpit.quit();
}

/// The test run in a terminal by the next one: it enters the cockpit's terminal mode, draws,
/// and panics.
#[test]
#[ignore = "child process of a_panic_gives_the_terminal_back"]
fn panics_in_the_cockpits_terminal() {
    let mut console = breakglass::tui::TerminalConsole::enter();
    use breakglass::tui::Console;
    console
        .terminal()
        .draw(|frame| {
            frame.render_widget(
                ratatui::widgets::Paragraph::new("cockpit drawn"),
                frame.area(),
            )
        })
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    panic!("deliberate panic in the cockpit");
}

#[test]
fn a_panic_gives_the_terminal_back() {
    // The same terminal code the binary runs (TerminalConsole), in this test binary: nothing
    // in breakglass panics on purpose. The shell prints the terminal's mode afterwards.
    let test_binary = std::env::current_exe().unwrap();
    let mut cmd = std::process::Command::new("sh");
    cmd.args([
        "-c",
        "\"$0\" tui_runs::panics_in_the_cockpits_terminal --ignored --exact --nocapture; \
         stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo",
    ])
    .arg(test_binary)
    .env("PATH", std::env::var_os("PATH").unwrap());
    let tui = Tmux::start_sized(&cmd, 80, 24);
    let screen = tui.wait_for("[exit 0]", WAIT);
    assert!(
        screen.contains("deliberate panic in the cockpit"),
        "{screen}"
    );
    assert!(!tui.alternate_screen(), "the alternate screen is left");
    let modes: Vec<&str> = screen
        .lines()
        .map(str::trim)
        .filter(|l| l.ends_with("icanon") || l.ends_with("echo"))
        .collect();
    assert_eq!(modes, ["icanon", "echo"], "raw mode is off: {screen}");
}
