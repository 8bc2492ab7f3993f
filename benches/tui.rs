//! The cockpit's speed with 5,000 servers: a full frame on ratatui's `TestBackend` against
//! rendering the same rows as a bare ratatui `Table` (the floor any table UI pays), a
//! filter keystroke to its frame, the first frame at start-up from the inventory cache on
//! disk, and the peak memory. `cargo bench --bench tui`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "support/mod.rs"]
mod support;

use std::collections::BTreeMap;

use breakglass::inventory::{Inventory, Isolation, Server, SsmStatus};
use breakglass::tui::action::{Action, Command};
use breakglass::tui::app::App;
use breakglass::tui::keymap::Keymap;
use breakglass::tui::theme::Theme;
use breakglass::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::layout::Constraint;
use ratatui::widgets::{Row, Table, TableState};

const SERVERS: usize = 5_000;
const FRAMES: usize = 200;

fn server(i: usize) -> Server {
    let name = format!(
        "ss-{}-{i:04}",
        if i.is_multiple_of(3) { "prod" } else { "test" }
    );
    Server {
        region: "eu-west-1".into(),
        instance_id: format!("i-{i:017x}"),
        name: Some(name.clone()),
        state: "running".into(),
        private_ip: Some(format!("10.20.{}.{}", i / 250, i % 250)),
        availability_zone: Some("eu-west-1a".into()),
        platform: "Linux/UNIX".into(),
        vpc_id: Some("vpc-0123456789abcdef0".into()),
        auto_scaling_group: None,
        target_groups: Vec::new(),
        security_groups: Vec::new(),
        network_interfaces: Vec::new(),
        volumes: Vec::new(),
        ssm: SsmStatus {
            ping_status: if i.is_multiple_of(50) {
                "ConnectionLost"
            } else {
                "Online"
            }
            .into(),
            agent_version: None,
        },
        isolation: if i.is_multiple_of(97) {
            Isolation::Isolated
        } else {
            Isolation::None
        },
        incident: None,
        tags: BTreeMap::from([("Name".to_owned(), name)]),
    }
}

fn inventory() -> Inventory {
    Inventory {
        version: 1,
        account: "111122223333".into(),
        caller_arn: "arn:aws:sts::111122223333:assumed-role/IncidentResponder/alice".into(),
        regions: vec!["eu-west-1".into()],
        selection: "tag:Role=xroad-security-server".into(),
        servers: (0..SERVERS).map(server).collect(),
        warnings: Vec::new(),
    }
}

fn main() {
    let keys = Keymap::default();
    let theme = Theme::plain();
    let mut terminal = Terminal::new(TestBackend::new(160, 50)).unwrap();

    // First frame at start-up: the inventory cache read from disk and parsed, a fresh
    // model, drawn once — what `breakglass` does before its first listing answers.
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join("inventory.json");
    breakglass::inventory::cache::save(&cache, &inventory()).unwrap();
    let first = support::median(20, || {
        let mut app = App::new(Vec::new(), vec!["eu-west-1".into()], false);
        let cached = breakglass::inventory::cache::load(&cache).unwrap();
        app.update(Action::InventoryCached(Box::new(cached)));
        terminal
            .draw(|f| view::draw(f, &app, theme, &keys))
            .unwrap();
    });

    let mut app = App::new(Vec::new(), vec!["eu-west-1".into()], false);
    app.update(Action::InventoryLoaded(Ok(inventory())));
    let frame = support::median(FRAMES, || {
        app.update(Action::Command(Command::Down));
        terminal
            .draw(|f| view::draw(f, &app, theme, &keys))
            .unwrap();
    });

    // The floor: the same rows as a bare table, no filtering or sorting.
    let rows: Vec<Vec<String>> = inventory()
        .servers
        .iter()
        .map(|s| {
            vec![
                s.instance_id.clone(),
                s.name.clone().unwrap_or_default(),
                s.state.clone(),
                s.ssm.ping_status.clone(),
                s.isolation.label().to_owned(),
            ]
        })
        .collect();
    let mut selected = 0;
    let bare = support::median(FRAMES, || {
        selected = (selected + 1) % SERVERS;
        terminal
            .draw(|f| {
                let table = Table::new(
                    rows.iter().map(|r| Row::new(r.iter().map(String::as_str))),
                    [
                        Constraint::Length(19),
                        Constraint::Min(10),
                        Constraint::Length(10),
                        Constraint::Length(14),
                        Constraint::Length(10),
                    ],
                );
                let mut state = TableState::default().with_selected(Some(selected));
                f.render_stateful_widget(table, f.area(), &mut state);
            })
            .unwrap();
    });

    // A keystroke in the filter, to the frame that shows its result.
    app.update(Action::Command(Command::Filter));
    let mut typed = 0u32;
    let keystroke = support::median(FRAMES, || {
        typed += 1;
        if typed.is_multiple_of(6) {
            for _ in 0..5 {
                app.update(Action::Backspace);
            }
        } else {
            app.update(Action::Char(char::from(b'0' + (typed % 10) as u8)));
        }
        terminal
            .draw(|f| view::draw(f, &app, theme, &keys))
            .unwrap();
    });

    support::report(&format!("frame with {SERVERS} servers"), frame, bare);
    support::report("filter keystroke to frame", keystroke, bare);
    support::report("first frame from the inventory cache on disk", first, bare);
    if let Some(mib) = support::peak_rss_mib() {
        println!("peak RSS: {mib:.1} MiB");
    }
}
