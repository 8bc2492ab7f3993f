//! Collecting evidence from inside the instance through SSM Run Command (no SSH):
//! `capture-memory` and `collect-volatile`, the arguments they share, and the Run Command
//! script, upload and check they share.

mod args;
pub(crate) mod memory;
mod run_command;
pub(crate) mod volatile;

pub(crate) use run_command::LIST_COMMANDS;
