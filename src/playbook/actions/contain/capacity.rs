//! Room in the Auto Scaling group for a released instance. `ExitStandby` and
//! `AttachInstances` raise the group's desired capacity by one, and AWS refuses them when
//! that passes its maximum size — as it does when the group launched a replacement while
//! the instance was isolated and now runs at its maximum. Release checks this before it
//! changes anything, and does what `at_max_size` chose.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::calls::*;
use super::facts::Facts;
use super::record::IsolationRecord;
use crate::aws::{AsgGroup, AutoScalingApi};
use crate::playbook::exec::{StepCtx, StepError};

/// What release does when the group has no room for the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum AtMaxSize {
    /// Change nothing and say what the choices are.
    #[default]
    Refuse,
    /// Raise the maximum by one; the group keeps the extra instance.
    RaiseMax,
    /// Raise the maximum for the release, then set desired capacity and maximum back: the
    /// group's termination policy removes one other instance.
    KeepSize,
}

impl AtMaxSize {
    pub const CHOICES: &'static str = "`refuse`, `raise-max` or `keep-size`";

    pub fn parse(text: &str) -> Option<AtMaxSize> {
        match text {
            "refuse" => Some(AtMaxSize::Refuse),
            "raise-max" => Some(AtMaxSize::RaiseMax),
            "keep-size" => Some(AtMaxSize::KeepSize),
            _ => None,
        }
    }
}

/// The room release makes in the group before the instance goes back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Room {
    /// None needed: the group has room, or the instance does not go back into it.
    Enough,
    /// Raise the maximum to `desired + 1`; with `keep`, set `desired` and `max` again after.
    Make { max: i32, desired: i32, keep: bool },
}

/// Whether release will return the instance to its group (from Standby, or by attaching
/// it again after a detach).
fn returns(facts: &Facts) -> bool {
    matches!(
        facts
            .membership
            .as_ref()
            .map(|m| m.lifecycle_state.as_str()),
        Some("Standby") | None
    )
}

/// Reads the recorded group, when the instance goes back into it.
pub async fn read_group(ctx: &StepCtx<'_>, group: &str) -> Result<Option<AsgGroup>, StepError> {
    ctx.read(
        &DESCRIBE_AUTO_SCALING_GROUPS,
        json!({ "auto_scaling_group_names": [group] }),
        ctx.autoscaling().describe_group(group),
    )
    .await
}

/// Checks the group can take the instance back; refuses before anything changed when it
/// cannot and `choice` is `refuse`.
pub async fn check(
    ctx: &StepCtx<'_>,
    record: &IsolationRecord,
    facts: &Facts,
    choice: AtMaxSize,
) -> Result<Room, StepError> {
    let Some(recorded) = &record.auto_scaling else {
        return Ok(Room::Enough);
    };
    if !returns(facts) {
        return Ok(Room::Enough);
    }
    let name = recorded.group.as_str();
    let Some(group) = read_group(ctx, name).await? else {
        return Err(StepError::Failed(format!(
            "the Auto Scaling group {name} that {} was in is gone; nothing changed: restore \
             the instance by hand (docs/containment.md, \"Release\")",
            ctx.instance_id()
        )));
    };
    let (max, desired) = (group.max_size, group.desired_capacity);
    if desired < max {
        return Ok(Room::Enough);
    }
    match choice {
        AtMaxSize::Refuse => Err(StepError::Failed(format!(
            "Auto Scaling group {name} is at its maximum size ({desired} of {max}: it launched \
             a replacement while {id} was isolated), and AWS refuses to take {id} back, which \
             adds one; nothing changed. Choose with the parameter `at_max_size`: `raise-max` \
             raises the maximum to {more} and the group keeps {more} instances; `keep-size` \
             raises it for the release, then sets {desired} and {max} again, so the group's \
             termination policy removes one other instance ({id} stays protected from \
             scale-in until it has)",
            id = ctx.instance_id(),
            more = max + 1,
        ))),
        AtMaxSize::RaiseMax => Ok(Room::Make {
            max,
            desired,
            keep: false,
        }),
        AtMaxSize::KeepSize => Ok(Room::Make {
            max,
            desired,
            keep: true,
        }),
    }
}

/// How long release waits for the group to shrink back, and how often it looks.
const SHRINK_TIMEOUT: Duration = Duration::from_secs(600);
const SHRINK_POLL: Duration = Duration::from_secs(2);

/// Waits until the group counts no more than `desired` instances again (its termination
/// policy removed one), so clearing the released instance's scale-in protection cannot
/// make it the one removed.
pub async fn shrunk(ctx: &StepCtx<'_>, name: &str, desired: i32) -> Result<(), StepError> {
    let started = Instant::now();
    let wanted = usize::try_from(desired).unwrap_or_default();
    loop {
        let counted = read_group(ctx, name).await?.map_or(0, |g| g.counted());
        if counted <= wanted {
            return Ok(());
        }
        if started.elapsed() >= SHRINK_TIMEOUT {
            return Err(StepError::Failed(format!(
                "Auto Scaling group {name} still counts {counted} instances after {} s, not \
                 {desired}: {} keeps its scale-in protection so the group removes another; \
                 clear it when the group is back to {desired}",
                SHRINK_TIMEOUT.as_secs(),
                ctx.instance_id()
            )));
        }
        ctx.progress(format!(
            "Auto Scaling: {name} back to {desired} instances ({counted} now, {} s)",
            started.elapsed().as_secs()
        ));
        tokio::time::sleep(SHRINK_POLL).await;
    }
}
