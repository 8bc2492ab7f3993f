//! Validation of the sink settings at config load (log group, stream prefix, bucket and key
//! prefix rules), each failure saying which key is wrong and how to write it, and the
//! per-run names derived from a run id.

use crate::config::AuditSinkConfig;

/// Longest retention breakglass accepts (100 years): a typo must not lock objects forever.
pub const MAX_RETENTION_DAYS: u32 = 36_500;

/// Checks every `[audit.*]` value; the message names the key.
pub fn validate_config(config: &AuditSinkConfig) -> Result<(), String> {
    if let Some(cw) = &config.cloudwatch {
        check_log_group(&cw.log_group)
            .map_err(|r| format!("`audit.cloudwatch.log_group` `{}` {r}", cw.log_group))?;
        check_stream_prefix(&cw.log_stream_prefix).map_err(|r| {
            format!(
                "`audit.cloudwatch.log_stream_prefix` `{}` {r}",
                cw.log_stream_prefix
            )
        })?;
        check_region(cw.region.as_deref(), "audit.cloudwatch.region")?;
    }
    if let Some(s3) = &config.s3 {
        check_bucket(&s3.bucket).map_err(|r| format!("`audit.s3.bucket` `{}` {r}", s3.bucket))?;
        check_key_prefix(&s3.prefix)
            .map_err(|r| format!("`audit.s3.prefix` `{}` {r}", s3.prefix))?;
        check_region(s3.region.as_deref(), "audit.s3.region")?;
        match s3.retention_days {
            Some(days) if days == 0 || days > MAX_RETENTION_DAYS => {
                return Err(format!(
                    "`audit.s3.retention_days` must be between 1 and {MAX_RETENTION_DAYS}"
                ));
            }
            None if s3.retention_mode.is_some() => {
                return Err(
                    "`audit.s3.retention_mode` needs `audit.s3.retention_days`; \
                            without both, the bucket's default retention applies"
                        .into(),
                );
            }
            _ => {}
        }
    }
    Ok(())
}

fn check_region(region: Option<&str>, key: &str) -> Result<(), String> {
    match region {
        Some(region) if !crate::cli::is_region_name(region) => Err(format!(
            "`{key}` `{region}` is not an AWS region name like `eu-west-1`"
        )),
        _ => Ok(()),
    }
}

/// CloudWatch Logs group names: 1–512 of `A-Za-z0-9_-/.#`, not starting with `aws/`.
pub fn check_log_group(name: &str) -> Result<(), String> {
    if name.starts_with("arn:") {
        return Err("is an ARN: give the log group's name".into());
    }
    if name.is_empty() || name.len() > 512 {
        return Err("must be 1 to 512 characters long".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "_-/.#".contains(*c)))
    {
        return Err(format!(
            "contains `{c}`: log group names use only letters, digits and `_-/.#`"
        ));
    }
    if name.starts_with("aws/") {
        return Err("starts with `aws/`, which is reserved for AWS services".into());
    }
    Ok(())
}

/// Stream names may not contain `:` or `*`; the prefix leaves room for `/<run_id>`.
pub fn check_stream_prefix(prefix: &str) -> Result<(), String> {
    if prefix.len() > 256 {
        return Err("is longer than 256 characters".into());
    }
    if let Some(c) = prefix
        .chars()
        .find(|c| *c == ':' || *c == '*' || c.is_control())
    {
        return Err(format!(
            "contains {c:?}: log stream names may not contain `:`, `*` or control characters"
        ));
    }
    Ok(())
}

/// General-purpose S3 bucket naming rules (directory buckets have no Object Lock).
pub fn check_bucket(name: &str) -> Result<(), String> {
    if let Some(rest) = name.strip_prefix("s3://") {
        return Err(format!(
            "is a URL: give the bucket name (`{}`) and put any path in `audit.s3.prefix`",
            rest.split('/').next().unwrap_or_default()
        ));
    }
    if name.starts_with("arn:") {
        return Err("is an ARN: give the bucket's name".into());
    }
    if name.contains('/') {
        return Err("contains `/`: put the path in `audit.s3.prefix`".into());
    }
    if name.len() < 3 || name.len() > 63 {
        return Err("must be 3 to 63 characters long".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '.' || *c == '-'))
    {
        return Err(format!(
            "contains `{c}`: bucket names use only lowercase letters, digits, `.` and `-`"
        ));
    }
    let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if !alnum(name.chars().next()) || !alnum(name.chars().last()) {
        return Err("must start and end with a letter or digit".into());
    }
    if name.contains("..") {
        return Err("contains `..`".into());
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return Err("looks like an IP address".into());
    }
    if name.ends_with("--x-s3") {
        return Err(
            "is a directory bucket, which has no Object Lock: use a general purpose \
                    bucket"
                .into(),
        );
    }
    let reserved_start = ["xn--", "sthree-", "amzn-s3-demo-"];
    let reserved_end = ["-s3alias", "--ol-s3", ".mrap", "--table-s3"];
    if reserved_start.iter().any(|p| name.starts_with(p))
        || reserved_end.iter().any(|s| name.ends_with(s))
    {
        return Err(
            "uses a prefix or suffix S3 reserves (an alias or access point, not a \
                    bucket)"
                .into(),
        );
    }
    Ok(())
}

