//! The config file's parsing and validation, case by case.

use std::path::Path;

use super::*;

fn parse(text: &str) -> Result<Config, String> {
    Config::parse(text, Path::new("/etc/bg.toml")).map_err(|e| e.to_string())
}

#[test]
fn empty_file_gives_defaults() {
    let config = parse("").unwrap();
    assert_eq!(config, Config::default());
    assert_eq!(config.discovery.filters, vec![DEFAULT_FILTER.to_owned()]);
    assert_eq!(config.aws.max_attempts, 3);
}

#[test]
fn full_file_parses() {
    let config = parse(
        r#"
regions = ["eu-west-1", "eu-north-1"]
profile = "xroad-ir"
allowed_accounts = ["111122223333"]
audit_log = "/var/log/bg.jsonl"
[discovery]
filters = ["tag:Role=xroad-security-server", "tag:Env=prod,staging"]
[aws]
max_attempts = 1
connect_timeout_secs = 2
"#,
    )
    .unwrap();
    assert_eq!(config.regions, ["eu-west-1", "eu-north-1"]);
    assert_eq!(config.profile.as_deref(), Some("xroad-ir"));
    assert_eq!(config.discovery.filters.len(), 2);
    assert_eq!(config.aws.max_attempts, 1);
    assert_eq!(config.aws.attempt_timeout_secs, 30);
}

#[test]
fn tui_keys_name_commands_and_unknown_commands_are_errors() {
    let config = parse("[tui.keys]\n\"ctrl-r\" = \"refresh\"\nx = \"quit\"\n").unwrap();
    assert_eq!(config.tui.keys.get("x"), Some(&TuiCommand::Quit));
    let err = parse("[tui.keys]\nx = \"launch-missiles\"\n").unwrap_err();
    assert!(err.contains("launch-missiles"), "{err}");
}

#[test]
fn audit_sinks_parse_with_defaults_next_to_the_audit_log_key() {
    let config = parse(
        r#"
audit_log = "/var/log/bg.jsonl"
[audit.cloudwatch]
log_group = "/xroad/breakglass"
[audit.s3]
bucket = "ir-audit-111122223333"
region = "eu-north-1"
retention_days = 365
retention_mode = "COMPLIANCE"
"#,
    )
    .unwrap();
    assert_eq!(
        config.audit_log.as_deref(),
        Some(Path::new("/var/log/bg.jsonl"))
    );
    let cw = config.audit.cloudwatch.unwrap();
    assert_eq!(cw.log_group, "/xroad/breakglass");
    assert_eq!(cw.log_stream_prefix, "breakglass");
    assert_eq!(cw.region, None);
    let s3 = config.audit.s3.unwrap();
    assert_eq!(s3.prefix, "breakglass/");
    assert_eq!(s3.region.as_deref(), Some("eu-north-1"));
    assert_eq!(s3.retention_days, Some(365));
    assert_eq!(s3.retention_mode, Some(RetentionMode::Compliance));
    assert!(parse("").unwrap().audit.is_empty());
}

