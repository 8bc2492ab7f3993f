//! Unit tests of the playbook engine's pure parts: loading, parameters, planning, policy,
//! step-order rules and reading runs back for resume.

mod iam_eval;
mod load;
mod plan;
mod policy;

pub(crate) use crate::inventory::fixtures::server;

/// The `tag-incident` plan for two servers (one already tagged), with a hostile note:
/// the plan and its text rendering are snapshotted from it.
pub(crate) fn tag_incident_plan() -> (crate::playbook::Playbook, crate::playbook::Plan) {
    use crate::playbook::{Catalog, RunInfo, plan, resolve_parameters};
    let playbook = Catalog::load(None).find("tag-incident").unwrap().clone();
    let params = resolve_parameters(&playbook, &["note=contained by $(whoami)".into()]).unwrap();
    let targets = [
        server("i-0aaaaaaaaaaaaaaa1", "ss-prod-1", &[]),
        server(
            "i-0aaaaaaaaaaaaaaa2",
            "ss-prod-2",
            &[
                ("breakglass:incident", "IR-42"),
                ("breakglass:run", "01900000-0000-7000-8000-000000000001"),
                ("breakglass:note", "contained by $(whoami)"),
            ],
        ),
    ];
    let info = RunInfo {
        run_id: "01900000-0000-7000-8000-000000000001".into(),
        incident: Some("IR-42".into()),
        dry_run: false,
        ..Default::default()
    };
    let plan = plan(&playbook, &params, &targets, &info).unwrap();
    (playbook, plan)
}
