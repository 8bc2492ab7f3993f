//! Each playbook runs to success holding exactly the policy `breakglass playbook policy`
//! prints for it, with moto's IAM enforcement on (every request's signature checked and its
//! action evaluated against the caller's policies); a policy missing one action is refused,
//! and a dry run with it names the action as what would fail.
//!
//! What moto cannot check, and so this test does not: moto evaluates every EC2, Auto
//! Scaling, ELB, SSM and IAM call against the resource `*` and treats any `Condition` as a
//! deny, and implements no policy simulator (`SimulateCustomPolicy`,
//! `SimulatePrincipalPolicy`), so each statement is given `Resource: *` and no condition
//! here — the *actions* are what is proven. The resource ARNs and conditions of every
//! built-in playbook's policy are snapshotted and judged request by request (inside and
//! outside the scope) by `src/playbook/tests/policy.rs` with a small evaluator of the IAM
//! rules those policies use (`src/playbook/tests/iam_eval.rs`); this test only checks that
//! the printed policy takes its bucket, prefix and tool from the config. The operations the game-day simulator answers itself
//! (`ssm:DescribeInstanceInformation`, Run Command and Session Manager calls) never reach
//! moto's check. moto checks form-encoded requests' signatures over its own re-encoding of
//! the body, so the simulator re-signs those of the test's keys (`Simulator::resign_for_moto`).
//! moto's enforcement is global to its server: the test runs an emulator of its own.

use crate::support;

use std::time::Duration;

use crate::support::iam::{Keys, enforce_iam, user};
use crate::support::{Bg, REGION, Run};
use breakglass::aws::AwsContext;
use breakglass::sandbox::{
    EVIDENCE_BUCKET, ManagedInstance, Seeder, Simulator, TOOLS_BUCKET, seed_evidence,
    seed_instance_role,
};
use serde_json::{Value, json};

/// The policy breakglass prints for `playbook`, as moto can evaluate it: every statement's
/// actions, on `*`, without conditions.
fn policy_for_moto(playbook: &str, home: &std::path::Path) -> (Value, Vec<String>) {
    let run = Bg::in_home(home)
        .args(["playbook", "policy", playbook])
        .run();
    run.assert_code(0);
    let mut policy: Value = serde_json::from_str(&run.stdout).unwrap();
    let mut actions = Vec::new();
    for statement in policy["Statement"].as_array_mut().unwrap() {
        let object = statement.as_object_mut().unwrap();
        object.remove("Condition");
        object.insert("Resource".into(), json!("*"));
        match &object["Action"] {
            Value::String(a) => actions.push(a.clone()),
            Value::Array(list) => {
                actions.extend(list.iter().map(|a| a.as_str().unwrap().to_owned()));
            }
            other => panic!("Action is {other}"),
        }
    }
    (policy, actions)
}

