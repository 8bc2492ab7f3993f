//! Auto Scaling's transitional lifecycle states, which moto skips (it moves an instance to
//! Standby, out of the group or back in service at once). As the Amazon EC2 Auto Scaling
//! User Guide describes the lifecycle (*Amazon EC2 Auto Scaling instance lifecycle*, and
//! *Temporarily remove instances from your Auto Scaling group*): `EnterStandby` passes
//! through `EnteringStandby`, `DetachInstances` through `Detaching`, `ExitStandby` and
//! `AttachInstances` through `Pending`; a lifecycle hook holds a launching instance in
//! `Pending:Wait` (or a terminating one in `Terminating:Wait`) until its timeout. For
//! `transition` after such a call, or while a hook holds an instance, the
//! `DescribeAutoScalingInstances` answers show that state; `EnterStandby` and
//! `DetachInstances` on an instance that is not `InService` are refused with AWS's
//! `ValidationError`.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::request::form_field;

/// What an instance shows instead of moto's state, and until when.
#[derive(Debug, Clone)]
struct Shown {
    state: String,
    group: String,
    until: Instant,
}

/// The transitional states under way.
#[derive(Debug, Default)]
pub struct Lifecycle {
    /// How long a transition takes (zero: at once, as moto has it).
    pub transition: Duration,
    shown: BTreeMap<String, Shown>,
}

/// The `InstanceIds.member.N` of a request.
pub(super) fn instance_ids(request: &str) -> Vec<String> {
    (1..)
        .map_while(|n| form_field(request, &format!("InstanceIds.member.{n}")))
        .collect()
}

impl Lifecycle {
    /// Holds `instance` (of `group`) in `state` for `time`, as a lifecycle hook does.
    pub fn hold(&mut self, instance: &str, group: &str, state: &str, time: Duration) {
        self.shown.insert(
            instance.to_owned(),
            Shown {
                state: state.to_owned(),
                group: group.to_owned(),
                until: Instant::now() + time,
            },
        );
    }

    fn current(&mut self, instance: &str) -> Option<&Shown> {
        let now = Instant::now();
        self.shown.retain(|_, s| s.until > now);
        self.shown.get(instance)
    }

    /// Whether this operation's answer is observed or rewritten.
    pub fn wants(&self, operation: &str) -> bool {
        match operation {
            "autoscaling:EnterStandby"
            | "autoscaling:ExitStandby"
            | "autoscaling:DetachInstances"
            | "autoscaling:AttachInstances" => !self.transition.is_zero(),
            "autoscaling:DescribeAutoScalingInstances" => !self.shown.is_empty(),
            _ => false,
        }
    }

    /// AWS's refusal of a call that needs an instance in service, when one is not.
    pub fn refuses(&mut self, operation: &str, request: &str) -> Option<String> {
        if !matches!(
            operation,
            "autoscaling:EnterStandby" | "autoscaling:DetachInstances"
        ) {
            return None;
        }
        instance_ids(request).into_iter().find_map(|id| {
            let state = self.current(&id)?.state.clone();
            Some(format!(
                "The instance {id} is not in InService (it is {state})."
            ))
        })
    }

    /// Notes the transitions a call started; rewrites what a describe call reports.
    pub fn answer(&mut self, operation: &str, request: &str, response: String) -> String {
        let state = match operation {
            "autoscaling:EnterStandby" => "EnteringStandby",
            "autoscaling:DetachInstances" => "Detaching",
            "autoscaling:ExitStandby" | "autoscaling:AttachInstances" => "Pending",
            "autoscaling:DescribeAutoScalingInstances" => return self.describe(request, response),
            _ => return response,
        };
        let group = form_field(request, "AutoScalingGroupName").unwrap_or_default();
        for id in instance_ids(request) {
            self.hold(&id, &group, state, self.transition);
        }
        response
    }

