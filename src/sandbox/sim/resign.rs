//! Re-signing requests for moto's IAM enforcement, which checks signatures in two ways AWS
//! does not: over a query-protocol form body *as it re-encodes it* (spaces as `+`, while
//! the AWS SDK sends `%20`, so a security group's or snapshot's description fails the
//! check), and only in an `Authorization` header (a presigned URL fails with a server
//! error). For the access keys a test registers ([`super::Simulator::resign_for_moto`]) the
//! simulator rewrites the request the way moto reads it — the form re-encoded, a presigned
//! URL's query moved into a signed header — and signs it again with the key's secret; moto
//! then evaluates the caller's policy as AWS would. Nothing else uses it.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode, sign,
};
use aws_sigv4::sign::v4;
use axum::http::request::Parts;
use axum::http::{HeaderName, HeaderValue, Uri};

/// Headers signed again with fresh values, or that change with the body; and `expect`
/// (curl's `100-continue`: the simulator has read the whole body already).
const REPLACED: [&str; 5] = [
    "authorization",
    "x-amz-date",
    "content-length",
    "x-amz-content-sha256",
    "expect",
];

/// Rewrites and signs `parts` for the key of `scope` (`AKID/date/region/service/…`) with
/// `secret`; returns the body to send.
pub fn resign(
    parts: &mut Parts,
    body: &[u8],
    scope: &str,
    secret: &str,
) -> Result<Vec<u8>, String> {
    let fields: Vec<&str> = scope.split('/').collect();
    let [access_key, _, region, service, ..] = fields[..] else {
        return Err(format!("not a credential scope: {scope}"));
    };
    let form = parts
        .headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("x-www-form-urlencoded"));
    let body = if form {
        String::from_utf8_lossy(body)
            .replace("%20", "+")
            .into_bytes()
    } else {
        body.to_vec()
    };
    // A presigned URL's query parameters go; the signature moves into the headers.
    if let Some(query) = parts.uri.query() {
        let kept: Vec<&str> = query
            .split('&')
            .filter(|kv| !kv.starts_with("X-Amz-"))
            .collect();
        let path_and_query = if kept.is_empty() {
            parts.uri.path().to_owned()
        } else {
            format!("{}?{}", parts.uri.path(), kept.join("&"))
        };
        parts.uri = path_and_query.parse::<Uri>().map_err(|e| e.to_string())?;
    }
    let mut settings = SigningSettings::default();
    if service == "s3" {
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
    }
    let identity = Credentials::new(access_key, secret, None, None, "simulator").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(settings)
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let host = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let uri = format!(
        "http://{host}{}",
        parts.uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter(|(name, _)| !REPLACED.contains(&name.as_str()))
        .filter_map(|(name, value)| Some((name.as_str(), value.to_str().ok()?)))
        .collect();
    let signable = SignableRequest::new(
        parts.method.as_str(),
        uri,
        headers.into_iter(),
        SignableBody::Bytes(&body),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| e.to_string())?
        .into_parts();
    parts.headers.remove("content-length");
    parts.headers.remove("expect");
    for (name, value) in instructions.headers() {
        let value = HeaderValue::from_str(value).map_err(|e| e.to_string())?;
        let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| e.to_string())?;
        parts.headers.insert(name, value);
    }
    Ok(body)
}
