//! End to end: `revoke-sessions` — Session Manager sessions and running commands ended
//! (through the game-day simulator, which answers Session Manager and Run Command), the
//! instance role's credentials denied for this instance (IAM is moto: the inline policies
//! written are read back), who else shares the role reported, idempotent re-runs, and
//! release lifting the per-instance deny.

use crate::support;

use std::time::Duration;

use crate::support::{Account, REGION};
use breakglass::aws::AwsContext;
use breakglass::aws::SsmApi;
use breakglass::sandbox::{Estate, ManagedInstance, Seeder, Session, Simulator};
use serde_json::{Value, json};

/// The game-day simulator in front of the emulator (moto has no Session Manager and no
/// command but a finished one), with `instance` Online, someone else's session open on it
/// and a command running there (`sleep`, run by the simulator's Run Command); returns the
/// simulator, a context through it, and the command's id.
async fn ssm_with_work(account: &Account, instance: &str) -> (Simulator, AwsContext, String) {
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    sim.manage([ManagedInstance::new(instance.to_owned())]);
    sim.open_sessions([Session {
        session_id: "alice-0123456789abcdef0".into(),
        target: instance.to_owned(),
        owner: "arn:aws:sts::123456789012:assumed-role/Dev/alice".into(),
    }]);
    let ctx = account.context_at(&sim.endpoint()).await;
    let ssm = aws_sdk_ssm::Client::new(ctx.sdk_config());
    let command = ssm
        .send_command()
        .instance_ids(instance)
        .document_name("AWS-RunShellScript")
        .parameters("commands", vec!["sleep 120".into()])
        .send()
        .await
        .unwrap()
        .command
        .unwrap()
        .command_id
        .unwrap();
    support::eventually(Duration::from_secs(30), "the command runs", || async {
        (command_status(&ssm, &command).await == "InProgress").then_some(())
    })
    .await;
    (sim, ctx, command)
}

/// A command's status, as Run Command reports it.
async fn command_status(ssm: &aws_sdk_ssm::Client, command: &str) -> String {
    let listed = ssm
        .list_commands()
        .command_id(command)
        .send()
        .await
        .unwrap();
    listed.commands()[0]
        .status()
        .map(|s| s.as_str().to_owned())
        .unwrap_or_default()
}

/// The calls of `operation` on `resource` the simulator's ledger shows made.
fn made(sim: &Simulator, operation: &str, resource: &str) -> usize {
    sim.ledger()
        .iter()
        .filter(|e| {
            e.operation == operation
                && e.resources.iter().any(|r| r.ends_with(resource))
                && e.succeeded()
        })
        .count()
}

/// The estate with `ss-prod-1` and `ss-prod-2` sharing one instance profile.
pub(crate) async fn estate_with_role(account: &Account) -> (Estate, String, String) {
    let ctx = account.context().await;
    let estate = Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
    let iam = aws_sdk_iam::Client::new(ctx.sdk_config());
    let role = iam
        .create_role()
        .role_name("xroad-ss")
        .assume_role_policy_document(
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                   "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
            .to_string(),
        )
        .send()
        .await
        .unwrap()
        .role
        .unwrap();
    iam.create_instance_profile()
        .instance_profile_name("xroad-ss")
        .send()
        .await
        .unwrap();
    iam.add_role_to_instance_profile()
        .instance_profile_name("xroad-ss")
        .role_name("xroad-ss")
        .send()
        .await
        .unwrap();
    for name in ["ss-prod-1", "ss-prod-2"] {
        associate_profile(&ctx, &estate, name).await;
    }
    (estate, role.role_name, role.role_id)
}

/// Gives server `name` the `xroad-ss` instance profile.
async fn associate_profile(ctx: &breakglass::aws::AwsContext, estate: &Estate, name: &str) {
    ctx.ec2(REGION)
        .client()
        .associate_iam_instance_profile()
        .instance_id(id(estate, name))
        .iam_instance_profile(
            aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                .name("xroad-ss")
                .build(),
        )
        .send()
        .await
        .unwrap();
}

pub(crate) fn id(estate: &Estate, name: &str) -> String {
    estate
        .servers
        .iter()
        .find(|(n, _)| n == name)
        .unwrap()
        .1
        .clone()
}

