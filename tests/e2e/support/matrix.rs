//! The fault matrix's engine. A playbook's reference is a clean run in an estate of its own:
//! the changes it makes (from the simulator's ledger, in order) and the AWS end state it
//! leaves. A cell is one of those changes — an operation and its occurrence — hit by one
//! fault in a fresh estate; the run is watched where the call lands (the ledger, not our
//! log), resumed when it stopped, and what AWS holds and what reached it is read back for
//! the test to compare with the reference.

use std::collections::BTreeMap;
use std::time::Duration;

use breakglass::sandbox::{Fault, FaultKind, LedgerEntry, Progress};
use serde_json::Value;

use super::estate::state;
use super::lab::Lab;
use super::ledger::{Labels, change_calls, changes};
use super::runs::{audit_path, records};

/// A playbook of the matrix: its name, extra arguments, and the playbook run before it (its
/// changes are the estate's starting point, not counted).
#[derive(Debug)]
pub struct Playbook {
    pub name: &'static str,
    pub params: &'static [&'static str],
    pub after: Option<&'static str>,
}

/// Every playbook with a mutating call, on `ss-prod-3` (two interfaces, in the Auto Scaling
/// group and the target group, with the instance role).
pub const PLAYBOOKS: [Playbook; 6] = [
    Playbook {
        name: "isolate",
        params: &[],
        after: None,
    },
    Playbook {
        name: "release",
        params: &[],
        after: Some("isolate"),
    },
    Playbook {
        name: "snapshot",
        params: &[],
        after: None,
    },
    Playbook {
        name: "capture-memory",
        params: &[],
        after: None,
    },
    Playbook {
        name: "collect-volatile",
        params: &[],
        after: None,
    },
    Playbook {
        name: "revoke-sessions",
        params: &["-p", "remove_profile=true"],
        after: None,
    },
];

pub const TARGET: &str = "ss-prod-3";

/// The SDK's attempt timeout in the cells, and how long a call is held past it.
const ATTEMPT_TIMEOUT_SECS: u64 = 2;
const HOLD: Duration = Duration::from_secs(3);
const WAIT: Duration = Duration::from_secs(90);

/// How a cell hits its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hit {
    /// Refused once with `Throttling` / `RequestLimitExceeded` (never made).
    Throttled,
    /// Refused once with HTTP 503 (never made).
    Unavailable,
    /// Made, then the connection reset before the answer.
    Reset,
    /// Held before it reaches AWS longer than the SDK's attempt timeout (never made).
    TimedOut,
    /// `kill -9` while the call is held before it reaches AWS.
    KilledBefore,
    /// `kill -9` once AWS answered the call, before the answer is read.
    KilledAfter,
}

impl Hit {
    pub const ALL: [Hit; 6] = [
        Hit::Throttled,
        Hit::Unavailable,
        Hit::Reset,
        Hit::TimedOut,
        Hit::KilledBefore,
        Hit::KilledAfter,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Hit::Throttled => "throttled once",
            Hit::Unavailable => "HTTP 503 once",
            Hit::Reset => "reset after the call was made",
            Hit::TimedOut => "held past the attempt timeout",
            Hit::KilledBefore => "kill -9 before the call is made",
            Hit::KilledAfter => "kill -9 after AWS answered",
        }
    }

    fn fault(self) -> FaultKind {
        let millis = HOLD.as_millis() as u64;
        match self {
            Hit::Throttled => FaultKind::Throttle,
            Hit::Unavailable => FaultKind::Unavailable,
            Hit::Reset => FaultKind::Reset,
            Hit::TimedOut | Hit::KilledBefore => FaultKind::Latency { millis },
            Hit::KilledAfter => FaultKind::SlowAnswer { millis },
        }
    }

    pub fn kills(self) -> bool {
        matches!(self, Hit::KilledBefore | Hit::KilledAfter)
    }
}

/// A clean run of a playbook: the changes it made in order (the cells), counted per
/// resource, and the end state it left.
pub struct Reference {
    pub playbook: &'static Playbook,
    pub calls: Vec<(String, u32)>,
    pub changes: BTreeMap<String, usize>,
    pub end: BTreeMap<String, String>,
    /// Its step statuses.
    pub statuses: Vec<String>,
}

