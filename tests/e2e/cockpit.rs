//! The cockpit's whole event loop in-process, on a `TestConsole` (ratatui's `TestBackend`
//! fed keys from a channel), against the game-day simulator in front of the emulator: it
//! starts on the listed servers, keys filter the list and run a live `isolate` that the
//! emulator shows done, the audit screen verifies the chain, and `q` ends the loop. The same
//! loop as the terminal, without tmux: `tui.rs` drives the real binary in a real terminal.

use std::time::Duration;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use tokio::sync::{mpsc, watch};

use crate::support::estate::{breakglass_groups, id, state};
use crate::support::{Account, REGION, moto};
use breakglass::app::{ExitCode, Overrides, Settings};
use breakglass::aws::SandboxEndpoint;
use breakglass::sandbox::{Estate, Fault, FaultKind, Progress, Seeder, Simulator};
use breakglass::tui::theme::Theme;
use breakglass::tui::{Cockpit, TestConsole};

const WAIT: Duration = Duration::from_secs(60);

/// Types into the console and waits for what it draws.
struct Keyboard {
    keys: mpsc::UnboundedSender<Event>,
    screen: watch::Receiver<String>,
}

impl Keyboard {
    fn key(&self, code: KeyCode) {
        let key = KeyEvent::new(code, KeyModifiers::NONE);
        self.keys.send(Event::Key(key)).unwrap();
    }

    fn chars(&self, text: &str) {
        text.chars().for_each(|c| self.key(KeyCode::Char(c)));
    }

    /// A live isolate of ss-prod-3 (the list already filtered to it) for `incident`: the
    /// playbook, the incident id, the plan, the target's name typed, Enter.
    async fn isolate_prod_3(&mut self, incident: &str) {
        self.chars("p");
        self.wait_for("Playbook for ss-prod-3").await;
        self.chars("jjjj"); // isolate: the fifth playbook
        self.key(KeyCode::Enter);
        self.wait_for("Type it:").await;
        self.chars(incident);
        self.key(KeyCode::Enter);
        self.wait_for("Plan: isolate · LIVE").await;
        self.key(KeyCode::Enter);
        self.wait_for("Type `ss-prod-3` to run it").await;
        self.chars("ss-prod-3");
        self.key(KeyCode::Enter);
    }

    /// The first screen drawn that shows `text`; fails the test after [`WAIT`].
    async fn wait_for(&mut self, text: &str) -> String {
        let found = tokio::time::timeout(WAIT, self.screen.wait_for(|s| s.contains(text)))
            .await
            .map(|seen| seen.map(|screen| screen.clone()));
        match found {
            Ok(Ok(screen)) => screen,
            _ => panic!(
                "`{text}` was not drawn within {WAIT:?}; last screen:\n{}",
                *self.screen.borrow()
            ),
        }
    }
}

/// The sandbox a test's cockpit runs on: the simulator in front of the emulator, the seeded
/// estate, and settings that name only this test's files.
struct Sandbox {
    account: Account,
    sim: Simulator,
    ctx: breakglass::aws::AwsContext,
    estate: Estate,
    settings: Settings,
    audit: std::path::PathBuf,
}

