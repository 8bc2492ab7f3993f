//! The terminal UI, the responder's cockpit (`breakglass` with no arguments in a terminal):
//! The Elm Architecture on tokio — terminal events, effect results and a 250 ms tick become
//! [`action::Action`]s; a synchronous [`app::App::update`] changes the model and asks for
//! [`app::Effect`]s, which run as tasks ([`effects`]) over the application layer; the view
//! is drawn once per batch, when the model changed ([`cockpit`]), on any [`Console`].
//! See docs/tui.md.

pub mod action;
pub mod app;
pub mod cockpit;
mod commands;
pub mod console;
mod effects;
pub mod flow;
pub mod keymap;
mod palette;
mod servers;
pub mod signin;
pub mod theme;
mod update;
pub mod view;

#[cfg(test)]
pub(crate) mod tests;

pub use cockpit::Cockpit;
pub use console::{Console, TerminalConsole, TestConsole};

use crate::app::{ExitCode, Result, Settings};

/// Runs the cockpit on this process's terminal until the responder quits.
pub async fn run(settings: &Settings) -> Result<ExitCode> {
    let mut cockpit = Cockpit::start(settings, theme::Theme::from_env()).await?;
    let mut console = TerminalConsole::enter();
    let result = cockpit.drive(&mut console, settings).await;
    console.restore();
    result
}
