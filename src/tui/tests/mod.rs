//! Unit tests of the TUI: `update` per screen (pure: actions in, model and effects out) and
//! insta snapshots of every screen drawn on ratatui's `TestBackend` at 80×24 without colour.

mod screens;
mod update;

use crate::inventory::{Inventory, Isolation, SsmStatus};
use crate::playbook::{Catalog, Plan, RunInfo, plan, resolve_parameters};

use super::action::Action;
use super::app::App;

pub const RUN_ID: &str = "01900000-0000-7000-8000-000000000042";

/// Six servers like the sandbox's, one isolated, one with its agent offline.
pub fn inventory() -> Inventory {
    let server = crate::playbook::tests::server;
    let mut servers = vec![
        server(
            "i-0aaaaaaaaaaaaaaa1",
            "ss-prod-1",
            &[("Environment", "prod")],
        ),
        server(
            "i-0aaaaaaaaaaaaaaa2",
            "ss-prod-2",
            &[("Environment", "prod")],
        ),
        server(
            "i-0aaaaaaaaaaaaaaa3",
            "ss-prod-3",
            &[("Environment", "prod")],
        ),
        server(
            "i-0bbbbbbbbbbbbbbb1",
            "ss-test-1",
            &[("Environment", "test")],
        ),
        server(
            "i-0bbbbbbbbbbbbbbb2",
            "ss-test-2",
            &[("Environment", "test")],
        ),
        server(
            "i-0bbbbbbbbbbbbbbb3",
            "ss-test-3",
            &[("Environment", "test")],
        ),
    ];
    for s in &mut servers {
        s.ssm = SsmStatus {
            ping_status: "Online".into(),
            ..SsmStatus::unknown()
        };
    }
    servers[1].isolation = Isolation::Isolated;
    servers[1].incident = Some("IR-7".into());
    servers[5].ssm.ping_status = "ConnectionLost".into();
    Inventory {
        version: 1,
        account: "123456789012".into(),
        caller_arn: "arn:aws:sts::123456789012:assumed-role/IncidentResponder/alice".into(),
        regions: vec!["eu-west-1".into()],
        selection: "tag:Role=xroad-security-server".into(),
        servers,
        warnings: Vec::new(),
    }
}

/// An app with the fixture inventory loaded and the built-in playbooks.
pub fn app() -> App {
    let playbooks = Catalog::load(None)
        .playbooks
        .iter()
        .map(|p| (p.name.clone(), p.description.clone()))
        .collect();
    let mut app = App::new(playbooks, vec!["eu-west-1".into()], true);
    app.update(Action::InventoryLoaded(Ok(inventory())));
    app.update(Action::IdentityLoaded(Ok(super::action::Identity {
        account: "123456789012".into(),
        arn: "arn:aws:sts::123456789012:assumed-role/IncidentResponder/alice".into(),
        credentials_left: Some(3000),
    })));
    app
}

/// The plan of a built-in playbook for servers of the fixture.
pub fn fixture_plan(playbook: &str, ids: &[&str], dry_run: bool, incident: Option<&str>) -> Plan {
    let playbook = Catalog::load(None).find(playbook).unwrap().clone();
    let params = resolve_parameters(&playbook, &[]).unwrap();
    let servers: Vec<_> = inventory()
        .servers
        .into_iter()
        .filter(|s| ids.contains(&s.instance_id.as_str()))
        .collect();
    let info = RunInfo {
        run_id: RUN_ID.into(),
        incident: incident.map(str::to_owned),
        dry_run,
        ..Default::default()
    };
    plan(&playbook, &params, &servers, &info).unwrap()
}
