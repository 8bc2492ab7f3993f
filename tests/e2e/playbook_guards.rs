//! End to end: the guard rails of a run — refusals (exit 3) and invalid input (exit 2)
//! change nothing, an audit log that cannot be written stops the run before any AWS call,
//! and a run killed in its second step resumes without repeating what was done (counted at
//! AWS, in the game-day simulator's ledger).

use crate::support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::time::Duration;

use crate::support::Account;
use crate::support::runs::{all_tags, audit_path, records, seed, tags};
use breakglass::sandbox::{Fault, FaultKind, Progress, Simulator};
use serde_json::Value;

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
    // A read-only log: mode 0400, and immutable when the tests run as root (who writes
    // through modes).
    let read_only = account.home().join("read-only.jsonl");
    std::fs::write(&read_only, "").unwrap();
    std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o400)).unwrap();
    let immutable = |flag: &str| {
        std::process::Command::new("chattr")
            .arg(flag)
            .arg(&read_only)
            .status()
            .is_ok_and(|s| s.success())
    };
    let root = std::fs::metadata(account.home()).unwrap().uid() == 0;
    assert!(
        !root || immutable("+i"),
        "as root, the read-only cell needs `chattr +i` (e2fsprogs) on this filesystem"
    );
    // /dev/full: a full disk (every write fails with ENOSPC).
    for log in [
        Path::new("/dev/full"),
        under_a_file.as_path(),
        read_only.as_path(),
    ] {
        let run = account
            .bg()
            .args(support::live("tag-incident", "ss-1", "IR-9"))
            .args([Path::new("--audit-log"), log])
            .run();
        run.assert_code(1);
        assert!(run.stderr.contains("audit log"), "{}", run.stderr);
        assert!(run.stderr.contains("hint:"), "{}", run.stderr);
    }
    if root {
        immutable("-i");
    }
    assert_eq!(all_tags(&ctx, &ids).await, before, "no record, no call");
}

