//! The TUI end to end in a real terminal: tmux runs the real binary at 80×24 against the
//! game-day simulator (in front of the emulator), keys are sent, and the screen is polled
//! until the expected text appears. The list loads, the filter narrows it, a dry run and a
//! live isolate complete from the keyboard (and really isolate the server), the screen
//! follows a resize, and quitting restores the terminal.

use crate::support;

use std::time::Duration;

use crate::support::tmux::Tmux;
use crate::support::{Account, REGION};
use breakglass::aws::Ec2Api;
use breakglass::sandbox::{Seeder, Simulator};

const WAIT: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn a_responder_filters_dry_runs_and_isolates_from_the_keyboard() {
    let account = Account::new().await;
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    let ctx = account.context_at(&sim.endpoint()).await;
    let estate = Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
    let (_, target) = estate
        .servers
        .iter()
        .find(|(name, _)| name == "ss-prod-3")
        .unwrap()
        .clone();
    let audit = account.home().join("audit.jsonl");
    let cmd = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .env("BREAKGLASS_AUDIT_LOG", &audit)
        .cmd;
    let tui = Tmux::start_sized(&cmd, 80, 24);
    // The list loads, with the sandbox banner and who we are.
    let screen = tui.wait_visible("ss-test-3", WAIT);
    assert!(screen.contains("GAME DAY"), "{screen}");
    assert!(screen.contains(&account.id), "{screen}");
    assert!(tui.alternate_screen());
    assert!(has_colour(&tui.visible_styled()), "states are coloured");

    // The filter narrows it.
    tui.keys(&["/"]);
    tui.type_text("prod-3");
    tui.keys(&["Enter"]);
    let screen = tui.wait_visible("Servers 1/6", WAIT);
    assert!(!screen.contains("ss-prod-1"), "{screen}");

    // A dry run of isolate: no incident, no confirmation, nothing changed.
    tui.keys(&["p"]);
    tui.wait_visible("Playbook for ss-prod-3", WAIT);
    tui.keys(&["j", "j", "j", "j"]); // isolate: the fifth playbook
    tui.keys(&["d"]);
    tui.wait_visible("Every step would succeed", WAIT);
    tui.keys(&["Enter"]);
    tui.wait_visible("Servers 1/6", WAIT);
    let isolated = |servers: &[breakglass::aws::Instance]| {
        servers
            .iter()
            .find(|i| i.id == target)
            .and_then(|i| i.tags.get("breakglass:state").cloned())
    };
    let ec2 = ctx.ec2(REGION);
    assert_eq!(isolated(&ec2.describe_instances(&[]).await.unwrap()), None);

    // Live: the incident id, the plan, the target's name typed, then progress and result.
    tui.keys(&["p"]);
    tui.wait_visible("Playbook for ss-prod-3", WAIT);
    tui.keys(&["j", "j", "j", "j", "Enter"]);
    tui.wait_visible("Type it:", WAIT);
    tui.type_text("IR-TUI-1");
    tui.keys(&["Enter"]);
    tui.wait_visible("Plan: isolate · LIVE", WAIT);
    tui.keys(&["Enter"]);
    tui.wait_visible("Type `ss-prod-3` to run it", WAIT);
    tui.type_text("ss-prod-3");
    tui.keys(&["Enter"]);
    let screen = tui.wait_visible("Run isolate · succeeded", WAIT);
    assert!(screen.contains("succeeded"), "{screen}");
    assert_eq!(
        isolated(&ec2.describe_instances(&[]).await.unwrap()).as_deref(),
        Some("isolated")
    );
    // Back on the list, reloaded: the server shows as isolated.
    tui.keys(&["Enter"]);
    tui.wait_visible("isolated", WAIT);

    // The audit screen has both runs and a verified chain.
    tui.keys(&["a"]);
    let screen = tui.wait_visible("chain intact", WAIT);
    assert!(screen.contains("IR-TUI-1"), "{screen}");

    // A resize redraws at the new size; q quits and gives the terminal back.
    tui.resize(120, 30);
    tui.keys(&["Escape"]);
    tui.wait_visible("PRIVATE IP", WAIT);
    tui.keys(&["q"]);
    tui.wait_for("[exit 0]", WAIT);
    assert!(!tui.alternate_screen(), "the terminal is restored");
}

