//! Sign-in through IAM Identity Center against the game-day simulator's OIDC service and
//! portal, with the real binary: the device-code and authorization-code (PKCE, loopback
//! redirect) flows, denied / expired / slow-down answers, the token cache shared with the
//! AWS CLI (checked with a real botocore both ways), refresh, expiry, logout, concurrent
//! logins, and a tampered or symlinked cache.

use crate::support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::support::sso::{START_URL, SsoHome as Home};
use breakglass::sandbox::SignInKnobs;

fn python() -> PathBuf {
    breakglass::sandbox::venv_dir().unwrap().join("bin/python")
}

/// Runs Python (the emulator's venv, which has botocore) with the test HOME.
fn botocore(home: &Home, script: &str) -> String {
    let out = std::process::Command::new(python())
        .arg("-c")
        .arg(script)
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", home.path().join(".aws/config"))
        .env("AWS_ENDPOINT_URL", home.sim.endpoint())
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ACCESS_KEY_ID")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn device_code_sign_in_is_shared_with_the_aws_cli_cache_and_botocore() {
    let home = Home::new().await;
    home.sim.auto_approve_sign_in(true);
    let login = home.login("responder");
    login.assert_code(0);
    assert!(
        login.stderr.contains("/sim-sso/device?user_code=SBOX-"),
        "{}",
        login.stderr
    );
    assert!(
        login
            .stdout
            .contains("account 123456789012, role IncidentResponder")
    );

    // The AWS CLI's file: its name, mode, fields and time format.
    let file = home.token_file();
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(file.parent().unwrap())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(dir_mode & 0o777, 0o700);
    let token = home.token();
    for field in [
        "startUrl",
        "region",
        "accessToken",
        "expiresAt",
        "clientId",
        "clientSecret",
        "registrationExpiresAt",
        "refreshToken",
    ] {
        assert!(token[field].is_string(), "{field} missing in {token}");
    }
    assert_eq!(token["startUrl"], START_URL);
    let expires = token["expiresAt"].as_str().unwrap();
    assert!(
        chrono::NaiveDateTime::parse_from_str(expires, "%Y-%m-%dT%H:%M:%SZ").is_ok(),
        "{expires}"
    );
    // Nothing else, and no temporary file, is left next to it.
    let names: Vec<String> = std::fs::read_dir(file.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    assert!(names.iter().all(|n| n.ends_with(".json")), "{names:?}");

    // The client registration sits where botocore would look for it (its key document is
    // Python's json.dumps with sort_keys).
    let registration = botocore(
        &home,
        &format!(
            "import hashlib, json\n\
             key = json.dumps({{'region': 'eu-west-1', 'scopes': ['sso:account:access'], \
             'session_name': 'sandbox', 'startUrl': '{START_URL}', 'tool': 'botocore'}}, sort_keys=True)\n\
             print(hashlib.sha1(key.encode()).hexdigest())"
        ),
    );
    let registration = file.parent().unwrap().join(format!("{registration}.json"));
    let cached: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&registration).unwrap()).unwrap();
    assert_eq!(cached["clientId"], token["clientId"]);
    // A registration the service no longer knows (a restarted sandbox) is replaced.
    let mut stale = cached.clone();
    stale["clientId"] = "forgotten-client".into();
    std::fs::write(&registration, stale.to_string()).unwrap();
    home.login("responder").assert_code(0);
    let renewed: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&registration).unwrap()).unwrap();
    assert_ne!(renewed["clientId"], "forgotten-client");
    let token = home.token();

    // Every command now uses the role's credentials in-process.
    let who = home.bg().args(["whoami", "--profile", "responder"]).run();
    who.assert_code(0);
    assert!(
        who.stdout.contains("account      123456789012"),
        "{}",
        who.stdout
    );
    assert!(
        who.stdout.contains("assumed-role/IncidentResponder/"),
        "{}",
        who.stdout
    );
    assert!(
        who.stdout
            .contains("sign-in      https://sandbox.awsapps.com/start")
    );

    // botocore reads the token breakglass wrote, and gets role credentials with it.
    let seen = botocore(
        &home,
        "import botocore.session\n\
         s = botocore.session.Session(profile='responder')\n\
         from botocore.tokens import SSOTokenProvider\n\
         t = SSOTokenProvider(s).load_token().get_frozen_token().token\n\
         c = s.get_credentials().get_frozen_credentials()\n\
         print(t + ' ' + ('ok' if c.access_key else 'none'))",
    );
    assert_eq!(
        seen,
        format!("{} ok", token["accessToken"].as_str().unwrap())
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_written_by_botocore_works_in_breakglass() {
    let home = Home::new().await;
    home.sim.auto_approve_sign_in(true);
    // botocore signs in (device grant against the sandbox) and caches the token its way.
    botocore(
        &home,
        &format!(
            "import botocore.session, time, datetime\n\
             from botocore.utils import SSOTokenLoader, JSONFileCache\n\
             s = botocore.session.Session()\n\
             o = s.create_client('sso-oidc', region_name='eu-west-1')\n\
             c = o.register_client(clientName='botocore-test', clientType='public')\n\
             d = o.start_device_authorization(clientId=c['clientId'], clientSecret=c['clientSecret'], startUrl='{START_URL}')\n\
             time.sleep(1.1)\n\
             t = o.create_token(clientId=c['clientId'], clientSecret=c['clientSecret'], grantType='urn:ietf:params:oauth:grant-type:device_code', deviceCode=d['deviceCode'])\n\
             exp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=t['expiresIn'])).strftime('%Y-%m-%dT%H:%M:%SZ')\n\
             loader = SSOTokenLoader(JSONFileCache('{}'))\n\
             loader.save_token('{START_URL}', {{'startUrl': '{START_URL}', 'region': 'eu-west-1', 'accessToken': t['accessToken'], 'expiresAt': exp}}, session_name='sandbox')\n",
            home.path().join(".aws/sso/cache").display()
        ),
    );
    assert!(
        home.token_file().exists(),
        "botocore used the same file name"
    );
    let who = home.bg().args(["whoami", "--profile", "responder"]).run();
    who.assert_code(0);
    assert!(
        who.stdout.contains("assumed-role/IncidentResponder/"),
        "{}",
        who.stdout
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_authorization_code_flow_comes_back_through_the_loopback_redirect() {
    let home = Home::new().await;
    // A "browser" that records the address it was asked to open.
    let browser = home.path().join("browser.sh");
    let opened = home.path().join("opened-url");
    std::fs::write(
        &browser,
        format!("#!/bin/sh\necho \"$1\" > {}\n", opened.display()),
    )
    .unwrap();
    std::fs::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let child = home
        .bg()
        .env("BROWSER", &browser)
        .args(["login", "--profile", "responder"])
        .spawn();
    let url = wait_for_file(&opened);
    assert!(url.contains("/authorize?response_type=code"), "{url}");
    assert!(url.contains("code_challenge_method=S256"), "{url}");
    assert!(
        url.contains("redirect_uri=http%3A%2F%2F127%2E0%2E0%2E1%3A"),
        "{url}"
    );
    // The responder clicks Allow: the page redirects to breakglass's loopback listener.
    let query = url.split_once('?').unwrap().1;
    let client = reqwest_free::Client::new();
    let location = client.post_form(
        &format!("{}/authorize", home.sim.endpoint()),
        &format!("q={}", urlencode(query)),
    );
    assert!(location.starts_with("http://127.0.0.1:"), "{location}");
    let page = client.get(&location);
    assert!(page.contains("Signed in to breakglass"), "{page}");
    let run = support::wait(child);
    run.assert_code(0);
    assert!(home.token()["refreshToken"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn denied_expired_and_slow_down_answers_are_clear() {
    let home = Home::new().await;
    // Denied on the approval page.
    let child = home
        .bg()
        .args(["login", "--profile", "responder", "--use-device-code"])
        .spawn();
    let code = wait_for_user_code(&home).await;
    let client = reqwest_free::Client::new();
    client.post_form(
        &format!("{}/sim-sso/device", home.sim.endpoint()),
        &format!("user_code={code}&decision=deny"),
    );
    let run = support::wait(child);
    run.assert_code(4);
    assert!(
        run.stderr.contains("the sign-in was denied"),
        "{}",
        run.stderr
    );
    assert!(!home.token_file().exists());

    // The code expires before anyone approves it.
    home.sim.sign_in_knobs(SignInKnobs {
        device_code_seconds: Some(2),
        ..SignInKnobs::default()
    });
    let run = home.login("responder");
    run.assert_code(4);
    assert!(
        run.stderr.contains("expired before it was approved"),
        "{}",
        run.stderr
    );

    // Asked to slow down: the client backs off and still signs in.
    home.sim.sign_in_knobs(SignInKnobs {
        slow_down: 1,
        ..SignInKnobs::default()
    });
    home.sim.auto_approve_sign_in(true);
    let run = home.login("responder");
    run.assert_code(0);
    assert!(run.stderr.contains("poll more slowly"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_near_expiry_is_refreshed_and_an_expired_one_asks_to_sign_in_again() {
    let home = Home::new().await;
    home.sim.auto_approve_sign_in(true);
    // Tokens that live 2 minutes are inside the 15-minute refresh window at once.
    home.sim.sign_in_knobs(SignInKnobs {
        token_seconds: Some(120),
        ..SignInKnobs::default()
    });
    home.login("responder").assert_code(0);
    let before = home.token();
    home.bg()
        .args(["whoami", "--profile", "responder"])
        .run()
        .assert_code(0);
    let after = home.token();
    assert_ne!(before["accessToken"], after["accessToken"], "refreshed");
    assert_ne!(before["refreshToken"], after["refreshToken"]);
    assert_eq!(before["clientId"], after["clientId"], "the rest is kept");

    // Expired, and the refresh token revoked: exit 4 with the command to sign in again.
    home.sim.sign_in_knobs(SignInKnobs {
        refuse_refresh: true,
        ..SignInKnobs::default()
    });
    let mut token = home.token();
    token["expiresAt"] = "2020-01-01T00:00:00Z".into();
    home.replace_token(&token);
    let run = home.bg().args(["whoami", "--profile", "responder"]).run();
    run.assert_code(4);
    assert!(
        run.stderr
            .contains("sign in again with `breakglass login --profile responder`"),
        "{}",
        run.stderr
    );
    let list = home.bg().args(["list", "--profile", "responder"]).run();
    list.assert_code(4);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_profile_without_a_role_remembers_the_pick_and_logout_signs_out() {
    let home = Home::new().await;
    home.sim.auto_approve_sign_in(true);
    // Not interactive and two roles: the choice must be given.
    let run = home.login("picker");
    run.assert_code(2);
    assert!(
        run.stderr.contains("IncidentResponder, ReadOnly"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--role NAME"), "{}", run.stderr);
    home.bg()
        .args([
            "login",
            "--profile",
            "picker",
            "--use-device-code",
            "--role",
            "ReadOnly",
        ])
        .run()
        .assert_code(0);
    let who = home.bg().args(["whoami", "--profile", "picker"]).run();
    who.assert_code(0);
    assert!(
        who.stdout.contains("assumed-role/ReadOnly/"),
        "{}",
        who.stdout
    );

    let token = home.token()["accessToken"].as_str().unwrap().to_owned();
    let out = home.bg().args(["logout", "--profile", "picker"]).run();
    out.assert_code(0);
    assert!(out.stdout.contains("Signed out of"), "{}", out.stdout);
    assert!(!home.token_file().exists());
    // The portal no longer accepts the token.
    let status = reqwest_free::Client::new().status_with_bearer(
        &format!("{}/assignment/accounts", home.sim.endpoint()),
        &token,
    );
    assert_eq!(status, 401);
    home.bg()
        .args(["whoami", "--profile", "picker"])
        .run()
        .assert_code(4);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_logins_leave_one_valid_cache_and_tampering_is_refused() {
    let home = Home::new().await;
    home.sim.auto_approve_sign_in(true);
    let children: Vec<_> = (0..3)
        .map(|_| {
            home.bg()
                .args(["login", "--profile", "responder", "--use-device-code"])
                .spawn()
        })
        .collect();
    for child in children {
        support::wait(child).assert_code(0);
    }
    assert!(
        home.token()["accessToken"].is_string(),
        "valid JSON after racing writers"
    );
    home.bg()
        .args(["whoami", "--profile", "responder"])
        .run()
        .assert_code(0);

    std::fs::write(home.token_file(), "{not json").unwrap();
    let run = home.bg().args(["whoami", "--profile", "responder"]).run();
    run.assert_code(4);
    assert!(
        run.stderr.contains("is not a valid cache file"),
        "{}",
        run.stderr
    );

    std::fs::remove_file(home.token_file()).unwrap();
    std::os::unix::fs::symlink(home.path().join(".aws/config"), home.token_file()).unwrap();
    let run = home.login("responder");
    run.assert_code(4);
    assert!(run.stderr.contains("is a symbolic link"), "{}", run.stderr);
}

fn wait_for_file(path: &Path) -> String {
    for _ in 0..300 {
        if let Ok(text) = std::fs::read_to_string(path)
            && !text.trim().is_empty()
        {
            return text.trim().to_owned();
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{} was not written", path.display());
}

/// The user code of the device request the simulator has pending.
async fn wait_for_user_code(home: &Home) -> String {
    for _ in 0..300 {
        if let Some(code) = home.sim.pending_user_codes().into_iter().next() {
            return code;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no device authorization was started");
}

fn urlencode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A browser stand-in over plain HTTP/1.1 on loopback.
mod reqwest_free {
    use std::io::{Read, Write};
    use std::net::TcpStream;

    pub struct Client;

    impl Client {
        pub fn new() -> Client {
            Client
        }

        fn exchange(&self, url: &str, method: &str, headers: &str, body: &str) -> String {
            let rest = url.strip_prefix("http://").unwrap();
            let (host, path) = rest
                .split_once('/')
                .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
            let mut stream = TcpStream::connect(host).unwrap();
            write!(
                stream,
                "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n{headers}\
                 Content-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .unwrap();
            let mut answer = String::new();
            stream.read_to_string(&mut answer).unwrap();
            answer
        }

        /// POSTs a form; returns the redirect location, or the body.
        pub fn post_form(&self, url: &str, form: &str) -> String {
            let answer = self.exchange(
                url,
                "POST",
                "Content-Type: application/x-www-form-urlencoded\r\n",
                form,
            );
            answer
                .lines()
                .find_map(|l| {
                    l.strip_prefix("location: ")
                        .or_else(|| l.strip_prefix("Location: "))
                })
                .map(str::to_owned)
                .unwrap_or(answer)
        }

        pub fn get(&self, url: &str) -> String {
            self.exchange(url, "GET", "", "")
        }

        pub fn status_with_bearer(&self, url: &str, token: &str) -> u16 {
            let answer = self.exchange(
                url,
                "GET",
                &format!("x-amz-sso_bearer_token: {token}\r\n"),
                "",
            );
            answer.split(' ').nth(1).unwrap().parse().unwrap()
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_expiring_mid_run_stop_it_between_calls_and_resume_finishes_it() {
    use breakglass::sandbox::{Fault, FaultKind, Seeder};
    let home = Home::new().await;
    // The sandbox's sign-in hands out role credentials in the emulator's default account:
    // seed the estate there.
    let seed = breakglass::aws::AwsContext::load(&support::settings("testing", "testing")).await;
    let estate = Seeder::new(&seed, support::REGION)
        .xroad_estate()
        .await
        .unwrap();
    let targets: Vec<String> = estate
        .servers
        .iter()
        .take(3)
        .map(|(_, id)| id.clone())
        .collect();

    home.sim.auto_approve_sign_in(true);
    // Role credentials that are stale at once: every call asks for fresh ones with the token.
    home.sim.sign_in_knobs(SignInKnobs {
        credentials_seconds: Some(1),
        ..SignInKnobs::default()
    });
    home.login("responder").assert_code(0);
    // Slow tagging, one target at a time, gives a window to let the sign-in expire mid-run.
    home.sim.inject([Fault::on(
        "ec2:CreateTags",
        FaultKind::Latency { millis: 1500 },
    )]);
    let audit = home.path().join("audit.jsonl");
    let mut args = vec![
        "run",
        "tag-incident",
        "--profile",
        "responder",
        "--incident",
        "IR-EXP",
        "--yes",
        "--concurrency",
        "1",
        "--audit-log",
        audit.to_str().unwrap(),
    ];
    for t in &targets {
        args.extend(["--target", t.as_str()]);
    }
    let child = home.bg().args(&args).spawn();
    // After the first target's CreateTags is on its way, the sign-in expires and cannot be
    // refreshed (as when an administrator ends the session).
    home.sim
        .wait_for_request(Duration::from_secs(30), |e| e.operation == "ec2:CreateTags")
        .await
        .expect("the first CreateTags reaches the simulator");
    home.sim.sign_in_knobs(SignInKnobs {
        credentials_seconds: Some(1),
        refuse_refresh: true,
        ..SignInKnobs::default()
    });
    let mut token = home.token();
    token["expiresAt"] = "2020-01-01T00:00:00Z".into();
    home.replace_token(&token);
    let run = support::wait(child);
    run.assert_code(4);
    assert!(
        run.stderr.contains(
            "the IAM Identity Center sign-in has expired: sign in again with `breakglass login \
             --profile responder`"
        ),
        "{}",
        run.stderr
    );
    assert!(
        !run.stderr.contains("credential provider"),
        "no raw SDK error: {}",
        run.stderr
    );
    let run_id = run
        .stderr
        .split("breakglass resume ")
        .nth(1)
        .and_then(|s| s.split('`').next())
        .unwrap_or_else(|| panic!("no resume hint in {}", run.stderr))
        .to_owned();
    // The log verifies; the stop is recorded.
    let verify = home
        .bg()
        .args(["audit", "verify", "--audit-log", audit.to_str().unwrap()])
        .run();
    verify.assert_code(0);
    let log = std::fs::read_to_string(&audit).unwrap();
    assert!(log.contains("sign_in_needed"), "{log}");

    // Signed in again, resume finishes the remaining targets without repeating the first.
    home.sim.sign_in_knobs(SignInKnobs::default());
    home.sim.clear_faults();
    home.login("responder").assert_code(0);
    let resumed = home
        .bg()
        .args([
            "resume",
            &run_id,
            "--profile",
            "responder",
            "--yes",
            "--audit-log",
            audit.to_str().unwrap(),
        ])
        .run();
    resumed.assert_code(0);
    let ec2 = seed.ec2(support::REGION);
    use breakglass::aws::Ec2Api;
    let all = ec2.describe_instances(&[]).await.unwrap();
    for id in &targets {
        let server = all.iter().find(|i| &i.id == id).unwrap();
        assert_eq!(
            server.tags.get("breakglass:incident").map(String::as_str),
            Some("IR-EXP"),
            "{id}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn plain_profiles_keep_using_the_sdk_chain() {
    let home = Home::new().await;
    std::fs::write(
        home.path().join(".aws/credentials"),
        "[static]\naws_access_key_id = testing\naws_secret_access_key = testing\n",
    )
    .unwrap();
    let config = home.path().join(".aws/config");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str("\n[profile static]\nregion = eu-west-1\n");
    std::fs::write(&config, text).unwrap();
    let who = home.bg().args(["whoami", "--profile", "static"]).run();
    who.assert_code(0);
    assert!(
        who.stdout.contains("account      123456789012"),
        "{}",
        who.stdout
    );
    assert!(
        !who.stdout.contains("sign-in"),
        "no SSO involved: {}",
        who.stdout
    );
    assert!(!home.token_file().exists());
    // Without any sign-in, an SSO profile says how to sign in (exit 4).
    let run = home.bg().args(["whoami", "--profile", "responder"]).run();
    run.assert_code(4);
    assert!(
        run.stderr.contains("not signed in to IAM Identity Center"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("breakglass login --profile responder"),
        "{}",
        run.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_cancels_a_waiting_sign_in_and_a_terminal_picks_the_role() {
    let home = Home::new().await;
    let child = home
        .bg()
        .args(["login", "--profile", "responder", "--use-device-code"])
        .spawn();
    wait_for_user_code(&home).await;
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let run = support::wait(child);
    run.assert_code(4);
    assert!(run.stderr.contains("sign-in cancelled"), "{}", run.stderr);
    assert!(!home.token_file().exists());

    // In a terminal, several roles are offered as a choice.
    home.sim.auto_approve_sign_in(true);
    let cmd = home
        .bg()
        .args(["login", "--profile", "picker", "--use-device-code"])
        .cmd;
    let tmux = support::tmux::Tmux::start(&cmd);
    tmux.wait_for("Choose the role:", Duration::from_secs(30));
    let screen = tmux.wait_for("2) ReadOnly", Duration::from_secs(5));
    assert!(screen.contains("1) IncidentResponder"), "{screen}");
    tmux.send_line("2");
    tmux.wait_for("role ReadOnly", Duration::from_secs(30));
}
