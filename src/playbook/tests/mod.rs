//! Unit tests of the playbook engine's pure parts: loading, parameters, planning, policy,
//! step-order rules and reading runs back for resume.

mod load;
mod plan;

pub(crate) use crate::inventory::fixtures::server;
