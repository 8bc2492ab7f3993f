//! The TUI's model and its synchronous `update`: every [`Action`] changes the model and may
//! ask for [`Effect`]s, which the event loop runs as tasks whose results come back as
//! actions. Nothing here waits on AWS or draws.

use std::collections::BTreeSet;

use super::action::{Action, AuditSummary, Command, Identity};
use super::flow::{Flow, FlowStep};
use crate::inventory::Inventory;
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
    pub(super) fn next(self) -> SortKey {
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
pub(super) const PAGE: usize = 10;

pub struct App {
    pub screen: Screen,
    pub inventory: Option<Inventory>,
    pub loading: bool,
    pub load_error: Option<String>,
    /// When the inventory shown was listed, while it is the cached one (not yet re-listed).
    pub cached_at: Option<chrono::DateTime<chrono::Utc>>,
    pub filter: String,
    pub input: Input,
    pub sort: SortKey,
    pub cursor: usize,
    pub marked: BTreeSet<String>,
    /// Indices into the inventory of the servers shown, filtered and sorted.
    pub shown: Vec<usize>,
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
    /// Changed since the screen was last drawn.
    dirty: bool,
}

impl App {
    pub fn new(playbooks: Vec<(String, String)>, regions: Vec<String>, sandbox: bool) -> App {
        App {
            screen: Screen::Servers,
            inventory: None,
            loading: true,
            load_error: None,
            cached_at: None,
            filter: String::new(),
            input: Input::None,
            sort: SortKey::Name,
            cursor: 0,
            marked: BTreeSet::new(),
            shown: Vec::new(),
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
            dirty: true,
        }
    }

    /// Whether the screen must be drawn again since the last time this was asked.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::replace(&mut self.dirty, false)
    }

    /// Whether something on screen moves with time (a spinner, a running clock).
    fn animating(&self) -> bool {
        use super::flow::FlowStep;
        use super::signin::Stage;
        let flow = self.flow.as_ref().is_some_and(|f| {
            matches!(f.step, FlowStep::Planning { .. } | FlowStep::Running { .. })
        });
        let signin = self.screen == Screen::SignIn
            && self
                .signin
                .as_ref()
                .is_some_and(|s| matches!(s.stage, Stage::Waiting(_) | Stage::Finishing));
        flow || signin
    }

    pub fn toast(&mut self, text: impl Into<String>, error: bool) {
        self.dirty = true;
        self.toasts.push(Toast {
            text: text.into(),
            error,
            ticks_left: TOAST_TICKS,
        });
        if self.toasts.len() > 3 {
            self.toasts.remove(0);
        }
    }

    pub fn running(&self) -> bool {
        self.flow
            .as_ref()
            .is_some_and(|f| matches!(f.step, FlowStep::Running { .. }))
    }

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
}
