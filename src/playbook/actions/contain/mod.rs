//! Containment: the `isolate` and `release` actions and the pieces they share (the facts
//! read first, the isolation record, evidence protection, Auto Scaling, target groups,
//! the quarantine network, state tags, verification).

mod asg;
mod calls;
mod capacity;
mod evidence;
mod facts;
pub(crate) mod isolate;
mod network;
mod outcome;
mod paths;
pub(crate) mod record;
pub(crate) mod release;
mod state;
mod targets;
mod verify;

pub use asg::AsgMode;
pub use capacity::AtMaxSize;
pub use isolate::IsolateArgs;
pub use network::{ROLE_TAG, Role};
pub use record::{IsolationRecord, PARAMETER_PREFIX, parameter_name};
pub use release::ReleaseArgs;
