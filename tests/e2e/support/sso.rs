//! A HOME whose AWS config signs in through the game-day simulator's IAM Identity Center,
//! with no static credentials: every AWS call the binary makes uses the sign-in.

use std::path::{Path, PathBuf};

use breakglass::sandbox::{SANDBOX_ACCOUNT, Simulator};
use sha1::{Digest, Sha1};

use super::{Bg, Run};

pub const START_URL: &str = "https://sandbox.awsapps.com/start";

/// The HOME, and the simulator it signs in to.
pub struct SsoHome {
    dir: tempfile::TempDir,
    pub sim: Simulator,
}

impl SsoHome {
    /// Profiles: `responder` (account and role named), `picker` (neither); signing in to a
    /// simulator in front of the shared emulator.
    pub async fn new() -> SsoHome {
        SsoHome::at(&super::moto().endpoint()).await
    }

    /// The same, with the simulator in front of the emulator at `moto`.
    pub async fn at(moto: &str) -> SsoHome {
        let sim = Simulator::start(moto).await.unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(".aws")).unwrap();
        std::fs::write(
            dir.path().join(".aws/config"),
            format!(
                "[sso-session sandbox]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n\
                 sso_registration_scopes = sso:account:access\n\n\
                 [profile responder]\nsso_session = sandbox\nsso_account_id = {SANDBOX_ACCOUNT}\n\
                 sso_role_name = IncidentResponder\nregion = eu-west-1\n\n\
                 [profile picker]\nsso_session = sandbox\nregion = eu-west-1\n"
            ),
        )
        .unwrap();
        SsoHome { dir, sim }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The binary in this HOME, its AWS calls going to the simulator.
    pub fn bg(&self) -> Bg {
        Bg::in_home(self.path()).env("AWS_ENDPOINT_URL", self.sim.endpoint())
    }

    /// The AWS CLI's token cache file for the `sandbox` sso-session.
    pub fn token_file(&self) -> PathBuf {
        let name = hex::encode(Sha1::digest(b"sandbox"));
        self.path().join(format!(".aws/sso/cache/{name}.json"))
    }

    pub fn token(&self) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(self.token_file()).unwrap()).unwrap()
    }

    /// Replaces the cached token the way the cache is written: whole, by a rename.
    pub fn replace_token(&self, token: &serde_json::Value) {
        let temp = self.token_file().with_extension("tmp-test");
        std::fs::write(&temp, token.to_string()).unwrap();
        std::fs::rename(&temp, self.token_file()).unwrap();
    }

    /// `login --profile PROFILE --use-device-code`.
    pub fn login(&self, profile: &str) -> Run {
        self.bg()
            .args(["login", "--profile", profile, "--use-device-code"])
            .run()
    }
}
