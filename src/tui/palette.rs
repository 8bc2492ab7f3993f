//! The `:` command line.

use super::action::Command;
use super::app::{App, Effect, Screen};

impl App {
    /// `:` commands.
    pub(super) fn palette_command(&mut self, line: &str) -> Vec<Effect> {
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        let rest = rest.trim();
        match word {
            "" => Vec::new(),
            "q" | "quit" => self.command(Command::Quit),
            "servers" | "s" => self.command(Command::Servers),
            "audit" => self.command(Command::Audit),
            "refresh" => {
                self.screen = Screen::Servers;
                self.servers_key(Command::Refresh)
            }
            "dry-run" | "dryrun" => {
                self.dry_run = match rest {
                    "on" => true,
                    "off" => false,
                    _ => !self.dry_run,
                };
                self.toast(
                    format!("DRY RUN {}", if self.dry_run { "on" } else { "off" }),
                    false,
                );
                Vec::new()
            }
            "incident" => match crate::app::check_incident(rest) {
                Ok(id) => {
                    self.toast(format!("incident {id}"), false);
                    self.incident = Some(id);
                    Vec::new()
                }
                Err(err) => {
                    self.toast(err.to_string(), true);
                    Vec::new()
                }
            },
            "run" | "playbook" => {
                let mut effects = self.open_playbooks();
                if let Some(flow) = self.flow.as_mut()
                    && !rest.is_empty()
                {
                    match self.playbooks.iter().position(|(n, _)| n == rest) {
                        Some(i) => {
                            flow.cursor = i;
                            effects.extend(self.flow_key(Command::Open));
                        }
                        None => self.toast(format!("no playbook named `{rest}`"), true),
                    }
                }
                effects
            }
            "help" => self.command(Command::Help),
            other => {
                self.toast(
                    format!(
                        "unknown command `{other}`: try servers, audit, refresh, run NAME, \
                         dry-run on|off, incident ID, quit"
                    ),
                    true,
                );
                Vec::new()
            }
        }
    }
}
