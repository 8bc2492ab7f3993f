//! Planning, parameters, policy and resume records.

use std::collections::BTreeMap;

use super::server;
use crate::audit::{AuditLog, Entry, RecordKind};
use crate::playbook::{
    Catalog, Origin, ParamValue, RunInfo, find_run, load, plan, policy, resolve_parameters,
};

fn tag_incident() -> crate::playbook::Playbook {
    Catalog::load(None).find("tag-incident").unwrap().clone()
}

fn run(dry_run: bool, incident: Option<&str>) -> RunInfo {
    RunInfo {
        run_id: "01900000-0000-7000-8000-000000000001".into(),
        incident: incident.map(str::to_owned),
        dry_run,
        ..Default::default()
    }
}

#[test]
fn the_plan_lists_every_call_per_target_and_renders_templates() {
    let (_, plan) = super::tag_incident_plan();
    let mut plan_json = serde_json::to_value(&plan).unwrap();
    plan_json["playbook"]["sha256"] = "<sha256>".into();
    insta::assert_json_snapshot!("tag_incident_plan", plan_json);
}

#[test]
fn a_dry_run_without_an_incident_renders_a_placeholder() {
    let playbook = tag_incident();
    let params = resolve_parameters(&playbook, &[]).unwrap();
    let targets = [server("i-0aaaaaaaaaaaaaaa1", "ss-prod-1", &[])];
    let plan = plan(&playbook, &params, &targets, &run(true, None)).unwrap();
    let crate::playbook::ResolvedAction::Tag(args) = &plan.targets[0].steps[0].args else {
        panic!("a tag step");
    };
    assert_eq!(args.tags["breakglass:incident"], "dry-run");
    assert_eq!(args.tags["breakglass:note"], "under investigation");
}

#[test]
fn a_rendered_value_over_the_aws_limit_fails_the_plan() {
    let playbook = tag_incident();
    let params = resolve_parameters(&playbook, &[format!("note={}", "x".repeat(300))]).unwrap();
    let targets = [server("i-0aaaaaaaaaaaaaaa1", "ss-prod-1", &[])];
    let err = plan(&playbook, &params, &targets, &run(false, Some("IR-1"))).unwrap_err();
    assert!(err.to_string().contains("longer than 256"), "{err}");
}

#[test]
fn parameters_are_typed_checked_and_defaulted() {
    let text = "name: p\ndescription: d\nparameters:\n  count:\n    type: integer\n    \
                description: how many\n  force:\n    type: boolean\n    description: f\n    \
                default: false\n  mode:\n    type: string\n    description: m\n    \
                choices: [standby, detach]\n    default: standby\nsteps:\n  - tag: {tags: {a: b}}\n";
    let playbook = load(text, Origin::Builtin).unwrap();
    let ok = resolve_parameters(&playbook, &["count=3".into(), "mode=detach".into()]).unwrap();
    assert_eq!(
        ok,
        BTreeMap::from([
            ("count".to_owned(), ParamValue::Integer(3)),
            ("force".to_owned(), ParamValue::Boolean(false)),
            ("mode".to_owned(), ParamValue::String("detach".into())),
        ])
    );
    let cases: &[(&[&str], &str)] = &[
        (&[], "parameter `count` is required"),
        (&["count=three"], "must be a integer, not `three`"),
        (&["count=1", "force=yes"], "must be a boolean"),
        (
            &["count=1", "mode=delete"],
            "must be one of standby, detach",
        ),
        (&["count=1", "colour=red"], "unknown parameter `colour`"),
        (&["count"], "has no `=`"),
        (&["count=1", "count=2"], "given twice"),
    ];
    for (given, fragment) in cases {
        let given: Vec<String> = given.iter().map(|s| (*s).to_owned()).collect();
        let err = resolve_parameters(&playbook, &given).unwrap_err();
        assert!(err.message.contains(fragment), "{given:?}: {}", err.message);
        assert!(!err.hint.is_empty());
    }
}