    /// The answer with the shown states in place of moto's; an instance still `Detaching`
    /// (which moto already removed) is put back in.
    fn describe(&mut self, request: &str, response: String) -> String {
        let now = Instant::now();
        self.shown.retain(|_, s| s.until > now);
        let asked = instance_ids(request);
        let mut out = String::with_capacity(response.len());
        let mut seen = Vec::new();
        for (i, part) in response.split("<member>").enumerate() {
            if i > 0 {
                out.push_str("<member>");
            }
            let id = part
                .split_once("<InstanceId>")
                .and_then(|(_, r)| r.split_once("</InstanceId>"))
                .map(|(id, _)| id.to_owned());
            match id.as_ref().and_then(|id| self.shown.get(id)) {
                Some(shown) => {
                    seen.push(id.clone().unwrap_or_default());
                    out.push_str(&replace_state(part, &shown.state));
                }
                None => out.push_str(part),
            }
        }
        let missing: String = self
            .shown
            .iter()
            .filter(|(id, s)| {
                s.state == "Detaching"
                    && !seen.contains(id)
                    && (asked.is_empty() || asked.contains(id))
            })
            .map(|(id, s)| {
                format!(
                    "<member><InstanceId>{id}</InstanceId><AutoScalingGroupName>{}\
                     </AutoScalingGroupName><LifecycleState>Detaching</LifecycleState>\
                     <HealthStatus>Healthy</HealthStatus><ProtectedFromScaleIn>true\
                     </ProtectedFromScaleIn></member>",
                    s.group
                )
            })
            .collect();
        if missing.is_empty() {
            return out;
        }
        if out.contains("<AutoScalingInstances/>") {
            out.replace(
                "<AutoScalingInstances/>",
                &format!("<AutoScalingInstances>{missing}</AutoScalingInstances>"),
            )
        } else {
            out.replacen(
                "</AutoScalingInstances>",
                &format!("{missing}</AutoScalingInstances>"),
                1,
            )
        }
    }
}

fn replace_state(member: &str, state: &str) -> String {
    match member.split_once("<LifecycleState>") {
        Some((before, rest)) => match rest.split_once("</LifecycleState>") {
            Some((_, after)) => {
                format!("{before}<LifecycleState>{state}</LifecycleState>{after}")
            }
            None => member.to_owned(),
        },
        None => member.to_owned(),
    }
}

/// Auto Scaling's `ValidationError` (query protocol).
pub fn validation_error(message: &str) -> (u16, &'static str, String) {
    (
        400,
        "text/xml",
        format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>ValidationError</Code><Message>\
             {message}</Message></Error><RequestId>sandbox-lifecycle</RequestId></ErrorResponse>"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = "<R><AutoScalingInstances><member><InstanceId>i-1</InstanceId>\
        <AutoScalingGroupName>g</AutoScalingGroupName><LifecycleState>Standby</LifecycleState>\
        </member></AutoScalingInstances></R>";

    #[test]
    fn transitions_show_for_their_time_and_refuse_what_needs_in_service() {
        let mut life = Lifecycle {
            transition: Duration::from_secs(60),
            ..Lifecycle::default()
        };
        let request = "Action=EnterStandby&AutoScalingGroupName=g&InstanceIds.member.1=i-1";
        life.answer("autoscaling:EnterStandby", request, String::new());
        let shown = life.answer(
            "autoscaling:DescribeAutoScalingInstances",
            "Action=DescribeAutoScalingInstances",
            ANSWER.into(),
        );
        assert!(
            shown.contains("<LifecycleState>EnteringStandby</LifecycleState>"),
            "{shown}"
        );
        assert!(life.refuses("autoscaling:EnterStandby", request).is_some());
        assert!(life.refuses("autoscaling:ExitStandby", request).is_none());

        // Detaching: moto already dropped it; it is shown until its time passed.
        let detach = "Action=DetachInstances&AutoScalingGroupName=g&InstanceIds.member.1=i-2";
        life.answer("autoscaling:DetachInstances", detach, String::new());
        let shown = life.answer(
            "autoscaling:DescribeAutoScalingInstances",
            "Action=DescribeAutoScalingInstances&InstanceIds.member.1=i-2",
            "<R><AutoScalingInstances/></R>".into(),
        );
        assert!(
            shown.contains("<InstanceId>i-2</InstanceId>") && shown.contains(">Detaching<"),
            "{shown}"
        );

        life.hold("i-1", "g", "Pending:Wait", Duration::ZERO);
        let after = life.answer(
            "autoscaling:DescribeAutoScalingInstances",
            "Action=DescribeAutoScalingInstances&InstanceIds.member.1=i-1",
            ANSWER.into(),
        );
        assert!(
            after.contains(">Standby<"),
            "over: moto's state again: {after}"
        );
    }
}