/// A lab with `playbook`'s starting point (the run before it, if any) and the cells'
/// client settings: four attempts, a short attempt timeout.
pub async fn prepared(playbook: &Playbook) -> Lab {
    let mut lab = Lab::at(TARGET).await;
    if let Some(before) = playbook.after {
        lab.run(before).run().assert_code(0);
    }
    lab.account.write_config(&format!(
        "{}\n[aws]\nmax_attempts = 4\nattempt_timeout_secs = {ATTEMPT_TIMEOUT_SECS}\n\
         operation_timeout_secs = 60\n",
        super::lab::evidence_config().await
    ));
    lab.mark();
    lab
}

/// `playbook`'s clean run.
pub async fn reference(playbook: &'static Playbook) -> Reference {
    let lab = prepared(playbook).await;
    let run = lab
        .run(playbook.name)
        .args(playbook.params)
        .args(["--output", "json"])
        .run();
    run.assert_code(0);
    let ledger = lab.ledger();
    let labels = lab.labels().await;
    let calls = change_calls(&ledger);
    assert!(!calls.is_empty(), "{}: no change made", playbook.name);
    Reference {
        playbook,
        calls,
        changes: changes(&ledger, &labels),
        end: end_state(&lab, &labels).await,
        statuses: statuses(&run.json()),
    }
}

/// How the run under the fault ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    /// Exit 0, with these step statuses.
    Completed(Vec<String>),
    /// Exit `code`; the first failed step's detail.
    Stopped { code: i32, detail: String },
    /// Ended by the signal; the log's last record is the hit call's intent.
    Killed,
}

/// What a cell did, read back after it.
#[derive(Debug)]
pub struct Observed {
    pub ending: Ending,
    /// The step statuses of `resume`, when the run did not complete.
    pub resumed: Option<Vec<String>>,
    /// The hit request as the ledger shows it.
    pub hit: LedgerEntry,
    /// The changes the ledger counts (across the run and its resume), per resource.
    pub changes: BTreeMap<String, usize>,
    /// The hit request's key among `changes`.
    pub key: String,
    pub end: BTreeMap<String, String>,
}

