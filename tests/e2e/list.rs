//! `breakglass list` end to end: the real binary against the moto emulator.

use crate::support::{Account, REGION, moto, stub};
use breakglass::sandbox::{InstanceSpec, Seeder};
use serde_json::Value;

fn names(json: &Value) -> Vec<String> {
    let mut names: Vec<String> = json["servers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap_or("-").to_owned())
        .collect();
    names.sort();
    names
}

fn server<'a>(json: &'a Value, name: &str) -> &'a Value {
    json["servers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no server {name} in {json:#}"))
}

/// A VPC with one Security Server in it.
async fn one_server(seeder: &Seeder, name: &str) {
    let net = seeder.network("10.50.0.0/16", &["a"]).await.unwrap();
    seeder
        .launch(&InstanceSpec {
            name,
            subnet_id: &net.subnets[0].1,
            security_group_id: &net.security_group_id,
            tags: &[("Role", "xroad-security-server")],
            interfaces: 1,
        })
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_the_estate_as_json_with_asg_target_groups_and_enis() {
    let account = Account::new().await;
    let estate = Seeder::new(&account.context().await, REGION)
        .xroad_estate()
        .await
        .unwrap();

    let run = account.bg().args(["list", "--output", "json"]).run();
    run.assert_code(0);
    let json = run.json();
    assert_eq!(json["version"], 1);
    assert_eq!(json["account"], account.id.as_str());
    assert_eq!(json["selection"], "tag:Role=xroad-security-server");
    assert_eq!(
        names(&json),
        [
            "ss-prod-1",
            "ss-prod-2",
            "ss-prod-3",
            "ss-test-1",
            "ss-test-2",
            "ss-test-3"
        ],
        "the build runner is not a Security Server"
    );
    let prod3 = server(&json, "ss-prod-3");
    assert_eq!(prod3["auto_scaling_group"]["name"], "xroad-ss-prod");
    assert_eq!(prod3["auto_scaling_group"]["lifecycle_state"], "InService");
    assert_eq!(
        prod3["target_groups"],
        serde_json::json!(["xroad-ss-prod-5500"])
    );
    assert_eq!(prod3["network_interfaces"].as_array().unwrap().len(), 2);
    assert_eq!(
        prod3["security_groups"][0]["id"],
        estate.network.security_group_id.as_str()
    );
    assert_eq!(prod3["availability_zone"], "eu-west-1a");
    assert_eq!(prod3["isolation"], "none");
    let test1 = server(&json, "ss-test-1");
    assert!(test1["auto_scaling_group"].is_null());
    assert_eq!(test1["target_groups"], serde_json::json!([]));
    // moto lacks DescribeInstanceInformation: the status is unknown, with a warning.
    assert_eq!(prod3["ssm"]["ping_status"], "unknown");
    assert!(
        run.stderr.contains("warning: SSM agent status is unknown"),
        "{}",
        run.stderr
    );
    let warnings = json["warnings"].as_array().unwrap();
    assert!(
        warnings[0]
            .as_str()
            .unwrap()
            .contains("DescribeInstanceInformation")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn table_fits_80_columns_and_widens_with_the_terminal() {
    let account = Account::new().await;
    let ctx = account.context().await;
    let seeder = Seeder::new(&ctx, REGION);
    let net = seeder.network("10.30.0.0/16", &["a"]).await.unwrap();
    let long_name = "ss-with-a-really-long-name-that-cannot-fit-in-eighty-columns";
    for (name, tags) in [
        (long_name, vec![("Role", "xroad-security-server")]),
        (
            "ss-isolated",
            vec![
                ("Role", "xroad-security-server"),
                ("breakglass:state", "isolated"),
                ("breakglass:incident", "IR-42"),
            ],
        ),
    ] {
        seeder
            .launch(&InstanceSpec {
                name,
                subnet_id: &net.subnets[0].1,
                security_group_id: &net.security_group_id,
                tags: &tags,
                interfaces: 1,
            })
            .await
            .unwrap();
    }

    let narrow = account.bg().env("COLUMNS", "80").args(["list"]).run();
    narrow.assert_code(0);
    let lines: Vec<&str> = narrow.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", narrow.stdout);
    for line in &lines {
        assert!(line.chars().count() <= 80, "too wide: {line:?}");
    }
    assert!(lines[0].starts_with("INSTANCE"));
    assert!(narrow.stdout.contains("ss-with-a-"), "{}", narrow.stdout);
    assert!(
        narrow.stdout.contains('…'),
        "long names are cut with an ellipsis"
    );
    assert!(narrow.stdout.contains("isolated"));
    assert!(
        narrow.stderr.contains("2 server(s) in eu-west-1"),
        "{}",
        narrow.stderr
    );

    let wide = account.bg().env("COLUMNS", "250").args(["list"]).run();
    wide.assert_code(0);
    for column in [
        "AZ",
        "INCIDENT",
        "ASG",
        "TARGET GROUPS",
        "SECURITY GROUPS",
        "PLATFORM",
    ] {
        assert!(
            wide.stdout.lines().next().unwrap().contains(column),
            "{}",
            wide.stdout
        );
    }
    assert!(wide.stdout.contains(long_name));
    assert!(wide.stdout.contains("IR-42"));
}

#[tokio::test(flavor = "multi_thread")]
async fn follows_every_page_over_300_instances() {
    let account = Account::new().await;
    let ctx = account.context().await;
    let seeder = Seeder::new(&ctx, REGION);
    let net = seeder.network("10.40.0.0/16", &["a"]).await.unwrap();
    // One reservation per instance: the emulator pages by reservation (100 per page).
    let total = 320;
    let names: Vec<String> = (0..total).map(|n| format!("ss-{n:03}")).collect();
    // One at a time: moto's RunInstances is not safe to run concurrently in one subnet (its
    // address generator fails with "generator already executing", an HTTP 500).
    let (subnet, sg) = (&net.subnets[0].1, &net.security_group_id);
    for name in &names {
        let launched = seeder
            .launch(&InstanceSpec {
                name,
                subnet_id: subnet,
                security_group_id: sg,
                tags: &[("Role", "xroad-security-server")],
                interfaces: 1,
            })
            .await;
        assert!(launched.is_ok(), "{launched:?}");
    }

    let run = account.bg().args(["list", "--output", "json"]).run();
    run.assert_code(0);
    let json = run.json();
    let mut found = self::names(&json);
    found.dedup();
    assert_eq!(found.len(), total, "every page was followed, no duplicates");
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_override_the_default_and_all_lists_everything() {
    let account = Account::new().await;
    Seeder::new(&account.context().await, REGION)
        .xroad_estate()
        .await
        .unwrap();
    let count = |args: &[&str]| {
        let run = account
            .bg()
            .args(["list", "--output", "json"])
            .args(args)
            .run();
        run.assert_code(0);
        names(&run.json())
    };
    assert_eq!(
        count(&["--filter", "tag:Environment=test"]),
        ["ss-test-1", "ss-test-2", "ss-test-3"]
    );
    assert_eq!(count(&["--filter", "tag:Environment=prod,test"]).len(), 6);
    assert_eq!(
        count(&[
            "--filter",
            "tag:Environment=prod",
            "--filter",
            "tag:Name=ss-prod-2"
        ]),
        ["ss-prod-2"]
    );
    assert_eq!(count(&["--filter", "tag:Role=ci"]), ["build-runner"]);
    assert_eq!(count(&["--all"]).len(), 7);

    // The configured filter replaces the default.
    account.write_config(
        "[aws]\nmax_attempts = 1\n[discovery]\nfilters = [\"tag:Environment=prod\"]\n",
    );
    assert_eq!(count(&[]), ["ss-prod-1", "ss-prod-2", "ss-prod-3"]);

    let empty = account
        .bg()
        .args(["list", "--filter", "tag:Role=nothing"])
        .run();
    empty.assert_code(0);
    assert!(empty.stdout.is_empty());
    assert!(
        empty.stderr.contains("No Security Servers found"),
        "{}",
        empty.stderr
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_several_regions_concurrently() {
    let account = Account::new().await;
    let ctx = account.context().await;
    for (region, name) in [("eu-west-1", "ss-dublin"), ("eu-north-1", "ss-stockholm")] {
        one_server(&Seeder::new(&ctx, region), name).await;
    }
    let run = account
        .bg()
        .args([
            "list",
            "--output",
            "json",
            "--region",
            "eu-west-1",
            "--region",
            "eu-north-1",
        ])
        .run();
    run.assert_code(0);
    let json = run.json();
    assert_eq!(names(&json), ["ss-dublin", "ss-stockholm"]);
    assert_eq!(server(&json, "ss-stockholm")["region"], "eu-north-1");
    assert_eq!(
        json["regions"],
        serde_json::json!(["eu-west-1", "eu-north-1"])
    );

    // Regions from the config file when no flag is given.
    account.write_config("regions = [\"eu-north-1\"]\n[aws]\nmax_attempts = 1\n");
    let run = account.bg().args(["list", "--output", "json"]).run();
    run.assert_code(0);
    assert_eq!(names(&run.json()), ["ss-stockholm"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn honours_profiles_from_the_shared_aws_files() {
    let account = Account::new().await;
    let aws_dir = account.home().join(".aws");
    std::fs::create_dir_all(&aws_dir).unwrap();
    std::fs::write(
        aws_dir.join("credentials"),
        format!(
            "[responder]\naws_access_key_id = {}\naws_secret_access_key = {}\naws_session_token = {}\n",
            account.access_key_id, account.secret_access_key, account.session_token
        ),
    )
    .unwrap();
    std::fs::write(
        aws_dir.join("config"),
        "[profile responder]\nregion = eu-west-1\n",
    )
    .unwrap();
    let run = account
        .bg()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_REGION")
        .args(["list", "--profile", "responder", "--output", "json"])
        .run();
    run.assert_code(0);
    assert_eq!(run.json()["account"], account.id.as_str());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_with_exit_code_2_and_a_hint() {
    let account = Account::new().await;
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["list", "--filter", "Role=x"], "is not a tag selector"),
        (vec!["list", "--filter", "tag:Role"], "has no `=`"),
        (vec!["list", "--region", "Europe"], "not an AWS region name"),
        (
            vec!["list", "--all", "--filter", "tag:A=b"],
            "cannot be used with",
        ),
        (vec!["list", "--output", "yaml"], "invalid value 'yaml'"),
        (
            vec!["list", "--config", "/nonexistent/bg.toml"],
            "failed to read config file",
        ),
        (vec!["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, expected) in cases {
        let run = account.bg().args(&args).run();
        run.assert_code(2);
        assert!(run.stderr.contains(expected), "{args:?}: {}", run.stderr);
        assert!(run.stdout.is_empty(), "{args:?}");
    }

    let path = account.write_config("regions = [\"eu-west-1\"]\nretries = 3\n");
    let run = account.bg().args(["list"]).run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("unknown field `retries`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(path.to_str().unwrap()),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: "), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_region_and_credentials_are_explained() {
    let account = Account::new().await;
    let run = account.bg().env_remove("AWS_REGION").args(["list"]).run();
    run.assert_code(2);
    assert!(
        run.stderr.contains("no AWS region is configured"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--region"), "{}", run.stderr);

    let run = account
        .bg()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .args(["list"])
        .run();
    run.assert_code(4);
    assert!(run.stderr.contains("error: "), "{}", run.stderr);
    assert!(run.stderr.contains("hint: sign in"), "{}", run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_endpoint_fails_with_exit_code_1() {
    let account = Account::new().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let run = account
        .bg()
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .args(["list"])
        .run();
    run.assert_code(1);
    assert!(run.stderr.contains("failed"), "{}", run.stderr);
    assert!(
        run.stderr.contains("hint: check the network"),
        "{}",
        run.stderr
    );
}

/// moto checks no signature, so it never answers `AuthFailure` or `RequestExpired`, and its
/// IAM enforcement is process-wide (the denial itself, from a real policy, is
/// `least_privilege.rs`'s): a loopback stub plays EC2 here, reached through the per-service
/// `AWS_ENDPOINT_URL_EC2`, to check each error keeps its code, request id and hint; STS stays
/// on moto.
#[tokio::test(flavor = "multi_thread")]
async fn expired_and_denied_credentials_keep_code_and_request_id() {
    let account = Account::new().await;
    let _ = moto();
    let cases = [
        ("RequestExpired", "Request has expired.", 4, "sign in again"),
        (
            "AuthFailure",
            "AWS was not able to validate the provided access credentials",
            4,
            "rejected",
        ),
        (
            "UnauthorizedOperation",
            "You are not authorized to perform this operation.",
            1,
            "docs/iam.md",
        ),
    ];
    for (code, message, exit, hint) in cases {
        let ec2 = stub::serve(403, stub::ec2_error(code, message));
        let run = account
            .bg()
            .env("AWS_ENDPOINT_URL_EC2", &ec2)
            .args(["list"])
            .run();
        run.assert_code(exit);
        assert!(
            run.stderr.contains(&format!(
                "ec2:DescribeInstances failed in eu-west-1: {code}: {message}"
            )),
            "{}",
            run.stderr
        );
        assert!(
            run.stderr.contains("request id stub-request-1"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(hint), "{}", run.stderr);
        assert!(!run.stderr.contains(&account.secret_access_key));
    }
}

/// moto does not implement DescribeInstanceInformation at all, so a denial is played by a
/// loopback stub for SSM only (`AWS_ENDPOINT_URL_SSM`); everything else stays on moto.
#[tokio::test(flavor = "multi_thread")]
async fn denied_ssm_inventory_shows_unknown_and_says_why() {
    let account = Account::new().await;
    one_server(&Seeder::new(&account.context().await, REGION), "ss-1").await;
    let ssm = stub::serve(
        400,
        r#"{"__type":"AccessDeniedException","message":"User is not authorized to perform: ssm:DescribeInstanceInformation"}"#
            .to_owned(),
    );
    let run = account
        .bg()
        .env("AWS_ENDPOINT_URL_SSM", &ssm)
        .args(["list", "--output", "json"])
        .run();
    run.assert_code(0);
    let json = run.json();
    assert_eq!(server(&json, "ss-1")["ssm"]["ping_status"], "unknown");
    let warning = json["warnings"][0].as_str().unwrap();
    assert!(warning.contains("AccessDeniedException"), "{warning}");
    assert!(warning.contains("request id stub-request-1"), "{warning}");
}
