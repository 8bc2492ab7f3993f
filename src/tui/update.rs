//! The TUI's synchronous `update`: every [`Action`] changes the model and may ask for
//! [`Effect`]s, which the event loop runs as tasks whose results come back as actions.
//! Nothing here waits on AWS or draws.

use std::collections::BTreeSet;

use super::action::{Action, Command};
use super::app::{App, Effect, Input, Screen, TOAST_TICKS, Toast};

impl App {
    /// Applies one action; returns the effects to run.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        // A tick changes the screen only when a toast goes or something moves.
        if !matches!(action, Action::Tick) {
            self.dirty = true;
        }
        match action {
            Action::Tick => {
                self.tick += 1;
                for toast in &mut self.toasts {
                    toast.ticks_left = toast.ticks_left.saturating_sub(1);
                }
                let shown = self.toasts.len();
                self.toasts.retain(|t| t.ticks_left > 0);
                self.dirty |= self.toasts.len() != shown || self.animating();
                Vec::new()
            }
            Action::Resize => Vec::new(),
            Action::IdentityLoaded(Ok(identity)) => {
                // A cached list from another account (the profile now points elsewhere) goes.
                let other_account = self
                    .inventory
                    .as_ref()
                    .is_some_and(|i| self.cached_at.is_some() && i.account != identity.account);
                if other_account {
                    self.inventory = None;
                    self.cached_at = None;
                    self.refresh_shown();
                }
                self.identity = Some(identity);
                Vec::new()
            }
            Action::InventoryCached(cached) => {
                if self.inventory.is_none() {
                    self.cached_at = Some(cached.listed_at);
                    self.inventory = Some(cached.inventory);
                    self.refresh_shown();
                }
                Vec::new()
            }
            Action::IdentityLoaded(Err(err)) => {
                self.toast(err.one_line(), true);
                Vec::new()
            }
            Action::InventoryLoaded(result) => {
                self.loading = false;
                match result {
                    Ok(inventory) => {
                        for warning in &inventory.warnings {
                            self.toasts.push(Toast {
                                text: warning.clone(),
                                error: true,
                                ticks_left: TOAST_TICKS,
                            });
                        }
                        let known: BTreeSet<&String> =
                            inventory.servers.iter().map(|s| &s.instance_id).collect();
                        self.marked.retain(|id| known.contains(id));
                        self.inventory = Some(inventory);
                        self.cached_at = None;
                        self.load_error = None;
                        self.refresh_shown();
                    }
                    Err(err) => {
                        let text = err.one_line();
                        self.load_error = Some(text.clone());
                        self.toast(text, true);
                    }
                }
                Vec::new()
            }
            Action::AuditLoaded(result) => {
                match result {
                    Ok(summary) => {
                        self.audit_cursor =
                            self.audit_cursor.min(summary.runs.len().saturating_sub(1));
                        self.audit = Some(summary);
                    }
                    Err(err) => self.toast(err.one_line(), true),
                }
                Vec::new()
            }
            Action::Planned(_) | Action::Exec(_) | Action::RunFinished(_) => {
                let Some(flow) = self.flow.as_mut() else {
                    return Vec::new();
                };
                let (effects, toast) = flow.take(action);
                if let Some((text, error)) = toast {
                    self.toast(text, error);
                }
                effects
            }
            Action::SignIn(result) => {
                let Some(signin) = self.signin.as_mut() else {
                    return Vec::new();
                };
                let (mut effects, done) = signin.take(result);
                if done {
                    self.signin = None;
                    self.screen = Screen::Servers;
                    self.loading = true;
                    self.toast("signed in", false);
                    effects.extend([Effect::LoadIdentity, Effect::LoadInventory]);
                }
                effects
            }
            // Handled by the event loop.
            Action::ContextReady(_) => Vec::new(),
            Action::Char(c) => {
                self.typed(Some(c));
                Vec::new()
            }
            Action::Backspace => {
                self.typed(None);
                Vec::new()
            }
            Action::Command(command) => self.command(command),
        }
    }

    /// Text input for the field that has the focus (`None`: backspace).
    fn typed(&mut self, c: Option<char>) {
        let field = match self.input {
            Input::None => return,
            Input::Filter => &mut self.filter,
            Input::Palette => &mut self.palette,
            Input::Incident | Input::Confirm => match self.flow.as_mut() {
                Some(flow) => &mut flow.typed,
                None => return,
            },
        };
        match c {
            Some(c) => field.push(c),
            None => {
                field.pop();
            }
        }
        if self.input == Input::Filter {
            self.cursor = 0;
            self.refresh_shown();
        }
    }

    pub(super) fn command(&mut self, command: Command) -> Vec<Effect> {
        if command == Command::Interrupt {
            return self.interrupt();
        }
        if self.help {
            // Any key closes the help.
            self.help = false;
            return Vec::new();
        }
        match self.input {
            Input::Filter => {
                // Enter keeps the filter, Esc clears it.
                if command == Command::Back {
                    self.filter.clear();
                    self.refresh_shown();
                }
                if matches!(command, Command::Back | Command::Open) {
                    self.input = Input::None;
                    self.clamp_cursor();
                }
                return Vec::new();
            }
            Input::Palette => {
                self.input = Input::None;
                let line = std::mem::take(&mut self.palette);
                return if command == Command::Open {
                    self.palette_command(line.trim())
                } else {
                    Vec::new()
                };
            }
            Input::Incident | Input::Confirm => return self.confirm_key(command),
            Input::None => {}
        }
        match command {
            Command::Quit => {
                if self.running() {
                    self.toast(
                        "a playbook is running: Ctrl-C stops it between calls first",
                        true,
                    );
                } else {
                    self.quit = true;
                }
                Vec::new()
            }
            Command::Help => {
                self.help = true;
                Vec::new()
            }
            Command::Palette => {
                self.input = Input::Palette;
                Vec::new()
            }
            Command::ToggleDryRun => {
                self.dry_run = !self.dry_run;
                self.toast(
                    if self.dry_run {
                        "DRY RUN on: playbooks change nothing"
                    } else {
                        "DRY RUN off: playbooks act for real"
                    },
                    false,
                );
                Vec::new()
            }
            Command::Audit | Command::Servers | Command::Playbooks
                if self.screen == Screen::SignIn =>
            {
                self.toast("sign in first (Enter)", true);
                Vec::new()
            }
            Command::Audit => {
                self.screen = Screen::Audit;
                self.audit_open = false;
                vec![Effect::LoadAudit]
            }
            Command::Servers => {
                if !self.running() {
                    self.screen = Screen::Servers;
                }
                Vec::new()
            }
            _ => match self.screen {
                Screen::SignIn => match self.signin.as_mut() {
                    Some(signin) => signin.key(command),
                    None => Vec::new(),
                },
                Screen::Servers => self.servers_key(command),
                Screen::Detail => self.detail_key(command),
                Screen::Playbooks => self.flow_key(command),
                Screen::Audit => self.audit_key(command),
            },
        }
    }
}
