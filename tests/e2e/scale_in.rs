//! End to end: the `protect-from-scale-in` action — a change with no EC2 DryRun — live
//! against moto, and in dry runs verified through the IAM policy simulator (a stub, since
//! moto has none) or reported as not verifiable.

use crate::support;

use crate::support::{Account, REGION};
use breakglass::aws::AutoScalingApi;
use breakglass::sandbox::Seeder;

const PROTECT: &str = "name: protect\ndescription: keep the group from terminating it\nsteps:\n  - protect-from-scale-in: {}\n";

async fn protected(account: &Account, id: &str) -> Option<bool> {
    let ctx = account.context().await;
    ctx.autoscaling(REGION)
        .describe_membership(id)
        .await
        .unwrap()
        .value
        .map(|m| m.protected_from_scale_in)
}

fn playbook(account: &Account) -> String {
    let file = account.home().join("protect.yml");
    std::fs::write(&file, PROTECT).unwrap();
    file.to_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn protects_group_members_once_and_skips_instances_outside_a_group() {
    let account = Account::new().await;
    let estate = Seeder::new(&account.context().await, REGION)
        .xroad_estate()
        .await
        .unwrap();
    let id = |name: &str| {
        estate
            .servers
            .iter()
            .find(|(n, _)| n == name)
            .unwrap()
            .1
            .clone()
    };
    let file = playbook(&account);
    assert_eq!(protected(&account, &id("ss-prod-1")).await, Some(false));

    let args = [
        "run",
        &file,
        "-t",
        "ss-prod-1",
        "-t",
        "ss-test-1",
        "--incident",
        "IR-2",
    ];
    let run = account
        .bg()
        .args(args)
        .args(["--yes", "--output", "json"])
        .run();
    run.assert_code(0);
    let doc = run.json();
    let prod = &doc["targets"][0]["steps"][0];
    assert_eq!(prod["status"], "succeeded", "{doc:#}");
    assert!(prod["detail"].as_str().unwrap().contains("xroad-ss-prod"));
    let test = &doc["targets"][1]["steps"][0];
    assert_eq!(test["status"], "already_done");
    assert!(
        test["detail"]
            .as_str()
            .unwrap()
            .contains("not in an Auto Scaling group")
    );
    assert_eq!(protected(&account, &id("ss-prod-1")).await, Some(true));
    assert_eq!(
        protected(&account, &id("ss-prod-2")).await,
        Some(false),
        "only the target"
    );

    let again = account
        .bg()
        .args(args)
        .args(["--yes", "--output", "json"])
        .run();
    again.assert_code(0);
    let doc = again.json();
    assert_eq!(doc["targets"][0]["steps"][0]["status"], "already_done");
    let calls = doc["targets"][0]["steps"][0]["calls"].as_array().unwrap();
    assert!(
        calls
            .iter()
            .all(|c| c["operation"] != "SetInstanceProtection")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_without_a_policy_simulator_is_not_verifiable_and_changes_nothing() {
    let account = Account::new().await;
    let estate = Seeder::new(&account.context().await, REGION)
        .xroad_estate()
        .await
        .unwrap();
    let file = playbook(&account);
    let run = account
        .bg()
        .args([
            "run",
            &file,
            "-t",
            "ss-prod-1",
            "--dry-run",
            "--output",
            "json",
        ])
        .run();
    run.assert_code(0);
    let step = &run.json()["targets"][0]["steps"][0];
    assert_eq!(step["status"], "not_verifiable", "{step:#}");
    assert!(
        step["detail"].as_str().unwrap().contains("has no DryRun"),
        "{step:#}"
    );
    let id = &estate.servers[0].1;
    assert_eq!(protected(&account, id).await, Some(false));
}

/// An IAM stub: GetRole answers with a role under a path, SimulatePrincipalPolicy with
/// `decision`; every request body is kept. moto does not implement SimulatePrincipalPolicy
/// (nor does the simulator): nothing real here can answer it.
fn iam_stub(
    account: &str,
    decision: &'static str,
) -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = seen.clone();
    let role = format!("arn:aws:iam::{account}:role/ir/responder");
    let endpoint = support::stub::serve_with(move |body| {
        log.lock().unwrap().push(body.to_owned());
        let ns = "xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"";
        if body.contains("Action=GetRole") {
            (
                200,
                format!(
                    "<GetRoleResponse {ns}><GetRoleResult><Role><Path>/ir/</Path>\
                 <RoleName>responder</RoleName><RoleId>AROAEXAMPLE</RoleId><Arn>{role}</Arn>\
                 <CreateDate>2026-01-01T00:00:00Z</CreateDate></Role></GetRoleResult>\
                 <ResponseMetadata><RequestId>stub-get-role</RequestId></ResponseMetadata>\
                 </GetRoleResponse>"
                ),
            )
        } else {
            (
                200,
                format!(
                    "<SimulatePrincipalPolicyResponse {ns}><SimulatePrincipalPolicyResult>\
                 <IsTruncated>false</IsTruncated><EvaluationResults><member>\
                 <EvalActionName>autoscaling:SetInstanceProtection</EvalActionName>\
                 <EvalResourceName>*</EvalResourceName><EvalDecision>{decision}</EvalDecision>\
                 </member></EvaluationResults></SimulatePrincipalPolicyResult>\
                 <ResponseMetadata><RequestId>stub-simulate</RequestId></ResponseMetadata>\
                 </SimulatePrincipalPolicyResponse>"
                ),
            )
        }
    });
    (endpoint, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_asks_the_policy_simulator_for_the_callers_full_role_arn() {
    let account = Account::new().await;
    Seeder::new(&account.context().await, REGION)
        .xroad_estate()
        .await
        .unwrap();
    let file = playbook(&account);
    for (decision, code, status) in [
        ("allowed", 0, "would_succeed"),
        ("implicitDeny", 1, "would_fail"),
    ] {
        let (iam, seen) = iam_stub(&account.id, decision);
        let run = account
            .bg()
            .env("AWS_ENDPOINT_URL_IAM", &iam)
            .args([
                "run",
                &file,
                "-t",
                "ss-prod-1",
                "--dry-run",
                "--output",
                "json",
            ])
            .run();
        run.assert_code(code);
        let step = &run.json()["targets"][0]["steps"][0];
        assert_eq!(step["status"], status, "{step:#}");
        assert!(
            step["detail"].as_str().unwrap().contains(decision),
            "{step:#}"
        );
        let bodies = seen.lock().unwrap().clone();
        let simulate = bodies
            .iter()
            .find(|b| b.contains("Action=SimulatePrincipalPolicy"))
            .unwrap();
        // The role's path comes from GetRole; the assumed-role ARN alone lacks it.
        let role = format!(
            "arn%3Aaws%3Aiam%3A%3A{}%3Arole%2Fir%2Fresponder",
            account.id
        );
        assert!(simulate.contains(&role), "{simulate}");
        assert!(
            simulate.contains("autoscaling%3ASetInstanceProtection"),
            "{simulate}"
        );
        assert!(
            simulate.contains("autoScalingGroupName%2Fxroad-ss-prod"),
            "{simulate}"
        );
    }
}
