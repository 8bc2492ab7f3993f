//! `revoke-sessions` against AWS's clock: the cut-off written into the deny is AWS's time
//! (the simulator moves the `Date` of every answer, as a responder's laptop with a wrong
//! clock sees AWS), the deny is read back before the step reports success, and a deny of
//! older credentials goes once every credential it covers has expired — dropped by the next
//! revocation or release on the role. IAM is moto: the policies are read back from it.
//! moto has no IAM policy simulator, so the step's check falls back to the read-back and
//! says so; the simulator's `explicitDeny` path is not exercised here.

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Value, json};

use crate::revoke::{estate_with_role, id, role_policy};
use crate::support::{self, Account, REGION};
use breakglass::sandbox::{ManagedInstance, Simulator};

fn run(account: &Account, sim: &Simulator, playbook: &str) -> Value {
    let run = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .args(support::live(playbook, "ss-prod-1", "IR-77"))
        .args(["--output", "json"])
        .run();
    assert_eq!(run.code, 0, "{playbook}\n{}\n{}", run.stdout, run.stderr);
    serde_json::from_str(&run.stdout).unwrap()
}

/// The cut-off of the older-credentials deny for `instance`, if any.
fn cut_off(deny: &Value, instance: &str) -> Option<DateTime<Utc>> {
    deny["Statement"].as_array()?.iter().find_map(|s| {
        let condition = &s["Condition"];
        condition["StringEquals"]["ec2:SourceInstanceARN"]
            .as_str()
            .filter(|arn| arn.ends_with(instance))?;
        let text = condition["DateLessThan"]["aws:TokenIssueTime"].as_str()?;
        Some(DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc))
    })
}

/// Adds an older-credentials deny for `instance` cut off at `at`, as breakglass writes one.
async fn plant_older(account: &Account, role: &str, instance: &str, at: DateTime<Utc>) {
    let ctx = account.context().await;
    let mut deny = role_policy(&ctx, role, "breakglass-deny").await.unwrap();
    let statements = deny["Statement"].as_array_mut().unwrap();
    let sid = format!("BreakglassOlder{}", statements.len() + 7);
    statements.push(json!({
        "Sid": sid, "Effect": "Deny", "Action": "*", "Resource": "*",
        "Condition": {
            "StringEquals": { "ec2:SourceInstanceARN":
                format!("arn:aws:ec2:{REGION}:{}:instance/{instance}", account.id) },
            "DateLessThan": { "aws:TokenIssueTime":
                at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true) },
        },
    }));
    aws_sdk_iam::Client::new(ctx.sdk_config())
        .put_role_policy()
        .role_name(role)
        .policy_name("breakglass-deny")
        .policy_document(deny.to_string())
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cut_off_is_awss_time_not_this_machines() {
    let account = Account::new().await;
    let (estate, role, _) = estate_with_role(&account).await;
    let target = id(&estate, "ss-prod-1");
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    sim.manage([ManagedInstance::new(target.clone())]);
    // AWS's clock 150 s behind this machine's (within SigV4's five minutes).
    sim.set_clock_offset(TimeDelta::seconds(-150));
    let before = Utc::now();
    let doc = run(&account, &sim, "revoke-sessions");
    let after = Utc::now();
    let deny = role_policy(&account.context().await, &role, "breakglass-deny")
        .await
        .unwrap();
    let cut = cut_off(&deny, &target).unwrap();
    let aws = (
        before - TimeDelta::seconds(150),
        after - TimeDelta::seconds(150),
    );
    assert!(
        cut >= aws.0 && cut <= aws.1 + TimeDelta::seconds(2),
        "cut-off {cut}, AWS's time was {} to {}",
        aws.0,
        aws.1
    );
    let detail = doc["targets"][0]["steps"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("IAM reads the deny back"), "{detail}");
    assert!(
        detail.contains("not checked with the IAM policy simulator"),
        "{detail}"
    );
    let expiry = (cut + TimeDelta::hours(12)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    assert!(detail.contains(&format!("until {expiry}")), "{detail}");
    let records = support::runs::records(&support::runs::audit_path(&account));
    assert!(
        records.iter().any(|r| r["body"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("150 s ahead of AWS's"))),
        "the skew is on record"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn older_credential_denies_go_once_their_credentials_have_expired() {
    let account = Account::new().await;
    let (estate, role, _) = estate_with_role(&account).await;
    let target = id(&estate, "ss-prod-1");
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    sim.manage([ManagedInstance::new(target.clone())]);
    let ctx = account.context().await;
    run(&account, &sim, "isolate");
    run(&account, &sim, "revoke-sessions");
    // Revocations of two other instances, released since: one 13 hours ago (every
    // credential it covers has expired), one an hour ago.
    let now = Utc::now();
    plant_older(
        &account,
        &role,
        "i-0aaaaaaaaaaaaaaa1",
        now - TimeDelta::hours(13),
    )
    .await;
    plant_older(
        &account,
        &role,
        "i-0bbbbbbbbbbbbbbb2",
        now - TimeDelta::hours(1),
    )
    .await;

    let doc = run(&account, &sim, "release");
    let deny = role_policy(&ctx, &role, "breakglass-deny").await.unwrap();
    assert!(cut_off(&deny, "i-0aaaaaaaaaaaaaaa1").is_none(), "{deny:#}");
    assert!(cut_off(&deny, "i-0bbbbbbbbbbbbbbb2").is_some(), "{deny:#}");
    assert!(
        cut_off(&deny, &target).is_some(),
        "its own is not due: {deny:#}"
    );
    let text = doc.to_string();
    assert!(text.contains("1 older-credentials deny(s)"), "{text}");

    // The next revocation on the role drops one that fell due meanwhile.
    plant_older(
        &account,
        &role,
        "i-0ccccccccccccccc3",
        now - TimeDelta::hours(12) - TimeDelta::minutes(1),
    )
    .await;
    run(&account, &sim, "revoke-sessions");
    let deny = role_policy(&ctx, &role, "breakglass-deny").await.unwrap();
    assert!(cut_off(&deny, "i-0ccccccccccccccc3").is_none(), "{deny:#}");
    assert!(cut_off(&deny, "i-0bbbbbbbbbbbbbbb2").is_some(), "{deny:#}");
}
