//! The server list's part of the model: what is shown (filtered, sorted), the cursor, the
//! marks, and its keys.

use super::action::Command;
use super::app::{App, Effect, Input, PAGE, Screen, SortKey};
use crate::inventory::Server;

impl App {
    /// The servers shown: filtered by the text after `/`, in the chosen order (kept by
    /// [`App::refresh_shown`], so drawing a frame does no filtering or sorting).
    pub fn visible(&self) -> Vec<&Server> {
        let Some(inventory) = &self.inventory else {
            return Vec::new();
        };
        self.shown
            .iter()
            .filter_map(|&i| inventory.servers.get(i))
            .collect()
    }

    /// Recomputes which servers are shown, after the inventory, the filter or the order
    /// changed.
    pub(super) fn refresh_shown(&mut self) {
        self.shown = self.compute_shown();
        self.clamp_cursor();
    }

    fn compute_shown(&self) -> Vec<usize> {
        let Some(inventory) = &self.inventory else {
            return Vec::new();
        };
        let needle = self.filter.to_lowercase();
        let mut list: Vec<(usize, &Server)> = inventory
            .servers
            .iter()
            .enumerate()
            .filter(|(_, s)| needle.is_empty() || haystack(s).contains(&needle))
            .collect();
        // Compared by reference: no allocation per comparison, for lists of thousands.
        fn name(s: &Server) -> &str {
            s.name.as_deref().unwrap_or("")
        }
        match self.sort {
            SortKey::Name => list.sort_by(|(_, a), (_, b)| {
                (name(a), a.instance_id.as_str()).cmp(&(name(b), b.instance_id.as_str()))
            }),
            SortKey::Id => list.sort_by(|(_, a), (_, b)| a.instance_id.cmp(&b.instance_id)),
            SortKey::State => list.sort_by(|(_, a), (_, b)| {
                (a.state.as_str(), name(a)).cmp(&(b.state.as_str(), name(b)))
            }),
            SortKey::Ssm => list.sort_by(|(_, a), (_, b)| {
                (a.ssm.ping_status.as_str(), name(a)).cmp(&(b.ssm.ping_status.as_str(), name(b)))
            }),
            SortKey::Isolation => list.sort_by(|(_, a), (_, b)| {
                (a.isolation.label(), name(a)).cmp(&(b.isolation.label(), name(b)))
            }),
        }
        list.into_iter().map(|(i, _)| i).collect()
    }

    /// The server under the cursor.
    pub fn current(&self) -> Option<&Server> {
        self.visible().get(self.cursor).copied()
    }

    /// The servers a playbook acts on: the marked ones, else the one under the cursor.
    pub fn targets(&self) -> Vec<&Server> {
        let visible = self.visible();
        if self.marked.is_empty() {
            return visible.get(self.cursor).copied().into_iter().collect();
        }
        self.inventory
            .iter()
            .flat_map(|i| i.servers.iter())
            .filter(|s| self.marked.contains(&s.instance_id))
            .collect()
    }

    pub(super) fn clamp_cursor(&mut self) {
        let len = self.visible().len();
        self.cursor = self.cursor.min(len.saturating_sub(1));
    }

    pub(super) fn move_cursor(&mut self, delta: isize) {
        let len = self.visible().len();
        if len == 0 {
            self.cursor = 0;
            return;
        }
        let next = self.cursor.saturating_add_signed(delta);
        self.cursor = next.min(len - 1);
    }

    pub(super) fn servers_key(&mut self, command: Command) -> Vec<Effect> {
        match command {
            Command::Up => self.move_cursor(-1),
            Command::Down => self.move_cursor(1),
            Command::PageUp => self.move_cursor(-(PAGE as isize)),
            Command::PageDown => self.move_cursor(PAGE as isize),
            Command::Top => self.cursor = 0,
            Command::Bottom => self.cursor = self.visible().len().saturating_sub(1),
            Command::Filter => self.input = Input::Filter,
            Command::Sort => {
                self.sort = self.sort.next();
                self.refresh_shown();
                self.toast(format!("sorted by {}", self.sort.label()), false);
            }
            Command::Mark => {
                if let Some(id) = self.current().map(|s| s.instance_id.clone()) {
                    if !self.marked.remove(&id) {
                        self.marked.insert(id);
                    }
                    self.move_cursor(1);
                }
            }
            Command::MarkAll => {
                let ids: Vec<String> = self
                    .visible()
                    .iter()
                    .map(|s| s.instance_id.clone())
                    .collect();
                if ids.iter().all(|id| self.marked.contains(id)) {
                    self.marked.clear();
                } else {
                    self.marked.extend(ids);
                }
            }
            Command::Back => {
                self.marked.clear();
                self.filter.clear();
                self.refresh_shown();
            }
            Command::Refresh => {
                self.loading = true;
                return vec![Effect::LoadInventory, Effect::LoadIdentity];
            }
            Command::Open if self.current().is_some() => {
                self.screen = Screen::Detail;
                self.detail_scroll = 0;
                // The server's recent audit events come from the log.
                return vec![Effect::LoadAudit];
            }
            Command::Playbooks => return self.open_playbooks(),
            Command::Session => return self.session(),
            _ => {}
        }
        Vec::new()
    }
}

/// What the filter matches against.
fn haystack(server: &Server) -> String {
    format!(
        "{} {} {} {} {} {} {}",
        server.instance_id,
        server.name.as_deref().unwrap_or_default(),
        server.state,
        server.ssm.ping_status,
        server.isolation.label(),
        server.private_ip.as_deref().unwrap_or_default(),
        server.incident.as_deref().unwrap_or_default()
    )
    .to_lowercase()
}