/// Key prefixes: no leading `/`, no empty, `.` or `..` segments, at most 512 bytes.
pub fn check_key_prefix(prefix: &str) -> Result<(), String> {
    if prefix.len() > 512 {
        return Err("is longer than 512 bytes".into());
    }
    if prefix.starts_with('/') {
        return Err("starts with `/`: S3 keys have no leading slash (`breakglass/`)".into());
    }
    if prefix.chars().any(char::is_control) {
        return Err("contains control characters".into());
    }
    let trimmed = prefix.strip_suffix('/').unwrap_or(prefix);
    if !trimmed.is_empty()
        && trimmed
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err("contains an empty, `.` or `..` path segment".into());
    }
    Ok(())
}

/// A run id made safe for stream names and keys: anything but `A-Za-z0-9._-` becomes `_`.
pub fn run_component(run_id: &str) -> String {
    let safe: String = run_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(200)
        .collect();
    match safe.as_str() {
        "" | "." | ".." => format!("run{safe}"),
        _ => safe,
    }
}

/// The log stream of one run: `<prefix>/<run>`, or `<run>` with an empty prefix.
pub fn log_stream_name(prefix: &str, run_id: &str) -> String {
    let run = run_component(run_id);
    match prefix.trim_end_matches('/') {
        "" => run,
        prefix => format!("{prefix}/{run}"),
    }
}

/// The key of one batch: `<prefix>/<run>/<first>-<last>.jsonl`, sequence numbers
/// zero-padded to 12 digits so that listing order is sequence order.
pub fn object_key(prefix: &str, run_id: &str, first_seq: u64, last_seq: u64) -> String {
    let run = run_component(run_id);
    let file = format!("{first_seq:012}-{last_seq:012}.jsonl");
    match prefix.trim_end_matches('/') {
        "" => format!("{run}/{file}"),
        prefix => format!("{prefix}/{run}/{file}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_group_names() {
        for ok in [
            "breakglass-audit",
            "/xroad/ir/audit",
            "a",
            "x.y_z#1",
            "/aws/x",
        ] {
            assert_eq!(check_log_group(ok), Ok(()), "{ok}");
        }
        let cases = [
            ("", "1 to 512"),
            ("arn:aws:logs:eu-west-1:1:log-group:x", "ARN"),
            ("audit log", "contains ` `"),
            ("audit:x", "contains `:`"),
            ("aws/mine", "reserved"),
        ];
        for (name, expected) in cases {
            let err = check_log_group(name).unwrap_err();
            assert!(err.contains(expected), "{name}: {err}");
        }
        assert!(check_log_group(&"a".repeat(513)).is_err());
    }

    #[test]
    fn bucket_names() {
        for ok in ["abc", "ir-audit.example", "111122223333-breakglass"] {
            assert_eq!(check_bucket(ok), Ok(()), "{ok}");
        }
        let cases = [
            (
                "s3://ir-audit/breakglass",
                "give the bucket name (`ir-audit`)",
            ),
            ("arn:aws:s3:::ir-audit", "ARN"),
            ("ir-audit/x", "audit.s3.prefix"),
            ("ab", "3 to 63"),
            ("IR-Audit", "contains `I`"),
            ("ir_audit", "contains `_`"),
            ("-ir-audit", "start and end"),
            ("ir-audit.", "start and end"),
            ("ir..audit", "`..`"),
            ("192.168.1.1", "IP address"),
            ("xn--audit", "reserves"),
            ("audit--ol-s3", "reserves"),
            ("audit--x-s3", "directory bucket"),
        ];
        for (name, expected) in cases {
            let err = check_bucket(name).unwrap_err();
            assert!(err.contains(expected), "{name}: {err}");
        }
        assert!(check_bucket(&"a".repeat(64)).is_err());
    }

    #[test]
    fn prefixes() {
        for ok in ["", "breakglass/", "breakglass", "ir/xroad/audit/"] {
            assert_eq!(check_key_prefix(ok), Ok(()), "{ok:?}");
        }
        for bad in ["/breakglass", "a//b", "a/../b", "./a", "a\nb"] {
            assert!(check_key_prefix(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_stream_prefix(""), Ok(()));
        assert_eq!(check_stream_prefix("breakglass/prod"), Ok(()));
        for bad in ["a:b", "a*", "a\tb"] {
            assert!(check_stream_prefix(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn per_run_names() {
        let run = "0195f0a2-7c1e-7000-8000-0123456789ab";
        assert_eq!(
            log_stream_name("breakglass", run),
            format!("breakglass/{run}")
        );
        assert_eq!(
            log_stream_name("breakglass/", run),
            format!("breakglass/{run}")
        );
        assert_eq!(log_stream_name("", run), run);
        assert_eq!(
            object_key("breakglass/", run, 0, 49),
            format!("breakglass/{run}/000000000000-000000000049.jsonl")
        );
        assert_eq!(
            object_key("", "a b/c:*", 7, 7),
            "a_b_c__/000000000007-000000000007.jsonl"
        );
        assert_eq!(run_component(".."), "run..");
        assert_eq!(run_component(""), "run");
        // Keys sort in sequence order.
        assert!(object_key("p", run, 950, 999) < object_key("p", run, 1000, 1049));
    }
}