#[tokio::test(flavor = "multi_thread")]
async fn each_playbook_works_with_exactly_its_printed_policy() {
    let home = tempfile::tempdir().unwrap();
    let moto = support::own_moto();
    let sim = Simulator::start(&moto.endpoint()).await.unwrap();
    let seed = AwsContext::load(&support::settings_at(
        &moto.endpoint(),
        "testing",
        "testing",
    ))
    .await;
    let estate = Seeder::new(&seed, REGION).xroad_estate().await.unwrap();
    let prod: Vec<String> = ["ss-prod-1", "ss-prod-2", "ss-prod-3"]
        .iter()
        .map(|n| support::estate::id(&estate, n))
        .collect();
    seed_instance_role(&seed, REGION, &prod).await.unwrap();
    let evidence = seed_evidence(&seed, REGION).await.unwrap();
    let config = home.path().join(".config/breakglass/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, format!("{evidence}\n[aws]\nmax_attempts = 1\n")).unwrap();
    // The printed policy is scoped by this config: its evidence bucket and prefix, its tool.
    let capture = Bg::in_home(home.path())
        .args(["playbook", "policy", "capture-memory"])
        .run();
    capture.assert_code(0);
    for arn in [
        format!("\"arn:aws:s3:::{EVIDENCE_BUCKET}/breakglass/*\""),
        format!("\"arn:aws:s3:::{TOOLS_BUCKET}/avml/avml\""),
    ] {
        assert!(capture.stdout.contains(&arn), "{arn} in {}", capture.stdout);
    }
    sim.manage(prod.iter().map(|id| ManagedInstance::new(id.clone())));
    sim.set_timing(Duration::from_secs(1), Duration::from_secs(1));

    // A user per playbook holding exactly its policy, and one missing a single action.
    let iam = aws_sdk_iam::Client::new(seed.sdk_config());
    let playbooks = [
        ("tag-incident", "ss-prod-1"),
        ("isolate", "ss-prod-1"),
        ("snapshot", "ss-prod-1"),
        ("capture-memory", "ss-prod-1"),
        ("collect-volatile", "ss-prod-1"),
        ("revoke-sessions", "ss-prod-1"),
        ("release", "ss-prod-1"),
        ("contain", "ss-prod-2"),
    ];
    let mut users = Vec::new();
    for (playbook, _) in playbooks {
        let (policy, actions) = policy_for_moto(playbook, home.path());
        assert!(!actions.is_empty(), "{playbook}");
        users.push(user(&iam, &format!("responder-{playbook}"), &policy).await);
    }
    let (mut short, _) = policy_for_moto("isolate", home.path());
    for statement in short["Statement"].as_array_mut().unwrap() {
        if let Some(list) = statement["Action"].as_array_mut() {
            list.retain(|a| a != "ec2:ModifyNetworkInterfaceAttribute");
        }
    }
    short["Statement"]
        .as_array_mut()
        .unwrap()
        .retain(|s| s["Action"] != json!([]));
    let without_one = user(&iam, "responder-short", &short).await;

    sim.resign_for_moto(
        users
            .iter()
            .chain([&without_one])
            .map(|k| (k.id.clone(), k.secret.clone())),
    );
    enforce_iam(&moto);
    let run = |keys: &Keys, args: &[&str]| -> Run {
        Bg::in_home(home.path())
            .env("AWS_ENDPOINT_URL", sim.endpoint())
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", &keys.id)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
            .args(args)
            .run()
    };

    // Enforcement is on: the seeding keys are unknown to IAM now, and the short policy fails
    // the isolation at the missing action.
    let anonymous = Keys {
        id: "testing".into(),
        secret: "testing".into(),
    };
    let refused = run(&anonymous, &["list"]);
    assert_ne!(refused.code, 0, "{refused:?}");
    let short_run = run(
        &without_one,
        &[
            "run",
            "isolate",
            "-t",
            "ss-prod-3",
            "--incident",
            "IR-IAM",
            "--yes",
        ],
    );
    short_run.assert_code(1);
    assert!(
        short_run.stderr.contains("ModifyNetworkInterfaceAttribute")
            && short_run.stderr.contains("AccessDenied"),
        "{}",
        short_run.stderr
    );

    // A dry run with the short policy reports the missing permission as what would fail,
    // and changes nothing.
    let dry = run(
        &without_one,
        &[
            "run",
            "isolate",
            "-t",
            "ss-prod-3",
            "--dry-run",
            "--output",
            "json",
        ],
    );
    dry.assert_code(1);
    let doc: Value = serde_json::from_str(&dry.stdout).unwrap();
    let step = &doc["targets"][0]["steps"][0];
    assert_eq!(step["status"], "would_fail", "{doc:#}");
    assert!(
        step["detail"]
            .as_str()
            .unwrap()
            .contains("ModifyNetworkInterfaceAttribute"),
        "{doc:#}"
    );
    assert!(dry.stderr.contains("Fix what would fail"), "{}", dry.stderr);

    // And for S3 through presigned URLs: a user without s3:GetObject cannot fetch the tool.
    let no_s3 = run(
        &users[0],
        &[
            "run",
            "capture-memory",
            "-t",
            "ss-prod-3",
            "--incident",
            "IR-IAM",
            "--yes",
        ],
    );
    no_s3.assert_code(1);
    assert!(
        no_s3.stderr.contains("cannot fetch the acquisition tool"),
        "{}",
        no_s3.stderr
    );

    for ((playbook, target), keys) in playbooks.iter().zip(&users) {
        for mode in ["--dry-run", "--yes"] {
            let args = ["run", playbook, "-t", target, "--incident", "IR-IAM", mode];
            let ran = run(keys, &args);
            assert!(
                ran.code == 0,
                "{playbook} {mode} with its own policy:\n{}\n{}",
                ran.stdout,
                ran.stderr
            );
        }
    }
}
