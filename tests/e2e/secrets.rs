//! No secret leaks: a full drill signed in through the game-day simulator's IAM Identity
//! Center (login, whoami, list, the TUI, isolate, snapshot, capture-memory, revoke-sessions,
//! a recorded shell, an error, release, audit verify and show), every command with
//! `BREAKGLASS_LOG=trace`; then every artifact — files under HOME but the token cache
//! itself, the sandbox directory where host scripts ran, stdout and stderr of every command,
//! the terminal screens, and every S3 object and CloudWatch event the audit sinks and evidence
//! uploads wrote — is scanned for every secret the simulator handed out (OIDC client
//! secrets, codes, access and refresh tokens, role credentials' secret keys and session
//! tokens, session stream tokens).

use crate::support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::sso::SsoHome;
use crate::support::tmux::Tmux;
use crate::support::{REGION, Run};
use breakglass::aws::AwsContext;
use breakglass::sandbox::{EVIDENCE_BUCKET, Seeder, seed_evidence, seed_instance_role};

const WAIT: Duration = Duration::from_secs(60);
const LOG_GROUP: &str = "/breakglass/drill";

/// Every file under `dir`, skipping `skip`.
fn files(dir: &Path, skip: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.map(Result::unwrap) {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if path.starts_with(skip) {
            continue;
        } else if kind.is_dir() {
            out.extend(files(&path, skip));
        } else if kind.is_file() {
            out.push(path);
        }
    }
    out
}

/// The objects in every bucket, and the events of the audit log group, as (name, bytes).
async fn aws_artifacts(ctx: &AwsContext) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let s3 = aws_sdk_s3::Client::new(ctx.sdk_config());
    let buckets = s3.list_buckets().send().await.unwrap();
    for bucket in buckets.buckets() {
        let name = bucket.name().unwrap();
        let listed = s3.list_objects_v2().bucket(name).send().await.unwrap();
        for object in listed.contents() {
            let key = object.key().unwrap();
            let body = s3.get_object().bucket(name).key(key).send().await.unwrap();
            let bytes = body.body.collect().await.unwrap().into_bytes().to_vec();
            out.push((format!("s3://{name}/{key}"), bytes));
        }
    }
    let logs = aws_sdk_cloudwatchlogs::Client::new(ctx.sdk_config());
    let events = logs
        .filter_log_events()
        .log_group_name(LOG_GROUP)
        .send()
        .await
        .unwrap();
    for event in events.events() {
        out.push((
            format!("cloudwatch:{LOG_GROUP}"),
            event.message().unwrap_or_default().as_bytes().to_vec(),
        ));
    }
    out
}

/// Each place in `artifacts` where one of `secrets` is: the artifact's name and the text
/// around it, the secret itself masked.
fn leaks(artifacts: &[(String, Vec<u8>)], secrets: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for (name, bytes) in artifacts {
        for secret in secrets {
            let Some(at) = bytes
                .windows(secret.len())
                .position(|w| w == secret.as_bytes())
            else {
                continue;
            };
            let end = (at + secret.len() + 80).min(bytes.len());
            let around = String::from_utf8_lossy(&bytes[at.saturating_sub(160)..end]);
            found.push(format!(
                "{name}: …{}…",
                around.replace(secret.as_str(), "<SECRET>")
            ));
        }
    }
    found
}

