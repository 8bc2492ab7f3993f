//! Every screen drawn on `TestBackend` (80×24 unless said, no colour), as insta snapshots:
//! the states a responder meets, errors and empty states included.

use ratatui::Terminal;
use ratatui::backend::TestBackend;

use super::super::action::{Action, AuditRun, AuditSummary, Command, Finished};
use super::super::app::App;
use super::super::keymap::Keymap;
use super::super::theme::Theme;
use super::super::view;
use super::{RUN_ID, app, fixture_plan};
use crate::playbook::{ExecEvent, RunStatus, StepRef, StepResult, StepStatus};

fn render(app: &App, width: u16, height: u16) -> String {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal
        .draw(|frame| view::draw(frame, app, Theme::plain(), &Keymap::default()))
        .unwrap();
    let buffer = terminal.backend().buffer();
    buffer
        .content
        .chunks(usize::from(width))
        .map(|row| {
            row.iter()
                .map(|cell| cell.symbol())
                .collect::<String>()
                .trim_end()
                .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn screen(app: &App) -> String {
    render(app, 80, 24)
}

fn key(app: &mut App, command: Command) {
    app.update(Action::Command(command));
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(Action::Char(c));
    }
}

/// The app on the playbook list for ss-prod-3, cursor on `isolate`.
fn on_isolate() -> App {
    let mut app = app();
    key(&mut app, Command::Down);
    key(&mut app, Command::Down);
    key(&mut app, Command::Playbooks);
    let isolate = app
        .playbooks
        .iter()
        .position(|(n, _)| n == "isolate")
        .unwrap();
    for _ in 0..isolate {
        key(&mut app, Command::Down);
    }
    app
}

fn live_plan_on_screen() -> App {
    let mut app = on_isolate();
    app.incident = Some("IR-42".into());
    key(&mut app, Command::Open);
    let plan = fixture_plan("isolate", &["i-0aaaaaaaaaaaaaaa3"], false, Some("IR-42"));
    app.update(Action::Planned(Ok(Box::new(plan))));
    app
}

#[test]
fn servers() {
    insta::assert_snapshot!("servers", screen(&app()));
    let mut wide = app();
    key(&mut wide, Command::Mark);
    key(&mut wide, Command::ToggleDryRun);
    insta::assert_snapshot!("servers_wide_marked_dry_run", render(&wide, 120, 12));
    let mut filtering = app();
    key(&mut filtering, Command::Filter);
    typed(&mut filtering, "prod");
    insta::assert_snapshot!("servers_filtering", screen(&filtering));
}

#[test]
fn servers_loading_empty_and_failed() {
    let loading = App::new(Vec::new(), vec!["eu-west-1".into()], false);
    insta::assert_snapshot!("loading", render(&loading, 80, 6));
    let mut empty = App::new(Vec::new(), vec!["eu-west-1".into()], false);
    let mut inventory = super::inventory();
    inventory.servers.clear();
    empty.update(Action::InventoryLoaded(Ok(inventory)));
    insta::assert_snapshot!("empty", render(&empty, 80, 6));
    let mut failed = App::new(Vec::new(), vec!["eu-west-1".into()], false);
    failed.update(Action::InventoryLoaded(Err(super::aws_failure(
        "DescribeInstances",
        "AccessDenied",
    ))));
    insta::assert_snapshot!("load_failed", render(&failed, 80, 8));
    let mut no_match = app();
    key(&mut no_match, Command::Filter);
    typed(&mut no_match, "zzz");
    insta::assert_snapshot!("no_match", render(&no_match, 80, 6));
}

#[test]
fn detail_and_help() {
    let mut detail = app();
    key(&mut detail, Command::Down);
    key(&mut detail, Command::Open);
    insta::assert_snapshot!("detail", screen(&detail));
    let mut help = app();
    key(&mut help, Command::Help);
    insta::assert_snapshot!("help", screen(&help));
    let mut palette = app();
    key(&mut palette, Command::Palette);
    typed(&mut palette, "run isolate");
    insta::assert_snapshot!("palette", render(&palette, 80, 6));
}

#[test]
fn the_playbook_flow() {
    insta::assert_snapshot!("pick", screen(&on_isolate()));
    let mut incident = on_isolate();
    key(&mut incident, Command::Open);
    typed(&mut incident, "IR-4");
    insta::assert_snapshot!("incident_prompt", screen(&incident));
    let plan = live_plan_on_screen();
    insta::assert_snapshot!("plan", screen(&plan));
    let mut confirm = live_plan_on_screen();
    key(&mut confirm, Command::Open);
    typed(&mut confirm, "ss-pr");
    insta::assert_snapshot!("confirm", screen(&confirm));

    let mut running = live_plan_on_screen();
    key(&mut running, Command::Open);
    typed(&mut running, "ss-prod-3");
    key(&mut running, Command::Open);
    let at = StepRef {
        instance_id: "i-0aaaaaaaaaaaaaaa3".into(),
        target_name: Some("ss-prod-3".into()),
        step: 1,
        steps: 1,
        step_name: "Isolate".into(),
    };
    running.update(Action::Exec(ExecEvent::StepStarted(at.clone())));
    running.update(Action::Exec(ExecEvent::CallStarted {
        at: at.clone(),
        service: "ec2",
        operation: "ModifyNetworkInterfaceAttribute",
    }));
    insta::assert_snapshot!("running", render(&running, 80, 8));
    running.update(Action::Exec(ExecEvent::StepFinished {
        at,
        result: StepResult::new(
            StepStatus::Failed,
            "ec2:ModifyNetworkInterfaceAttribute failed: Throttling",
        ),
    }));
    running.update(Action::RunFinished(Ok(Finished {
        status: RunStatus::Failed,
        targets: Vec::new(),
        audit_head: "abc".into(),
    })));
    running.toasts.clear();
    insta::assert_snapshot!("failed_run", render(&running, 80, 10));
}

#[test]
fn the_audit_screen() {
    let mut app = app();
    key(&mut app, Command::Audit);
    insta::assert_snapshot!("audit_loading", render(&app, 80, 5));
    app.update(Action::AuditLoaded(Ok(AuditSummary {
        path: "/home/alice/.local/state/breakglass/audit.jsonl".into(),
        verdict: "chain intact (12 records)".into(),
        intact: true,
        runs: vec![AuditRun {
            run_id: RUN_ID.into(),
            incident: Some("IR-42".into()),
            started: "2026-11-28T20:53:03".into(),
            status: "succeeded".into(),
            playbook: "isolate (builtin)".into(),
            events: vec![
                "20:53:03.330 run_started   isolate (builtin)  1 target(s): i-0aaaaaaaaaaaaaaa3"
                    .into(),
                "20:53:03.333 intent        i-0aaaaaaaaaaaaaaa3  1 Isolate  ec2:DescribeInstances"
                    .into(),
            ],
        }],
    })));
    insta::assert_snapshot!("audit_runs", render(&app, 80, 8));
    key(&mut app, Command::Open);
    insta::assert_snapshot!("audit_run", render(&app, 80, 8));
    let mut tampered = super::app();
    key(&mut tampered, Command::Audit);
    tampered.update(Action::AuditLoaded(Ok(AuditSummary {
        path: "audit.jsonl".into(),
        verdict: "TAMPERED: line 7 does not chain to line 6".into(),
        intact: false,
        runs: Vec::new(),
    })));
    insta::assert_snapshot!("audit_tampered_empty", render(&tampered, 80, 5));
}

#[test]
fn the_sign_in_screen() {
    use super::super::app::Screen;
    use super::super::signin::{SignIn, SignInResult, Stage};
    let mut app = App::new(Vec::new(), vec!["eu-west-1".into()], false);
    app.loading = false;
    app.screen = Screen::SignIn;
    app.signin = Some(SignIn::new(&crate::signin::SsoConfig {
        session_name: Some("corp".into()),
        start_url: "https://corp.awsapps.com/start".into(),
        region: "eu-west-1".into(),
        scopes: Vec::new(),
        account_id: None,
        role_name: None,
        profile: Some("ir".into()),
    }));
    insta::assert_snapshot!("signin_ready", render(&app, 80, 10));
    key(&mut app, Command::DryRun);
    app.update(Action::SignIn(SignInResult::Prompt(
        crate::signin::Prompt::Device {
            uri: "https://device.sso.eu-west-1.amazonaws.com/".into(),
            uri_complete: "https://device.sso.eu-west-1.amazonaws.com/?user_code=ABCD-EFGH".into(),
            user_code: "ABCD-EFGH".into(),
            opened: false,
        },
    )));
    insta::assert_snapshot!("signin_device_code", render(&app, 80, 10));
    if let Some(signin) = app.signin.as_mut() {
        signin.stage = Stage::PickRole;
        signin.roles = vec!["IncidentResponder".into(), "ReadOnly".into()];
    }
    insta::assert_snapshot!("signin_pick_role", render(&app, 80, 8));
}
