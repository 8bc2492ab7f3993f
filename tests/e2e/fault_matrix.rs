//! The fault matrix: every changing call of every playbook with one (a clean run's ledger
//! names them, in order), hit by each fault — throttled once, HTTP 503 once, a connection
//! reset after the call was made, held past the SDK's attempt timeout, `kill -9` while it
//! is held before AWS and once AWS answered it — in an estate of its own.
//!
//! Every cell has one expected outcome, written here: how the run ends, how `resume` ends
//! when it did not complete, and the changes the simulator's ledger counts per resource —
//! a clean run's exactly, but for a harmless call the SDK repeated after a reset. The AWS
//! end state equals the clean run's, the chain verifies, and every intent has its outcome but
//! a killed call's. `docs/reliability.md`'s matrix is these cells' results, written by
//! `scripts/fault-matrix` (every cell); the default run takes one cell per fault for each
//! playbook, each a different call, and checks its result is the documented one.

use std::collections::BTreeMap;

use crate::support::matrix::{Ending, Hit, Observed, PLAYBOOKS, Reference, reference, run_cell};

/// Calls the SDK must not repeat blindly after an answer was lost, because a second one
/// makes a second thing (snapshots, a command, a group, a rule) or fails because the first
/// moved AWS on (standby, a profile already gone; a target already deregistered, which the
/// emulator refuses). The step's own reads decide instead. Written here from AWS's and the
/// emulator's semantics of each operation, apart from the code's own list.
const NOT_IDEMPOTENT: [&str; 12] = [
    "ec2:CreateSnapshots",
    "ec2:CopySnapshot",
    "ec2:CreateSecurityGroup",
    "ec2:AuthorizeSecurityGroupIngress",
    "ec2:AuthorizeSecurityGroupEgress",
    "ec2:RevokeSecurityGroupEgress",
    "ec2:DisassociateIamInstanceProfile",
    "ssm:SendCommand",
    "autoscaling:EnterStandby",
    "autoscaling:ExitStandby",
    "autoscaling:DetachInstances",
    "elasticloadbalancing:DeregisterTargets",
];

/// Calls the host makes (the collection's upload through a presigned URL), not breakglass:
/// no breakglass process holds them, so killing it does not stop them.
const HOST_CALLS: [&str; 1] = ["s3:PutObject"];

