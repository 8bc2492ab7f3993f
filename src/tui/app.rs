//! The TUI's model: the screens, the effects an update may ask for, and [`App`], the state
//! that `update` (update.rs) changes. Nothing here waits on AWS or draws.

use std::collections::BTreeSet;

use super::action::{AuditSummary, Identity};
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

pub(super) const TOAST_TICKS: u16 = 16;
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
    pub(super) dirty: bool,
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
    pub(super) fn animating(&self) -> bool {
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

    /// `name (id)` of a listed server, or the id alone.
    pub fn server_label(&self, instance_id: &str) -> String {
        self.inventory
            .iter()
            .flat_map(|i| i.servers.iter())
            .find(|s| s.instance_id == instance_id)
            .and_then(|s| s.name.as_deref())
            .map_or_else(
                || instance_id.to_owned(),
                |n| format!("{n} ({instance_id})"),
            )
    }

    pub fn running(&self) -> bool {
        self.flow
            .as_ref()
            .is_some_and(|f| matches!(f.step, FlowStep::Running { .. }))
    }
}
