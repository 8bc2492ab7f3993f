//! EC2's eventual consistency for new security groups, which moto does not have: AWS
//! documents that a resource just created may not be visible yet to the calls that follow
//! (Amazon EC2 API Reference, *Eventual consistency in the Amazon EC2 API*: "you might get
//! a resource not found error", e.g. `InvalidGroup.NotFound`, for a short while after the
//! create call succeeded). For `delay` after a `CreateSecurityGroup`, every EC2 call that
//! names the new group's id as a parameter is answered `InvalidGroup.NotFound`, never made.
//! Filters are left alone (a describe by filter is another question).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The groups created lately, and how long each stays unseen.
#[derive(Debug, Default)]
pub struct Consistency {
    /// How long a new group is not visible (zero: at once, as moto has it).
    pub delay: Duration,
    unseen: BTreeMap<String, Instant>,
}

impl Consistency {
    /// Notes the group a `CreateSecurityGroup` answer names.
    pub fn created(&mut self, answer: &str) {
        if self.delay.is_zero() {
            return;
        }
        let id = answer
            .split_once("<groupId>")
            .and_then(|(_, rest)| rest.split_once("</groupId>"))
            .map(|(id, _)| id.trim().to_owned());
        if let Some(id) = id {
            self.unseen.insert(id, Instant::now() + self.delay);
        }
    }

    /// The not-yet-visible group an EC2 form request names, if any.
    pub fn unseen_in(&mut self, form: &[u8]) -> Option<String> {
        let now = Instant::now();
        self.unseen.retain(|_, until| *until > now);
        if self.unseen.is_empty() {
            return None;
        }
        form_urlencoded::parse(form)
            .filter(|(name, _)| !name.starts_with("Filter."))
            .map(|(_, value)| value.into_owned())
            .find(|value| self.unseen.contains_key(value))
    }
}

/// EC2's answer for a group it does not see.
pub fn not_found(group: &str) -> (u16, &'static str, String) {
    (
        400,
        "text/xml",
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error>\
             <Code>InvalidGroup.NotFound</Code><Message>The security group '{group}' does not \
             exist</Message></Error></Errors><RequestID>sandbox-consistency</RequestID></Response>"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_group_is_unseen_by_id_for_the_delay_and_filters_are_left_alone() {
        let mut c = Consistency::default();
        c.created(
            "<CreateSecurityGroupResponse><groupId>sg-1</groupId></CreateSecurityGroupResponse>",
        );
        assert_eq!(
            c.unseen_in(b"Action=X&GroupId=sg-1"),
            None,
            "no delay: seen at once"
        );
        c.delay = Duration::from_secs(60);
        c.created("<groupId>sg-1</groupId>");
        assert_eq!(
            c.unseen_in(b"Action=X&GroupId=sg-1").as_deref(),
            Some("sg-1")
        );
        assert_eq!(
            c.unseen_in(b"Action=X&SecurityGroupId.1=sg-1").as_deref(),
            Some("sg-1")
        );
        assert_eq!(c.unseen_in(b"Action=X&Filter.1.Value.1=sg-1"), None);
        assert_eq!(c.unseen_in(b"Action=X&GroupId=sg-2"), None);
        c.delay = Duration::ZERO;
        c.unseen.insert("sg-3".into(), Instant::now());
        assert_eq!(
            c.unseen_in(b"GroupId=sg-3"),
            None,
            "visible once its time passed"
        );
    }
}
