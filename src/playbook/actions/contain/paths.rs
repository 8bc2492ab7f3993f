//! Paths isolation cannot cut: flows through a NAT gateway, Transit Gateway, egress-only
//! internet gateway or VPC endpoint are always connection-tracked, so established ones
//! survive the security group change until they end. Found from the subnet's routes and
//! recorded as warnings.

use serde_json::json;

use super::calls::DESCRIBE_ROUTE_TABLES;
use super::facts::Facts;
use crate::aws::Ec2ContainApi;
use crate::playbook::exec::{StepCtx, StepError};

/// What a route target is, when flows through it are always tracked.
pub fn always_tracked(target: &str) -> Option<&'static str> {
    match target.split('-').next() {
        Some("nat") => Some("NAT gateway"),
        Some("tgw") => Some("Transit Gateway"),
        Some("eigw") => Some("egress-only internet gateway"),
        Some("vpce") => Some("VPC endpoint (Gateway Load Balancer or firewall)"),
        _ => None,
    }
}

/// Reads the routes of the instance's subnet (its own route table, else the VPC's main
/// one) and records a warning for each always-tracked path.
pub async fn warn(ctx: &StepCtx<'_>, facts: &Facts) -> Result<(), StepError> {
    let (Some(subnet), Some(vpc)) = (&facts.instance.subnet_id, &facts.instance.vpc_id) else {
        return Ok(());
    };
    let routes = ctx
        .read(
            &DESCRIBE_ROUTE_TABLES,
            json!({ "filters": { "vpc-id": [vpc] }, "subnet_id": subnet }),
            ctx.ec2().subnet_routes(vpc, subnet),
        )
        .await?;
    for (destination, target) in routes {
        if let Some(kind) = always_tracked(&target) {
            ctx.note(
                "warning",
                format!(
                    "the subnet routes {destination} through a {kind} ({target}): flows through \
                     it are always connection-tracked and survive the quarantine until they \
                     end; escalate (stop-instance) if they must end now"
                ),
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn always_tracked_route_targets() {
        assert_eq!(always_tracked("nat-0abc"), Some("NAT gateway"));
        assert_eq!(always_tracked("tgw-0abc"), Some("Transit Gateway"));
        assert!(always_tracked("eigw-1").is_some());
        assert!(always_tracked("vpce-1").is_some());
        assert_eq!(always_tracked("igw-0abc"), None);
        assert_eq!(always_tracked("local"), None);
        assert_eq!(always_tracked("pcx-1"), None);
    }
}