/// Whether the screen uses a foreground or background colour (SGR 30-37, 40-47, 90-97,
/// 38;…, 48;…).
fn has_colour(styled: &str) -> bool {
    styled.split("\x1b[").skip(1).any(|seq| {
        let params = seq.split('m').next().unwrap_or_default();
        params.split(';').any(|p| {
            matches!(
                p.parse::<u16>(),
                Ok(30..=37 | 40..=47 | 90..=97 | 100..=107 | 38 | 48)
            )
        })
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn no_color_turns_colours_off_and_keeps_the_banner_visible() {
    let account = Account::new().await;
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    let ctx = account.context_at(&sim.endpoint()).await;
    Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
    let cmd = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .env("NO_COLOR", "1")
        .cmd;
    let tui = Tmux::start_sized(&cmd, 80, 24);
    tui.wait_visible("ss-test-3", WAIT);
    let styled = tui.visible_styled();
    assert!(!has_colour(&styled), "{styled:?}");
    assert!(
        styled.contains("\x1b[7m") || styled.contains(";7m"),
        "reverse video stays: {styled:?}"
    );
    tui.keys(&["q"]);
    tui.wait_for("[exit 0]", WAIT);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_sign_in_the_tui_signs_in_and_picks_the_role() {
    let account = Account::new().await;
    // The sandbox's sign-in hands out roles in the emulator's default account: seed there, in
    // an emulator of this test's own.
    let moto = support::own_moto();
    let sim = Simulator::start(&moto.endpoint()).await.unwrap();
    sim.auto_approve_sign_in(true);
    let seed = breakglass::aws::AwsContext::load(&support::settings_at(
        &moto.endpoint(),
        "testing",
        "testing",
    ))
    .await;
    Seeder::new(&seed, REGION).xroad_estate().await.unwrap();
    std::fs::create_dir_all(account.home().join(".aws")).unwrap();
    std::fs::write(
        account.home().join(".aws/config"),
        "[sso-session sandbox]\nsso_start_url = https://sandbox.awsapps.com/start\n\
         sso_region = eu-west-1\n\n[profile picker]\nsso_session = sandbox\nregion = eu-west-1\n",
    )
    .unwrap();
    let cmd = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env("AWS_PROFILE", "picker")
        .cmd;
    let tui = Tmux::start_sized(&cmd, 80, 24);
    tui.wait_visible("You are not signed in", WAIT);
    tui.keys(&["d"]);
    // Approved at once in the sandbox; two roles to choose from.
    tui.wait_visible("Choose the role:", WAIT);
    // The heading comes first, the roles once the portal has listed them.
    tui.wait_visible("ReadOnly", WAIT);
    tui.keys(&["j", "Enter"]);
    let screen = tui.wait_visible("ss-test-3", WAIT);
    assert!(screen.contains("ReadOnly"), "{screen}");
    assert!(screen.contains("123456789012"), "{screen}");
    tui.keys(&["q"]);
    tui.wait_for("[exit 0]", WAIT);
    // The pick is remembered: the CLI now uses the same role.
    let who = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .args(["whoami", "--profile", "picker"])
        .run();
    who.assert_code(0);
    assert!(
        who.stdout.contains("assumed-role/ReadOnly/"),
        "{}",
        who.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_start_shows_the_cached_list_while_it_lists_again() {
    use breakglass::sandbox::{Fault, FaultKind};
    use std::os::unix::fs::PermissionsExt;
    let account = Account::new().await;
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    let ctx = account.context_at(&sim.endpoint()).await;
    Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
    let cmd = account.bg().env("AWS_ENDPOINT_URL", sim.endpoint()).cmd;
    let tui = Tmux::start_sized(&cmd, 80, 24);
    let screen = tui.wait_visible("ss-test-3", WAIT);
    assert!(!screen.contains("cached"), "nothing cached yet: {screen}");
    tui.keys(&["q"]);
    tui.wait_for("[exit 0]", WAIT);
    let dir = account.home().join(".cache/breakglass");
    let files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("inventory-"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!((mode(&dir), mode(&files[0])), (0o700, 0o600));

    // The next listing is slow: the cached list is on screen before it answers, then replaced.
    sim.inject([Fault::on("ec2:DescribeInstances", FaultKind::Latency { millis: 4000 }).times(1)]);
    let tui = Tmux::start_sized(&cmd, 80, 24);
    let screen = tui.wait_visible("listing…", Duration::from_secs(3));
    assert!(
        screen.contains("ss-test-3") && screen.contains("cached"),
        "{screen}"
    );
    let deadline = std::time::Instant::now() + WAIT;
    while tui.visible().contains("cached") {
        assert!(std::time::Instant::now() < deadline, "{}", tui.visible());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(tui.visible().contains("ss-test-3"));
    tui.keys(&["q"]);
    tui.wait_for("[exit 0]", WAIT);
}