#[tokio::test(flavor = "multi_thread")]
async fn an_outcome_that_cannot_be_written_after_the_call_stops_the_run_and_resume_finishes() {
    let account = Account::new().await;
    let root = std::fs::metadata(account.home()).unwrap().uid() == 0;
    if !root {
        // Only `chattr +i` makes writes through an open file fail; it needs root (CI runs
        // as root). See docs/development.md.
        eprintln!("SKIPPED: needs root for chattr +i");
        return;
    }
    let ids = seed(&account, "10.67.0.0/16").await;
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    // The tag call is held 2 s before it reaches AWS; meanwhile the log becomes unwritable.
    sim.inject([Fault::on("ec2:CreateTags", FaultKind::Latency { millis: 2_000 }).times(1)]);
    let path = audit_path(&account);
    let child = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .args(support::live("tag-incident", "ss-1", "IR-6"))
        .spawn();
    let held = sim
        .wait_for_request(Duration::from_secs(60), |e| {
            e.operation == "ec2:CreateTags" && e.progress == Progress::Held
        })
        .await
        .expect("CreateTags reaches the simulator");
    let chattr = |flag: &str| {
        let done = std::process::Command::new("chattr")
            .arg(flag)
            .arg(&path)
            .status()
            .unwrap();
        assert!(done.success(), "chattr {flag}");
    };
    chattr("+i");
    let run = support::wait(child);
    chattr("-i");
    run.assert_code(1);
    assert!(
        run.stderr.contains("The audit log failed"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("breakglass resume"), "{}", run.stderr);
    // The call was made (the ledger), its outcome is missing, nothing was sent after it.
    let after: Vec<_> = sim
        .ledger()
        .into_iter()
        .filter(|e| e.seq > held.seq)
        .collect();
    assert!(
        after.is_empty(),
        "no call after the unrecorded one: {after:?}"
    );
    let entry = sim
        .ledger()
        .into_iter()
        .find(|e| e.seq == held.seq)
        .unwrap();
    assert!(entry.succeeded(), "{entry:?}");
    let log = records(&path);
    let last = log.last().unwrap();
    assert_eq!(
        (last["kind"].as_str(), last["body"]["operation"].as_str()),
        (Some("intent"), Some("CreateTags")),
        "{last}"
    );
    account.bg().args(["audit", "verify"]).run().assert_code(0);

    // Writable again: resume reads the tags, finds them set, and changes nothing more.
    let run_id = log[0]["run_id"].as_str().unwrap().to_owned();
    let doc = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .resume(&run_id);
    assert_eq!(
        doc["targets"][0]["steps"][0]["status"], "already_done",
        "{doc:#}"
    );
    assert_eq!(tags_made(&sim, &ids["ss-1"]), 1, "tagged once");
    account.bg().args(["audit", "verify"]).run().assert_code(0);
}

/// Two steps, so a crash can fall between them.
const TWO_STEPS: &str = "name: two-steps\ndescription: two tags, one per step\nsteps:\n  \
                         - name: First\n    tag:\n      tags: {first: \"{{ incident }}\"}\n  \
                         - name: Second\n    tag:\n      tags: {second: \"{{ incident }}\"}\n";

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

/// Starts the two-step playbook on `target` through `sim` with step 2's tag call held by
/// `hold`, and kills it (SIGKILL) once the simulator's ledger shows that call at `at`: held
/// before it reached AWS, or answered. Returns the run id.
async fn crash_in_step_2(
    account: &Account,
    sim: &Simulator,
    file: &Path,
    target: &str,
    (hold, at): (FaultKind, Progress),
) -> String {
    sim.inject([Fault::on("ec2:CreateTags", hold).nth(2).times(1)]);
    let mut child = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .args(["run", file.to_str().unwrap(), "-t", target])
        .args(["--incident", "IR-5", "--yes", "--output", "json"])
        .spawn();
    sim.wait_for_request(Duration::from_secs(60), |e| {
        e.operation == "ec2:CreateTags" && !e.faults.is_empty() && e.progress == at
    })
    .await
    .expect("step 2's call reached the simulator");
    child.kill().unwrap();
    assert_eq!(child.wait().unwrap().code(), None, "killed by the signal");
    sim.clear_faults();
    records(&audit_path(account))
        .iter()
        .rev()
        .find(|r| r["kind"] == "run_started")
        .and_then(|r| r["run_id"].as_str().map(str::to_owned))
        .unwrap()
}

/// The tag changes made on `id`, as the simulator's ledger counts them.
fn tags_made(sim: &Simulator, id: &str) -> usize {
    sim.ledger()
        .iter()
        .filter(|e| {
            e.operation == "ec2:CreateTags"
                && e.resources.iter().any(|r| r.ends_with(id))
                && support::ledger::changed(e)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn resume_finishes_a_crashed_run_without_repeating_done_steps() {
    let account = Account::new().await;
    let ids = seed(&account, "10.65.0.0/16").await;
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    let ctx = account.context().await;
    let file = account.home().join("two.yml");
    std::fs::write(&file, TWO_STEPS).unwrap();
    let path = audit_path(&account);

    // Crash 1: step 1 done, step 2's call held before it reached AWS.
    let run_id = crash_in_step_2(
        &account,
        &sim,
        &file,
        "ss-1",
        (FaultKind::Latency { millis: 3_000 }, Progress::Held),
    )
    .await;
    let before = records(&path).len();
    let doc = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .resume(&run_id);
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
        0,
        "step 1 is not run again"
    );
    // Counted at AWS: one tag change per step.
    assert_eq!(tags_made(&sim, &ids["ss-1"]), 2);

    // Crash 2: step 2's CreateTags made and answered, the answer never read.
    let run_id = crash_in_step_2(
        &account,
        &sim,
        &file,
        "ss-2",
        (FaultKind::SlowAnswer { millis: 3_000 }, Progress::Answered),
    )
    .await;
    let doc = account
        .bg()
        .env("AWS_ENDPOINT_URL", sim.endpoint())
        .resume(&run_id);
    assert_eq!(doc["targets"][0]["steps"][1]["status"], "already_done");
    assert_eq!(
        tags_made(&sim, &ids["ss-2"]),
        2,
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