pub(crate) async fn role_policy(ctx: &AwsContext, role: &str, name: &str) -> Option<Value> {
    let iam = aws_sdk_iam::Client::new(ctx.sdk_config());
    let out = iam
        .get_role_policy()
        .role_name(role)
        .policy_name(name)
        .send()
        .await
        .ok()?;
    let text = percent_encoding::percent_decode_str(out.policy_document())
        .decode_utf8_lossy()
        .into_owned();
    Some(serde_json::from_str(&text).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn ends_sessions_and_commands_and_denies_this_instances_credentials() {
    let account = Account::new().await;
    let (estate, role, role_id) = estate_with_role(&account).await;
    let ctx = account.context().await;
    let target = id(&estate, "ss-prod-1");
    let (sim, through_sim, command) = ssm_with_work(&account, &target).await;
    let run = |extra: &[&str]| {
        let run = account
            .bg()
            .env("AWS_ENDPOINT_URL", sim.endpoint())
            .args([
                "run",
                "revoke-sessions",
                "-t",
                "ss-prod-1",
                "--incident",
                "IR-41",
                "--yes",
            ])
            .args(extra)
            .args(["--output", "json"])
            .run();
        (run.code, run.json(), run.stderr)
    };
    let (code, doc, stderr) = run(&[]);
    assert_eq!(code, 0, "{doc:#}\n{stderr}");
    assert_eq!(
        doc["targets"][0]["steps"][0]["status"], "succeeded",
        "{doc:#}"
    );
    // Ended, as Session Manager and Run Command report it, each by one call.
    let sessions = through_sim
        .ssm(REGION)
        .describe_active_sessions(&target)
        .await;
    assert!(sessions.unwrap().value.is_empty(), "no session left open");
    let ssm = aws_sdk_ssm::Client::new(through_sim.sdk_config());
    assert_eq!(command_status(&ssm, &command).await, "Cancelled");
    assert_eq!(
        made(&sim, "ssm:TerminateSession", "alice-0123456789abcdef0"),
        1
    );
    assert_eq!(made(&sim, "ssm:CancelCommand", &command), 1);
    // Who else uses the role is said, and only this instance is denied.
    let other = id(&estate, "ss-prod-2");
    assert!(stderr.contains(&other), "{stderr}");
    // One policy on the role: every credential of this instance, and its credentials issued
    // before now wherever they are used.
    let deny = role_policy(&ctx, &role, "breakglass-deny").await.unwrap();
    let statements = deny["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 2, "{deny:#}");
    assert!(
        statements
            .iter()
            .all(|s| s["Effect"] == "Deny" && s["Action"] == "*")
    );
    assert_eq!(
        statements[0]["Condition"]["StringLike"]["aws:userid"],
        serde_json::json!([format!("{role_id}:{target}")])
    );
    let condition = &statements[1]["Condition"];
    assert!(
        condition["StringEquals"]["ec2:SourceInstanceARN"]
            .as_str()
            .unwrap()
            .ends_with(&target)
    );
    assert!(condition["DateLessThan"]["aws:TokenIssueTime"].is_string());
    assert!(
        role_policy(&ctx, &role, "breakglass-deny-role-sessions")
            .await
            .is_none()
    );

    // Again: nothing left to do.
    let (code, doc, _) = run(&[]);
    assert_eq!(code, 0);
    assert_eq!(
        doc["targets"][0]["steps"][0]["status"], "already_done",
        "{doc:#}"
    );

    // Role-wide, on request.
    let (code, doc, _) = run(&["-p", "role_wide=true"]);
    assert_eq!(code, 0, "{doc:#}");
    let all = role_policy(&ctx, &role, "breakglass-deny-role-sessions")
        .await
        .unwrap();
    assert!(all["Statement"][0]["Condition"]["DateLessThan"]["aws:TokenIssueTime"].is_string());

    // The instance profile removed on request: no new credentials at all.
    let (code, doc, _) = run(&["-p", "remove_profile=true"]);
    assert_eq!(code, 0, "{doc:#}");
    let associations = ctx
        .ec2(REGION)
        .client()
        .describe_iam_instance_profile_associations()
        .send()
        .await
        .unwrap();
    let still: Vec<&str> = associations
        .iam_instance_profile_associations()
        .iter()
        .filter(|a| a.state().map(|s| s.as_str()) == Some("associated"))
        .filter_map(|a| a.instance_id())
        .collect();
    assert!(!still.contains(&target.as_str()), "{still:?}");
    assert!(
        still.contains(&other.as_str()),
        "the other instance keeps its profile"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn release_lifts_the_deny_of_the_instance_but_not_of_its_old_credentials() {
    let account = Account::new().await;
    let (estate, role, _) = estate_with_role(&account).await;
    let ctx = account.context().await;
    let target = id(&estate, "ss-prod-2");
    let (sim, _, _) = ssm_with_work(&account, &target).await;
    for playbook in ["isolate", "revoke-sessions", "release"] {
        let run = account
            .bg()
            .env("AWS_ENDPOINT_URL", sim.endpoint())
            .args([
                "run",
                playbook,
                "-t",
                "ss-prod-2",
                "--incident",
                "IR-42",
                "--yes",
                "--output",
                "json",
            ])
            .run();
        assert_eq!(run.code, 0, "{playbook}\n{}", run.stderr);
        if playbook == "release" {
            // It says when the instance's own credentials work again.
            assert!(run.stdout.contains("stay denied"), "{}", run.stdout);
        }
    }
    // The instance is off the list; its older credentials stay denied.
    let deny = role_policy(&ctx, &role, "breakglass-deny").await.unwrap();
    let statements = deny["Statement"].as_array().unwrap();
    assert_eq!(statements.len(), 1, "{deny:#}");
    assert!(
        statements[0]["Condition"]["StringEquals"]["ec2:SourceInstanceARN"]
            .as_str()
            .unwrap()
            .ends_with(&target)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn instances_sharing_a_role_share_one_policy_and_a_full_quota_is_refused_before_writing() {
    let account = Account::new().await;
    let (estate, role, _) = estate_with_role(&account).await;
    let ctx = account.context().await;
    let first = id(&estate, "ss-prod-1");
    let second = id(&estate, "ss-prod-2");
    let (sim, _, _) = ssm_with_work(&account, &second).await;
    let run = |target: &str| {
        account
            .bg()
            .env("AWS_ENDPOINT_URL", sim.endpoint())
            .args([
                "run",
                "revoke-sessions",
                "-t",
                target,
                "--incident",
                "IR-42",
                "--yes",
            ])
            .args(["--output", "json"])
            .run()
    };
    run("ss-prod-1").assert_code(0);
    run("ss-prod-2").assert_code(0);
    let deny = role_policy(&ctx, &role, "breakglass-deny").await.unwrap();
    let denied = deny["Statement"][0]["Condition"]["StringLike"]["aws:userid"].to_string();
    assert!(
        denied.contains(&first) && denied.contains(&second),
        "{deny:#}"
    );
    assert_eq!(deny["Statement"].as_array().unwrap().len(), 3, "{deny:#}");

    // Another inline policy fills the role's quota: the next revocation says so, and writes
    // nothing (IAM would refuse it with LimitExceeded otherwise).
    let filler = serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [{ "Effect": "Allow", "Action": "s3:GetObject",
                        "Resource": format!("arn:aws:s3:::{}/*", "x".repeat(9_700)) }],
    });
    aws_sdk_iam::Client::new(ctx.sdk_config())
        .put_role_policy()
        .role_name(&role)
        .policy_name("someone-elses")
        .policy_document(filler.to_string())
        .send()
        .await
        .unwrap();
    associate_profile(&ctx, &estate, "ss-prod-3").await;
    let before = role_policy(&ctx, &role, "breakglass-deny").await.unwrap();
    let third = run("ss-prod-3");
    third.assert_code(1);
    let detail = third.json()["targets"][0]["steps"][0]["detail"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        detail.contains("10240 characters") && detail.contains("customer managed policy"),
        "{detail}"
    );
    assert_eq!(
        role_policy(&ctx, &role, "breakglass-deny").await.unwrap(),
        before
    );
}
