//! Audit sinks end to end against the moto emulator: records appended to a real local log
//! are shipped to CloudWatch Logs and to an Object Lock bucket, read back byte for byte and
//! verified; missing destinations are reported while the local log stays complete.

use std::path::Path;

use crate::support::{Account, REGION, stub};
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, DefaultRetention, ObjectLockConfiguration,
    ObjectLockEnabled, ObjectLockRetentionMode, ObjectLockRule,
};
use breakglass::audit::sink::{FindingLevel, SinkReport, Sinks};
use breakglass::audit::{AuditLog, Entry, RecordKind, verify, verify_segment};
use breakglass::aws::{AwsContext, AwsSettings, RetentionMode, SandboxEndpoint, sha256_base64};
use breakglass::config::{AuditSinkConfig, AwsClientConfig, CloudWatchSinkConfig, S3SinkConfig};

/// Appends a run of `n` records (run_started … run_finished) to the log, handing each to
/// `send` right after its local append, as the playbook executor does.
fn write_run(
    log: &mut AuditLog,
    run_id: &str,
    n: usize,
    send: &dyn Fn(&breakglass::audit::AuditRecord),
) {
    for i in 0..n {
        let kind = match i {
            0 => RecordKind::RunStarted,
            i if i + 1 == n => RecordKind::RunFinished,
            i if i % 2 == 1 => RecordKind::Intent,
            _ => RecordKind::Outcome,
        };
        let record = log
            .append(Entry {
                run_id: run_id.into(),
                incident: Some("IR-2026-7".into()),
                actor: Some("arn:aws:sts::111122223333:assumed-role/IR/alice".into()),
                dry_run: false,
                kind,
                // Non-ASCII and escapes: the copy must keep the exact bytes.
                body: serde_json::json!({"i": i, "operation": "ModifyNetworkInterfaceAttribute",
                    "note": "Tallinn → Helsinki \u{1} \"quoted\""}),
            })
            .unwrap();
        send(&record);
    }
}

fn cloudwatch_config(group: &str) -> AuditSinkConfig {
    AuditSinkConfig {
        cloudwatch: Some(CloudWatchSinkConfig {
            log_group: group.into(),
            log_stream_prefix: "breakglass".into(),
            region: None,
        }),
        s3: None,
    }
}

fn s3_config(bucket: &str, retention_days: Option<u32>) -> AuditSinkConfig {
    AuditSinkConfig {
        cloudwatch: None,
        s3: Some(S3SinkConfig {
            bucket: bucket.into(),
            prefix: "breakglass/".into(),
            region: None,
            retention_days,
            retention_mode: retention_days.map(|_| RetentionMode::Governance),
        }),
    }
}

/// Ships one run of `n` records through the configured sinks; returns the report.
async fn ship_run(
    config: &AuditSinkConfig,
    ctx: &AwsContext,
    log_path: &Path,
    run_id: &str,
    n: usize,
) -> SinkReport {
    let shipper = Sinks::from_config(config, ctx, REGION)
        .unwrap()
        .spawn(run_id);
    let mut log = AuditLog::open(log_path).unwrap();
    write_run(&mut log, run_id, n, &|record| shipper.send(record));
    shipper.finish().await
}

async fn create_bucket(ctx: &AwsContext, bucket: &str, lock: bool) -> aws_sdk_s3::Client {
    let s3 = aws_sdk_s3::Client::new(ctx.sdk_config());
    s3.create_bucket()
        .bucket(bucket)
        .create_bucket_configuration(
            CreateBucketConfiguration::builder()
                .location_constraint(BucketLocationConstraint::EuWest1)
                .build(),
        )
        .object_lock_enabled_for_bucket(lock)
        .send()
        .await
        .unwrap();
    s3
}