impl Sandbox {
    async fn start() -> Sandbox {
        let account = Account::new().await;
        let sim = Simulator::start(&moto().endpoint()).await.unwrap();
        let ctx = account.context_at(&sim.endpoint()).await;
        let estate = Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();

        // Everything the settings read is named: the config, the audit log, the cache and the
        // playbook directory are this test's, and the AWS endpoint and keys are the sandbox's.
        let home = account.home();
        let config = account.write_config(&format!(
            "regions = [\"{REGION}\"]\n[aws]\nmax_attempts = 1\n[playbooks]\ndir = \"{}\"\n",
            home.join("playbooks").display()
        ));
        let audit = home.join("audit.jsonl");
        let mut settings = Settings::new(&Overrides {
            config: Some(config),
            audit_log: Some(audit.clone()),
            ..Overrides::default()
        })
        .unwrap();
        settings.aws.sandbox = Some(SandboxEndpoint {
            endpoint_url: sim.endpoint(),
            region: REGION.into(),
            access_key_id: account.access_key_id.clone(),
            secret_access_key: account.secret_access_key.clone(),
        });
        settings.cache_dir = Some(home.join("cache"));

        Sandbox {
            account,
            sim,
            ctx,
            estate,
            settings,
            audit,
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_event_loop_lists_isolates_and_quits_on_a_test_console() {
    let Sandbox {
        account,
        sim: _sim,
        ctx,
        estate,
        settings,
        audit,
    } = Sandbox::start().await;
    let target = id(&estate, "ss-prod-3");
    let (mut console, keys, screen) = TestConsole::new(80, 24);
    let mut cockpit = Cockpit::start(&settings, Theme::plain()).await.unwrap();
    let mut kb = Keyboard { keys, screen };
    let script = async {
        // The list loads, with the sandbox banner and who we are.
        let screen = kb.wait_for("ss-test-3").await;
        assert!(screen.contains("GAME DAY"), "{screen}");
        assert!(screen.contains(&account.id), "{screen}");

        // The filter narrows it.
        kb.chars("/prod-3");
        kb.key(KeyCode::Enter);
        let screen = kb.wait_for("Servers 1/6").await;
        assert!(!screen.contains("ss-prod-1"), "{screen}");

        // A live isolate: the playbook, the incident id, the plan, the target's name typed.
        kb.isolate_prod_3("IR-LOOP-1").await;
        kb.wait_for("Run isolate · succeeded").await;

        // The audit screen shows the run with a verified chain; then `q` quits.
        kb.key(KeyCode::Enter);
        kb.chars("a");
        let screen = kb.wait_for("chain intact").await;
        assert!(screen.contains("IR-LOOP-1"), "{screen}");
        kb.key(KeyCode::Esc);
        kb.wait_for("Servers").await;
        kb.chars("q");
    };
    let (ended, ()) = tokio::join!(cockpit.drive(&mut console, &settings), script);
    assert!(matches!(ended, Ok(ExitCode::Success)), "{ended:?}");
    assert!(cockpit.app.quit, "the loop ended because `q` was pressed");

    // Counted where it happened: the emulator holds the server isolated, every interface in
    // the quarantine group only; and the audit log has the run.
    let after = state(&ctx, &target).await;
    assert_eq!(
        after.tags.get("breakglass:state").map(String::as_str),
        Some("isolated")
    );
    let groups = breakglass_groups(&ctx, &estate.network.vpc_id).await;
    let quarantine = &groups["breakglass-quarantine"][0];
    assert!(!after.interfaces.is_empty());
    for (eni, groups) in &after.interfaces {
        assert_eq!(groups, &vec![quarantine.id.clone()], "{eni}");
    }
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(log.contains("IR-LOOP-1"));
}

/// Input that ends (standard input closed, a read error) while a run is in flight is the
/// terminal going away: the run stops after the call in flight — made once, recorded — and
/// the loop ends with exit 1, as on a hang-up. It used to return success at once, leaving
/// the run's task behind.
#[tokio::test(flavor = "multi_thread")]
async fn input_that_ends_during_a_run_stops_it_after_the_call_in_flight() {
    let sandbox = Sandbox::start().await;
    let (mut console, keys, screen) = TestConsole::new(80, 24);
    let mut cockpit = Cockpit::start(&sandbox.settings, Theme::plain())
        .await
        .unwrap();
    sandbox.sim.inject([Fault::on(
        "ec2:ModifyNetworkInterfaceAttribute",
        FaultKind::Latency { millis: 5_000 },
    )
    .times(1)]);
    let mut kb = Keyboard { keys, screen };
    let script = async {
        kb.wait_for("ss-test-3").await;
        kb.chars("/prod-3");
        kb.key(KeyCode::Enter);
        kb.wait_for("Servers 1/6").await;
        kb.isolate_prod_3("IR-LOOP-EOF").await;
        sandbox
            .sim
            .wait_for_request(WAIT, |e| {
                e.operation == "ec2:ModifyNetworkInterfaceAttribute" && e.progress == Progress::Held
            })
            .await
            .expect("the swap reaches EC2");
        // Input ends.
        drop(kb);
    };
    let (ended, ()) = tokio::join!(cockpit.drive(&mut console, &sandbox.settings), script);
    assert!(matches!(ended, Ok(ExitCode::Failed)), "{ended:?}");
    assert!(!cockpit.app.running(), "the run has finished");

    // Counted where it happened: the held swap made once, the one closing its interface
    // again, and nothing after them.
    crate::support::ledger::held_swap_made_and_closed(&sandbox.sim);
    let log = std::fs::read_to_string(&sandbox.audit).unwrap();
    let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["kind"], "run_finished", "{last}");
    assert_eq!(last["body"]["status"], "interrupted", "{last}");
}
