//! What a command does on the detail, audit and confirmation screens, and the ones that open
//! a shell, the playbooks or interrupt a run.

use super::action::Command;
use super::app::{App, Effect, Input, PAGE, Screen};
use super::flow::Flow;

impl App {
    pub(super) fn detail_key(&mut self, command: Command) -> Vec<Effect> {
        match command {
            Command::Back => self.screen = Screen::Servers,
            Command::Up => self.detail_scroll = self.detail_scroll.saturating_sub(1),
            Command::Down => self.detail_scroll = self.detail_scroll.saturating_add(1),
            Command::Playbooks => return self.open_playbooks(),
            Command::Session => return self.session(),
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn audit_key(&mut self, command: Command) -> Vec<Effect> {
        let runs = self.audit.as_ref().map_or(0, |a| a.runs.len());
        let page = u16::try_from(PAGE).unwrap_or(10);
        match command {
            Command::Up if self.audit_open => {
                self.audit_scroll = self.audit_scroll.saturating_sub(1);
            }
            Command::Down if self.audit_open => {
                self.audit_scroll = self.audit_scroll.saturating_add(1);
            }
            Command::PageDown if self.audit_open => {
                self.audit_scroll = self.audit_scroll.saturating_add(page);
            }
            Command::PageUp if self.audit_open => {
                self.audit_scroll = self.audit_scroll.saturating_sub(page);
            }
            Command::Up => self.audit_cursor = self.audit_cursor.saturating_sub(1),
            Command::Down => {
                self.audit_cursor = (self.audit_cursor + 1).min(runs.saturating_sub(1))
            }
            Command::Open => {
                self.audit_open = runs > 0;
                self.audit_scroll = 0;
            }
            Command::Refresh => return vec![Effect::LoadAudit],
            Command::Back if self.audit_open => self.audit_open = false,
            Command::Back => self.screen = Screen::Servers,
            _ => {}
        }
        Vec::new()
    }

    pub(super) fn session(&mut self) -> Vec<Effect> {
        match self.current() {
            Some(server) => vec![Effect::Session(server.instance_id.clone())],
            None => Vec::new(),
        }
    }

    pub(super) fn open_playbooks(&mut self) -> Vec<Effect> {
        if self.targets().is_empty() {
            self.toast(
                "no server selected: move to one or mark some with Space",
                true,
            );
            return Vec::new();
        }
        if !self.running() {
            let targets = self
                .targets()
                .iter()
                .map(|s| s.instance_id.clone())
                .collect();
            self.flow = Some(Flow::new(targets));
        }
        self.screen = Screen::Playbooks;
        Vec::new()
    }

    pub(super) fn flow_key(&mut self, command: Command) -> Vec<Effect> {
        let dry_run = self.dry_run;
        let incident = self.incident.clone();
        let Some(flow) = self.flow.as_mut() else {
            self.screen = Screen::Servers;
            return Vec::new();
        };
        let outcome = flow.key(command, &self.playbooks, dry_run, incident);
        if let Some(input) = outcome.input {
            self.input = input;
        }
        if outcome.leave {
            self.screen = Screen::Servers;
            self.flow = None;
            if outcome.refresh {
                self.loading = true;
                return vec![Effect::LoadInventory];
            }
        }
        outcome.effects
    }

    /// Keys while the incident id or the confirmation is being typed.
    pub(super) fn confirm_key(&mut self, command: Command) -> Vec<Effect> {
        let Some(flow) = self.flow.as_mut() else {
            self.input = Input::None;
            return Vec::new();
        };
        match command {
            Command::Back => {
                self.input = Input::None;
                flow.cancel_confirm();
                Vec::new()
            }
            Command::Open if self.input == Input::Incident => {
                match crate::app::check_incident(flow.typed.trim()) {
                    Ok(id) => {
                        self.incident = Some(id.clone());
                        flow.typed.clear();
                        // Re-plan with the incident id so templates and tags carry it.
                        self.input = Input::None;
                        flow.replan(Some(id))
                    }
                    Err(err) => {
                        self.toast(err.to_string(), true);
                        Vec::new()
                    }
                }
            }
            Command::Open => match flow.confirmed() {
                Ok(effects) => {
                    self.input = Input::None;
                    effects
                }
                Err(message) => {
                    self.toast(message, true);
                    Vec::new()
                }
            },
            _ => Vec::new(),
        }
    }

    pub(super) fn interrupt(&mut self) -> Vec<Effect> {
        if self.running() {
            self.toast("stopping after the call in flight…", true);
            return vec![Effect::Interrupt];
        }
        if self.input != Input::None {
            return self.command(Command::Back);
        }
        self.quit = true;
        Vec::new()
    }
}
