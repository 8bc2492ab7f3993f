//! breakglass: incident-response break-glass toolkit for X-Road Security Servers on AWS.
//!
//! The library holds every capability in five layers that only import downward
//! (docs/development.md, checked by `.ci/layers.py`): base (`paths`, `files`, `ids`,
//! `text`, `config`), adapters (`aws`, `signin`, `datachannel`, `shell`), domain
//! (`inventory`, `audit`, `playbook`), application ([`app`], `sandbox`) and the front ends
//! (`cli`, `tui`). `main.rs` is thin.

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