/// How a cell's run must end.
#[derive(Debug, PartialEq, Eq)]
enum Want {
    /// Exit 0, with the clean run's step statuses.
    Completed,
    /// Exit `code`, the failed step's detail saying `detail`.
    Stopped { code: i32, detail: &'static str },
    /// Ended by the signal.
    Killed,
}

impl Want {
    fn matches(&self, ending: &Ending, reference: &Reference) -> bool {
        match (self, ending) {
            (Want::Completed, Ending::Completed(steps)) => steps == &reference.statuses,
            (Want::Stopped { code, detail }, Ending::Stopped { code: c, detail: d }) => {
                code == c && d.contains(detail)
            }
            (Want::Killed, Ending::Killed) => true,
            _ => false,
        }
    }
}

/// Playbooks whose step says `already_done` when resumed with nothing left to do (the
/// others say `succeeded`: `snapshot` still waits for its snapshots, a collection still
/// verifies its evidence).
const SAYS_ALREADY_DONE: [&str; 3] = ["isolate", "release", "revoke-sessions"];

/// What one cell must end in.
#[derive(Debug)]
struct Expected {
    ending: Want,
    resumed: Option<Vec<String>>,
    changes: BTreeMap<String, usize>,
    /// What AWS holds after it (the clean run's, unless said otherwise).
    end: BTreeMap<String, String>,
}

fn expected(reference: &Reference, call: &(String, u32), hit: Hit, key: &str) -> Expected {
    let (operation, _) = call;
    let steps = reference.statuses.clone();
    let mut changes = reference.changes.clone();
    let mut end = reference.end.clone();
    let last_change = reference.calls.last() == Some(call);
    let (ending, resumed) = match hit {
        Hit::Throttled | Hit::Unavailable | Hit::TimedOut => (Want::Completed, None),
        Hit::Reset if HOST_CALLS.contains(&operation.as_str()) => {
            // `curl --retry` does not retry a reset connection: the host reports the upload
            // failed, and the step stops with it; `resume` does not follow a failed command
            // but sends the collection again, which uploads again (see docs/reliability.md).
            for (change, n) in changes.iter_mut() {
                if change.starts_with("ssm:SendCommand") || change == key {
                    *n += 1;
                }
            }
            // Two commands on the host, and a second version of the image.
            end.insert("commands".into(), "2".into());
            let objects = end["evidence objects"].replace(": 1}", ": 2}");
            end.insert("evidence objects".into(), objects);
            (
                Want::Stopped {
                    code: 1,
                    detail: "upload",
                },
                Some(steps),
            )
        }
        Hit::Reset => {
            if !NOT_IDEMPOTENT.contains(&operation.as_str()) {
                // The SDK repeats a harmless call whose answer was lost.
                *changes.entry(key.to_owned()).or_default() += 1;
            }
            (Want::Completed, None)
        }
        Hit::KilledBefore | Hit::KilledAfter => {
            let status = if hit == Hit::KilledAfter
                && last_change
                && SAYS_ALREADY_DONE.contains(&reference.playbook.name)
            {
                "already_done"
            } else {
                "succeeded"
            };
            (Want::Killed, Some(vec![status.to_owned()]))
        }
    };
    Expected {
        ending,
        resumed,
        changes,
        end,
    }
}

/// Runs `cells` of `reference`; the mismatches, each with what was expected and observed.
async fn check(
    reference: &Reference,
    cells: &[(&(String, u32), Hit)],
    rows: &mut Vec<String>,
) -> Vec<String> {
    let mut failures = Vec::new();
    for (call, hit) in cells {
        let cell = cell_name(reference, call, *hit);
        let observed = run_cell(reference, call, *hit).await;
        let want = expected(reference, call, *hit, &observed.key);
        if !want.ending.matches(&observed.ending, reference)
            || want.resumed != observed.resumed
            || want.changes != observed.changes
        {
            failures.push(format!(
                "{cell}\n  expected {want:?}\n  observed {:?} then {:?}, changes {:?}\n  hit {:?}",
                observed.ending, observed.resumed, observed.changes, observed.hit
            ));
        }
        if observed.end != want.end {
            failures.push(format!(
                "{cell}: end state\n  expected {:?}\n  this cell {:?}",
                want.end, observed.end
            ));
        }
        eprintln!(
            "cell {cell}: {:?} then {:?}",
            observed.ending, observed.resumed
        );
        rows.push(row(reference, call, *hit, &observed));
    }
    failures
}

/// `playbook / operation #nth / fault`.
fn cell_name(reference: &Reference, (operation, nth): &(String, u32), hit: Hit) -> String {
    format!(
        "{} / {operation} #{nth} / {}",
        reference.playbook.name,
        hit.name()
    )
}

/// The cell's line in docs/reliability.md.
fn row(
    reference: &Reference,
    (operation, nth): &(String, u32),
    hit: Hit,
    observed: &Observed,
) -> String {
    let ending = match &observed.ending {
        Ending::Completed(_) => "completed".to_owned(),
        Ending::Stopped { code, .. } => format!("stopped, exit {code}"),
        Ending::Killed => "killed".to_owned(),
    };
    let resumed = observed
        .resumed
        .as_ref()
        .map(|s| format!("; resume: {}", s.join(", ")))
        .unwrap_or_default();
    let extra: Vec<String> = observed
        .changes
        .iter()
        .filter(|(k, n)| reference.changes.get(*k) != Some(n))
        .map(|(k, n)| format!("{k} ×{n}"))
        .collect();
    let changes = if extra.is_empty() {
        "a clean run's".to_owned()
    } else {
        format!("a clean run's, and {}", extra.join(", "))
    };
    format!(
        "| `{}` | `{operation}` #{nth} | {} | {ending}{resumed} | {changes} |",
        reference.playbook.name,
        hit.name()
    )
}

/// The generated part of docs/reliability.md.
const DOC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reliability.md");
const BEGIN: &str =
    "<!-- fault-matrix: written by scripts/fault-matrix from the cells' results -->";
const END: &str = "<!-- end of fault-matrix -->";

const HEADER: &str =
    "| playbook | call | fault | outcome | changes at AWS |\n|---|---|---|---|---|";

/// The generated matrix in docs/reliability.md (empty when it has none).
fn documented() -> String {
    let doc = std::fs::read_to_string(DOC).unwrap();
    match (doc.find(BEGIN), doc.find(END)) {
        (Some(begin), Some(end)) => doc[begin..end].to_owned(),
        _ => String::new(),
    }
}

/// The cells of `reference` a run takes: every one, or one per fault, each on a different
/// call (turning through the playbook's changes, offset by the playbook's place).
fn cells(reference: &Reference, every: bool, offset: usize) -> Vec<(&(String, u32), Hit)> {
    let mut cells = Vec::new();
    for (h, hit) in Hit::ALL.iter().enumerate() {
        // No breakglass process holds a call the host makes: killing it stops nothing.
        let calls: Vec<_> = reference
            .calls
            .iter()
            .filter(|c| !(hit.kills() && HOST_CALLS.contains(&c.0.as_str())))
            .collect();
        if every {
            cells.extend(calls.iter().map(|c| (*c, *hit)));
        } else if !calls.is_empty() {
            cells.push((calls[(h * 5 + offset * 3) % calls.len()], *hit));
        }
    }
    cells
}

/// `FAULT_MATRIX_ONLY=<text>`: only the cells whose name contains it (`release /
/// autoscaling:ExitStandby`, `reset after`), to re-run a few while working on them.
fn only() -> Option<String> {
    std::env::var("FAULT_MATRIX_ONLY").ok()
}

async fn matrix(every: bool) -> (Vec<String>, Vec<String>) {
    let mut failures = Vec::new();
    let mut rows = Vec::new();
    let only = only();
    for (p, playbook) in PLAYBOOKS.iter().enumerate() {
        // A filter that names a playbook spares the others' reference runs.
        let other_playbook = only
            .as_deref()
            .is_some_and(|o| o.contains(" / ") && !o.starts_with(&format!("{} / ", playbook.name)));
        if other_playbook {
            continue;
        }
        let reference = reference(playbook).await;
        let mut cells = cells(&reference, every, p);
        if let Some(only) = &only {
            cells.retain(|(call, hit)| cell_name(&reference, call, *hit).contains(only.as_str()));
        }
        failures.extend(check(&reference, &cells, &mut rows).await);
    }
    (rows, failures)
}

#[tokio::test(flavor = "multi_thread")]
async fn one_cell_per_fault_for_every_playbook() {
    let (rows, mut failures) = matrix(false).await;
    let documented = documented();
    for row in &rows {
        if !documented.lines().any(|l| l == row) {
            failures.push(format!(
                "docs/reliability.md does not show this result (run scripts/fault-matrix): {row}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every cell (a long run: `scripts/fault-matrix`, which also writes the results into
/// docs/reliability.md when they all pass — `FAULT_MATRIX_WRITE=1`).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "every cell of the matrix takes long: scripts/fault-matrix runs it"]
async fn every_cell_of_the_fault_matrix() {
    let (rows, failures) = matrix(true).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if std::env::var_os("FAULT_MATRIX_WRITE").is_some() && only().is_none() {
        let doc = std::fs::read_to_string(DOC).unwrap();
        let (begin, end) = (doc.find(BEGIN).unwrap(), doc.find(END).unwrap());
        let table = format!("{BEGIN}\n{HEADER}\n{}\n", rows.join("\n"));
        std::fs::write(DOC, format!("{}{table}{}", &doc[..begin], &doc[end..])).unwrap();
    }
}
