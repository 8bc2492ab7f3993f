//! The TUI's model and its synchronous `update`: every [`Action`] changes the model and may
//! ask for [`Effect`]s, which the event loop runs as tasks whose results come back as
//! actions. Nothing here waits on AWS or draws.

use std::collections::BTreeSet;

use super::action::{Action, AuditSummary, Command, Identity};
use super::flow::{Flow, FlowStep};
use crate::inventory::{Inventory, Server};
use crate::playbook::Plan;

/// The main screens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Screen {
    SignIn,
    Servers,
    Detail,
    Playbooks,
    Audit,
}

/// Work for the event loop.
#[derive(Debug)]
pub enum Effect {
    LoadInventory,
    LoadIdentity,
    LoadAudit,
    Plan {
        playbook: String,
        targets: Vec<String>,
        dry_run: bool,
        incident: Option<String>,
    },
    Execute(Box<Plan>),
    /// Stop the running playbook between calls.
    Interrupt,
    /// Hand the terminal to a Session Manager shell on this instance.
    Session(String),
    /// Sign in through IAM Identity Center (browser, or device code).
    SignIn {
        device_code: bool,
    },
    CancelSignIn,
    ListAccounts,
    ListRoles(String),
    /// Use this account and role for every call from now on.
    UseRole {
        account: String,
        role: String,
    },
}

/// Where typed characters go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    None,
    Filter,
    Palette,
    /// The incident id, asked before a live run.
    Incident,
    /// The confirmation of a live run.
    Confirm,
}

/// Server list order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    Id,
    State,
    Ssm,
    Isolation,
}

impl SortKey {
    fn next(self) -> SortKey {
        match self {
            SortKey::Name => SortKey::Id,
            SortKey::Id => SortKey::State,
            SortKey::State => SortKey::Ssm,
            SortKey::Ssm => SortKey::Isolation,
            SortKey::Isolation => SortKey::Name,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortKey::Name => "name",
            SortKey::Id => "id",
            SortKey::State => "state",
            SortKey::Ssm => "ssm",
            SortKey::Isolation => "isolation",
        }
    }
}

/// A message at the bottom of the screen for a few seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub text: String,
    pub error: bool,
    /// Ticks (of 250 ms) left on screen.
    pub ticks_left: u16,
}

const TOAST_TICKS: u16 = 16;
const PAGE: usize = 10;

pub struct App {
    pub screen: Screen,
    pub inventory: Option<Inventory>,
    pub loading: bool,
    pub load_error: Option<String>,
    pub filter: String,
    pub input: Input,
    pub sort: SortKey,
    pub cursor: usize,
    pub marked: BTreeSet<String>,
    pub identity: Option<Identity>,
    pub regions: Vec<String>,
    pub incident: Option<String>,
    pub dry_run: bool,
    /// Running against the local game-day sandbox.
    pub sandbox: bool,
    pub help: bool,
    pub palette: String,
    pub toasts: Vec<Toast>,
    /// `(name, description)` of every playbook.
    pub playbooks: Vec<(String, String)>,
    pub flow: Option<Flow>,
    pub audit: Option<AuditSummary>,
    pub audit_cursor: usize,
    pub audit_open: bool,
    pub audit_scroll: u16,
    pub detail_scroll: u16,
    pub signin: Option<super::signin::SignIn>,
    pub tick: u64,
    pub quit: bool,
}

