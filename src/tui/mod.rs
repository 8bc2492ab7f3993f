//! The terminal UI, the responder's cockpit (`breakglass` with no arguments in a terminal):
//! The Elm Architecture on tokio — terminal events, effect results and a 250 ms tick become
//! [`action::Action`]s; a synchronous [`app::App::update`] changes the model and asks for
//! [`app::Effect`]s, which run as tasks ([`effects`]); the view is drawn once per batch.
//! See docs/tui.md.

pub mod action;
pub mod app;
mod effects;
pub mod flow;
pub mod keymap;
mod palette;
mod servers;
pub mod signin;
pub mod theme;
pub mod view;

#[cfg(test)]
pub(crate) mod tests;

use std::time::Duration;

use crossterm::event::{Event, EventStream, KeyEventKind};
use futures::StreamExt;

use crate::app::Settings;
use crate::app::session::ShellRequest;
use crate::app::{ExitCode, Result};
use action::Action;
use app::{App, Effect};
use keymap::Keymap;
use theme::Theme;

const TICK: Duration = Duration::from_millis(250);

/// Whether the endpoint is the local sandbox (for the GAME DAY banner).
fn sandbox_endpoint() -> bool {
    std::env::var("AWS_ENDPOINT_URL")
        .is_ok_and(|url| url.starts_with("http://127.0.0.1") || url.starts_with("http://localhost"))
}

/// Runs the TUI until the responder quits.
pub async fn run(settings: &Settings) -> Result<ExitCode> {
    let keys = Keymap::with(&settings.config.config.tui.keys).map_err(|reason| {
        crate::Error::InvalidArgument {
            what: "config",
            value: "[tui.keys]".into(),
            reason,
            hint: "see docs/tui.md for key names and commands".into(),
        }
    })?;
    // A profile that signs in through IAM Identity Center without a usable sign-in starts
    // on the sign-in screen, with a context that has no credentials yet.
    let sso = settings.sso_profile().await?;
    let needs_sign_in = sso.as_ref().is_some_and(|s| !crate::signin::ready(s));
    let ctx = if needs_sign_in {
        crate::aws::AwsContext::load(&settings.aws).await
    } else {
        settings.aws_context().await?
    };
    let regions = settings.regions(&ctx)?;
    let catalog = crate::playbook::Catalog::load(settings.playbook_dir().as_deref());
    let playbooks = catalog
        .playbooks
        .iter()
        .map(|p| (p.name.clone(), p.description.clone()))
        .collect();
    let mut app = App::new(playbooks, regions.clone(), sandbox_endpoint());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut runner = effects::Runner::new(settings.clone(), ctx, regions, tx);
    match sso.as_ref().filter(|_| needs_sign_in) {
        Some(sso) => {
            app.screen = app::Screen::SignIn;
            app.signin = Some(signin::SignIn::new(sso));
            app.loading = false;
        }
        None => {
            let cached = settings.inventory_cache(&app.regions);
            if let Some(cached) = cached.as_deref().and_then(crate::inventory::cache::load) {
                app.update(Action::InventoryCached(Box::new(cached)));
            }
            runner.run(Effect::LoadIdentity);
            runner.run(Effect::LoadInventory);
        }
    }
    runner.sso = sso;

    // ratatui::init enters the alternate screen and raw mode and installs a panic hook that
    // restores the terminal before the panic message.
    let mut terminal = ratatui::init();
    let theme = Theme::from_env();
    let mut events = EventStream::new();
    let mut tick = tokio::time::interval(TICK);
    let mut result = Ok(ExitCode::Success);
    loop {
        if let Err(err) = terminal.draw(|frame| view::draw(frame, &app, theme, &keys)) {
            result = Err(crate::Error::Output(err));
            break;
        }
        let first = tokio::select! {
            event = events.next() => match event {
                Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                    keys.action(key, app.input)
                }
                Some(Ok(Event::Resize(..))) => Some(Action::Resize),
                Some(Ok(_)) => None,
                Some(Err(_)) | None => break,
            },
            action = rx.recv() => action,
            _ = tick.tick() => Some(Action::Tick),
        };
        // Take what else is queued, then draw once.
        let mut batch: Vec<Action> = first.into_iter().collect();
        while let Ok(action) = rx.try_recv() {
            batch.push(action);
        }
        for mut action in batch {
            if let Action::ContextReady(ctx) = action {
                runner.ctx = *ctx;
                action = Action::SignIn(signin::SignInResult::Ready(Ok(())));
            }
            for effect in app.update(action) {
                match effect {
                    Effect::Session(target) => {
                        // Hand the terminal over: our key reader stops, the screen and mode
                        // are restored, the session runs on this terminal, then the TUI
                        // comes back.
                        drop(events);
                        ratatui::restore();
                        let request = ShellRequest {
                            target: target.clone(),
                            incident: app.incident.clone(),
                            plugin: false,
                        };
                        let ended =
                            crate::app::session::shell(settings, &runner.ctx, &request).await;
                        terminal = ratatui::init();
                        let _ = terminal.clear();
                        events = EventStream::new();
                        match ended {
                            Ok(ExitCode::Success) => {
                                app.toast(format!("session to {target} ended"), false);
                            }
                            Ok(code) => app.toast(
                                format!("session to {target} failed (exit code {})", code as u8),
                                true,
                            ),
                            Err(err) => app.toast(err.one_line(), true),
                        }
                    }
                    other => runner.run(other),
                }
            }
        }
        if app.quit {
            break;
        }
    }
    ratatui::restore();
    result
}
