//! The end-to-end tests' harness: one moto server shared by the tests (installed on first
//! use), a fresh emulated AWS account per test, and a builder that runs the real `breakglass`
//! binary in an isolated HOME against it.

pub mod estate;
pub mod iam;
pub mod lab;
pub mod ledger;
pub mod matrix;
pub mod procs;
pub mod runs;
pub mod sso;
pub mod stub;
pub mod tmux;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};

use breakglass::aws::{AwsContext, AwsSettings, SandboxEndpoint};
use breakglass::config::AwsClientConfig;
use breakglass::sandbox::MotoServer;

pub const REGION: &str = "eu-west-1";

/// The moto server shared by the tests; it exits with the process.
pub fn moto() -> &'static MotoServer {
    static MOTO: OnceLock<MotoServer> = OnceLock::new();
    MOTO.get_or_init(own_moto)
}

/// A moto server of the test's own, for a test that needs the emulator's default account to
/// itself (the sandbox's sign-in hands out roles there, and `xroad_estate` names its servers
/// the same in every run) or changes the emulator for everyone (IAM enforcement). It exits
/// when dropped.
pub fn own_moto() -> MotoServer {
    MotoServer::start(&|msg| eprintln!("{msg}")).expect("start the moto emulator")
}

/// An emulated AWS account of its own, so tests can run in parallel: moto keys its state
/// by the account of the (assumed-role) credentials used.
pub struct Account {
    pub id: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    pub home: tempfile::TempDir,
}

impl Account {
    /// The account's key, for `Simulator::trust_keys` (the sandbox then verifies the
    /// data-channel upgrades signed with it).
    pub fn key(&self) -> (String, String) {
        (self.access_key_id.clone(), self.secret_access_key.clone())
    }

    /// How a data channel opened by this account signs its upgrade.
    pub fn signing(&self) -> breakglass::datachannel::connect::Signing {
        let credentials = aws_credential_types::Credentials::new(
            &self.access_key_id,
            &self.secret_access_key,
            Some(self.session_token.clone()),
            None,
            "test",
        );
        breakglass::datachannel::connect::Signing {
            credentials: aws_credential_types::provider::SharedCredentialsProvider::new(
                credentials,
            ),
            region: REGION.into(),
        }
    }

    pub async fn new() -> Account {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let id = format!("{:06}{:06}", std::process::id() % 1_000_000, n);
        let ctx = AwsContext::load(&settings("testing", "testing")).await;
        let sts = aws_sdk_sts::Client::new(ctx.sdk_config());
        let creds = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{id}:role/responder"))
            .role_session_name("breakglass-test")
            .send()
            .await
            .expect("assume a role in a fresh emulated account")
            .credentials
            .expect("credentials");
        Account {
            id,
            access_key_id: creds.access_key_id,
            secret_access_key: creds.secret_access_key,
            session_token: creds.session_token,
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// An AWS context in this account whose calls go to `endpoint` (e.g. the simulator).
    pub async fn context_at(&self, endpoint: &str) -> AwsContext {
        let mut settings = settings(&self.access_key_id, &self.secret_access_key);
        if let Some(sandbox) = settings.sandbox.as_mut() {
            sandbox.endpoint_url = endpoint.to_owned();
        }
        AwsContext::load(&settings).await
    }

    /// An AWS context in this account, for seeding and checking state.
    pub async fn context(&self) -> AwsContext {
        AwsContext::load(&settings(&self.access_key_id, &self.secret_access_key)).await
    }

    /// The `breakglass` binary with HOME, config and AWS environment set for this account.
    pub fn bg(&self) -> Bg {
        let home = self.home.path();
        let config = home.join(".config/breakglass/config.toml");
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        if !config.exists() {
            // Fail fast on APIs the emulator lacks instead of retrying them.
            std::fs::write(&config, "[aws]\nmax_attempts = 1\n").unwrap();
        }
        let mut bg = Bg::in_home(home);
        bg.cmd
            .env("AWS_ENDPOINT_URL", moto().endpoint())
            .env("AWS_REGION", REGION)
            .env("AWS_ACCESS_KEY_ID", &self.access_key_id)
            .env("AWS_SECRET_ACCESS_KEY", &self.secret_access_key)
            .env("AWS_SESSION_TOKEN", &self.session_token);
        bg
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn write_config(&self, text: &str) -> PathBuf {
        let path = self.home().join(".config/breakglass/config.toml");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// Polls `check` until it gives `Some`, and returns that; fails the test, saying `what` was
/// awaited, after `timeout`. For conditions that come true a while later (a command seen
/// running, a session gone, simulated time passed), in place of a fixed sleep.
pub async fn eventually<T, F>(
    timeout: std::time::Duration,
    what: &str,
    mut check: impl FnMut() -> F,
) -> T
where
    F: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if let Some(found) = check().await {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what}: not within {timeout:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// `run PLAYBOOK -t TARGET --incident INCIDENT --yes`: a live, confirmed run.
pub fn live<'a>(playbook: &'a str, target: &'a str, incident: &'a str) -> [&'a str; 7] {
    [
        "run",
        playbook,
        "-t",
        target,
        "--incident",
        incident,
        "--yes",
    ]
}

/// Settings for the shared emulator with these keys.
pub fn settings(key: &str, secret: &str) -> AwsSettings {
    settings_at(&moto().endpoint(), key, secret)
}

/// Settings for the emulator at `endpoint` with these keys.
pub fn settings_at(endpoint: &str, key: &str, secret: &str) -> AwsSettings {
    AwsSettings {
        profile: None,
        client: AwsClientConfig {
            max_attempts: 1,
            ..AwsClientConfig::default()
        },
        sandbox: Some(SandboxEndpoint {
            endpoint_url: endpoint.to_owned(),
            region: REGION.into(),
            access_key_id: key.into(),
            secret_access_key: secret.into(),
        }),
    }
}

/// A `breakglass` invocation being built.
pub struct Bg {
    pub cmd: Command,
}

impl Bg {
    /// The binary with nothing inherited but PATH, and every file it reads or writes in
    /// `home` (AWS config and credentials, XDG config, state and cache).
    pub fn in_home(home: &Path) -> Bg {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_breakglass"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_STATE_HOME", home.join(".local/state"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("AWS_CONFIG_FILE", home.join(".aws/config"))
            .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
            .env("AWS_EC2_METADATA_DISABLED", "true");
        Bg { cmd }
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        self.cmd.args(args);
        self
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }

    pub fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }

    /// Starts it without waiting (stdout and stderr piped); finish with [`wait`].
    pub fn spawn(mut self) -> std::process::Child {
        self.cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start breakglass")
    }

    /// `resume RUN_ID --yes --output json`, which must succeed; its JSON document.
    pub fn resume(self, run_id: &str) -> serde_json::Value {
        let resumed = self
            .args(["resume", run_id, "--yes", "--output", "json"])
            .run();
        resumed.assert_code(0);
        resumed.json()
    }

    pub fn run(mut self) -> Run {
        Run::from(self.cmd.output().expect("run breakglass"))
    }
}

/// Waits for a spawned invocation.
pub fn wait(child: std::process::Child) -> Run {
    Run::from(child.wait_with_output().expect("wait for breakglass"))
}

/// What one invocation did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<Output> for Run {
    fn from(output: Output) -> Run {
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }
}

impl Run {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code, code,
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout, self.stderr
        );
        self
    }
}
