//! The fault matrix's network cells: on every service a playbook touches — EC2, Auto
//! Scaling, ELB and SSM parameters (`isolate`), STS (every run), SSM Run Command and S3
//! (`capture-memory`), IAM (`revoke-sessions`) — the game-day simulator injects a burst of
//! throttling, a burst of HTTP 503, an outage longer than the retries, a connection reset
//! after the call was made, and latency under and over the client's attempt timeout. For
//! every cell the run either completes, or stops with the AWS error and exit 1 and `resume`
//! completes it (a second run, when it stopped before starting); the chain verifies; and
//! the end state is the finished playbook's, with no change made twice. The cells' results
//! are printed as the table in docs/reliability.md.

use crate::support;

use crate::support::lab::{Lab, lab};
use breakglass::sandbox::{Fault, FaultKind};

/// The faults, as (name, rule kind, how many requests).
fn faults() -> Vec<(&'static str, FaultKind, Option<u32>)> {
    vec![
        ("throttling burst", FaultKind::Throttle, Some(2)),
        ("503 burst", FaultKind::Unavailable, Some(2)),
        // Until cleared: every retry fails too.
        ("503 outage", FaultKind::Unavailable, None),
        ("reset after the call", FaultKind::Reset, Some(1)),
        (
            "latency under the timeout",
            FaultKind::Latency { millis: 2_000 },
            Some(2),
        ),
        (
            "latency over the timeout",
            FaultKind::Latency { millis: 5_000 },
            Some(1),
        ),
    ]
}

/// The services, with the playbook that exercises each.
const SERVICES: [(&str, &str); 8] = [
    ("ec2", "isolate"),
    ("autoscaling", "isolate"),
    ("elasticloadbalancing", "isolate"),
    ("ssm", "isolate"),
    ("sts", "isolate"),
    ("ssm", "capture-memory"),
    ("s3", "capture-memory"),
    ("iam", "revoke-sessions"),
];

/// Checks the end state of `playbook` on the lab's server.
async fn finished(lab: &Lab, playbook: &str, cell: &str) {
    match playbook {
        "isolate" => {
            let tags = support::runs::tags(&lab.ctx, &lab.id).await;
            assert_eq!(
                tags.get("breakglass:state").map(String::as_str),
                Some("isolated"),
                "{cell}"
            );
            assert!(
                lab.done("CreateSecurityGroup") <= 2,
                "{cell}: groups made once"
            );
            assert!(lab.done("PutParameter") <= 1, "{cell}: record written once");
        }
        "capture-memory" => {
            assert_eq!(lab.memory_images().await, 1, "{cell}");
        }
        _ => {
            assert_eq!(lab.deny_policies().await, 2, "{cell}");
            assert!(lab.done("PutRolePolicy") <= 2, "{cell}: each deny put once");
            assert_eq!(lab.open_sessions().await, 0, "{cell}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_service_survives_bursts_outages_resets_and_latency() {
    let mut table = Vec::new();
    // `FAULT_CELLS=sts` runs one service's cells (when chasing one).
    let only = std::env::var("FAULT_CELLS").ok();
    for (service, playbook) in SERVICES {
        if only.as_deref().is_some_and(|o| o != service) {
            continue;
        }
        for (name, kind, times) in faults() {
            let cell = format!("{service} / {name} ({playbook})");
            let lab = lab().await;
            lab.account.write_config(&format!(
                "{}\n[aws]\nmax_attempts = 4\nattempt_timeout_secs = 4\noperation_timeout_secs = 60\n",
                support::lab::evidence_config().await
            ));
            let rule = Fault::on(&format!("{service}:*"), kind);
            lab.sim.inject([match times {
                Some(n) => rule.times(n),
                None => rule,
            }]);
            let run = lab
                .bg()
                .args(support::live(playbook, "ss-prod-1", "IR-82"))
                .args(["--output", "json"])
                .run();
            let outcome = match run.code {
                0 => "completed".to_owned(),
                1 => {
                    eprintln!("{cell}:\n{}", run.stderr);
                    // The AWS error (or the host's) and the way on.
                    assert!(
                        run.stderr.contains("breakglass resume") || run.stderr.contains("error:"),
                        "{cell}: a clear error: {}",
                        run.stderr
                    );
                    lab.sim.clear_faults();
                    let started = lab
                        .records()
                        .iter()
                        .find(|r| r["kind"] == "run_started")
                        .and_then(|r| r["run_id"].as_str().map(str::to_owned));
                    match started {
                        Some(run_id) => {
                            lab.resume(&run_id);
                            format!("stopped (exit {}), resume completed", run.code)
                        }
                        None => {
                            let again = lab
                                .bg()
                                .args(support::live(playbook, "ss-prod-1", "IR-82"))
                                .run();
                            again.assert_code(0);
                            format!(
                                "refused before any change (exit {}), rerun completed",
                                run.code
                            )
                        }
                    }
                }
                other => panic!("{cell}: exit {other}\n{}\n{}", run.stdout, run.stderr),
            };
            lab.bg().args(["audit", "verify"]).run().assert_code(0);
            finished(&lab, playbook, &cell).await;
            table.push(format!("| {service} | {name} | {playbook} | {outcome} |"));
        }
    }
    // The matrix as docs/reliability.md shows it.
    eprintln!("{}", table.join("\n"));
}
