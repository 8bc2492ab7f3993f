//! The game-day simulator against the real Rust SDK: forwarding to moto (seeding a whole
//! estate through it), managed-instance inventory, Run Command with real states, output and
//! exit codes, timeouts and cancellation, the sessions list, fault injection per operation,
//! and the request counts drills read.

use crate::support;

use std::time::Duration;

use crate::support::{Account, REGION};
use breakglass::aws::{AwsErrorKind, Ec2Api, Invocation, RunCommandApi, SsmApi};
use breakglass::sandbox::{Fault, FaultKind, ManagedInstance, Seeder, Simulator};

async fn follow(ssm: &breakglass::aws::Ssm, command: &str, instance: &str) -> Invocation {
    for _ in 0..200 {
        if let Some(i) = ssm.get_invocation(command, instance).await.unwrap().value
            && i.is_finished()
        {
            return i;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("command {command} did not finish");
}

fn managed(id: &str, ping: &str) -> ManagedInstance {
    ManagedInstance {
        ping_status: ping.into(),
        ..ManagedInstance::new(id)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn forwards_to_moto_and_plays_the_ssm_agents() {
    let account = Account::new().await;
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    let ctx = account.context_at(&sim.endpoint()).await;
    // A whole estate seeded through the simulator: EC2, Auto Scaling, ELB all forwarded.
    let estate = Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
    let listed = ctx.ec2(REGION).describe_instances(&[]).await.unwrap();
    assert!(listed.len() >= estate.servers.len());
    let (online, lost) = (&estate.servers[0].1, &estate.servers[1].1);
    sim.manage([managed(online, "Online"), managed(lost, "ConnectionLost")]);

    let ssm = ctx.ssm(REGION);
    let agents = ssm
        .describe_instance_information(&[online.clone(), lost.clone()])
        .await
        .unwrap();
    let status = |id: &str| {
        agents
            .iter()
            .find(|a| a.instance_id == id)
            .unwrap()
            .ping_status
            .clone()
    };
    assert_eq!(
        (status(online), status(lost)),
        ("Online".into(), "ConnectionLost".into())
    );

    // Run Command: the script really runs, with its output and exit code.
    let sent = ssm
        .send_shell_script(
            online,
            "echo hello; echo oops >&2; exit 3",
            Duration::from_secs(30),
            "t",
        )
        .await
        .unwrap();
    let command = sent.id.unwrap();
    let first = ssm
        .get_invocation(&command, online)
        .await
        .unwrap()
        .value
        .unwrap();
    assert!(
        matches!(first.status.as_str(), "Pending" | "InProgress"),
        "{first:?}"
    );
    let done = follow(&ssm, &command, online).await;
    assert_eq!((done.status.as_str(), done.exit_code), ("Failed", Some(3)));
    assert_eq!(done.stdout, "hello\n");
    assert_eq!(done.stderr, "oops\n");
    let ok = ssm
        .send_shell_script(online, "pwd; cat README", Duration::from_secs(30), "t")
        .await
        .unwrap();
    let done = follow(&ssm, &ok.id.unwrap(), online).await;
    assert_eq!(done.status, "Success");
    assert!(
        done.stdout.contains("GAME DAY / SANDBOX"),
        "runs in the sandbox: {}",
        done.stdout
    );

    // A timeout, a cancellation, an agent that is not online.
    let slow = ssm
        .send_shell_script(online, "sleep 20", Duration::from_secs(1), "t")
        .await
        .unwrap();
    assert_eq!(
        follow(&ssm, &slow.id.unwrap(), online).await.status,
        "TimedOut"
    );
    let long = ssm
        .send_shell_script(online, "sleep 20", Duration::from_secs(60), "t")
        .await
        .unwrap();
    let long = long.id.unwrap();
    support::eventually(
        Duration::from_secs(10),
        "the long command running",
        || async {
            let running = ssm.list_running_commands(online).await.unwrap().value;
            (running == vec![long.clone()]).then_some(())
        },
    )
    .await;
    ssm.cancel_command(&long, online).await.unwrap();
    assert_eq!(follow(&ssm, &long, online).await.status, "Cancelled");
    let unreachable = ssm
        .send_shell_script(lost, "true", Duration::from_secs(5), "t")
        .await
        .unwrap();
    assert_eq!(
        follow(&ssm, &unreachable.id.unwrap(), lost).await.status,
        "Undeliverable"
    );

    // Everything else about SSM is moto's.
    ssm.put_parameter("/sandbox/p", "v", "d").await.unwrap();
    assert_eq!(
        ssm.get_parameter("/sandbox/p")
            .await
            .unwrap()
            .value
            .as_deref(),
        Some("v")
    );
    let counts = sim.counts();
    assert!(counts["ssm:SendCommand"] >= 5, "{counts:?}");
    assert!(counts.contains_key("ec2:RunInstances"), "{counts:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn injects_throttling_outages_and_latency_per_operation() {
    let account = Account::new().await;
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    let ctx = account.context_at(&sim.endpoint()).await;
    let ec2 = ctx.ec2(REGION);
    sim.inject([
        Fault::on("ec2:DescribeInstances", FaultKind::Throttle).times(1),
        Fault::on("ssm:GetParameter", FaultKind::Unavailable).times(1),
        Fault::on("*", FaultKind::Latency { millis: 20 }).times(3),
    ]);
    let throttled = ec2.describe_instances(&[]).await.unwrap_err();
    assert_eq!(throttled.kind, AwsErrorKind::Throttled, "{throttled}");
    assert_eq!(throttled.code.as_deref(), Some("RequestLimitExceeded"));
    ec2.describe_instances(&[]).await.expect("only once");
    let ssm = ctx.ssm(REGION);
    let down = ssm.get_parameter("/x").await.unwrap_err();
    assert_eq!(down.http_status, Some(503), "{down}");
    assert!(ssm.get_parameter("/x").await.unwrap().value.is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn snapshots_take_time_and_deregistered_targets_drain() {
    use breakglass::aws::{Ec2EvidenceApi, Ec2Filter, Elbv2Api};
    let account = Account::new().await;
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    let ctx = account.context_at(&sim.endpoint()).await;
    let estate = Seeder::new(&ctx, REGION).xroad_estate().await.unwrap();
    sim.set_timing(Duration::from_secs(2), Duration::from_secs(2));
    let (_, instance) = estate
        .servers
        .iter()
        .find(|(n, _)| n == "ss-prod-1")
        .unwrap();
    let ec2 = ctx.ec2(REGION);
    let created = ec2
        .create_snapshots(instance, "t", &Default::default(), false)
        .await
        .unwrap();
    let ids: Vec<String> = created.snapshots.iter().map(|s| s.id.clone()).collect();
    let filter = [Ec2Filter {
        name: "snapshot-id".into(),
        values: ids.clone(),
    }];
    let now = ec2.describe_snapshots(&filter).await.unwrap().value;
    assert!(now.iter().all(|s| s.state == "pending"), "{now:?}");
    assert!(
        now.iter().all(|s| s.progress.as_deref() != Some("100%")),
        "{now:?}"
    );

    let elb = ctx.elbv2(REGION);
    elb.deregister_target(&estate.target_group_arn, instance, Some(5500))
        .await
        .unwrap();
    let health = elb
        .describe_instance_health(&estate.target_group_arn, instance)
        .await
        .unwrap()
        .value;
    assert_eq!(health.len(), 1, "{health:?}");
    assert_eq!(health[0].state, "draining");

    // Once their time has passed: the snapshots complete, the target is gone.
    support::eventually(
        Duration::from_secs(30),
        "the snapshots completed",
        || async {
            let later = ec2.describe_snapshots(&filter).await.unwrap().value;
            later.iter().all(|s| s.state == "completed").then_some(())
        },
    )
    .await;
    support::eventually(Duration::from_secs(30), "the target drained", || async {
        let health = elb
            .describe_instance_health(&estate.target_group_arn, instance)
            .await
            .unwrap()
            .value;
        health.is_empty().then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn signs_in_through_simulated_identity_center_and_hands_out_working_credentials() {
    use breakglass::sandbox::{SANDBOX_ACCOUNT, SANDBOX_ROLES};
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    // The OIDC and portal APIs are unsigned: clients need no credentials.
    let conf = aws_types::SdkConfig::builder()
        .endpoint_url(sim.endpoint())
        .region(aws_types::region::Region::new(REGION))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let oidc = aws_sdk_ssooidc::Client::new(&conf);
    let client = oidc
        .register_client()
        .client_name("breakglass-test")
        .client_type("public")
        .send()
        .await
        .unwrap();
    let (id, secret) = (client.client_id().unwrap(), client.client_secret().unwrap());
    let device = oidc
        .start_device_authorization()
        .client_id(id)
        .client_secret(secret)
        .start_url("https://sandbox.awsapps.com/start")
        .send()
        .await
        .unwrap();
    let poll = || {
        oidc.create_token()
            .client_id(id)
            .client_secret(secret)
            .grant_type("urn:ietf:params:oauth:grant-type:device_code")
            .device_code(device.device_code().unwrap())
            .send()
    };
    let pending = poll().await.unwrap_err();
    assert!(
        pending
            .as_service_error()
            .unwrap()
            .is_authorization_pending_exception(),
        "{pending:?}"
    );
    // The responder approves on the page the verification URL opens.
    let page = device.verification_uri_complete().unwrap();
    assert!(page.starts_with(&sim.endpoint()), "{page}");
    let approved = post_form(
        sim.port(),
        "/sim-sso/device",
        &format!("user_code={}&decision=approve", device.user_code().unwrap()),
    );
    assert!(approved.contains("Allowed"), "{approved}");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let token = poll().await.unwrap();
    let access = token.access_token().unwrap();

    let portal = aws_sdk_sso::Client::new(&conf);
    let accounts = portal
        .list_accounts()
        .access_token(access)
        .send()
        .await
        .unwrap();
    assert_eq!(
        accounts.account_list()[0].account_id(),
        Some(SANDBOX_ACCOUNT)
    );
    let roles = portal
        .list_account_roles()
        .access_token(access)
        .account_id(SANDBOX_ACCOUNT)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = roles
        .role_list()
        .iter()
        .filter_map(|r| r.role_name())
        .collect();
    assert_eq!(names, SANDBOX_ROLES);
    let credentials = portal
        .get_role_credentials()
        .access_token(access)
        .account_id(SANDBOX_ACCOUNT)
        .role_name("IncidentResponder")
        .send()
        .await
        .unwrap();
    let c = credentials.role_credentials().unwrap();
    // They work: STS (moto, through the simulator) says who we are.
    let creds = aws_credential_types::Credentials::new(
        c.access_key_id().unwrap(),
        c.secret_access_key().unwrap(),
        c.session_token().map(str::to_owned),
        None,
        "sandbox-sso",
    );
    let signed = aws_types::SdkConfig::builder()
        .endpoint_url(sim.endpoint())
        .region(aws_types::region::Region::new(REGION))
        .credentials_provider(aws_credential_types::provider::SharedCredentialsProvider::new(creds))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let who = aws_sdk_sts::Client::new(&signed)
        .get_caller_identity()
        .send()
        .await
        .unwrap();
    assert!(
        who.arn()
            .unwrap()
            .contains("assumed-role/IncidentResponder"),
        "{who:?}"
    );
    // Signed out, the token no longer works.
    portal.logout().access_token(access).send().await.unwrap();
    let refused = portal
        .list_accounts()
        .access_token(access)
        .send()
        .await
        .unwrap_err();
    assert!(
        refused
            .as_service_error()
            .unwrap()
            .is_unauthorized_exception(),
        "{refused:?}"
    );
}

/// A browser's form submission to the simulator; the response as text.
fn post_form(port: u16, path: &str, form: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{form}",
        form.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[tokio::test(flavor = "multi_thread")]
async fn the_authorization_code_flow_checks_pkce() {
    let sim = Simulator::start(&support::moto().endpoint()).await.unwrap();
    let conf = aws_types::SdkConfig::builder()
        .endpoint_url(sim.endpoint())
        .region(aws_types::region::Region::new(REGION))
        .behavior_version(aws_config::BehaviorVersion::latest())
        .build();
    let oidc = aws_sdk_ssooidc::Client::new(&conf);
    let client = oidc
        .register_client()
        .client_name("breakglass-test")
        .client_type("public")
        .grant_types("authorization_code")
        .redirect_uris("http://127.0.0.1:9999/oauth/callback")
        .send()
        .await
        .unwrap();
    let (id, secret) = (client.client_id().unwrap(), client.client_secret().unwrap());
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let redirect = "http://127.0.0.1:9999/oauth/callback";
    let query = format!(
        "response_type=code&client_id={id}&redirect_uri={}&state=xyz&code_challenge={challenge}\
         &code_challenge_method=S256&scopes=sso%3Aaccount%3Aaccess",
        percent_encoding::utf8_percent_encode(redirect, percent_encoding::NON_ALPHANUMERIC)
    );
    let form = format!(
        "q={}",
        percent_encoding::utf8_percent_encode(&query, percent_encoding::NON_ALPHANUMERIC)
    );
    let answer = post_form(sim.port(), "/sim-sso/authorize", &form);
    let location = answer
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .unwrap_or_else(|| panic!("a redirect: {answer}"))
        .trim()
        .to_owned();
    assert!(
        location.starts_with(redirect) && location.ends_with("&state=xyz"),
        "{location}"
    );
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let exchange = |verifier: &str, code: &str| {
        oidc.create_token()
            .client_id(id)
            .client_secret(secret)
            .grant_type("authorization_code")
            .code(code)
            .code_verifier(verifier)
            .redirect_uri(redirect)
            .send()
    };
    let wrong = exchange("not-the-verifier", &code).await.unwrap_err();
    assert!(
        wrong
            .as_service_error()
            .unwrap()
            .is_invalid_grant_exception(),
        "{wrong:?}"
    );
    // A code is used once: the failed attempt spent it, so a new one is needed.
    let answer = post_form(sim.port(), "/sim-sso/authorize", &form);
    let location = answer
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or_else(|| l.strip_prefix("Location: "))
        })
        .unwrap()
        .trim()
        .to_owned();
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_owned();
    let token = exchange(verifier, &code).await.unwrap();
    assert!(token.access_token().is_some() && token.refresh_token().is_some());
    let refreshed = oidc
        .create_token()
        .client_id(id)
        .client_secret(secret)
        .grant_type("refresh_token")
        .refresh_token(token.refresh_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_ne!(refreshed.access_token(), token.access_token());
}
