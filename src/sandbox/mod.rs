//! The local game-day sandbox: the AWS emulator (moto) and the seeded X-Road estate.
//! Used by `breakglass demo` and by the integration tests.

mod moto;
mod seed;
mod sim;

pub use moto::{MOTO_PACKAGES, MotoError, MotoServer, ensure_installed, http_request, venv_dir};
pub use seed::{Estate, InstanceSpec, Network, Seeder};
pub use sim::{Fault, FaultKind, ManagedInstance, Session, Simulator};
