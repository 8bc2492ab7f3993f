//! End to end: `breakglass run` / `--playbook` / `resume` with the real binary against the
//! moto emulator — dry-run changes nothing, live runs tag and are idempotent, guard rails
//! refuse without changing anything, audit failures stop the run before AWS is touched,
//! and a crashed run resumes without repeating done steps.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use breakglass::aws::{AwsContext, Ec2Api};
use breakglass::sandbox::{InstanceSpec, Seeder};
use common::{Account, REGION};
use serde_json::Value;

/// A user playbook: two tags, the second from a parameter.
const MARK: &str = "name: mark\ndescription: mark for the incident\nparameters:\n  \
                    owner:\n    type: string\n    description: who\n    default: ir-team\n\
                    steps:\n  - name: Mark\n    tag:\n      tags:\n        \
                    breakglass:incident: \"{{ incident }}\"\n        owner: \"{{ owner }}\"\n";

/// Two Security Servers and one CI runner; returns their ids by name.
async fn seed(account: &Account, cidr: &str) -> BTreeMap<String, String> {
    let ctx = account.context().await;
    let seeder = Seeder::new(&ctx, REGION);
    let net = seeder.network(cidr, &["a"]).await.unwrap();
    let mut ids = BTreeMap::new();
    for (name, role) in [
        ("ss-1", "xroad-security-server"),
        ("ss-2", "xroad-security-server"),
        ("runner", "ci"),
    ] {
        let id = seeder
            .launch(&InstanceSpec {
                name,
                subnet_id: &net.subnets[0].1,
                security_group_id: &net.security_group_id,
                tags: &[("Role", role)],
                interfaces: 1,
            })
            .await
            .unwrap();
        ids.insert(name.to_owned(), id);
    }
    ids
}

async fn tags(ctx: &AwsContext, id: &str) -> BTreeMap<String, String> {
    ctx.ec2(REGION)
        .describe_instance(id)
        .await
        .unwrap()
        .value
        .unwrap()
        .tags
}

async fn all_tags(
    ctx: &AwsContext,
    ids: &BTreeMap<String, String>,
) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    for id in ids.values() {
        out.push(tags(ctx, id).await);
    }
    out
}

fn audit_path(account: &Account) -> std::path::PathBuf {
    account.home().join(".local/state/breakglass/audit.jsonl")
}

