//! Unit tests of the TUI: `update` per screen (pure: actions in, model and effects out) and
//! insta snapshots of every screen drawn on ratatui's `TestBackend` at 80×24 without colour.

mod fixtures;
mod screens;
mod update;

pub use crate::inventory::fixtures::estate as inventory;
pub use fixtures::{RUN_ID, app, aws_failure, fixture_plan};
