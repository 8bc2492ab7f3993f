//! breakglass: incident-response break-glass toolkit for X-Road Security Servers on AWS.
//!
//! The library holds every capability; `main.rs` and the CLI front end are thin. AWS is
//! reached only through the service traits in [`aws`], discovery lives in [`inventory`],
//! and user-facing errors with their exit codes in [`error`].

#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

pub mod app;
pub mod audit;
pub mod aws;
pub mod cli;
pub mod config;
pub mod datachannel;
pub mod files;
pub mod ids;
pub mod inventory;
pub mod paths;
pub mod playbook;
pub mod sandbox;
pub mod shell;
pub mod signin;
pub mod text;
pub mod tui;

pub use app::{Error, ExitCode};
