//! Drawing: a pure function of the model. The status bar (account, role, region, credential
//! time, incident, GAME DAY / DRY RUN banners) on top, the screen, the key hints or the input
//! line at the bottom, and overlays (help, confirmation, toasts).

mod audit;
mod detail;
mod flow;
mod frame;
mod help;
mod servers;
mod signin;

pub use frame::{centered, draw, duration};
