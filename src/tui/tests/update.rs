//! `App::update`, screen by screen: the model and the effects each action gives.

use super::super::action::{Action, Command, Finished};
use super::super::app::{Effect, Input, Screen, SortKey};
use super::super::flow::FlowStep;
use super::{app, fixture_plan};
use crate::playbook::{ExecEvent, RunStatus, StepRef, StepResult, StepStatus};

fn key(app: &mut super::super::app::App, command: Command) -> Vec<Effect> {
    app.update(Action::Command(command))
}

fn typed(app: &mut super::super::app::App, text: &str) {
    for c in text.chars() {
        app.update(Action::Char(c));
    }
}

#[test]
fn the_filter_narrows_the_list_and_esc_clears_it() {
    let mut app = app();
    assert_eq!(app.visible().len(), 6);
    key(&mut app, Command::Down);
    key(&mut app, Command::Filter);
    assert_eq!(app.input, Input::Filter);
    typed(&mut app, "prod");
    assert_eq!(app.visible().len(), 3);
    assert_eq!(app.cursor, 0, "typing moves the cursor to the first match");
    typed(&mut app, "-2");
    assert_eq!(app.visible()[0].name.as_deref(), Some("ss-prod-2"));
    app.update(Action::Backspace);
    app.update(Action::Backspace);
    key(&mut app, Command::Open);
    assert_eq!(
        (app.input, app.filter.as_str()),
        (Input::None, "prod"),
        "Enter keeps it"
    );
    key(&mut app, Command::Filter);
    key(&mut app, Command::Back);
    assert_eq!(
        (app.input, app.visible().len()),
        (Input::None, 6),
        "Esc clears it"
    );
    // The filter also matches state words.
    key(&mut app, Command::Filter);
    typed(&mut app, "connectionlost");
    assert_eq!(app.visible()[0].name.as_deref(), Some("ss-test-3"));
}

#[test]
fn moving_sorting_and_marking() {
    let mut app = app();
    key(&mut app, Command::Bottom);
    assert_eq!(app.cursor, 5);
    key(&mut app, Command::Down);
    assert_eq!(app.cursor, 5, "stays on the last row");
    key(&mut app, Command::Top);
    key(&mut app, Command::Up);
    assert_eq!(app.cursor, 0);
    key(&mut app, Command::Sort);
    assert_eq!(app.sort, SortKey::Id);
    for _ in 0..3 {
        key(&mut app, Command::Sort);
    }
    assert_eq!(app.sort, SortKey::Isolation);
    assert_eq!(
        app.visible()[5].name.as_deref(),
        Some("ss-prod-2"),
        "isolated last"
    );
    key(&mut app, Command::Sort);
    assert_eq!(app.sort, SortKey::Name);
    key(&mut app, Command::Mark);
    key(&mut app, Command::Mark);
    assert_eq!(app.marked.len(), 2);
    assert_eq!(app.cursor, 2, "marking moves down");
    let targets: Vec<_> = app
        .targets()
        .iter()
        .map(|s| s.instance_id.clone())
        .collect();
    assert_eq!(targets, ["i-0aaaaaaaaaaaaaaa1", "i-0aaaaaaaaaaaaaaa2"]);
    key(&mut app, Command::MarkAll);
    assert_eq!(app.marked.len(), 6);
    key(&mut app, Command::MarkAll);
    assert!(app.marked.is_empty(), "again unmarks all");
    assert!(matches!(
        key(&mut app, Command::Refresh).as_slice(),
        [Effect::LoadInventory, Effect::LoadIdentity]
    ));
    assert!(app.loading);
}

#[test]
fn detail_opens_on_enter_and_loads_the_audit_events() {
    let mut app = app();
    key(&mut app, Command::Down);
    let effects = key(&mut app, Command::Open);
    assert_eq!(app.screen, Screen::Detail);
    assert!(matches!(effects.as_slice(), [Effect::LoadAudit]));
    key(&mut app, Command::Back);
    assert_eq!(app.screen, Screen::Servers);
}