fn output(name: &str, run: &Run) -> [(String, Vec<u8>); 2] {
    [
        (format!("{name} stdout"), run.stdout.clone().into_bytes()),
        (format!("{name} stderr"), run.stderr.clone().into_bytes()),
    ]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_full_drill_leaves_no_secret_in_any_artifact() {
    // The sandbox's sign-in hands out role credentials in the emulator's default account:
    // the estate, evidence buckets and instance role are seeded there, as `demo` does, in an
    // emulator of this test's own.
    let moto = support::own_moto();
    let home = SsoHome::at(&moto.endpoint()).await;
    let seed = AwsContext::load(&support::settings_at(
        &moto.endpoint(),
        "testing",
        "testing",
    ))
    .await;
    let estate = Seeder::new(&seed, REGION).xroad_estate().await.unwrap();
    let id = |name: &str| support::estate::id(&estate, name);
    let (prod, other) = (id("ss-prod-1"), id("ss-prod-2"));
    seed_instance_role(&seed, REGION, std::slice::from_ref(&prod))
        .await
        .unwrap();
    let evidence_config = seed_evidence(&seed, REGION).await.unwrap();
    aws_sdk_cloudwatchlogs::Client::new(seed.sdk_config())
        .create_log_group()
        .log_group_name(LOG_GROUP)
        .send()
        .await
        .unwrap();
    let config = home.path().join(".config/breakglass/config.toml");
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(
        &config,
        format!(
            "profile = \"responder\"\n{evidence_config}\n[audit.s3]\nbucket = \"{EVIDENCE_BUCKET}\"\n\
             prefix = \"audit\"\n[audit.cloudwatch]\nlog_group = \"{LOG_GROUP}\"\n"
        ),
    )
    .unwrap();
    home.sim.manage(estate.agents());
    home.sim
        .set_timing(Duration::from_secs(1), Duration::from_secs(1));
    home.sim.auto_approve_sign_in(true);

    let bg = || home.bg().env("BREAKGLASS_LOG", "trace");
    let mut artifacts: Vec<(String, Vec<u8>)> = Vec::new();
    let mut screens: Vec<(String, Vec<u8>)> = Vec::new();
    let mut step = |name: &str, args: &[&str], code: i32| {
        let run = bg().args(args).run();
        run.assert_code(code);
        artifacts.extend(output(name, &run));
        run
    };
    step("login", &["login", "--use-device-code"], 0);
    step("whoami", &["whoami"], 0);
    step("list", &["list"], 0);
    let incident = ["--incident", "IR-SECRETS", "--yes"];
    for playbook in ["isolate", "snapshot", "capture-memory", "revoke-sessions"] {
        let args = [&["run", playbook, "-t", prod.as_str()][..], &incident].concat();
        step(playbook, &args, 0);
    }
    // An error: a server whose agent is offline.
    let offline = step("session offline", &["session", "ss-test-3"], 1);
    assert!(
        offline.stderr.contains("TargetNotConnected"),
        "{}",
        offline.stderr
    );

    // A recorded shell in a real terminal, its log on a file.
    let session_log = home.path().join("session-stderr.log");
    let mut shell = std::process::Command::new("sh");
    shell
        .env_clear()
        .envs(bg().cmd.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .args(["-c", "exec \"$0\" \"$@\" 2>\"$LOG\""])
        .arg(env!("CARGO_BIN_EXE_breakglass"))
        .args(["session", &other, "--incident", "IR-SECRETS"])
        .env("LOG", &session_log);
    let tmux = Tmux::start_sized(&shell, 100, 30);
    tmux.wait_for("sandbox$ ", WAIT);
    tmux.type_text("echo drill-$((6*7)); exit");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("[exit 0]", WAIT);
    assert!(screen.contains("drill-42"), "{screen}");
    screens.push(("session screen".into(), screen.into_bytes()));

    // The TUI lists the servers (and caches the list), then quits.
    let tui = Tmux::start_sized(&home.bg().cmd, 100, 30);
    let screen = tui.wait_visible("ss-test-3", WAIT);
    tui.keys(&["q"]);
    tui.wait_for("[exit 0]", WAIT);
    screens.push(("tui screen".into(), screen.into_bytes()));

    let release = [&["run", "release", "-t", prod.as_str()][..], &incident].concat();
    step("release", &release, 0);
    step("audit verify", &["audit", "verify"], 0);
    step("audit show", &["audit", "show", "--output", "json"], 0);

    artifacts.extend(screens);
    // Every file the drill wrote, but the token cache (which holds the tokens by design).
    let cache = home.path().join(".aws/sso/cache");
    let written = files(home.path(), &cache);
    let expect = |what: &str| {
        assert!(
            written.iter().any(|p| p.to_string_lossy().contains(what)),
            "no {what} among {written:?}"
        );
    };
    for what in ["audit.jsonl", ".cast", "inventory-", "session-stderr.log"] {
        expect(what);
    }
    for path in written.iter().chain(&files(home.sim.sandbox_dir(), &cache)) {
        artifacts.push((path.display().to_string(), std::fs::read(path).unwrap()));
    }
    let in_aws = aws_artifacts(&seed).await;
    assert!(
        in_aws.iter().any(|(n, _)| n.contains("/audit/"))
            && in_aws.iter().any(|(n, _)| n.starts_with("cloudwatch:"))
            && in_aws.iter().any(|(n, _)| n.contains("memory")),
        "the sinks and the evidence upload wrote: {:?}",
        in_aws.iter().map(|(n, _)| n).collect::<Vec<_>>()
    );
    artifacts.extend(in_aws);

    // The secrets: at least one of each kind was handed out and used.
    let secrets = home.sim.issued_secrets();
    let token = home.token();
    for field in ["accessToken", "refreshToken", "clientSecret"] {
        let value = token[field].as_str().unwrap().to_owned();
        assert!(secrets.contains(&value), "{field} is among the secrets");
    }
    assert!(
        secrets.len() >= 6,
        "OIDC secrets, role keys and tokens, stream tokens: {}",
        secrets.len()
    );
    // The scan finds a secret where there is one: the token cache.
    let cache_files: Vec<(String, Vec<u8>)> = files(&cache, Path::new("/nonexistent"))
        .iter()
        .map(|p| (p.display().to_string(), std::fs::read(p).unwrap()))
        .collect();
    assert!(!leaks(&cache_files, &secrets).is_empty());

    let found = leaks(&artifacts, &secrets);
    assert!(
        found.is_empty(),
        "{} artifacts scanned; leaks:\n{}",
        artifacts.len(),
        found.join("\n")
    );
}
