//! Fault injection: per operation (`service:Operation`, `service:*` or `*`), throttling
//! errors, server errors, an explicit deny (as a service control policy gives), added
//! latency before the call or before its answer, or a connection cut after the call, on API
//! calls; and dropped, duplicated or reordered frames
//! or a cut connection on Session Manager data channels (`ssmmessages:<message_type>`), a
//! number of times or forever — for drills and the reliability tests of every other
//! capability.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What a fault does to a matching request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum FaultKind {
    /// The service's throttling error (HTTP 400).
    Throttle,
    /// HTTP 503, the service is unavailable.
    Unavailable,
    /// Refused as an explicit deny refuses it (an SCP, a permissions boundary): HTTP 403,
    /// `UnauthorizedOperation` from EC2, `AccessDenied` elsewhere. Never made.
    Deny,
    /// Answer normally after this delay, the call made after it (a client that gives up
    /// in between never reaches AWS).
    Latency { millis: u64 },
    /// The call is made at once; its answer comes after this delay (a client that gives up
    /// in between has changed AWS without seeing the answer).
    SlowAnswer { millis: u64 },
    /// The call is made, then the connection is reset before the answer.
    Reset,
    /// Data channel: the frame is lost.
    DropFrame,
    /// Data channel: the frame arrives twice.
    DuplicateFrame,
    /// Data channel: the frame is held back and arrives after the next one.
    ReorderFrame,
    /// Data channel: the websocket connection is cut (the client must resume).
    Disconnect,
}

impl FaultKind {
    /// Its name in fault rules and the ledger (`throttle`, `slow_answer`, …).
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Throttle => "throttle",
            FaultKind::Unavailable => "unavailable",
            FaultKind::Deny => "deny",
            FaultKind::Latency { .. } => "latency",
            FaultKind::SlowAnswer { .. } => "slow_answer",
            FaultKind::Reset => "reset",
            FaultKind::DropFrame => "drop_frame",
            FaultKind::DuplicateFrame => "duplicate_frame",
            FaultKind::ReorderFrame => "reorder_frame",
            FaultKind::Disconnect => "disconnect",
        }
    }

    /// Whether the fault acts on data-channel frames rather than API calls.
    pub fn is_frame_fault(&self) -> bool {
        matches!(
            self,
            FaultKind::DropFrame
                | FaultKind::DuplicateFrame
                | FaultKind::ReorderFrame
                | FaultKind::Disconnect
        )
    }
}

/// A fault rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    /// `service:Operation` as in IAM (`ec2:CreateTags`, `ssm:SendCommand`), or `*`.
    pub operation: String,
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many requests it applies to; forever when absent.
    pub times: Option<u32>,
    /// The matching request it starts at, from 1 (`2`: the first passes, the second is hit);
    /// the first when absent. Counts down as matching requests pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nth: Option<u32>,
}

impl Fault {
    /// A fault on every request matching `operation`, forever.
    pub fn on(operation: &str, kind: FaultKind) -> Fault {
        Fault {
            operation: operation.to_owned(),
            kind,
            times: None,
            nth: None,
        }
    }

    /// Applies to `times` requests only.
    pub fn times(mut self, times: u32) -> Fault {
        self.times = Some(times);
        self
    }

    /// Starts at the `nth` matching request (from 1).
    pub fn nth(mut self, nth: u32) -> Fault {
        self.nth = Some(nth);
        self
    }

    pub fn matches(&self, operation: &str) -> bool {
        let service_wide = self.operation.strip_suffix(":*").is_some_and(|service| {
            operation
                .split_once(':')
                .is_some_and(|(s, _)| s.eq_ignore_ascii_case(service))
        });
        self.operation == "*" || service_wide || self.operation.eq_ignore_ascii_case(operation)
    }
}

/// What to do with one request, after the rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Make the call after `before`; hold its answer for `after`; `cut` resets the
    /// connection instead of answering.
    Pass {
        before: Duration,
        after: Duration,
        cut: bool,
    },
    Fail(FaultKind),
}

/// Applies the matching rules (counting them down) and returns the verdict; `frames`
/// says whether `operation` is a data-channel frame (only frame faults apply to frames and
/// only the others to API calls).
pub fn apply(faults: &mut Vec<Fault>, operation: &str, frames: bool) -> Applied {
    let (mut before, mut after, mut cut) = (Duration::ZERO, Duration::ZERO, false);
    let mut verdict = None;
    let mut applied = Vec::new();
    for fault in faults
        .iter_mut()
        .filter(|f| f.matches(operation) && f.kind.is_frame_fault() == frames)
    {
        if fault.times == Some(0) {
            continue;
        }
        match fault.nth {
            Some(n) if n > 1 => {
                fault.nth = Some(n - 1);
                continue;
            }
            Some(_) => fault.nth = None,
            None => {}
        }
        if let Some(times) = fault.times.as_mut() {
            *times -= 1;
        }
        applied.push(fault.kind.name());
        match &fault.kind {
            FaultKind::Latency { millis } => before += Duration::from_millis(*millis),
            FaultKind::SlowAnswer { millis } => after += Duration::from_millis(*millis),
            FaultKind::Reset => cut = true,
            other => {
                verdict = Some(Verdict::Fail(other.clone()));
                break;
            }
        }
    }
    faults.retain(|f| f.times != Some(0));
    Applied {
        verdict: verdict.unwrap_or(Verdict::Pass { before, after, cut }),
        kinds: applied,
    }
}

/// The verdict on one request and the kinds of the faults that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub verdict: Verdict,
    pub kinds: Vec<&'static str>,
}