#[test]
fn rejects_bad_input_with_the_key_and_file() {
    let cases = [
        ("regionz = []", "unknown field `regionz`"),
        ("[aws]\nretries = 3", "unknown field `retries`"),
        ("regions = \"eu-west-1\"", "invalid type"),
        (
            "allowed_accounts = [\"12345\"]",
            "not a 12-digit AWS account id",
        ),
        ("regions = [\"Europe\"]", "not an AWS region name"),
        ("[discovery]\nfilters = [\"Role=x\"]", "tag:Key=Value"),
        ("[aws]\nmax_attempts = 0", "at least 1"),
        ("regions = [", "invalid config file"),
        (
            "[audit.cloudwatch]\nlog_group = \"a b\"",
            "audit.cloudwatch.log_group",
        ),
        (
            "[audit.cloudwatch]\nlog_stream_prefix = \"x\"",
            "missing field `log_group`",
        ),
        (
            "[audit.cloudwatch]\nlog_group = \"g\"\nstream = \"x\"",
            "unknown field `stream`",
        ),
        (
            "[audit.cloudwatch]\nlog_group = \"g\"\nregion = \"eu\"",
            "`audit.cloudwatch.region` `eu` is not an AWS region",
        ),
        (
            "[audit.s3]\nbucket = \"s3://ir/audit\"",
            "give the bucket name (`ir`)",
        ),
        (
            "[audit.s3]\nbucket = \"ir-audit\"\nprefix = \"/x\"",
            "no leading slash",
        ),
        (
            "[audit.s3]\nbucket = \"ir-audit\"\nretention_days = 0",
            "between 1 and 36500",
        ),
        (
            "[audit.s3]\nbucket = \"ir-audit\"\nretention_mode = \"compliance\"",
            "needs `audit.s3.retention_days`",
        ),
        (
            "[audit.s3]\nbucket = \"ir-audit\"\nretention_days = 1\nretention_mode = \"legal\"",
            "unknown variant `legal`",
        ),
        ("[audit.syslog]\nhost = \"x\"", "unknown field `syslog`"),
        (
            "[evidence]\nbucket = \"s3://ir/mem\"",
            "`evidence.bucket` is a URL",
        ),
        (
            "[evidence.memory_tool.x86]\ns3 = \"s3://t/avml\"\nsha256 = \"00\"",
            "`x86_64` or `arm64`",
        ),
        (
            "[evidence.memory_tool.x86_64]\ns3 = \"t/avml\"\nsha256 = \"00\"",
            "not `s3://bucket/key`",
        ),
        (
            "[evidence.memory_tool.x86_64]\ns3 = \"s3://t/avml\"\nsha256 = \"00\"",
            "not a SHA-256",
        ),
        (
            "[containment]\nssm_endpoint_groups = { \"vpc-1\" = \"sg-1\" }",
            "containment.ssm_endpoint_groups",
        ),
        ("[playbooks]\nconcurrency = 0", "between 1 and 100"),
        (
            "[evidence]\nprefix = \"ir/*/\"",
            "`evidence.prefix` `ir/*/` contains `*`",
        ),
        (
            "[evidence]\nkms_key_arn = \"arn:aws:kms:eu-west-1:111122223333:alias/ir\"",
            "`evidence.kms_key_arn` `arn:aws:kms:eu-west-1:111122223333:alias/ir` is an alias",
        ),
        (
            "[revoke]\nrole_path = \"/\"",
            "`revoke.role_path` `/` is not an IAM path",
        ),
        ("[revoke]\nrole_path = \"/x*/\"", "contains `*`"),
        ("[revoke]\nrole = \"/xroad/\"", "unknown field `role`"),
    ];
    for (text, expected) in cases {
        let err = parse(text).unwrap_err();
        assert!(err.contains(expected), "{text:?}: {err}");
        assert!(err.contains("/etc/bg.toml"), "{text:?}: {err}");
    }
}

#[test]
fn policy_scope_keys_are_optional_and_an_empty_evidence_table_changes_nothing() {
    let config = parse("").unwrap();
    assert_eq!(config.revoke.role_path, None);
    assert_eq!(config.evidence.kms_key_arn, None);
    // The prefix is the documented default whether or not `[evidence]` is written.
    assert_eq!(config.evidence.prefix, "breakglass/");
    assert_eq!(parse("[evidence]\n").unwrap().evidence, config.evidence);
    let key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let config = parse(&format!(
        "[evidence]\nbucket = \"ir-evidence\"\nprefix = \"ir/\"\nkms_key_arn = \"{key}\"\n\
         [revoke]\nrole_path = \"/xroad/\"\n"
    ))
    .unwrap();
    assert_eq!(config.evidence.kms_key_arn.as_deref(), Some(key));
    assert_eq!(config.evidence.prefix, "ir/");
    assert_eq!(config.revoke.role_path.as_deref(), Some("/xroad/"));
}
