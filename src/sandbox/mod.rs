//! The local game-day sandbox: the AWS emulator (moto) and the seeded X-Road estate.
//! Used by `breakglass demo` and by the integration tests.

mod admin_ui;
mod moto;
mod seed;
mod seed_evidence;
mod sim;

pub use admin_ui::{ADMIN_UI_PORT, AdminUi};
pub use moto::{MOTO_PACKAGES, MotoError, MotoServer, ensure_installed, http_request, venv_dir};
pub use seed::{Estate, InstanceSpec, Network, Seeder};
pub use seed_evidence::{
    EVIDENCE_BUCKET, INSTANCE_ROLE, TOOLS_BUCKET, seed_evidence, seed_instance_role,
};
pub use sim::{
    Fault, FaultKind, LedgerEntry, Lie, ManagedInstance, Progress, SANDBOX_ACCOUNT, SANDBOX_ROLES,
    Session, SignInKnobs, Simulator,
};
