//! The end-to-end tests, one binary: each module is an area, run against the real local AWS
//! emulator (moto, started once for the binary by `support`), the game-day simulator in front
//! of it where AWS behaviour moto lacks is needed, the real `breakglass` binary, and a real
//! terminal (tmux). One binary links the AWS SDK once, instead of once per area.
//!
//! Tests run in parallel in one process and share the emulator: each uses an emulated account
//! of its own (`support::Account`); the few that need the emulator's default account or change
//! it globally (IAM enforcement) start one of their own (`support::own_moto`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod asg_lifecycle;
mod asg_release;
mod audit;
mod classic_elb;
mod cockpit;
mod collect;
mod containment;
mod containment_edges;
mod datachannel;
mod demo;
mod evidence;
mod fault_matrix;
mod fault_matrix_steps;
mod forwarding;
mod fuzz_corpus;
mod hostile_input;
mod interop;
mod isolation_fail_safe;
mod least_privilege;
mod list;
mod playbook;
mod playbook_guards;
mod reliability;
mod revoke;
mod revoke_clock;
mod scale_in;
mod secrets;
mod session_cli;
mod sessions;
mod signin;
mod simulator;
mod sinks;
mod subnet_deny;
mod tui;
mod tui_runs;