#[test]
fn a_live_run_asks_the_incident_then_the_target_name_then_runs() {
    let mut app = app();
    key(&mut app, Command::Down);
    key(&mut app, Command::Down);
    key(&mut app, Command::Playbooks);
    assert_eq!(app.screen, Screen::Playbooks);
    let isolate = app
        .playbooks
        .iter()
        .position(|(n, _)| n == "isolate")
        .unwrap();
    for _ in 0..isolate {
        key(&mut app, Command::Down);
    }
    // Live and no incident yet: asked first.
    assert!(key(&mut app, Command::Open).is_empty());
    assert_eq!(app.input, Input::Incident);
    typed(&mut app, "bad id!");
    assert!(key(&mut app, Command::Open).is_empty());
    assert!(app.toasts.last().unwrap().error, "a bad id is refused");
    for _ in 0.."bad id!".len() {
        app.update(Action::Backspace);
    }
    typed(&mut app, "IR-42");
    let effects = key(&mut app, Command::Open);
    match effects.as_slice() {
        [
            Effect::Plan {
                playbook,
                targets,
                dry_run,
                incident,
            },
        ] => {
            assert_eq!(playbook, "isolate");
            assert_eq!(targets, &["i-0aaaaaaaaaaaaaaa3".to_owned()]);
            assert!(!dry_run);
            assert_eq!(incident.as_deref(), Some("IR-42"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(app.incident.as_deref(), Some("IR-42"));
    let plan = fixture_plan("isolate", &["i-0aaaaaaaaaaaaaaa3"], false, Some("IR-42"));
    app.update(Action::Planned(Ok(Box::new(plan))));
    assert!(matches!(
        app.flow.as_ref().unwrap().step,
        FlowStep::Planned { .. }
    ));
    // Enter: the destructive step wants the target's name typed.
    assert!(key(&mut app, Command::Open).is_empty());
    assert_eq!(app.input, Input::Confirm);
    typed(&mut app, "ss-prod-2");
    assert!(key(&mut app, Command::Open).is_empty());
    assert!(app.toasts.last().unwrap().text.contains("type `ss-prod-3`"));
    for _ in 0..9 {
        app.update(Action::Backspace);
    }
    typed(&mut app, "ss-prod-3");
    let effects = key(&mut app, Command::Open);
    assert!(matches!(effects.as_slice(), [Effect::Execute(p)] if !p.dry_run));
    assert!(app.running());

    // Progress, then the result; q does not quit mid-run, Ctrl-C interrupts.
    let at = StepRef {
        instance_id: "i-0aaaaaaaaaaaaaaa3".into(),
        target_name: Some("ss-prod-3".into()),
        step: 1,
        steps: 1,
        step_name: "Isolate".into(),
    };
    app.update(Action::Exec(ExecEvent::StepStarted(at.clone())));
    app.update(Action::Exec(ExecEvent::CallStarted {
        at: at.clone(),
        service: "ec2",
        operation: "DescribeInstances",
    }));
    key(&mut app, Command::Quit);
    assert!(!app.quit);
    assert!(matches!(
        key(&mut app, Command::Interrupt).as_slice(),
        [Effect::Interrupt]
    ));
    app.update(Action::Exec(ExecEvent::StepFinished {
        at,
        result: StepResult::new(StepStatus::Succeeded, "isolated"),
    }));
    app.update(Action::RunFinished(Ok(Finished {
        status: RunStatus::Succeeded,
        targets: Vec::new(),
        audit_head: "abc".into(),
    })));
    match &app.flow.as_ref().unwrap().step {
        FlowStep::Done { progress, .. } => {
            assert_eq!(progress.rows[0].status, "succeeded");
        }
        other => panic!("{other:?}"),
    }
    // Back to the servers, which are reloaded.
    assert!(matches!(
        key(&mut app, Command::Open).as_slice(),
        [Effect::LoadInventory]
    ));
    assert_eq!(app.screen, Screen::Servers);
    assert!(app.flow.is_none());
}

#[test]
fn dry_runs_need_no_incident_and_no_confirmation() {
    let mut app = app();
    key(&mut app, Command::Playbooks);
    let effects = key(&mut app, Command::DryRun);
    assert!(matches!(
        effects.as_slice(),
        [Effect::Plan {
            dry_run: true,
            incident: None,
            ..
        }]
    ));
    let plan = fixture_plan("tag-incident", &["i-0aaaaaaaaaaaaaaa1"], true, None);
    let effects = app.update(Action::Planned(Ok(Box::new(plan))));
    assert!(
        matches!(effects.as_slice(), [Effect::Execute(p)] if p.dry_run),
        "runs at once"
    );
    // A plan that fails is reported and the list is offered again.
    let mut app = super::app();
    key(&mut app, Command::ToggleDryRun);
    assert!(app.dry_run);
    key(&mut app, Command::Playbooks);
    key(&mut app, Command::Open);
    let err = crate::app::Error::Target(crate::inventory::TargetError {
        target: "ss-gone".into(),
        message: "no such target".into(),
        hint: "see `breakglass list`".into(),
    });
    let text = err.one_line();
    assert!(text.contains("no such target") && text.contains("see `breakglass list`"));
    app.update(Action::Planned(Err(err)));
    assert!(matches!(app.flow.as_ref().unwrap().step, FlowStep::Pick));
    assert!(app.toasts.iter().any(|t| t.text == text && t.error));
}

#[test]
fn help_palette_and_quit() {
    let mut app = app();
    key(&mut app, Command::Help);
    assert!(app.help);
    key(&mut app, Command::Quit);
    assert!(!app.help && !app.quit, "any key closes the help first");
    key(&mut app, Command::Palette);
    typed(&mut app, "incident IR-9");
    key(&mut app, Command::Open);
    assert_eq!(app.incident.as_deref(), Some("IR-9"));
    key(&mut app, Command::Palette);
    typed(&mut app, "dry-run on");
    key(&mut app, Command::Open);
    assert!(app.dry_run);
    key(&mut app, Command::Palette);
    typed(&mut app, "frobnicate");
    key(&mut app, Command::Open);
    assert!(app.toasts.last().unwrap().text.contains("unknown command"));
    key(&mut app, Command::Palette);
    typed(&mut app, "audit");
    assert!(matches!(
        key(&mut app, Command::Open).as_slice(),
        [Effect::LoadAudit]
    ));
    assert_eq!(app.screen, Screen::Audit);
    key(&mut app, Command::Quit);
    assert!(app.quit);
    // Toasts fade.
    let mut app = super::app();
    app.toast("hello", false);
    for _ in 0..20 {
        app.update(Action::Tick);
    }
    assert!(app.toasts.is_empty());
}

#[test]
fn nothing_selected_and_load_errors_are_said() {
    let mut app = app();
    key(&mut app, Command::Filter);
    typed(&mut app, "no-such-server");
    key(&mut app, Command::Open);
    key(&mut app, Command::Playbooks);
    assert_eq!(app.screen, Screen::Servers);
    assert!(
        app.toasts
            .last()
            .unwrap()
            .text
            .contains("no server selected")
    );
    app.update(Action::InventoryLoaded(Err(super::aws_failure(
        "DescribeInstances",
        "Unavailable",
    ))));
    assert_eq!(
        app.load_error.as_deref(),
        Some("ec2:DescribeInstances failed in eu-west-1: Unavailable")
    );
    assert!(app.inventory.is_some(), "the last good list stays");
}

#[test]
fn signing_in_from_the_tui_picks_the_account_and_role() {
    use super::super::signin::{SignIn, SignInResult, Stage};
    use crate::signin::{Prompt, SsoConfig};
    let mut app = app();
    app.screen = Screen::SignIn;
    app.signin = Some(SignIn::new(&SsoConfig {
        session_name: Some("corp".into()),
        start_url: "https://corp.awsapps.com/start".into(),
        region: "eu-west-1".into(),
        scopes: vec!["sso:account:access".into()],
        account_id: None,
        role_name: None,
        profile: Some("ir".into()),
    }));
    assert!(
        key(&mut app, Command::Audit).is_empty(),
        "nothing else before signing in"
    );
    assert!(matches!(
        key(&mut app, Command::DryRun).as_slice(),
        [Effect::SignIn { device_code: true }]
    ));
    let prompt = Prompt::Device {
        uri: "https://device.sso".into(),
        uri_complete: "https://device.sso/?user_code=ABCD-EFGH".into(),
        user_code: "ABCD-EFGH".into(),
        opened: false,
    };
    app.update(Action::SignIn(SignInResult::Prompt(prompt.clone())));
    assert_eq!(
        app.signin.as_ref().unwrap().stage,
        Stage::Waiting(Some(prompt))
    );
    let effects = app.update(Action::SignIn(SignInResult::SignedIn(Ok(()))));
    assert!(matches!(effects.as_slice(), [Effect::ListAccounts]));
    let effects = app.update(Action::SignIn(SignInResult::Accounts(Ok(vec![
        ("111122223333".into(), "prod".into()),
        ("444455556666".into(), "test".into()),
    ]))));
    assert!(effects.is_empty(), "two accounts: a choice");
    key(&mut app, Command::Down);
    let effects = key(&mut app, Command::Open);
    assert!(matches!(effects.as_slice(), [Effect::ListRoles(a)] if a == "444455556666"));
    let effects = app.update(Action::SignIn(SignInResult::Roles(Ok(vec![
        "ReadOnly".into(),
    ]))));
    assert!(
        matches!(effects.as_slice(), [Effect::UseRole { account, role }] if account == "444455556666" && role == "ReadOnly"),
        "a single role is taken"
    );
    let effects = app.update(Action::SignIn(SignInResult::Ready(Ok(()))));
    assert!(matches!(
        effects.as_slice(),
        [Effect::LoadIdentity, Effect::LoadInventory]
    ));
    assert_eq!(app.screen, Screen::Servers);
    assert!(app.signin.is_none());
}

#[test]
fn a_failed_or_cancelled_sign_in_can_be_tried_again() {
    use super::super::signin::{SignIn, SignInResult, Stage};
    let mut app = app();
    app.screen = Screen::SignIn;
    let mut signin = SignIn::new(&crate::signin::SsoConfig {
        session_name: None,
        start_url: "https://corp.awsapps.com/start".into(),
        region: "eu-west-1".into(),
        scopes: Vec::new(),
        account_id: Some("111122223333".into()),
        role_name: Some("IR".into()),
        profile: Some("ir".into()),
    });
    signin.stage = Stage::Ready;
    app.signin = Some(signin);
    assert!(matches!(
        key(&mut app, Command::Open).as_slice(),
        [Effect::SignIn { device_code: false }]
    ));
    assert!(matches!(
        key(&mut app, Command::Back).as_slice(),
        [Effect::CancelSignIn]
    ));
    key(&mut app, Command::Open);
    app.update(Action::SignIn(SignInResult::SignedIn(Err(
        crate::signin::SignInError::Denied.into(),
    ))));
    assert!(matches!(&app.signin.as_ref().unwrap().stage,
        Stage::Failed(e) if e.contains("denied in the browser") && e.contains("choose Allow")));
    key(&mut app, Command::Open);
    // The profile names account and role: no choice after signing in.
    let effects = app.update(Action::SignIn(SignInResult::SignedIn(Ok(()))));
    assert!(matches!(effects.as_slice(), [Effect::UseRole { .. }]));
}

#[test]
fn a_cached_list_shows_until_the_listing_answers_and_never_for_another_account() {
    use super::super::action::Identity;
    use crate::inventory::cache::Cached;
    let cached = || {
        Action::InventoryCached(Box::new(Cached {
            listed_at: chrono::Utc::now(),
            inventory: super::inventory(),
        }))
    };
    let identity = |account: &str| {
        Action::IdentityLoaded(Ok(Identity {
            account: account.into(),
            arn: format!("arn:aws:sts::{account}:assumed-role/IncidentResponder/alice"),
            credentials_left: None,
        }))
    };
    let fresh = || super::super::app::App::new(Vec::new(), vec!["eu-west-1".into()], false);

    let mut app = fresh();
    app.update(cached());
    assert_eq!((app.visible().len(), app.loading), (6, true));
    assert!(app.cached_at.is_some());
    app.update(identity("123456789012"));
    assert_eq!(app.visible().len(), 6, "same account: still shown");
    let mut listed = super::inventory();
    listed.servers.truncate(4);
    app.update(Action::InventoryLoaded(Ok(listed.clone())));
    assert_eq!((app.visible().len(), app.cached_at), (4, None));
    app.update(cached());
    assert_eq!(
        app.visible().len(),
        4,
        "a late cache never replaces a listing"
    );

    let mut app = fresh();
    app.update(cached());
    app.update(identity("210987654321"));
    assert!(
        app.inventory.is_none(),
        "another account's servers are not shown"
    );
    assert!(app.visible().is_empty());

    let mut app = fresh();
    app.update(cached());
    app.update(Action::InventoryLoaded(Err(super::aws_failure(
        "DescribeInstances",
        "Throttling",
    ))));
    assert_eq!(
        app.visible().len(),
        6,
        "a failed listing keeps the cached list"
    );
    assert!(app.cached_at.is_some(), "still marked as cached");
}
