//! Every identifier breakglass accepts from a person or a file, checked in one place: AWS
//! regions, accounts, instances, security groups, VPCs, S3 buckets, tag keys and selectors,
//! incident ids, and playbook and parameter names. Each check says what is wrong, so the caller can name the key or flag.

/// Whether `name` looks like an AWS region code (`eu-west-1`, `us-gov-west-1`, `il-central-1`).
pub fn is_region_name(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && parts[parts.len() - 1]
            .parse::<u8>()
            .is_ok_and(|n| n > 0 && n < 100)
}

/// Whether `id` is a 12-digit AWS account id.
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// `prefix` followed by 8 or 17 hex digits: the shape of EC2 resource ids.
fn is_ec2_id(id: &str, prefix: &str) -> bool {
    id.strip_prefix(prefix).is_some_and(|hex| {
        matches!(hex.len(), 8 | 17) && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// Whether `text` looks like an EC2 instance id.
pub fn is_instance_id(text: &str) -> bool {
    is_ec2_id(text, "i-")
}

/// Whether `id` looks like a security group id.
pub fn is_group_id(id: &str) -> bool {
    is_ec2_id(id, "sg-")
}

/// Whether `id` looks like a network ACL id.
pub fn is_network_acl_id(id: &str) -> bool {
    is_ec2_id(id, "acl-")
}

/// Whether `id` looks like a VPC id.
pub fn is_vpc_id(id: &str) -> bool {
    is_ec2_id(id, "vpc-")
}

/// Incident ids are recorded and written to tags: letters, digits and `-_.:/#`, 1-64,
/// starting with a letter or digit. The error is the rule.
pub fn check_incident(id: &str) -> Result<(), &'static str> {
    let ok = (1..=64).contains(&id.len())
        && id.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/#".contains(&b));
    if ok {
        Ok(())
    } else {
        Err("must be 1-64 letters, digits and `-_.:/#`, starting with a letter or digit")
    }
}

/// Tag keys as written in a playbook: AWS allows up to 128 characters and reserves `aws:`.
pub fn check_tag_key(key: &str) -> Result<(), String> {
    const MAX_KEY: usize = 128;
    if key.is_empty() {
        return Err("the key is empty".into());
    }
    if key.chars().count() > MAX_KEY {
        return Err(format!("longer than {MAX_KEY} characters"));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err("the `aws:` prefix is reserved by AWS".into());
    }
    Ok(())
}

/// Playbook names: 1-64 lowercase letters, digits and `-`, not starting with `-`.
pub fn is_playbook_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
}

/// Playbook parameter names: lowercase letters, digits and `_`, starting with a letter.
pub fn is_parameter_name(name: &str) -> bool {
    name.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// A discovery selector `tag:Key=Value` or `tag:Key=V1,V2`, as key and values; the error
/// says what is wrong.
pub fn parse_tag_selector(text: &str) -> Result<(String, Vec<String>), String> {
    let expected = "expected `tag:Key=Value`, e.g. `tag:Role=xroad-security-server`";
    let Some(rest) = text.strip_prefix("tag:") else {
        return Err(format!("`{text}` is not a tag selector: {expected}"));
    };
    let Some((key, values)) = rest.split_once('=') else {
        return Err(format!("`{text}` has no `=`: {expected}"));
    };
    let values: Vec<String> = values
        .split(',')
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .collect();
    if key.trim().is_empty() {
        return Err(format!("`{text}` has an empty tag key: {expected}"));
    }
    if values.is_empty() {
        return Err(format!("`{text}` has no value: {expected}"));
    }
    Ok((key.trim().to_owned(), values))
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

/// Refuses what an IAM policy's `Resource` would not read literally: the wildcards `*` and
/// `?`, and `${`, which opens a policy variable; a value written into an ARN must not widen it.
pub fn check_policy_literal(text: &str) -> Result<(), String> {
    match ["*", "?", "${"].into_iter().find(|w| text.contains(w)) {
        Some(w) => Err(format!(
            "contains `{w}`, which IAM reads as a wildcard or variable in the policy's ARN"
        )),
        None => Ok(()),
    }
}

/// An IAM path (`/xroad/`): `/`, text of printable ASCII, `/`; `/` alone (every role) and
/// wildcards are refused, since the policy grants writes to the roles under it.
pub fn check_iam_path(path: &str) -> Result<(), String> {
    if path.len() < 3 || !path.starts_with('/') || !path.ends_with('/') {
        return Err(
            "is not an IAM path like `/xroad/` (a name between slashes; `/` alone \
                    is every role)"
                .into(),
        );
    }
    if path.len() > 512 || !path.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
        return Err("must be at most 512 printable ASCII characters, without spaces".into());
    }
    check_policy_literal(path)
}

/// The region of a KMS key ARN (`arn:aws:kms:REGION:ACCOUNT:key/KEY-ID`). An alias is
/// refused: IAM authorizes the use of a key against the key's own ARN.
pub fn kms_key_region(arn: &str) -> Result<&str, String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [_, partition, "kms", region, account, resource] = parts[..] else {
        return Err("is not a KMS key ARN (`arn:aws:kms:REGION:ACCOUNT:key/KEY-ID`)".into());
    };
    if resource.starts_with("alias/") {
        return Err("is an alias: give the ARN of the key it points to (`…:key/KEY-ID`)".into());
    }
    let key_id = resource.strip_prefix("key/").unwrap_or_default();
    let id_ok = !key_id.is_empty()
        && key_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !partition.starts_with("aws") || !is_region_name(region) || !is_account_id(account) || !id_ok
    {
        return Err("is not a KMS key ARN (`arn:aws:kms:REGION:ACCOUNT:key/KEY-ID`)".into());
    }
    Ok(region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_literals_iam_paths_and_kms_key_arns() {
        assert!(check_policy_literal("breakglass/").is_ok());
        for bad in ["a*", "a?b", "${aws:username}/"] {
            assert!(check_policy_literal(bad).is_err(), "{bad}");
        }
        assert!(check_iam_path("/xroad/").is_ok());
        assert!(check_iam_path("/xroad/prod/").is_ok());
        for bad in ["/", "xroad/", "/xroad", "/x road/", "/x*/", ""] {
            assert!(check_iam_path(bad).is_err(), "{bad}");
        }
        let key = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
        assert_eq!(kms_key_region(key), Ok("eu-west-1"));
        let cases = [
            (
                "arn:aws:kms:eu-west-1:111122223333:alias/evidence",
                "is an alias",
            ),
            ("1234abcd-12ab-34cd-56ef-1234567890ab", "not a KMS key ARN"),
            ("arn:aws:kms:eu-west-1:1111:key/abc", "not a KMS key ARN"),
            (
                "arn:aws:kms:eu-west-1:111122223333:key/*",
                "not a KMS key ARN",
            ),
            (
                "arn:aws:s3:eu-west-1:111122223333:key/abc",
                "not a KMS key ARN",
            ),
        ];
        for (bad, message) in cases {
            assert!(kms_key_region(bad).unwrap_err().contains(message), "{bad}");
        }
    }

    #[test]
    fn region_names() {
        for ok in [
            "eu-west-1",
            "us-gov-west-1",
            "il-central-1",
            "ap-southeast-5",
        ] {
            assert!(is_region_name(ok), "{ok}");
        }
        for bad in [
            "Europe",
            "eu-west",
            "eu-west-0",
            "EU-WEST-1",
            "eu--1",
            "e-west-1",
            "",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }

    #[test]
    fn ec2_ids_have_their_prefix_and_8_or_17_hex_digits() {
        assert!(is_instance_id("i-0123abcd"));
        assert!(is_instance_id("i-0123456789abcdef0"));
        assert!(!is_instance_id("i-0123abc"));
        assert!(!is_instance_id("sg-0123abcd"));
        assert!(is_group_id("sg-0123abcd"));
        assert!(!is_group_id("sg-0123abcx"));
        assert!(is_vpc_id("vpc-0123456789abcdef0"));
        assert!(!is_vpc_id("vpc-1"));
        assert!(is_account_id("111122223333"));
        assert!(!is_account_id("11112222333a"));
        assert!(!is_account_id("12345"));
    }

    #[test]
    fn incident_ids() {
        for ok in ["IR-42", "case:2026/11#3", "a"] {
            assert!(check_incident(ok).is_ok(), "{ok}");
        }
        let long = "a".repeat(65);
        for bad in ["", "-IR", "IR 42", "IR-$(id)", long.as_str()] {
            assert!(check_incident(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tag_keys() {
        assert_eq!(check_tag_key("breakglass:incident"), Ok(()));
        assert_eq!(check_tag_key(&"k".repeat(128)), Ok(()));
        let cases = [
            (String::new(), "empty"),
            ("k".repeat(129), "longer than 128"),
            ("aws:name".into(), "reserved"),
            ("AWS:Name".into(), "reserved"),
        ];
        for (key, expected) in cases {
            let err = check_tag_key(&key).unwrap_err();
            assert!(err.contains(expected), "{key}: {err}");
        }
    }

    #[test]
    fn playbook_and_parameter_names() {
        let (longest, too_long) = ("a".repeat(64), "a".repeat(65));
        for ok in ["isolate", "tag-incident", "a1", longest.as_str()] {
            assert!(is_playbook_name(ok), "{ok}");
        }
        for bad in ["", "-x", "Tag", "tag_incident", "a b", too_long.as_str()] {
            assert!(!is_playbook_name(bad), "{bad}");
        }
        for ok in ["note", "a_9", "x"] {
            assert!(is_parameter_name(ok), "{ok}");
        }
        for bad in ["", "_x", "9a", "Note", "a-b"] {
            assert!(!is_parameter_name(bad), "{bad}");
        }
    }

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
}