impl App {
    pub fn new(playbooks: Vec<(String, String)>, regions: Vec<String>, sandbox: bool) -> App {
        App {
            screen: Screen::Servers,
            inventory: None,
            loading: true,
            load_error: None,
            filter: String::new(),
            input: Input::None,
            sort: SortKey::Name,
            cursor: 0,
            marked: BTreeSet::new(),
            identity: None,
            regions,
            incident: None,
            dry_run: false,
            sandbox,
            help: false,
            palette: String::new(),
            toasts: Vec::new(),
            playbooks,
            flow: None,
            audit: None,
            audit_cursor: 0,
            audit_open: false,
            audit_scroll: 0,
            detail_scroll: 0,
            signin: None,
            tick: 0,
            quit: false,
        }
    }

    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        self.toasts.push(Toast {
            text: text.into(),
            error,
            ticks_left: TOAST_TICKS,
        });
        if self.toasts.len() > 3 {
            self.toasts.remove(0);
        }
    }

    /// The servers shown: filtered by the text after `/`, in the chosen order.
    pub fn visible(&self) -> Vec<&Server> {
        let Some(inventory) = &self.inventory else {
            return Vec::new();
        };
        let needle = self.filter.to_lowercase();
        let mut list: Vec<&Server> = inventory
            .servers
            .iter()
            .filter(|s| needle.is_empty() || haystack(s).contains(&needle))
            .collect();
        let name = |s: &Server| s.name.clone().unwrap_or_default();
        match self.sort {
            SortKey::Name => list.sort_by_key(|s| (name(s), s.instance_id.clone())),
            SortKey::Id => list.sort_by_key(|s| s.instance_id.clone()),
            SortKey::State => list.sort_by_key(|s| (s.state.clone(), name(s))),
            SortKey::Ssm => list.sort_by_key(|s| (s.ssm.ping_status.clone(), name(s))),
            SortKey::Isolation => list.sort_by_key(|s| (s.isolation.label(), name(s))),
        }
        list
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

    fn clamp_cursor(&mut self) {
        let len = self.visible().len();
        self.cursor = self.cursor.min(len.saturating_sub(1));
    }

    fn move_cursor(&mut self, delta: isize) {
        let len = self.visible().len();
        if len == 0 {
            self.cursor = 0;
            return;
        }
        let next = self.cursor.saturating_add_signed(delta);
        self.cursor = next.min(len - 1);
    }

    pub fn running(&self) -> bool {
        self.flow
            .as_ref()
            .is_some_and(|f| matches!(f.step, FlowStep::Running { .. }))
    }

    /// Applies one action; returns the effects to run.
    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Tick => {
                self.tick += 1;
                for toast in &mut self.toasts {
                    toast.ticks_left = toast.ticks_left.saturating_sub(1);
                }
                self.toasts.retain(|t| t.ticks_left > 0);
                Vec::new()
            }
            Action::Resize => Vec::new(),
            Action::IdentityLoaded(Ok(identity)) => {
                self.identity = Some(identity);
                Vec::new()
            }
            Action::IdentityLoaded(Err(err)) => {
                self.toast(err, true);
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
                        self.load_error = None;
                        self.clamp_cursor();
                    }
                    Err(err) => {
                        self.load_error = Some(err.clone());
                        self.toast(err, true);
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
                    Err(err) => self.toast(err, true),
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
        }
    }

    fn command(&mut self, command: Command) -> Vec<Effect> {
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

    fn servers_key(&mut self, command: Command) -> Vec<Effect> {
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

    fn detail_key(&mut self, command: Command) -> Vec<Effect> {
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

    fn audit_key(&mut self, command: Command) -> Vec<Effect> {
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

    fn session(&mut self) -> Vec<Effect> {
        match self.current() {
            Some(server) => vec![Effect::Session(server.instance_id.clone())],
            None => Vec::new(),
        }
    }

    fn open_playbooks(&mut self) -> Vec<Effect> {
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

    fn flow_key(&mut self, command: Command) -> Vec<Effect> {
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
    fn confirm_key(&mut self, command: Command) -> Vec<Effect> {
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
                match crate::cli::check_incident(flow.typed.trim()) {
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

    fn interrupt(&mut self) -> Vec<Effect> {
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

    /// `:` commands.
    fn palette_command(&mut self, line: &str) -> Vec<Effect> {
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
            "incident" => match crate::cli::check_incident(rest) {
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