/// The protocol a service speaks, which decides how its errors look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    /// EC2's query protocol: `<Response><Errors><Error>`.
    Ec2,
    /// The other query protocols (Auto Scaling, ELB, IAM, STS): `<ErrorResponse>`.
    Query,
    /// JSON protocols (SSM, Logs, SSO): `{"__type": …}`.
    Json,
    /// S3's REST-XML: `<Error>`.
    RestXml,
}

/// `(status, content type, body)` of the fault's error for `protocol`.
pub fn error_response(kind: &FaultKind, protocol: Protocol) -> (u16, &'static str, String) {
    let (status, code, message) = match kind {
        FaultKind::Throttle => match protocol {
            Protocol::Ec2 => (503, "RequestLimitExceeded", "Request limit exceeded."),
            Protocol::RestXml => (503, "SlowDown", "Please reduce your request rate."),
            Protocol::Json => (400, "ThrottlingException", "Rate exceeded"),
            Protocol::Query => (400, "Throttling", "Rate exceeded"),
        },
        FaultKind::Deny => match protocol {
            Protocol::Ec2 => (
                403,
                "UnauthorizedOperation",
                "You are not authorized to perform this operation. User is not authorized to \
                 perform this action with an explicit deny in a service control policy \
                 (injected by the sandbox)",
            ),
            Protocol::Json => (
                400,
                "AccessDeniedException",
                "explicit deny in a service control policy (injected by the sandbox)",
            ),
            Protocol::Query | Protocol::RestXml => (
                403,
                "AccessDenied",
                "explicit deny in a service control policy (injected by the sandbox)",
            ),
        },
        _ => (
            503,
            "ServiceUnavailable",
            "Service is unavailable (injected by the sandbox)",
        ),
    };
    let id = "sandbox-fault";
    match protocol {
        Protocol::Json => (
            status,
            "application/x-amz-json-1.1",
            serde_json::json!({ "__type": code, "message": message }).to_string(),
        ),
        Protocol::Ec2 => (
            status,
            "text/xml",
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{code}</Code>\
                 <Message>{message}</Message></Error></Errors><RequestID>{id}</RequestID></Response>"
            ),
        ),
        Protocol::Query => (
            status,
            "text/xml",
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}\
                 </Message></Error><RequestId>{id}</RequestId></ErrorResponse>"
            ),
        ),
        Protocol::RestXml => (
            status,
            "application/xml",
            format!(
                "<Error><Code>{code}</Code><Message>{message}</Message><RequestId>{id}</RequestId></Error>"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_match_count_down_and_add_latency() {
        let mut faults = vec![
            Fault::on("ec2:CreateTags", FaultKind::Throttle).times(2),
            Fault::on("*", FaultKind::Latency { millis: 30 }),
        ];
        let fail = Verdict::Fail(FaultKind::Throttle);
        assert_eq!(apply(&mut faults, "ec2:CreateTags", false).verdict, fail);
        assert_eq!(apply(&mut faults, "EC2:createtags", false).verdict, fail);
        assert_eq!(
            apply(&mut faults, "ec2:CreateTags", false).verdict,
            Verdict::Pass {
                before: Duration::from_millis(30),
                after: Duration::ZERO,
                cut: false
            }
        );
        assert_eq!(faults.len(), 1, "a spent rule is dropped");
        faults.push(Fault::on("ssm:*", FaultKind::SlowAnswer { millis: 50 }).times(1));
        faults.push(Fault::on("ssm:*", FaultKind::Reset).times(1));
        assert_eq!(
            apply(&mut faults, "ssm:SendCommand", false).verdict,
            Verdict::Pass {
                before: Duration::from_millis(30),
                after: Duration::from_millis(50),
                cut: true
            },
            "a service-wide rule; latencies before and after the call add up"
        );
        assert_eq!(
            apply(&mut faults, "ssmmessages:acknowledge", false).verdict,
            Verdict::Pass {
                before: Duration::from_millis(30),
                after: Duration::ZERO,
                cut: false
            },
            "`ssm:*` is not `ssmmessages:*`"
        );
        let (status, _, body) = error_response(&FaultKind::Throttle, Protocol::Json);
        assert_eq!(status, 400);
        assert!(body.contains("ThrottlingException"));
    }

    #[test]
    fn a_rule_can_start_at_the_nth_matching_request() {
        let mut faults = vec![
            Fault::on("ec2:ModifyNetworkInterfaceAttribute", FaultKind::Reset)
                .nth(2)
                .times(1),
        ];
        let pass = |applied: Applied| {
            applied.verdict
                == Verdict::Pass {
                    before: Duration::ZERO,
                    after: Duration::ZERO,
                    cut: false,
                }
                && applied.kinds.is_empty()
        };
        assert!(
            pass(apply(&mut faults, "ec2:DescribeInstances", false)),
            "not a match"
        );
        assert!(
            pass(apply(
                &mut faults,
                "ec2:ModifyNetworkInterfaceAttribute",
                false
            )),
            "the 1st"
        );
        let second = apply(&mut faults, "ec2:ModifyNetworkInterfaceAttribute", false);
        assert_eq!(second.kinds, ["reset"]);
        assert!(
            matches!(second.verdict, Verdict::Pass { cut: true, .. }),
            "{second:?}"
        );
        assert!(faults.is_empty(), "spent after once");
        assert!(
            pass(apply(
                &mut faults,
                "ec2:ModifyNetworkInterfaceAttribute",
                false
            )),
            "the 3rd"
        );
    }
}
