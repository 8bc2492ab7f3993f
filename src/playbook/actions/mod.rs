//! The actions a playbook step can name: one module each (two small ones share
//! `escalate.rs`, the subnet deny and its lifting `subnet_acl.rs`), each implementing `Action`, and one line each in `registry.rs`.

mod action;
mod api;
pub(crate) mod collect;
pub mod contain;
pub(crate) mod escalate;
mod registry;
pub(crate) mod revoke;
pub(crate) mod scale_in;
pub(crate) mod snapshot;
pub(crate) mod subnet_acl;
pub(crate) mod tag;

pub(crate) use action::{Action, NoArgsAction, PlanCtx, Planned};
pub use api::{Access, ActionInfo, ApiCall, Capability, Resource, Service};
pub use registry::{ACTIONS, ActionSpec, ResolvedAction, find};
pub(crate) use registry::{StepDoc, check, execute, plan};
