//! End to end: `breakglass run` / `--playbook` with the real binary against the moto
//! emulator — dry-run changes nothing, live runs tag and are idempotent, runs ship their
//! records to the sinks, Ctrl-C stops after the call in flight (held by the game-day
//! simulator), and an interactive run asks for the incident id. (A missing permission as a
//! dry-run finding is in `least_privilege`, with moto's IAM enforcement.)

use crate::support;

use std::time::Duration;

use crate::support::Account;
use crate::support::runs::{all_tags, audit_path, of_run, records, seed, tags};
use breakglass::sandbox::{Fault, FaultKind, Progress, Simulator};
use serde_json::Value;

/// A user playbook: two tags, the second from a parameter.
const MARK: &str = "name: mark\ndescription: mark for the incident\nparameters:\n  \
                    owner:\n    type: string\n    description: who\n    default: ir-team\n\
                    steps:\n  - name: Mark\n    tag:\n      tags:\n        \
                    breakglass:incident: \"{{ incident }}\"\n        owner: \"{{ owner }}\"\n";

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
async fn ctrl_c_finishes_the_call_in_flight_records_it_and_stops() {
    // The game-day simulator holds CreateTags for 2 s before it reaches AWS; the run is
    // interrupted while the ledger shows it held.
    let account = Account::new().await;
    let ids = seed(&account, "10.66.0.0/16").await;
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    sim.inject([Fault::on("ec2:CreateTags", FaultKind::Latency { millis: 2_000 }).times(1)]);
    let child = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .args(support::live("tag-incident", "ss-1", "IR-3"))
        .args(["--output", "json"])
        .spawn();
    sim.wait_for_request(Duration::from_secs(60), |e| {
        e.operation == "ec2:CreateTags" && e.progress == Progress::Held
    })
    .await
    .expect("CreateTags reaches EC2");
    let interrupt = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupt.success());
    let run = support::wait(child);
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
    // Made at AWS, once: the held call went on after the interruption.
    let made: Vec<_> = sim
        .ledger()
        .into_iter()
        .filter(|e| e.operation == "ec2:CreateTags" && e.succeeded())
        .collect();
    assert_eq!(made.len(), 1, "{made:?}");
    let t = tags(&account.context().await, &ids["ss-1"]).await;
    assert_eq!(
        t.get("breakglass:incident").map(String::as_str),
        Some("IR-3")
    );
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
    let term = support::tmux::Tmux::start(&account.bg().args(args).cmd);
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
    let term = support::tmux::Tmux::start(&account.bg().args(args).cmd);
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
