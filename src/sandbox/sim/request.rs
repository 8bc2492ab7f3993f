//! Telling which service and operation a signed AWS request is for: the SigV4 credential
//! scope names the service; the operation is in `X-Amz-Target` (JSON protocols), the
//! `Action` form field (query protocols), or the method and path (S3).

use super::faults::Protocol;

/// The service and operation of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// The signing name: `ec2`, `ssm`, `s3`, `autoscaling`, `elasticloadbalancing`, …
    pub service: String,
    pub operation: String,
    pub protocol: Protocol,
}

impl Classified {
    /// `service:Operation`, as fault rules name it.
    pub fn name(&self) -> String {
        format!("{}:{}", self.service, self.operation)
    }
}

/// The credential scope of an `Authorization` header: `AKID/date/region/service/aws4_request`.
fn header_credential(authorization: Option<&str>) -> Option<String> {
    authorization
        .and_then(|a| a.split("Credential=").nth(1))
        .map(|c| c.split(',').next().unwrap_or(c).to_owned())
}

/// The access key id and region of a SigV4 `Authorization` header (empty when absent).
pub fn caller_of(authorization: Option<&str>) -> (String, String) {
    let credential = header_credential(authorization).unwrap_or_default();
    let scope: Vec<&str> = credential.split('/').collect();
    let part = |i: usize| scope.get(i).map_or(String::new(), |s| (*s).to_owned());
    (part(0), part(2))
}

/// The credential scope of a request (`AKID/date/region/service/aws4_request`), from its
/// `Authorization` header or a presigned URL's `X-Amz-Credential`.
pub fn credential_of(authorization: Option<&str>, query: Option<&str>) -> Option<String> {
    header_credential(authorization).or_else(|| {
        let value = query?
            .split('&')
            .find_map(|kv| kv.strip_prefix("X-Amz-Credential="))?;
        Some(
            percent_encoding::percent_decode_str(value)
                .decode_utf8_lossy()
                .into_owned(),
        )
    })
}

/// The signing name from an `Authorization` header, or from a presigned URL's query.
pub fn service_of(authorization: Option<&str>, query: Option<&str>) -> Option<String> {
    credential_of(authorization, query)?
        .split('/')
        .nth(3)
        .map(str::to_owned)
}

/// A field of a form body or a query string (`a=1&b=x%20y`), decoded.
pub fn form_field(form: impl AsRef<[u8]>, name: &str) -> Option<String> {
    form_urlencoded::parse(form.as_ref())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// Classifies a request from its parts; `body` is only read for query protocols.
pub fn classify(
    service: &str,
    method: &str,
    path: &str,
    target: Option<&str>,
    body: &[u8],
) -> Classified {
    let protocol = match service {
        "ec2" => Protocol::Ec2,
        "s3" => Protocol::RestXml,
        "autoscaling" | "elasticloadbalancing" | "iam" | "sts" => Protocol::Query,
        _ => Protocol::Json,
    };
    let operation = match protocol {
        Protocol::Json => target
            .and_then(|t| t.rsplit('.').next())
            .unwrap_or("Unknown")
            .to_owned(),
        Protocol::Ec2 | Protocol::Query => {
            form_field(body, "Action").unwrap_or_else(|| "Unknown".to_owned())
        }
        Protocol::RestXml => {
            let object = path.trim_start_matches('/').contains('/');
            match (method, object) {
                ("PUT", true) => "PutObject",
                ("GET", true) => "GetObject",
                ("HEAD", true) => "HeadObject",
                ("DELETE", true) => "DeleteObject",
                ("PUT", false) => "CreateBucket",
                _ => "ListObjects",
            }
            .to_owned()
        }
    };
    Classified {
        service: service.to_owned(),
        operation,
        protocol,
    }
}

/// A POST to moto on behalf of `access_key` in `region` for `service`: the SigV4 scope tells
/// moto the account; it does not check signatures (unless its IAM enforcement is on, which
/// the simulator's own calls are not made under).
pub fn to_moto(
    moto: &str,
    (access_key, region, service): (&str, &str, &str),
) -> axum::http::request::Builder {
    let date = chrono::Utc::now().format("%Y%m%d");
    axum::http::Request::post(format!("{moto}/")).header(
        "authorization",
        format!(
            "AWS4-HMAC-SHA256 Credential={access_key}/{date}/{region}/{service}/aws4_request, \
             SignedHeaders=host, Signature=0"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_each_protocol() {
        let auth = "AWS4-HMAC-SHA256 Credential=AKID/20261128/eu-west-1/ssm/aws4_request, \
                    SignedHeaders=host, Signature=abc";
        assert_eq!(service_of(Some(auth), None).as_deref(), Some("ssm"));
        assert_eq!(caller_of(Some(auth)), ("AKID".into(), "eu-west-1".into()));
        assert_eq!(caller_of(None), (String::new(), String::new()));
        let query = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20261128%2Feu-west-1%2Fs3%2Faws4_request";
        assert_eq!(service_of(None, Some(query)).as_deref(), Some("s3"));
        let json = classify("ssm", "POST", "/", Some("AmazonSSM.SendCommand"), b"{}");
        assert_eq!(json.name(), "ssm:SendCommand");
        let ec2 = classify(
            "ec2",
            "POST",
            "/",
            None,
            b"Action=CreateTags&Version=2016-11-15",
        );
        assert_eq!(
            (ec2.name(), ec2.protocol),
            ("ec2:CreateTags".into(), Protocol::Ec2)
        );
        let s3 = classify("s3", "PUT", "/bucket/key", None, b"");
        assert_eq!(s3.name(), "s3:PutObject");
    }
}
