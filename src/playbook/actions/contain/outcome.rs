//! Folding the many calls of one containment step into one step result: what changed,
//! what was already in place, and in a dry run the worst verdict of the checks.

use crate::playbook::exec::{StepResult, StepStatus};

/// What a containment step has done so far.
#[derive(Debug, Default)]
pub struct Outcome {
    dry_run: bool,
    changed: Vec<String>,
    kept: Vec<String>,
    /// Dry run: verdicts of checks that are not EC2 `DryRun` calls.
    checks: Vec<StepResult>,
}

impl Outcome {
    pub fn new(dry_run: bool) -> Outcome {
        Outcome {
            dry_run,
            ..Outcome::default()
        }
    }

    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// A change made (or, in a dry run, that would be made).
    pub fn changed(&mut self, what: impl Into<String>) {
        self.changed.push(what.into());
    }

    /// Something already as wanted.
    pub fn kept(&mut self, what: impl Into<String>) {
        self.kept.push(what.into());
    }

    /// A dry-run verdict from the IAM policy simulator for a change without `DryRun`.
    pub fn check(&mut self, what: impl Into<String>, verdict: StepResult) {
        self.changed(what);
        self.checks.push(verdict);
    }

    /// The step's result. `done` describes the end state ("isolated", "released").
    pub fn result(self, done: &str) -> StepResult {
        if self.changed.is_empty() {
            return StepResult::new(
                StepStatus::AlreadyDone,
                format!("already {done}; nothing to change"),
            );
        }
        let list = self.changed.join("; ");
        if !self.dry_run {
            return StepResult::new(StepStatus::Succeeded, format!("{done}: {list}"));
        }
        let rank = |s: StepStatus| match s {
            StepStatus::WouldFail => 2,
            StepStatus::NotVerifiable => 1,
            _ => 0,
        };
        let worst = self
            .checks
            .iter()
            .map(|c| c.status)
            .max_by_key(|s| rank(*s))
            .filter(|s| rank(*s) > 0)
            .unwrap_or(StepStatus::WouldSucceed);
        let mut findings: Vec<&str> = Vec::new();
        for check in self.checks.iter().filter(|c| rank(c.status) > 0) {
            if !findings.contains(&check.detail.as_str()) {
                findings.push(&check.detail);
            }
        }
        let detail = if findings.is_empty() {
            format!("would be {done}: {list}")
        } else {
            format!("would be {done}: {list}. Findings: {}", findings.join("; "))
        };
        StepResult::new(worst, detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folds_changes_and_the_worst_dry_run_verdict() {
        let live = Outcome::new(false);
        assert_eq!(live.result("isolated").status, StepStatus::AlreadyDone);

        let mut live = Outcome::new(false);
        live.kept("termination protection");
        live.changed("ENI eni-1 quarantined");
        let result = live.result("isolated");
        assert_eq!(result.status, StepStatus::Succeeded);
        assert_eq!(result.detail, "isolated: ENI eni-1 quarantined");

        let mut dry = Outcome::new(true);
        dry.changed("ENI eni-1 quarantined");
        dry.check(
            "standby",
            StepResult::new(StepStatus::NotVerifiable, "no simulator"),
        );
        assert_eq!(dry.result("isolated").status, StepStatus::NotVerifiable);

        let mut dry = Outcome::new(true);
        dry.check("standby", StepResult::new(StepStatus::NotVerifiable, "a"));
        dry.check("protect", StepResult::new(StepStatus::NotVerifiable, "a"));
        dry.check(
            "deregister",
            StepResult::new(StepStatus::WouldFail, "denied"),
        );
        dry.check("protect", StepResult::new(StepStatus::WouldSucceed, "ok"));
        let result = dry.result("isolated");
        assert_eq!(result.status, StepStatus::WouldFail);
        assert!(
            result.detail.contains("Findings: a; denied"),
            "{}",
            result.detail
        );
    }
}