#[test]
fn the_policy_covers_exactly_the_declared_calls_scoped_to_security_servers() {
    let playbook = tag_incident();
    let scope = super::policy::security_servers();
    insta::assert_json_snapshot!("tag_incident_policy", policy(&playbook, &scope).unwrap());
    // Every call the plan intends is allowed by the policy: the two come from one
    // declaration and cannot drift apart.
    let document = policy(&playbook, &Default::default()).unwrap().to_string();
    let params = resolve_parameters(&playbook, &[]).unwrap();
    let targets = [server("i-0aaaaaaaaaaaaaaa1", "ss-prod-1", &[])];
    let plan = plan(&playbook, &params, &targets, &run(true, None)).unwrap();
    for call in plan
        .targets
        .iter()
        .flat_map(|t| &t.steps)
        .flat_map(|s| &s.calls)
    {
        let action = format!("\"{}:{}\"", call.service, call.operation);
        assert!(
            document.contains(&action),
            "{action} missing from {document}"
        );
    }
}

#[test]
fn resume_reads_back_the_playbook_parameters_and_completed_steps() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let mut log = AuditLog::open(&path).unwrap();
    let entry = |run_id: &str, kind, body| Entry {
        run_id: run_id.into(),
        incident: Some("IR-7".into()),
        actor: None,
        dry_run: false,
        kind,
        body,
    };
    let started = serde_json::json!({
        "playbook": {"name": "t", "origin": "builtin", "sha256": "ab", "text": "name: t"},
        "parameters": {"note": "x", "count": 2},
        "targets": [{"instance_id": "i-1", "region": "eu-west-1", "name": null},
                    {"instance_id": "i-2", "region": "eu-north-1", "name": "b"}],
        "caller": {"account": "111122223333", "arn": "arn"},
    });
    let step = |target: &str, step: usize, status: &str| serde_json::json!({"target": target, "step": step, "status": status});
    log.append(entry("r1", RecordKind::RunStarted, started))
        .unwrap();
    log.append(entry(
        "other",
        RecordKind::StepFinished,
        step("i-1", 2, "succeeded"),
    ))
    .unwrap();
    log.append(entry(
        "r1",
        RecordKind::StepFinished,
        step("i-1", 1, "succeeded"),
    ))
    .unwrap();
    log.append(entry(
        "r1",
        RecordKind::StepFinished,
        step("i-2", 1, "already_done"),
    ))
    .unwrap();
    log.append(entry(
        "r1",
        RecordKind::StepFinished,
        step("i-1", 2, "failed"),
    ))
    .unwrap();
    log.append(entry(
        "r1",
        RecordKind::RunFinished,
        serde_json::json!({"status": "failed"}),
    ))
    .unwrap();
    let read = || std::io::BufReader::new(std::fs::File::open(&path).unwrap());
    let prior = find_run(read(), "r1").unwrap().unwrap();
    assert_eq!(prior.playbook_text, "name: t");
    assert_eq!(prior.incident.as_deref(), Some("IR-7"));
    assert_eq!(prior.account, "111122223333");
    assert_eq!(prior.parameters["count"], ParamValue::Integer(2));
    assert_eq!(
        prior.targets,
        vec![
            ("i-1".to_owned(), "eu-west-1".to_owned()),
            ("i-2".to_owned(), "eu-north-1".to_owned())
        ]
    );
    let mut done: Vec<_> = prior.done.iter().cloned().collect();
    done.sort();
    assert_eq!(done, vec![("i-1".to_owned(), 1), ("i-2".to_owned(), 1)]);
    assert_eq!(prior.finished.as_deref(), Some("failed"));
    assert!(find_run(read(), "nope").unwrap().is_none());
}

#[test]
fn changes_outside_ec2_get_their_resource_statement_and_the_simulator_checks() {
    let text = "name: p\ndescription: d\nsteps:\n  - protect-from-scale-in:\n";
    let playbook = load(text, Origin::Builtin).unwrap();
    let scope = super::policy::security_servers();
    insta::assert_json_snapshot!("protect_policy", policy(&playbook, &scope).unwrap());
}
