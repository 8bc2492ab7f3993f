//! Time as AWS has it and moto does not: snapshots that take a while to complete (moto
//! completes them at once) and targets that drain after deregistration (moto drops them at
//! once). Applied by rewriting moto's answers to the describe calls.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::request::form_field;

/// How long things take in the sandbox, and what is under way.
#[derive(Debug, Default)]
pub struct Timing {
    pub snapshot_time: Duration,
    pub draining_time: Duration,
    /// Snapshot id → when it was created.
    snapshots: BTreeMap<String, Instant>,
    /// `(target group ARN, instance id, port)` → when it was deregistered.
    draining: BTreeMap<(String, String, Option<String>), Instant>,
}

/// The text of every `<tag>…</tag>` in `xml`.
fn all(xml: &str, tag: &str) -> Vec<String> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    xml.split(&open)
        .skip(1)
        .filter_map(|rest| rest.split(&close).next().map(str::to_owned))
        .collect()
}

impl Timing {
    /// Whether this operation's answer is observed or rewritten.
    pub fn wants(&self, operation: &str) -> bool {
        matches!(
            operation,
            "ec2:CreateSnapshots"
                | "ec2:CreateSnapshot"
                | "ec2:CopySnapshot"
                | "ec2:DescribeSnapshots"
        ) && !self.snapshot_time.is_zero()
            || matches!(
                operation,
                "elasticloadbalancing:DeregisterTargets"
                    | "elasticloadbalancing:DescribeTargetHealth"
            ) && !self.draining_time.is_zero()
    }

    /// Notes what a request started; rewrites what a describe call reports.
    pub fn answer(&mut self, operation: &str, request: &str, response: String) -> String {
        let now = Instant::now();
        match operation {
            "ec2:CreateSnapshots" | "ec2:CreateSnapshot" | "ec2:CopySnapshot" => {
                for id in all(&response, "snapshotId") {
                    self.snapshots.insert(id, now);
                }
                response
            }
            "ec2:DescribeSnapshots" => self.pending_snapshots(response, now),
            "elasticloadbalancing:DeregisterTargets" => {
                if let Some(arn) = form_field(request, "TargetGroupArn") {
                    for n in 1.. {
                        let Some(id) = form_field(request, &format!("Targets.member.{n}.Id"))
                        else {
                            break;
                        };
                        let port = form_field(request, &format!("Targets.member.{n}.Port"));
                        self.draining.insert((arn.clone(), id, port), now);
                    }
                }
                response
            }
            "elasticloadbalancing:DescribeTargetHealth" => {
                self.draining_targets(request, response, now)
            }
            _ => response,
        }
    }

    fn pending_snapshots(&self, response: String, now: Instant) -> String {
        let mut out = String::with_capacity(response.len());
        for (i, part) in response.split("<item>").enumerate() {
            if i > 0 {
                out.push_str("<item>");
            }
            let id = all(part, "snapshotId").into_iter().next();
            let started = id.as_ref().and_then(|id| self.snapshots.get(id));
            match started {
                Some(started) if now.duration_since(*started) < self.snapshot_time => {
                    let done = now.duration_since(*started).as_secs_f64()
                        / self.snapshot_time.as_secs_f64();
                    let percent = ((done * 100.0) as u32).min(99);
                    out.push_str(
                        &part
                            .replace("<status>completed</status>", "<status>pending</status>")
                            .replace(
                                "<progress>100%</progress>",
                                &format!("<progress>{percent}%</progress>"),
                            ),
                    );
                }
                _ => out.push_str(part),
            }
        }
        out
    }

    fn draining_targets(&self, request: &str, response: String, now: Instant) -> String {
        let Some(arn) = form_field(request, "TargetGroupArn") else {
            return response;
        };
        let extra: String = self
            .draining
            .iter()
            .filter(|((a, _, _), at)| *a == arn && now.duration_since(**at) < self.draining_time)
            .map(|((_, id, port), _)| {
                let port = port.as_ref().map(|p| format!("<Port>{p}</Port>")).unwrap_or_default();
                format!(
                    "<member><Target><Id>{id}</Id>{port}</Target><TargetHealth><State>draining\
                     </State><Reason>Target.DeregistrationInProgress</Reason></TargetHealth></member>"
                )
            })
            .collect();
        if extra.is_empty() {
            return response;
        }
        if response.contains("</TargetHealthDescriptions>") {
            response.replacen(
                "</TargetHealthDescriptions>",
                &format!("{extra}</TargetHealthDescriptions>"),
                1,
            )
        } else {
            response.replacen(
                "<TargetHealthDescriptions/>",
                &format!("<TargetHealthDescriptions>{extra}</TargetHealthDescriptions>"),
                1,
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshots_stay_pending_and_targets_drain_for_a_while() {
        let mut t = Timing {
            snapshot_time: Duration::from_secs(60),
            draining_time: Duration::from_secs(60),
            ..Timing::default()
        };
        t.answer(
            "ec2:CreateSnapshots",
            "",
            "<snapshotSet><item><snapshotId>snap-1</snapshotId></item></snapshotSet>".into(),
        );
        let described = "<snapshotSet><item><snapshotId>snap-1</snapshotId><status>completed</status>\
                         <progress>100%</progress></item><item><snapshotId>snap-2</snapshotId>\
                         <status>completed</status><progress>100%</progress></item></snapshotSet>";
        let out = t.answer("ec2:DescribeSnapshots", "", described.into());
        assert!(
            out.contains(
                "<snapshotId>snap-1</snapshotId><status>pending</status><progress>0%</progress>"
            ),
            "{out}"
        );
        assert!(
            out.contains("<snapshotId>snap-2</snapshotId><status>completed</status>"),
            "{out}"
        );

        let arn = "arn%3Aaws%3Aelasticloadbalancing%3Aeu-west-1%3A1%3Atargetgroup%2Ftg%2F1";
        t.answer(
            "elasticloadbalancing:DeregisterTargets",
            &format!("Action=DeregisterTargets&TargetGroupArn={arn}&Targets.member.1.Id=i-1&Targets.member.1.Port=5500"),
            String::new(),
        );
        let health = t.answer(
            "elasticloadbalancing:DescribeTargetHealth",
            &format!("Action=DescribeTargetHealth&TargetGroupArn={arn}"),
            "<TargetHealthDescriptions></TargetHealthDescriptions>".into(),
        );
        assert!(
            health.contains("<Id>i-1</Id><Port>5500</Port>") && health.contains("draining"),
            "{health}"
        );
    }
}
