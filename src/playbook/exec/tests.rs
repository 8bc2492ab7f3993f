//! The executor's fail-closed contract, checked without AWS: a call whose intent record
//! cannot be written, that is not declared, or that comes after Ctrl-C is never started.
//! (End-to-end behaviour against the emulator is in tests/e2e/playbook.rs.)

use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::events::{RunStatus, StepError, StepStatus};
use super::recorder::{Recorder, RunMeta};
use super::run::{ExecOptions, execute};
use super::step::StepCtx;
use crate::audit::AuditLog;
use crate::aws::{Applied, AwsContext, AwsSettings, SandboxEndpoint};
use crate::playbook::actions::tag;
use crate::playbook::tests::server;
use crate::playbook::{Catalog, RunInfo, plan, resolve_parameters};

async fn offline_context() -> AwsContext {
    AwsContext::load(&AwsSettings {
        profile: None,
        client: crate::config::AwsClientConfig {
            max_attempts: 1,
            ..Default::default()
        },
        sandbox: Some(SandboxEndpoint {
            // Nothing listens here; no test in this file reaches the network.
            endpoint_url: "http://127.0.0.1:9".into(),
            region: "eu-west-1".into(),
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
        }),
    })
    .await
}

fn recorder(log: AuditLog) -> Recorder {
    Recorder::new(
        log,
        RunMeta {
            run_id: "r".into(),
            incident: Some("IR-1".into()),
            actor: None,
            dry_run: false,
        },
        None,
    )
}

