//! The application layer: the use cases both front ends call — settings from plain
//! overrides, one `prepare` for new, resumed and TUI runs, the guard rails, running a plan
//! with its audit trail, Session Manager sessions, the sign-in choice, the playbook catalog,
//! and the user-facing error with its exit codes and hints.

mod catalog;
pub mod error;
pub mod forward;
mod guard;
mod perform;
mod prepare;
pub mod session;
mod settings;
mod signin;

pub use catalog::load as load_playbook;
pub use error::{Error, ExitCode, Result};
pub use guard::{check_account, check_incident, guard_rails};
pub use perform::{Performed, perform};
pub use prepare::{Prepared, RunRequest, caller, prepare, resolve};
pub use settings::{Overrides, Settings};
pub use signin::sign_in_method;
