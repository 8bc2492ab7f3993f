//! The SigV4 check on the sandbox's data-channel upgrade, as current plugins sign it
//! (`ssmmessages`, the `Host` header, an empty body): the sandbox recomputes the signature
//! with the secret of the key it names — a key the sandbox handed out (IAM Identity Center
//! role credentials) or was told to trust — and refuses a request that is unsigned, names a
//! key it does not know, is more than 15 minutes off, or does not match.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use aws_credential_types::Credentials;
use axum::http::HeaderMap;

use crate::datachannel::connect::signed_headers;

/// How far the request's time may be from the sandbox's (SigV4's window).
const SKEW: Duration = Duration::from_secs(15 * 60);

/// Checks the upgrade of `path_and_query`; the reason when it is refused.
pub fn verify(
    headers: &HeaderMap,
    path_and_query: &str,
    keys: &BTreeMap<String, String>,
    now: SystemTime,
) -> Result<(), String> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let authorization = header("authorization").ok_or("the upgrade is not signed")?;
    let scope = authorization
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
        .and_then(|rest| rest.split(',').next())
        .ok_or("the upgrade's Authorization is not SigV4")?;
    let [access_key, _, region, service, "aws4_request"] = scope.split('/').collect::<Vec<_>>()[..]
    else {
        return Err(format!("not a credential scope: {scope}"));
    };
    if service != "ssmmessages" {
        return Err(format!("signed for {service}, not ssmmessages"));
    }
    let secret = keys
        .get(access_key)
        .ok_or_else(|| format!("the sandbox did not issue access key {access_key}"))?;
    let date = header("x-amz-date").ok_or("the upgrade has no X-Amz-Date")?;
    let time = chrono::NaiveDateTime::parse_from_str(date, "%Y%m%dT%H%M%SZ")
        .map_err(|_| format!("X-Amz-Date {date} is not a SigV4 time"))?
        .and_utc();
    let time = SystemTime::from(time);
    let off = now
        .duration_since(time)
        .or_else(|_| time.duration_since(now))
        .unwrap_or_default();
    if off > SKEW {
        return Err(format!(
            "the upgrade was signed {}s away from now",
            off.as_secs()
        ));
    }
    let host = header("host").ok_or("the upgrade has no Host")?;
    let token = header("x-amz-security-token").map(str::to_owned);
    let credentials = Credentials::new(access_key, secret, token, None, "sandbox");
    let expected = signed_headers(host, path_and_query, &credentials, region, time)?;
    let matches = expected
        .iter()
        .any(|(name, value)| name == "authorization" && value == authorization);
    if matches {
        Ok(())
    } else {
        Err("the upgrade's signature does not match".into())
    }
}