/// Runs one cell: `reference`'s playbook with its `operation`'s `nth` call hit by `hit`;
/// resumes it when it did not complete; checks the chain after each; reads back the rest.
pub async fn run_cell(
    reference: &Reference,
    (operation, nth): &(String, u32),
    hit: Hit,
) -> Observed {
    let playbook = reference.playbook;
    let cell = format!("{} / {operation} #{nth} / {}", playbook.name, hit.name());
    let lab = prepared(playbook).await;
    lab.sim
        .inject([Fault::on(operation, hit.fault()).nth(*nth).times(1)]);
    let mut child = Some(
        lab.run(playbook.name)
            .args(playbook.params)
            .args(["--output", "json"])
            .spawn(),
    );
    let at = match hit {
        Hit::KilledBefore => Some(Progress::Held),
        Hit::KilledAfter => Some(Progress::Answered),
        _ => None,
    };
    let mut killed = None;
    if let Some(at) = at {
        // Killed once the ledger shows the call held (not made) or answered (made).
        let entry = lab
            .sim
            .wait_for_request(WAIT, |e| {
                &e.operation == operation && !e.faults.is_empty() && e.progress == at
            })
            .await
            .unwrap_or_else(|| panic!("{cell}: the call was not reached"));
        let mut child = child.take().unwrap();
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        assert_eq!(status.code(), None, "{cell}: ended by the signal");
        killed = Some(entry);
    }
    let ending = match killed {
        Some(_) => {
            if hit == Hit::KilledBefore {
                // A held call whose client is gone is never made, however long one waits.
                tokio::time::sleep(HOLD + Duration::from_millis(500)).await;
            }
            let log = records(&audit_path(&lab.account));
            let last = log.last().unwrap();
            let name = operation.split_once(':').unwrap().1;
            assert_eq!(
                (last["kind"].as_str(), last["body"]["operation"].as_str()),
                (Some("intent"), Some(name)),
                "{cell}: the log ends with the killed call's intent: {last}"
            );
            Ending::Killed
        }
        None => {
            let run = super::wait(child.take().unwrap());
            let doc = run.json();
            match run.code {
                0 => Ending::Completed(statuses(&doc)),
                code => Ending::Stopped {
                    code,
                    detail: first_failure(&doc),
                },
            }
        }
    };
    lab.bg().args(["audit", "verify"]).run().assert_code(0);
    let resumed = (!matches!(ending, Ending::Completed(_))).then(|| {
        lab.sim.clear_faults();
        let run_id = records(&audit_path(&lab.account))
            .iter()
            .rev()
            .find(|r| r["kind"] == "run_started")
            .and_then(|r| r["run_id"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("{cell}: no run started"));
        let doc = lab.bg().resume(&run_id);
        lab.bg().args(["audit", "verify"]).run().assert_code(0);
        statuses(&doc)
    });
    assert_paired(&lab, &cell);
    let ledger = lab.ledger();
    let hit_entry = ledger
        .iter()
        .find(|e| &e.operation == operation && !e.faults.is_empty())
        .unwrap_or_else(|| panic!("{cell}: the fault hit nothing"))
        .clone();
    let labels = lab.labels().await;
    Observed {
        ending,
        resumed,
        key: labels.key(&hit_entry),
        hit: hit_entry,
        changes: changes(&ledger, &labels),
        end: end_state(&lab, &labels).await,
    }
}

/// Every intent the log holds has its outcome, but for a call killed in flight (the
/// intent its run ended on).
fn assert_paired(lab: &Lab, cell: &str) {
    let log = records(&audit_path(&lab.account));
    let mut open: Vec<&Value> = Vec::new();
    for (i, record) in log.iter().enumerate() {
        match record["kind"].as_str() {
            Some("intent") => open.push(record),
            Some("outcome") => {
                let pos = open.iter().rposition(|r| {
                    r["run_id"] == record["run_id"]
                        && r["body"]["operation"] == record["body"]["operation"]
                        && r["body"]["target"] == record["body"]["target"]
                });
                assert!(pos.is_some(), "{cell}: an outcome without intent at {i}");
                open.remove(pos.unwrap());
            }
            _ => {}
        }
    }
    assert!(open.len() <= 1, "{cell}: intents without outcome: {open:?}");
}

fn statuses(doc: &Value) -> Vec<String> {
    super::runs::step_statuses(doc)
        .into_iter()
        .map(str::to_owned)
        .collect()
}

fn first_failure(doc: &Value) -> String {
    doc["targets"][0]["steps"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|s| s["status"] != "succeeded")
        .and_then(|s| s["detail"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// What AWS holds of the target after a playbook, with the estate's ids as their roles:
/// groups per interface, protections, Auto Scaling, registrations, breakglass's tags (keys,
/// and the state's value), snapshots per volume with their tag keys, evidence objects and
/// their versions, the role's inline policy documents, commands sent, sessions open.
pub async fn end_state(lab: &Lab, labels: &Labels) -> BTreeMap<String, String> {
    let now = state(&lab.ctx, &lab.id).await;
    let mut end = BTreeMap::new();
    let mut put = |k: &str, v: String| {
        end.insert(k.to_owned(), labels.text(&v));
    };
    put("interfaces", format!("{:?}", now.interfaces));
    put("termination protected", now.termination_protected.clone());
    put("shutdown behavior", now.shutdown_behavior.clone());
    put("auto scaling", format!("{:?}", now.auto_scaling));
    put("registrations", format!("{:?}", now.registrations));
    let tags: Vec<&String> = now
        .tags
        .keys()
        .filter(|k| k.starts_with("breakglass:"))
        .collect();
    put("tags", format!("{tags:?}"));
    put(
        "state tag",
        format!("{:?}", now.tags.get("breakglass:state")),
    );
    put("snapshots", lab.snapshot_summary().await);
    put("evidence objects", lab.evidence_versions().await);
    put("role policies", lab.policy_documents().await);
    put("commands", lab.commands().await.to_string());
    put("open sessions", lab.open_sessions().await.to_string());
    end
}