/// Every object under `prefix`, in key order: (key, body).
async fn objects(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Vec<(String, Vec<u8>)> {
    let listing = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    assert!(!listing.is_truncated().unwrap_or(false));
    let mut out = Vec::new();
    for object in listing.contents() {
        let key = object.key().unwrap().to_owned();
        let got = s3
            .get_object()
            .bucket(bucket)
            .key(&key)
            .checksum_mode(aws_sdk_s3::types::ChecksumMode::Enabled)
            .send()
            .await
            .unwrap();
        let checksum = got.checksum_sha256().map(str::to_owned);
        let body = got.body.collect().await.unwrap().into_bytes().to_vec();
        assert_eq!(
            checksum,
            Some(sha256_base64(&body)),
            "{key}: SHA-256 stored with the object"
        );
        out.push((key, body));
    }
    out
}

fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
    bytes.split_inclusive(|&b| b == b'\n').collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn cloudwatch_copy_is_byte_identical_and_verifies() {
    let account = Account::new().await;
    let ctx = account.context().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(ctx.sdk_config());
    let group = "/xroad/breakglass-audit";
    logs.create_log_group()
        .log_group_name(group)
        .send()
        .await
        .unwrap();
    let stream = "breakglass/run-cw-1";
    // A stream left by an earlier attempt of the same run is reused, not an error.
    logs.create_log_stream()
        .log_group_name(group)
        .log_stream_name(stream)
        .send()
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");

    let report = ship_run(&cloudwatch_config(group), &ctx, &path, "run-cw-1", 120).await;

    assert!(report.is_complete(), "{report}");
    assert_eq!(report.sinks[0].shipped, 120);
    let mut messages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(true)
            .set_next_token(token.clone())
            .send()
            .await
            .unwrap();
        messages.extend(
            page.events()
                .iter()
                .map(|e| e.message().unwrap().to_owned()),
        );
        let next = page.next_forward_token().map(str::to_owned);
        if next.is_none() || next == token {
            break;
        }
        token = next;
    }
    let copy: String = messages.iter().map(|m| format!("{m}\n")).collect();
    let local = std::fs::read(&path).unwrap();
    assert_eq!(
        copy.as_bytes(),
        local.as_slice(),
        "the copy is the local log, byte for byte"
    );
    let verified = verify(copy.as_bytes(), None).unwrap();
    assert!(verified.is_intact(), "{:?}", verified.problem);
    assert_eq!((verified.records, verified.runs), (120, 1));
    assert!(verified.unfinished_runs.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn s3_copy_with_retention_is_byte_identical_and_verifies_as_a_segment() {
    let account = Account::new().await;
    let ctx = account.context().await;
    let bucket = format!("bg-audit-{}", account.id);
    let s3 = create_bucket(&ctx, &bucket, true).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    // An earlier, unshipped run: this run's copy continues its chain.
    write_run(&mut AuditLog::open(&path).unwrap(), "run-0", 4, &|_| {});
    let earlier_head = AuditLog::open(&path).unwrap().head().to_owned();

    let report = ship_run(&s3_config(&bucket, Some(3)), &ctx, &path, "run-s3-1", 120).await;

    assert!(report.is_complete(), "{report}");
    assert_eq!(report.sinks[0].shipped, 120);
    let objects = objects(&s3, &bucket, "breakglass/run-s3-1/").await;
    assert!(
        objects.len() >= 3,
        "one object per batch of at most 50: {}",
        objects.len()
    );
    let mut copy = Vec::new();
    for (key, body) in &objects {
        let lines = split_lines(body);
        let seq = |line: &[u8]| {
            serde_json::from_slice::<serde_json::Value>(line).unwrap()["seq"]
                .as_u64()
                .unwrap()
        };
        let name = format!(
            "{:012}-{:012}.jsonl",
            seq(lines[0]),
            seq(lines[lines.len() - 1])
        );
        assert!(
            key.ends_with(&name),
            "{key} is named after its records ({name})"
        );
        copy.extend_from_slice(body);
    }
    let local = std::fs::read(&path).unwrap();
    let this_run: Vec<u8> = split_lines(&local)[4..].concat();
    assert_eq!(
        copy, this_run,
        "the objects, in key order, are this run's lines byte for byte"
    );
    let segment = verify_segment(copy.as_slice(), None).unwrap();
    assert!(segment.is_intact(), "{:?}", segment.problem);
    assert_eq!(segment.first_seq, Some(4));
    assert_eq!(
        segment.continues_from.as_deref(),
        Some(earlier_head.as_str())
    );
    assert!(
        verify(copy.as_slice(), None).unwrap().problem.is_some(),
        "not a whole log"
    );

    // moto 5.2.5 does not implement GetObjectRetention (HTTP 500): HeadObject carries the
    // same mode and date.
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key(&objects[0].0)
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.object_lock_mode().map(|m| m.as_str()),
        Some("GOVERNANCE")
    );
    let until = head.object_lock_retain_until_date().unwrap().secs();
    let days = (until - chrono::Utc::now().timestamp()) as f64 / 86_400.0;
    assert!((2.9..=3.0).contains(&days), "retained ~3 days, got {days}");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_retention_days_the_bucket_default_retention_applies() {
    let account = Account::new().await;
    let ctx = account.context().await;
    let bucket = format!("bg-default-{}", account.id);
    let s3 = create_bucket(&ctx, &bucket, true).await;
    s3.put_object_lock_configuration()
        .bucket(&bucket)
        .object_lock_configuration(
            ObjectLockConfiguration::builder()
                .object_lock_enabled(ObjectLockEnabled::Enabled)
                .rule(
                    ObjectLockRule::builder()
                        .default_retention(
                            DefaultRetention::builder()
                                .mode(ObjectLockRetentionMode::Compliance)
                                .days(7)
                                .build(),
                        )
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap();
    let sinks = Sinks::from_config(&s3_config(&bucket, None), &ctx, REGION).unwrap();
    let findings = sinks.check().await;
    assert_eq!(findings[0].level, FindingLevel::Ok, "{findings:?}");
    assert!(
        findings[0].message.contains("7 days in COMPLIANCE"),
        "{findings:?}"
    );

    let dir = tempfile::tempdir().unwrap();
    let report = ship_run(
        &s3_config(&bucket, None),
        &ctx,
        &dir.path().join("a.jsonl"),
        "run-d",
        3,
    )
    .await;
    assert!(report.is_complete(), "{report}");
    let key = "breakglass/run-d/000000000000-000000000002.jsonl";
    let head = s3
        .head_object()
        .bucket(&bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.object_lock_mode().map(|m| m.as_str()),
        Some("COMPLIANCE")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_log_group_and_bucket_are_reported_while_the_local_log_is_complete() {
    let account = Account::new().await;
    let ctx = account.context().await;
    let config = AuditSinkConfig {
        s3: s3_config(&format!("bg-missing-{}", account.id), None).s3,
        ..cloudwatch_config("/xroad/does-not-exist")
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");

    let report = ship_run(&config, &ctx, &path, "run-m", 120).await;

    assert!(!report.is_complete());
    for outcome in &report.sinks {
        assert_eq!(
            (outcome.shipped, outcome.not_shipped()),
            (0, 120),
            "{outcome}"
        );
        assert_eq!(outcome.failures[0].seqs, Some((0, 119)));
    }
    let text = report.to_string();
    assert!(
        text.contains("logs:CreateLogStream failed in eu-west-1: ResourceNotFoundException"),
        "{text}"
    );
    assert!(
        text.contains("aws logs create-log-group --log-group-name /xroad/does-not-exist"),
        "{text}"
    );
    assert!(
        text.contains("s3:PutObject failed in eu-west-1: NoSuchBucket"),
        "{text}"
    );
    assert!(
        text.contains("create it with Object Lock enabled"),
        "{text}"
    );
    let local = verify(std::fs::read(&path).unwrap().as_slice(), None).unwrap();
    assert!(local.is_intact());
    assert_eq!(local.records, 120, "every record is in the local log");
}

#[tokio::test(flavor = "multi_thread")]
async fn preflight_names_missing_and_unprotected_destinations() {
    let account = Account::new().await;
    let ctx = account.context().await;
    let logs = aws_sdk_cloudwatchlogs::Client::new(ctx.sdk_config());
    logs.create_log_group()
        .log_group_name("ir-audit")
        .send()
        .await
        .unwrap();
    logs.put_retention_policy()
        .log_group_name("ir-audit")
        .retention_in_days(365)
        .send()
        .await
        .unwrap();
    // A longer name sharing the prefix must not be mistaken for the group.
    logs.create_log_group()
        .log_group_name("ir-audit-old")
        .send()
        .await
        .unwrap();
    let locked = format!("bg-locked-{}", account.id);
    let plain = format!("bg-plain-{}", account.id);
    create_bucket(&ctx, &locked, true).await;
    create_bucket(&ctx, &plain, false).await;

    let check = |config: AuditSinkConfig| {
        let ctx = ctx.clone();
        async move {
            let findings = Sinks::from_config(&config, &ctx, REGION)
                .unwrap()
                .check()
                .await;
            assert_eq!(findings.len(), 1, "{findings:?}");
            findings.into_iter().next().unwrap()
        }
    };
    let found = check(cloudwatch_config("ir-audit")).await;
    assert_eq!(found.level, FindingLevel::Ok, "{found:?}");
    assert!(found.message.contains("expire after 365 days"), "{found:?}");
    let missing = check(cloudwatch_config("ir-audit-ol")).await;
    assert_eq!(missing.level, FindingLevel::Error, "{missing:?}");
    assert!(missing.hint.unwrap().contains("create-log-group"));

    let unlocked_defaults = check(s3_config(&locked, None)).await;
    assert_eq!(
        unlocked_defaults.level,
        FindingLevel::Warning,
        "no default retention: {unlocked_defaults:?}"
    );
    assert_eq!(
        check(s3_config(&locked, Some(30))).await.level,
        FindingLevel::Ok
    );
    let unprotected = check(s3_config(&plain, None)).await;
    assert_eq!(unprotected.level, FindingLevel::Warning, "{unprotected:?}");
    assert!(unprotected.message.contains("no Object Lock"));
    assert_eq!(
        check(s3_config(&plain, Some(30))).await.level,
        FindingLevel::Error
    );
    let absent = check(s3_config(&format!("bg-absent-{}", account.id), None)).await;
    assert_eq!(absent.level, FindingLevel::Error, "{absent:?}");
    assert!(absent.message.contains("does not exist"));
}

#[tokio::test(flavor = "multi_thread")]
async fn retention_on_a_bucket_without_object_lock_is_reported_with_a_hint() {
    let account = Account::new().await;
    let ctx = account.context().await;
    let bucket = format!("bg-nolock-{}", account.id);
    create_bucket(&ctx, &bucket, false).await;
    let dir = tempfile::tempdir().unwrap();
    let report = ship_run(
        &s3_config(&bucket, Some(1)),
        &ctx,
        &dir.path().join("a.jsonl"),
        "run-n",
        5,
    )
    .await;
    let outcome = &report.sinks[0];
    assert_eq!(outcome.not_shipped(), 5, "{report}");
    assert!(
        outcome.failures[0].message.contains("InvalidRequest"),
        "{report}"
    );
    assert!(
        outcome.failures[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("retention_days"),
        "{report}"
    );
}

/// A denied CreateLogStream, from a loopback stub sending AWS's JSON error
/// (`AccessDeniedException`). moto's IAM mode (tried, on a moto of the test's own) denies
/// CloudWatch Logs calls with an HTTP 403 whose body is not AWS's JSON error, so the SDK
/// sees no error code: that would test moto's shape, not AWS's.
#[tokio::test(flavor = "multi_thread")]
async fn access_denied_is_reported_with_the_iam_hint() {
    let endpoint = stub::serve(
        400,
        r#"{"__type":"AccessDeniedException","message":"User is not authorized to perform: logs:CreateLogStream"}"#.into(),
    );
    let ctx = AwsContext::load(&AwsSettings {
        profile: None,
        client: AwsClientConfig {
            max_attempts: 1,
            ..AwsClientConfig::default()
        },
        sandbox: Some(SandboxEndpoint {
            endpoint_url: endpoint,
            region: REGION.into(),
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "not-a-secret".into(),
        }),
    })
    .await;
    // Being denied the preflight is a warning: shipping needs other permissions.
    let findings = Sinks::from_config(&cloudwatch_config("ir-audit"), &ctx, REGION)
        .unwrap()
        .check()
        .await;
    assert_eq!(findings[0].level, FindingLevel::Warning, "{findings:?}");
    assert!(findings[0].hint.as_deref().unwrap().contains("docs/iam.md"));
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.jsonl");
    let report = ship_run(
        &cloudwatch_config("ir-audit"),
        &ctx,
        &path,
        "run-denied",
        60,
    )
    .await;
    let outcome = &report.sinks[0];
    assert_eq!(
        (outcome.shipped, outcome.not_shipped()),
        (0, 60),
        "{report}"
    );
    let failure = &outcome.failures[0];
    assert_eq!(
        failure.error.as_ref().unwrap().kind(),
        breakglass::aws::AwsErrorKind::AccessDenied
    );
    assert!(
        failure.message.contains("AccessDeniedException"),
        "{report}"
    );
    assert!(
        failure.hint.as_deref().unwrap().contains("docs/iam.md"),
        "{report}"
    );
    assert!(!report.to_string().contains("not-a-secret"));
    assert_eq!(
        verify(std::fs::read(&path).unwrap().as_slice(), None)
            .unwrap()
            .records,
        60
    );
}
