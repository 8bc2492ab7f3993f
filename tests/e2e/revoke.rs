//! End to end: `revoke-sessions` — Session Manager sessions and running commands ended
//! (SSM is a stub here: moto has no session API and no command states but Success), the
//! instance role's credentials denied for this instance (IAM is moto: the inline policies
//! written are read back), who else shares the role reported, idempotent re-runs, and
//! release lifting the per-instance deny.

use crate::support;

use std::sync::{Arc, Mutex};

use crate::support::{Account, REGION};
use breakglass::aws::AwsContext;
use breakglass::sandbox::{Estate, Seeder};
use serde_json::{Value, json};

/// What the SSM stub has seen: sessions terminated, commands cancelled.
#[derive(Default)]
struct SsmState {
    terminated: Vec<String>,
    cancelled: Vec<String>,
}

/// An SSM stub: `instance` is Online with one active session and one running command
/// until they are terminated / cancelled.
fn ssm_stub(instance: String) -> (String, Arc<Mutex<SsmState>>) {
    let state = Arc::new(Mutex::new(SsmState::default()));
    let shared = state.clone();
    let endpoint = support::stub::serve_json(move |target, body| {
        let mut s = shared.lock().unwrap();
        let request: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        let answer = match target.trim_start_matches("AmazonSSM.") {
            "DescribeInstanceInformation" => json!({ "InstanceInformationList": [{
                "InstanceId": instance, "PingStatus": "Online", "AgentVersion": "3.3.1142.0",
                "PlatformType": "Linux", "PlatformName": "Ubuntu" }] }),
            "DescribeSessions" => {
                let sessions = if s.terminated.is_empty() {
                    json!([{ "SessionId": "alice-0123456789abcdef0", "Target": instance,
                             "Status": "Connected",
                             "Owner": "arn:aws:sts::123456789012:assumed-role/Dev/alice" }])
                } else {
                    json!([])
                };
                json!({ "Sessions": sessions })
            }
            "TerminateSession" => {
                s.terminated
                    .push(request["SessionId"].as_str().unwrap_or("").to_owned());
                json!({ "SessionId": request["SessionId"] })
            }
            "ListCommands" => {
                let status = if s.cancelled.is_empty() {
                    "InProgress"
                } else {
                    "Cancelled"
                };
                json!({ "Commands": [{ "CommandId": "c0ffee00-0000-4000-8000-000000000001",
                                        "Status": status }] })
            }
            "CancelCommand" => {
                s.cancelled
                    .push(request["CommandId"].as_str().unwrap_or("").to_owned());
                json!({})
            }
            other => {
                return (
                    400,
                    json!({ "__type": "UnknownOperation", "message": other }).to_string(),
                );
            }
        };
        (200, answer.to_string())
    });
    (endpoint, state)
}

/// The estate with `ss-prod-1` and `ss-prod-2` sharing one instance profile.
async fn estate_with_role(account: &Account) -> (Estate, String, String) {
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
        ctx.ec2(REGION)
            .client()
            .associate_iam_instance_profile()
            .instance_id(id(&estate, name))
            .iam_instance_profile(
                aws_sdk_ec2::types::IamInstanceProfileSpecification::builder()
                    .name("xroad-ss")
                    .build(),
            )
            .send()
            .await
            .unwrap();
    }
    (estate, role.role_name, role.role_id)
}

fn id(estate: &Estate, name: &str) -> String {
    estate
        .servers
        .iter()
        .find(|(n, _)| n == name)
        .unwrap()
        .1
        .clone()
}

async fn role_policy(ctx: &AwsContext, role: &str, name: &str) -> Option<Value> {
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
    let (ssm, seen) = ssm_stub(target.clone());
    let run = |extra: &[&str]| {
        let run = account
            .bg()
            .env("AWS_ENDPOINT_URL_SSM", &ssm)
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
    {
        let seen = seen.lock().unwrap();
        assert_eq!(seen.terminated, ["alice-0123456789abcdef0"]);
        assert_eq!(seen.cancelled, ["c0ffee00-0000-4000-8000-000000000001"]);
    }
    // Who else uses the role is said, and only this instance is denied.
    let other = id(&estate, "ss-prod-2");
    assert!(stderr.contains(&other), "{stderr}");
    let deny = role_policy(&ctx, &role, &format!("breakglass-deny-{target}"))
        .await
        .unwrap();
    assert_eq!(
        deny["Statement"][0]["Condition"]["StringLike"]["aws:userid"],
        format!("{role_id}:{target}")
    );
    assert_eq!(deny["Statement"][0]["Effect"], "Deny");
    let old = role_policy(&ctx, &role, &format!("breakglass-deny-old-{target}"))
        .await
        .unwrap();
    let condition = &old["Statement"][0]["Condition"];
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
    let (ssm, _) = ssm_stub(target.clone());
    for playbook in ["isolate", "revoke-sessions", "release"] {
        let mut bg = account.bg();
        if playbook == "revoke-sessions" {
            // Only this one needs sessions; the isolation record lives in moto's SSM.
            bg = bg.env("AWS_ENDPOINT_URL_SSM", &ssm);
        }
        let run = bg
            .args([
                "run",
                playbook,
                "-t",
                "ss-prod-2",
                "--incident",
                "IR-42",
                "--yes",
            ])
            .run();
        assert_eq!(run.code, 0, "{playbook}\n{}", run.stderr);
    }
    assert!(
        role_policy(&ctx, &role, &format!("breakglass-deny-{target}"))
            .await
            .is_none()
    );
    assert!(
        role_policy(&ctx, &role, &format!("breakglass-deny-old-{target}"))
            .await
            .is_some()
    );
}