fn records(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The document with the values that differ per run replaced by their key.
fn normalized(mut doc: Value) -> Value {
    fn walk(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, v) in map.iter_mut() {
                    let varies = matches!(
                        key.as_str(),
                        "run_id"
                            | "account"
                            | "actor"
                            | "instance_id"
                            | "request_id"
                            | "path"
                            | "head"
                    );
                    if varies && !v.is_null() {
                        *v = Value::String(format!("<{key}>"));
                    } else {
                        walk(v);
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut doc);
    doc
}

fn of_run<'a>(records: &'a [Value], run_id: &str) -> Vec<&'a Value> {
    records.iter().filter(|r| r["run_id"] == run_id).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn dry_run_verifies_every_step_and_changes_nothing() {
    let account = Account::new().await;
    let ids = seed(&account, "10.60.0.0/16").await;
    let ctx = account.context().await;
    let before = all_tags(&ctx, &ids).await;

    let run = account
        .bg()
        .args(["run", "tag-incident", "-t", "ss-1", "-t", "ss-2"])
        .args(["--dry-run", "--output", "json"])
        .run();
    run.assert_code(0);
    let doc = run.json();
    assert_eq!(doc["dry_run"], true);
    assert_eq!(doc["status"], "succeeded");
    assert_eq!(doc["account"], account.id.as_str());
    let targets = doc["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 2);
    for target in targets {
        let step = &target["steps"][0];
        assert_eq!(step["status"], "would_succeed", "{doc:#}");
        let create = step["calls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["operation"] == "CreateTags")
            .unwrap();
        assert_eq!(create["result"], "would_succeed");
        assert!(
            create["request_id"].is_string(),
            "DryRunOperation carries a request id"
        );
    }
    assert!(run.stderr.contains("DRY RUN"), "{}", run.stderr);
    insta::assert_json_snapshot!("dry_run_document", normalized(doc.clone()));
    assert_eq!(
        all_tags(&ctx, &ids).await,
        before,
        "a dry run changes nothing"
    );

    let records = records(&audit_path(&account));
    assert!(records.iter().all(|r| r["dry_run"] == true));
    let kinds: Vec<&str> = records
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"run_started"));
    assert_eq!(kinds.last(), Some(&"run_finished"));
    account.bg().args(["audit", "verify"]).run().assert_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn live_run_tags_verifies_and_a_second_run_changes_nothing() {
    let account = Account::new().await;
    let ids = seed(&account, "10.61.0.0/16").await;
    let ctx = account.context().await;
    let runner_before = tags(&ctx, &ids["runner"]).await;

    let run = account
        .bg()
        .args(["--playbook", "tag-incident", "--target", "ss-1"])
        .args(["--target", &ids["ss-2"], "--incident", "IR-42", "--yes"])
        .args(["--param", "note=contained; $(reboot)", "--output", "json"])
        .run();
    run.assert_code(0);
    let doc = run.json();
    let run_id = doc["run_id"].as_str().unwrap().to_owned();
    assert_eq!(doc["status"], "succeeded");
    assert_eq!(doc["incident"], "IR-42");
    for name in ["ss-1", "ss-2"] {
        let t = tags(&ctx, &ids[name]).await;
        assert_eq!(t["breakglass:incident"], "IR-42");
        assert_eq!(t["breakglass:run"], run_id);
        assert_eq!(
            t["breakglass:note"], "contained; $(reboot)",
            "text, never evaluated"
        );
    }
    assert_eq!(
        tags(&ctx, &ids["runner"]).await,
        runner_before,
        "only the targets"
    );

    // Every call is announced before it is made and answered after, with the request id.
    let path = audit_path(&account);
    let all = records(&path);
    let run_records = of_run(&all, &run_id);
    assert_eq!(run_records[0]["kind"], "run_started");
    assert_eq!(run_records[0]["incident"], "IR-42");
    assert!(
        run_records[0]["actor"]
            .as_str()
            .unwrap()
            .contains(&account.id)
    );
    assert_eq!(run_records[0]["body"]["playbook"]["name"], "tag-incident");
    for (i, record) in run_records.iter().enumerate() {
        if record["kind"] == "outcome" {
            assert!(record["body"]["request_id"].is_string(), "{record}");
            let intent = run_records[..i]
                .iter()
                .rev()
                .find(|r| r["kind"] == "intent" && r["body"]["target"] == record["body"]["target"])
                .unwrap();
            assert_eq!(intent["body"]["operation"], record["body"]["operation"]);
            if record["body"]["operation"] == "CreateTags" {
                assert_eq!(record["body"]["result"], "ok");
                assert!(record["body"]["request_id"].is_string());
                assert_eq!(
                    intent["body"]["params"]["tags"]["breakglass:incident"],
                    "IR-42"
                );
            }
        }
    }

    // A playbook without the per-run tag, twice: the second run finds everything done
    // and sends no CreateTags.
    let file = account.home().join("mark.yml");
    std::fs::write(&file, MARK).unwrap();
    let mut run_ids = Vec::new();
    for expected in ["succeeded", "already_done"] {
        let run = account
            .bg()
            .args([
                "run",
                file.to_str().unwrap(),
                "-t",
                "ss-1",
                "--incident",
                "IR-42",
            ])
            .args(["--yes", "--output", "json"])
            .run();
        run.assert_code(0);
        let doc = run.json();
        assert_eq!(doc["targets"][0]["steps"][0]["status"], expected, "{doc:#}");
        run_ids.push(doc["run_id"].as_str().unwrap().to_owned());
    }
    let all = records(&path);
    let creates = |run_id: &str| {
        of_run(&all, run_id)
            .into_iter()
            .filter(|r| r["kind"] == "intent" && r["body"]["operation"] == "CreateTags")
            .count()
    };
    assert_eq!(creates(&run_ids[0]), 1);
    assert_eq!(creates(&run_ids[1]), 0, "nothing to do is not a change");
    account.bg().args(["audit", "verify"]).run().assert_code(0);
    // The engine's records read back as a timeline.
    let show = account
        .bg()
        .env("COLUMNS", "200")
        .args(["audit", "show", "--run", &run_ids[0]])
        .run();
    show.assert_code(0);
    assert!(show.stdout.contains("chain intact"), "{}", show.stdout);
    assert!(show.stdout.contains("CreateTags"), "{}", show.stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn guard_rails_refuse_with_exit_3_and_change_nothing() {
    let account = Account::new().await;
    let ids = seed(&account, "10.62.0.0/16").await;
    let ctx = account.context().await;
    let before = all_tags(&ctx, &ids).await;
    let base = ["run", "tag-incident", "-t", "ss-1"];

    let no_incident = account.bg().args(base).args(["--yes"]).run();
    no_incident.assert_code(3);
    assert!(
        no_incident.stderr.contains("needs an incident id"),
        "{}",
        no_incident.stderr
    );
    assert!(no_incident.stderr.contains("hint:"));

    // Tests run without a terminal: a live run without --yes cannot be confirmed.
    let no_yes = account.bg().args(base).args(["--incident", "IR-1"]).run();
    no_yes.assert_code(3);
    assert!(no_yes.stderr.contains("--yes"), "{}", no_yes.stderr);

    account.write_config("allowed_accounts = [\"999999999999\"]\n[aws]\nmax_attempts = 1\n");
    let wrong_account = account
        .bg()
        .args(base)
        .args(["--incident", "IR-1", "--yes"])
        .run();
    wrong_account.assert_code(3);
    assert!(
        wrong_account.stderr.contains(&account.id),
        "{}",
        wrong_account.stderr
    );
    assert!(wrong_account.stderr.contains("allowed_accounts"));

    assert_eq!(all_tags(&ctx, &ids).await, before);
    assert!(!audit_path(&account).exists(), "a refusal starts no run");
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_targets_playbooks_and_arguments_are_invalid_input() {
    let account = Account::new().await;
    let ids = seed(&account, "10.63.0.0/16").await;
    let broken = account.home().join("broken.yml");
    std::fs::write(&broken, "name: b\ndescription: d\nsteps:\n  - tagg: {}\n").unwrap();
    let broken = broken.to_str().unwrap().to_owned();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["run", "tag-incident", "-t", "ss-9", "--dry-run"],
            "no instance named `ss-9`",
        ),
        (
            vec!["run", "tag-incident", "-t", "runner", "--dry-run"],
            "is not a Security Server",
        ),
        (
            vec!["run", "tag-incident", "-t", "i-123", "--dry-run"],
            "not a valid instance id",
        ),
        (vec!["run", "tag-incident", "--dry-run"], "no target given"),
        (
            vec!["run", "nope", "-t", "ss-1", "--dry-run"],
            "no playbook of that name",
        ),
        (
            vec![
                "run",
                "tag-incident",
                "-t",
                "ss-1",
                "--dry-run",
                "-p",
                "x=1",
            ],
            "unknown parameter `x`",
        ),
        (
            vec![
                "run",
                "tag-incident",
                "-t",
                "ss-1",
                "--incident",
                "IR 1;rm",
                "--yes",
            ],
            "invalid incident id",
        ),
        (
            vec!["run", &broken, "-t", "ss-1", "--dry-run"],
            "broken.yml:4:5: unknown field `tagg`",
        ),
        (vec!["--target", "ss-1", "--dry-run"], "need a playbook"),
        (
            vec![
                "run",
                "tag-incident",
                "-t",
                "ss-1",
                "--dry-run",
                "--concurrency",
                "0",
            ],
            "between 1 and",
        ),
    ];
    for (args, fragment) in cases {
        let run = account.bg().args(&args).run();
        assert_eq!(run.code, 2, "{args:?}\n{}", run.stderr);
        assert!(
            run.stderr.contains(fragment),
            "{args:?}: `{fragment}` in\n{}",
            run.stderr
        );
    }
    // On purpose, another instance can be targeted.
    account
        .bg()
        .args([
            "run",
            "tag-incident",
            "-t",
            &ids["runner"],
            "--dry-run",
            "--any-instance",
        ])
        .run()
        .assert_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_audit_log_that_cannot_be_written_stops_the_run_before_any_change() {
    let account = Account::new().await;
    let ids = seed(&account, "10.64.0.0/16").await;
    let ctx = account.context().await;
    let before = all_tags(&ctx, &ids).await;
    let not_a_dir = account.home().join("file");
    std::fs::write(&not_a_dir, "x").unwrap();
    let under_a_file = not_a_dir.join("audit.jsonl");
    // /dev/full: a full disk (every write fails with ENOSPC).
    for log in [Path::new("/dev/full"), under_a_file.as_path()] {
        let run = account
            .bg()
            .args([
                "run",
                "tag-incident",
                "-t",
                "ss-1",
                "--incident",
                "IR-9",
                "--yes",
            ])
            .args([Path::new("--audit-log"), log])
            .run();
        run.assert_code(1);
        assert!(run.stderr.contains("audit log"), "{}", run.stderr);
        assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    }
    assert_eq!(all_tags(&ctx, &ids).await, before, "no record, no call");
}

/// Two steps, so a crash can fall between them.
const TWO_STEPS: &str = "name: two-steps\ndescription: two tags, one per step\nsteps:\n  \
                         - name: First\n    tag:\n      tags: {first: \"{{ incident }}\"}\n  \
                         - name: Second\n    tag:\n      tags: {second: \"{{ incident }}\"}\n";

/// Cuts the log after the first record matching `keep_through` (as a crash would leave it:
/// every record fsynced up to that point, nothing after).
fn crash_after(path: &Path, keep_through: impl Fn(&Value) -> bool) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut kept = String::new();
    for line in text.lines() {
        kept.push_str(line);
        kept.push('\n');
        if keep_through(&serde_json::from_str(line).unwrap()) {
            break;
        }
    }
    std::fs::write(path, kept).unwrap();
}

fn intents(records: &[&Value], step: u64, operation: &str) -> usize {
    records
        .iter()
        .filter(|r| {
            r["kind"] == "intent"
                && r["body"]["step"] == step
                && r["body"]["operation"] == operation
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_finishes_a_crashed_run_without_repeating_done_steps() {
    let account = Account::new().await;
    let ids = seed(&account, "10.65.0.0/16").await;
    let ctx = account.context().await;
    let file = account.home().join("two.yml");
    std::fs::write(&file, TWO_STEPS).unwrap();
    let path = audit_path(&account);
    let live = ["--incident", "IR-5", "--yes", "--output", "json"];

    // Crash 1: after step 1 finished, before step 2 was announced.
    let run = account
        .bg()
        .args(["run", file.to_str().unwrap(), "-t", "ss-1"])
        .args(live)
        .run();
    run.assert_code(0);
    let run_id = run.json()["run_id"].as_str().unwrap().to_owned();
    crash_after(&path, |r| {
        r["kind"] == "step_finished" && r["body"]["step"] == 1
    });
    // …so step 2's tag was never set.
    ctx.ec2(REGION)
        .client()
        .delete_tags()
        .resources(&ids["ss-1"])
        .tags(aws_sdk_ec2::types::Tag::builder().key("second").build())
        .send()
        .await
        .unwrap();
    let before = records(&path).len();

    let resumed = account
        .bg()
        .args(["resume", &run_id, "--yes", "--output", "json"])
        .run();
    resumed.assert_code(0);
    let doc = resumed.json();
    assert_eq!(doc["run_id"], run_id.as_str(), "the same run continues");
    let steps = &doc["targets"][0]["steps"];
    assert_eq!(steps[0]["status"], "skipped");
    assert!(
        steps[0]["detail"]
            .as_str()
            .unwrap()
            .contains("earlier attempt")
    );
    assert_eq!(steps[1]["status"], "succeeded");
    let t = tags(&ctx, &ids["ss-1"]).await;
    assert_eq!(
        (t["first"].as_str(), t["second"].as_str()),
        ("IR-5", "IR-5")
    );
    let all = records(&path);
    let new: Vec<&Value> = all[before..].iter().collect();
    assert_eq!(new[0]["kind"], "run_started");
    assert_eq!(new[0]["body"]["resumed_from"], run_id.as_str());
    assert_eq!(
        intents(&new, 1, "DescribeInstances") + intents(&new, 1, "CreateTags"),
        0
    );
    assert_eq!(intents(&new, 2, "CreateTags"), 1);

    // Crash 2: step 2's CreateTags was announced (and made), its outcome never written.
    let run = account
        .bg()
        .args(["run", file.to_str().unwrap(), "-t", "ss-2"])
        .args(live)
        .run();
    run.assert_code(0);
    let run_id = run.json()["run_id"].as_str().unwrap().to_owned();
    crash_after(&path, |r| {
        r["run_id"] == run_id.as_str()
            && r["kind"] == "intent"
            && r["body"]["step"] == 2
            && r["body"]["operation"] == "CreateTags"
    });
    let before = records(&path).len();
    let resumed = account
        .bg()
        .args(["resume", &run_id, "--yes", "--output", "json"])
        .run();
    resumed.assert_code(0);
    let doc = resumed.json();
    assert_eq!(doc["targets"][0]["steps"][1]["status"], "already_done");
    let all = records(&path);
    let new: Vec<&Value> = all[before..].iter().collect();
    assert_eq!(
        intents(&new, 2, "CreateTags"),
        0,
        "the change made before the crash is not repeated"
    );

    // A finished run has nothing to resume; an unknown one is invalid input.
    account
        .bg()
        .args(["resume", &run_id, "--yes"])
        .run()
        .assert_code(0);
    let unknown = account.bg().args(["resume", "nope", "--yes"]).run();
    unknown.assert_code(2);
    account.bg().args(["audit", "verify"]).run().assert_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_ships_its_records_to_the_sinks_and_survives_a_broken_one() {
    let account = Account::new().await;
    seed(&account, "10.66.0.0/16").await;
    let ctx = account.context().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(ctx.sdk_config());
    logs.create_log_group()
        .log_group_name("/breakglass/audit")
        .send()
        .await
        .unwrap();
    account.write_config(
        "[aws]\nmax_attempts = 1\n[audit.cloudwatch]\nlog_group = \"/breakglass/audit\"\n\
         [audit.s3]\nbucket = \"no-such-evidence-bucket\"\n",
    );
    let run = account
        .bg()
        .args([
            "run",
            "tag-incident",
            "-t",
            "ss-1",
            "--incident",
            "IR-8",
            "--yes",
        ])
        .args(["--output", "json"])
        .run();
    run.assert_code(0);
    let doc = run.json();
    let run_id = doc["run_id"].as_str().unwrap();
    assert!(
        run.stderr.contains("WARNING: audit copies incomplete"),
        "{}",
        run.stderr
    );
    let copies = doc["audit"]["copies"].as_array().unwrap();
    let local: Vec<String> = std::fs::read_to_string(audit_path(&account))
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let sink = |kind: &str| {
        copies
            .iter()
            .find(|c| c["sink"].as_str().unwrap().starts_with(kind))
            .unwrap_or_else(|| panic!("no {kind} sink in {copies:#?}"))
    };
    let cloudwatch = sink("CloudWatch Logs");
    assert_eq!(cloudwatch["shipped"], local.len(), "{copies:#?}");
    let s3 = sink("S3");
    assert_eq!(s3["shipped"], 0);
    assert!(!s3["failures"].as_array().unwrap().is_empty());

    let events = logs
        .get_log_events()
        .log_group_name("/breakglass/audit")
        .log_stream_name(format!("breakglass/{run_id}"))
        .start_from_head(true)
        .send()
        .await
        .unwrap();
    let shipped: Vec<String> = events
        .events()
        .iter()
        .map(|e| e.message().unwrap().to_owned())
        .collect();
    assert_eq!(shipped, local, "the copy is the local log, byte for byte");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dry_run_reports_a_missing_permission_as_would_fail() {
    // moto does not enforce IAM, so EC2 is a stub here: it knows one instance and answers
    // CreateTags with UnauthorizedOperation, as AWS does for a dry run the role may not make.
    let account = Account::new().await;
    let id = "i-0123456789abcdef0";
    let ec2 = common::stub::serve_with(move |body| {
        if body.contains("Action=CreateTags") {
            (
                403,
                common::stub::ec2_error(
                    "UnauthorizedOperation",
                    "You are not authorized to perform this operation.",
                ),
            )
        } else {
            (200, common::stub::ec2_one_instance(id, "ss-1"))
        }
    });
    let run = account
        .bg()
        .env("AWS_ENDPOINT_URL_EC2", &ec2)
        .args([
            "run",
            "tag-incident",
            "-t",
            "ss-1",
            "--dry-run",
            "--output",
            "json",
        ])
        .run();
    run.assert_code(1);
    let doc = run.json();
    assert_eq!(doc["status"], "failed");
    let step = &doc["targets"][0]["steps"][0];
    assert_eq!(step["status"], "would_fail", "{doc:#}");
    assert!(
        step["detail"]
            .as_str()
            .unwrap()
            .contains("UnauthorizedOperation")
    );
    assert!(run.stderr.contains("Fix what would fail"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_finishes_the_call_in_flight_records_it_and_stops() {
    // EC2 is a stub so a call can be slow on purpose: CreateTags answers after 2 s, and
    // tells the test when it arrived. moto has no latency injection.
    let account = Account::new().await;
    let (arrived, created) = std::sync::mpsc::channel::<()>();
    let arrived = std::sync::Mutex::new(arrived);
    let ec2 = common::stub::serve_with(move |body| {
        if body.contains("Action=CreateTags") {
            let _ = arrived.lock().unwrap().send(());
            std::thread::sleep(std::time::Duration::from_secs(2));
            (200, common::stub::ec2_ok("CreateTagsResponse"))
        } else {
            (
                200,
                common::stub::ec2_one_instance("i-0123456789abcdef0", "ss-1"),
            )
        }
    });
    let child = account
        .bg()
        .env("AWS_ENDPOINT_URL_EC2", &ec2)
        .args([
            "run",
            "tag-incident",
            "-t",
            "ss-1",
            "--incident",
            "IR-3",
            "--yes",
        ])
        .args(["--output", "json"])
        .spawn();
    created
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("CreateTags reaches EC2");
    let interrupt = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let run = common::wait(child);
    run.assert_code(1);
    assert!(
        run.stderr
            .contains("Interrupted: finishing the AWS calls in flight"),
        "{}",
        run.stderr
    );
    let doc = run.json();
    assert_eq!(doc["status"], "interrupted");
    let step = &doc["targets"][0]["steps"][0];
    assert_eq!(step["status"], "interrupted", "{doc:#}");
    let calls = step["calls"].as_array().unwrap();
    let create = calls
        .iter()
        .find(|c| c["operation"] == "CreateTags")
        .unwrap();
    assert_eq!(
        create["result"], "ok",
        "the call in flight finished and was recorded"
    );
    assert_eq!(
        calls.len(),
        2,
        "the verification read was not started: {calls:#?}"
    );
    let all = records(&audit_path(&account));
    let kinds: Vec<&str> = all.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "run_started",
            "intent",
            "outcome",
            "intent",
            "outcome",
            "step_finished",
            "run_finished"
        ]
    );
    assert_eq!(all.last().unwrap()["body"]["status"], "interrupted");
    assert!(run.stderr.contains("breakglass resume"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interactive_live_run_asks_for_the_incident_id_before_changing_anything() {
    let account = Account::new().await;
    let ids = seed(&account, "10.67.0.0/16").await;
    let ctx = account.context().await;
    let args = [
        "run",
        "tag-incident",
        "-t",
        "ss-1",
        "-t",
        "ss-2",
        "--incident",
        "IR-77",
    ];
    let timeout = std::time::Duration::from_secs(60);

    // A wrong answer refuses, and nothing changes.
    let before = all_tags(&ctx, &ids).await;
    let term = common::tmux::Tmux::start(&account.bg().args(args).cmd);
    term.wait_for("Type the incident id (IR-77) to go ahead:", timeout);
    term.send_line("yes");
    let screen = term.wait_for("[exit 3]", timeout);
    assert!(
        screen.contains("not confirmed; nothing was changed"),
        "{screen}"
    );
    assert_eq!(all_tags(&ctx, &ids).await, before);
    assert!(!audit_path(&account).exists());

    // The incident id goes ahead.
    let term = common::tmux::Tmux::start(&account.bg().args(args).cmd);
    let screen = term.wait_for("to go ahead:", timeout);
    assert!(screen.contains("This changes 2 server(s)"), "{screen}");
    assert!(
        screen.contains("LIVE, incident IR-77"),
        "the plan is shown first: {screen}"
    );
    term.send_line("IR-77");
    term.wait_for("[exit 0]", timeout);
    for name in ["ss-1", "ss-2"] {
        assert_eq!(tags(&ctx, &ids[name]).await["breakglass:incident"], "IR-77");
    }
}
