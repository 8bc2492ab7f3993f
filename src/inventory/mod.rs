//! Security Server discovery: EC2 + SSM + Auto Scaling + ELB joined into `Server`s.

pub mod cache;
mod discover;
mod filter;
#[cfg(test)]
pub(crate) mod fixtures;
mod join;
mod server;
mod targets;

pub use discover::{Inventory, Selection, discover, discover_as, discover_region};
pub use filter::TagFilter;
pub use join::{RegionData, join};
pub use server::{AsgInfo, INCIDENT_TAG, Isolation, RUN_TAG, STATE_TAG, Server, SsmStatus};
pub use targets::{Resolution, TargetError, resolve_targets};