/// Runs `check` with a step context for the built-in tag playbook's only step.
async fn with_step(
    recorder: &Recorder,
    cancel: &CancellationToken,
    check: impl AsyncFnOnce(&StepCtx<'_>),
) {
    let playbook = Catalog::load(None).find("tag-incident").unwrap().clone();
    let params = resolve_parameters(&playbook, &[]).unwrap();
    let targets = [server("i-0aaaaaaaaaaaaaaa1", "ss-1", &[])];
    let info = RunInfo {
        run_id: "r".into(),
        incident: Some("IR-1".into()),
        dry_run: false,
        ..Default::default()
    };
    let plan = plan(&playbook, &params, &targets, &info).unwrap();
    let aws = offline_context().await;
    let target = &plan.targets[0];
    let step = &target.steps[0];
    let ctx = StepCtx {
        recorder,
        aws: &aws,
        cancel,
        target,
        step,
        info: step.info,
        at: super::events::StepRef {
            instance_id: target.instance_id.clone(),
            target_name: None,
            step: 1,
            steps: 1,
            step_name: step.name.clone(),
        },
        calls: std::sync::Mutex::new(Vec::new()),
    };
    check(&ctx).await;
}

#[tokio::test]
async fn a_call_is_not_made_when_its_intent_cannot_be_written() {
    // /dev/full accepts the open and fails every write with ENOSPC: a full disk.
    let recorder = recorder(AuditLog::open(std::path::Path::new("/dev/full")).unwrap());
    let made = AtomicBool::new(false);
    with_step(&recorder, &CancellationToken::new(), async |ctx| {
        let result = ctx
            .mutate(&tag::CREATE_TAGS, json!({}), async {
                made.store(true, Ordering::SeqCst);
                Ok(Applied::Done { request_id: None })
            })
            .await;
        assert!(matches!(result, Err(StepError::Audit(_))), "{result:?}");
    })
    .await;
    assert!(!made.load(Ordering::SeqCst), "the call must not be sent");
}

#[tokio::test]
async fn calls_after_ctrl_c_or_undeclared_calls_are_not_made() {
    let dir = tempfile::tempdir().unwrap();
    let recorder = recorder(AuditLog::open(&dir.path().join("audit.jsonl")).unwrap());
    let made = AtomicBool::new(false);
    let cancel = CancellationToken::new();
    with_step(&recorder, &cancel, async |ctx| {
        // tag declares DescribeInstances and CreateTags, nothing else.
        static UNDECLARED: crate::playbook::actions::ApiCall = crate::playbook::actions::ApiCall {
            service: crate::playbook::actions::Service::Ec2,
            operation: "TerminateInstances",
            access: crate::playbook::actions::Access::Write,
            resource: crate::playbook::actions::Resource::Instance,
        };
        let result = ctx
            .mutate(&UNDECLARED, json!({}), async {
                made.store(true, Ordering::SeqCst);
                Ok(Applied::Done { request_id: None })
            })
            .await;
        assert!(matches!(&result, Err(StepError::Failed(m)) if m.contains("without declaring")));
        cancel.cancel();
        let result = ctx
            .mutate(&tag::CREATE_TAGS, json!({}), async {
                made.store(true, Ordering::SeqCst);
                Ok(Applied::Done { request_id: None })
            })
            .await;
        assert!(matches!(result, Err(StepError::Interrupted)), "{result:?}");
    })
    .await;
    assert!(!made.load(Ordering::SeqCst));
    let text = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert!(text.is_empty(), "nothing was announced either: {text}");
}

/// Two tag steps; `on_error` of the first as given.
fn two_steps(on_error: &str) -> crate::playbook::Playbook {
    let text = format!(
        "name: two\ndescription: d\nsteps:\n  - name: one\n    on_error: {on_error}\n    \
         tag: {{tags: {{a: b}}}}\n  - name: two\n    tag: {{tags: {{c: d}}}}\n"
    );
    crate::playbook::load(&text, crate::playbook::Origin::Builtin).unwrap()
}

#[tokio::test]
async fn a_failed_step_stops_its_target_on_abort_and_not_on_continue() {
    // The endpoint refuses connections: every call fails for real, quickly.
    let aws = offline_context().await;
    for (on_error, second) in [
        ("abort", StepStatus::Skipped),
        ("continue", StepStatus::Failed),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.jsonl");
        let playbook = two_steps(on_error);
        let targets = [
            server("i-0aaaaaaaaaaaaaaa1", "ss-1", &[]),
            server("i-0aaaaaaaaaaaaaaa2", "ss-2", &[]),
        ];
        let info = RunInfo {
            run_id: "r".into(),
            incident: Some("IR-1".into()),
            dry_run: false,
            ..Default::default()
        };
        let plan = plan(&playbook, &Default::default(), &targets, &info).unwrap();
        let recorder = recorder(AuditLog::open(&path).unwrap());
        let caller = crate::aws::CallerIdentity {
            account: "111122223333".into(),
            arn: "arn:aws:sts::111122223333:assumed-role/IR/alice".into(),
            user_id: "AROA:alice".into(),
        };
        let options = ExecOptions {
            concurrency: 2,
            done_before: Default::default(),
            cancel: CancellationToken::new(),
            resumed: false,
            missing: Vec::new(),
        };
        let outcome = execute(&plan, &playbook, &caller, &aws, &recorder, &options)
            .await
            .unwrap();
        assert_eq!(outcome.status, RunStatus::Failed);
        for target in &outcome.targets {
            assert_eq!(target.steps[0].status, StepStatus::Failed);
            assert!(
                target.steps[0].detail.contains("DescribeInstances"),
                "{}",
                target.steps[0].detail
            );
            assert_eq!(target.steps[1].status, second, "{on_error}");
        }
        // Every call that was attempted has its intent and its (error) outcome.
        let text = std::fs::read_to_string(&path).unwrap();
        let kinds: Vec<String> = text
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        let count = |k: &str| kinds.iter().filter(|x| *x == k).count();
        assert_eq!(count("intent"), count("outcome"));
        assert_eq!(count("step_finished"), 4);
        assert_eq!(kinds.first().map(String::as_str), Some("run_started"));
        assert_eq!(kinds.last().map(String::as_str), Some("run_finished"));
        assert!(text.contains("\"result\":\"error\""));
    }
}
