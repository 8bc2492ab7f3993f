//! The cockpit's life: started from the settings (sign-in screen or cached list, the first
//! effects), then the event loop — terminal events, effect results and a 250 ms tick become
//! [`Action`]s, a batch of them goes through [`App::update`], effects run as tasks, and the
//! screen is drawn only when the model changed — on any [`Console`].

use std::time::Duration;

use crossterm::event::{Event, KeyEventKind};
use tokio::sync::mpsc::UnboundedReceiver;

use super::action::Action;
use super::app::{App, Effect, Screen};
use super::console::Console;
use super::effects::Runner;
use super::keymap::Keymap;
use super::signin::{SignIn, SignInResult};
use super::theme::Theme;
use crate::app::session::ShellRequest;
use crate::app::{Error, ExitCode, Result, Settings};
use crate::shell::hangup::{self, Hangup};

const TICK: Duration = Duration::from_millis(250);

/// The model, the effect runner and what the loop needs to draw.
pub struct Cockpit {
    pub app: App,
    runner: Runner,
    actions: UnboundedReceiver<Action>,
    keys: Keymap,
    theme: Theme,
}

impl Cockpit {
    /// The cockpit for `settings`: on the sign-in screen when the profile signs in through
    /// IAM Identity Center and no sign-in is usable, else on the servers (the cached list
    /// first, while identity and inventory load).
    pub async fn start(settings: &Settings, theme: Theme) -> Result<Cockpit> {
        let keys = Keymap::with(&settings.config.config.tui.keys).map_err(|reason| {
            Error::InvalidArgument {
                what: "config",
                value: "[tui.keys]".into(),
                reason,
                hint: "see docs/tui.md for key names and commands".into(),
            }
        })?;
        // Without a usable sign-in: a context that has no credentials yet.
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
        let mut app = App::new(playbooks, regions.clone(), is_sandbox(settings));
        let (tx, actions) = tokio::sync::mpsc::unbounded_channel();
        let mut runner = Runner::new(settings.clone(), ctx, regions, tx);
        match sso.as_ref().filter(|_| needs_sign_in) {
            Some(sso) => {
                app.screen = Screen::SignIn;
                app.signin = Some(SignIn::new(sso));
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
        Ok(Cockpit {
            app,
            runner,
            actions,
            keys,
            theme,
        })
    }

    /// Runs until the responder quits, input ends or the terminal goes away.
    pub async fn drive<C: Console>(
        &mut self,
        console: &mut C,
        settings: &Settings,
    ) -> Result<ExitCode> {
        let mut tick = tokio::time::interval(TICK);
        // Ticks missed while a shell had the terminal are not made up in a burst (which
        // would expire at once the toast saying how the shell ended).
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut gone = Hangup::listen();
        loop {
            // Also when a shell the cockpit handed the terminal to saw it go.
            if hangup::happened() {
                return Ok(self.hang_up().await);
            }
            if self.app.take_dirty() {
                let (app, theme, keys) = (&self.app, self.theme, &self.keys);
                console
                    .terminal()
                    .draw(|frame| super::view::draw(frame, app, theme, keys))
                    .map_err(|err| Error::Output(std::io::Error::other(err.to_string())))?;
                console.drawn();
            }
            let first = tokio::select! {
                event = console.next_event() => match event {
                    Some(Ok(Event::Key(key))) if key.kind != KeyEventKind::Release => {
                        self.keys.action(key, self.app.input)
                    }
                    Some(Ok(Event::Resize(..))) => Some(Action::Resize),
                    Some(Ok(_)) => None,
                    // Input ended (standard input closed) or cannot be read: the terminal
                    // is gone, as on a hang-up.
                    Some(Err(_)) | None => return Ok(self.hang_up().await),
                },
                action = self.actions.recv() => action,
                () = gone.recv() => return Ok(self.hang_up().await),
                _ = tick.tick() => {
                    if console.hung_up() {
                        return Ok(self.hang_up().await);
                    }
                    Some(Action::Tick)
                }
            };
            // Take what else is queued, then draw once.
            let mut batch: Vec<Action> = first.into_iter().collect();
            while let Ok(action) = self.actions.try_recv() {
                batch.push(action);
            }
            for action in batch {
                self.handle(action, console, settings).await;
            }
            if self.app.quit {
                return Ok(ExitCode::Success);
            }
        }
    }

    async fn handle<C: Console>(
        &mut self,
        mut action: Action,
        console: &mut C,
        settings: &Settings,
    ) {
        if let Action::ContextReady(ctx) = action {
            self.runner.ctx = *ctx;
            action = Action::SignIn(SignInResult::Ready(Ok(())));
        }
        for effect in self.app.update(action) {
            match effect {
                Effect::Session(target) => self.session(&target, console, settings).await,
                other => self.runner.run(other),
            }
        }
    }

    /// The terminal went away (SIGHUP, SIGTERM, or a terminal that hung up): a run in
    /// progress stops after the calls in flight, as on Ctrl-C — recorded in the audit trail
    /// and resumable — and the loop ends (exit 1 when a run was stopped). Nothing is drawn.
    async fn hang_up(&mut self) -> ExitCode {
        tracing::warn!("the terminal went away; stopping");
        if !self.app.running() {
            return ExitCode::Success;
        }
        self.runner.run(Effect::Interrupt);
        while let Some(action) = self.actions.recv().await {
            let finished = matches!(action, Action::RunFinished(_));
            // What the model would do next (reload the list) has no one to show it to.
            let _ = self.app.update(action);
            if finished {
                break;
            }
        }
        ExitCode::Failed
    }

    /// Hands the terminal to a Session Manager shell on `target`, then takes it back.
    async fn session<C: Console>(&mut self, target: &str, console: &mut C, settings: &Settings) {
        console.suspend();
        let request = ShellRequest {
            target: target.to_owned(),
            incident: self.app.incident.clone(),
            plugin: false,
        };
        let ended = crate::app::session::shell(settings, &self.runner.ctx, &request).await;
        console.resume();
        self.app.update(Action::Resize);
        let target = self.app.server_label(target);
        match ended {
            Ok(ExitCode::Success) => self.app.toast(format!("session to {target} ended"), false),
            Ok(code) => self.app.toast(
                format!("session to {target} failed (exit code {})", code as u8),
                true,
            ),
            Err(err) => self.app.toast(err.one_line(), true),
        }
    }
}

/// Whether the calls go to the local sandbox (for the GAME DAY banner).
fn is_sandbox(settings: &Settings) -> bool {
    settings.aws.sandbox.is_some()
        || std::env::var("AWS_ENDPOINT_URL").is_ok_and(|url| {
            url.starts_with("http://127.0.0.1") || url.starts_with("http://localhost")
        })
}
