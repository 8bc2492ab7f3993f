//! The TUI tests' fixtures: the six-server estate, an app with it loaded, plans of it.

use crate::inventory::fixtures::estate as inventory;
use crate::playbook::{Catalog, Plan, RunInfo, plan, resolve_parameters};

use super::super::action::Action;
use super::super::app::App;

pub const RUN_ID: &str = "01900000-0000-7000-8000-000000000042";

/// An app with the fixture inventory loaded and the built-in playbooks.
pub fn app() -> App {
    let playbooks = Catalog::load(None)
        .playbooks
        .iter()
        .map(|p| (p.name.clone(), p.description.clone()))
        .collect();
    let mut app = App::new(playbooks, vec!["eu-west-1".into()], true);
    app.update(Action::InventoryLoaded(Ok(inventory())));
    app.update(Action::IdentityLoaded(Ok(super::super::action::Identity {
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

/// An AWS error as an effect would bring it back (kind `Other`: no hint, so the text shown
/// is the error's own).
pub fn aws_failure(operation: &'static str, code: &str) -> crate::app::Error {
    crate::app::Error::Aws(crate::aws::AwsError {
        service: "ec2",
        operation,
        region: Some("eu-west-1".into()),
        kind: crate::aws::AwsErrorKind::Other,
        code: Some(code.into()),
        message: None,
        request_id: None,
        http_status: None,
        retryable: false,
        answer_lost: false,
    })
}
