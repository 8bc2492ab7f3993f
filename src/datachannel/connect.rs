//! Opening a data channel's websocket: the upgrade request signed with SigV4 as current
//! session-manager-plugins sign it (service `ssmmessages`, the `Host` header signed, the
//! payload hash of an empty body; not when the stream URL is already presigned), then the
//! open-data-channel text frame that carries the session token.

use std::time::SystemTime;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
use aws_sigv4::sign::v4;
use futures::SinkExt;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, Uri};

use super::payload::OpenDataChannel;

/// The service name the upgrade is signed for.
const SERVICE: &str = "ssmmessages";

pub(super) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The credentials and region the upgrade is signed with (resolved on every connection, so
/// a resume after a refresh signs with fresh credentials).
#[derive(Clone, Debug)]
pub struct Signing {
    pub credentials: SharedCredentialsProvider,
    pub region: String,
}

/// The headers that sign a GET of `url` at `time`; none for a presigned URL.
pub fn upgrade_headers(
    url: &str,
    credentials: &aws_credential_types::Credentials,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let parsed: Uri = url
        .parse()
        .map_err(|e| format!("the stream URL is not a URL: {e}"))?;
    let presigned = parsed.query().is_some_and(|query| {
        query.split('&').any(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            name.eq_ignore_ascii_case("X-Amz-Signature")
        })
    });
    if presigned {
        return Ok(Vec::new());
    }
    let host = match (parsed.host(), parsed.port_u16()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_owned(),
        (None, _) => return Err("the stream URL names no host".into()),
    };
    let path = parsed.path_and_query().map_or("/", |p| p.as_str());
    signed_headers(&host, path, credentials, region, time)
}

/// The SigV4 headers of `GET https://{host}{path_and_query}` for `ssmmessages`, signed over
/// `Host` and an empty body (the client signs its upgrade with them; the sandbox
/// recomputes them to verify one).
pub fn signed_headers(
    host: &str,
    path_and_query: &str,
    credentials: &aws_credential_types::Credentials,
    region: &str,
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    // Signed as the HTTPS request it is on the wire (the scheme is not part of SigV4).
    let https = format!("https://{host}{path_and_query}");
    let identity = credentials.clone().into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(SERVICE)
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| e.to_string())?
        .into();
    let signable = SignableRequest::new(
        "GET",
        https,
        std::iter::once(("host", host)),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| e.to_string())?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| format!("cannot sign the data channel's upgrade: {e}"))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect())
}

/// Opens the websocket (signed when `signing` is given) and sends the open frame with
/// `token`.
pub(super) async fn connect(
    url: &str,
    token: &str,
    signing: Option<&Signing>,
) -> Result<Socket, String> {
    let failed = |e: &dyn std::fmt::Display| format!("cannot open the session's data channel: {e}");
    let mut request = url.into_client_request().map_err(|e| failed(&e))?;
    if let Some(signing) = signing {
        let credentials = signing
            .credentials
            .provide_credentials()
            .await
            .map_err(|e| failed(&format!("no credentials to sign it with: {e}")))?;
        for (name, value) in upgrade_headers(url, &credentials, &signing.region, SystemTime::now())?
        {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| failed(&e))?;
            let value = HeaderValue::from_str(&value).map_err(|e| failed(&e))?;
            request.headers_mut().insert(name, value);
        }
    }
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .map_err(|e| failed(&refused(e)))?;
    let open = OpenDataChannel {
        message_schema_version: "1.0".into(),
        request_id: uuid::Uuid::new_v4().to_string(),
        token_value: token.to_owned(),
        client_id: uuid::Uuid::new_v4().to_string(),
        client_version: super::client::CLIENT_VERSION.into(),
    };
    let text = serde_json::to_string(&open).map_err(|e| e.to_string())?;
    socket
        .send(Message::Text(text.into()))
        .await
        .map_err(|e| failed(&e))?;
    Ok(socket)
}

/// A refused upgrade, with what to do about it.
fn refused(err: tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    match &err {
        Error::Http(response) if response.status() == 403 => format!(
            "{err} — the upgrade's signature or token was not accepted: check this machine's \
             clock (SigV4 allows minutes, not hours), sign in again if the credentials \
             expired (`breakglass login`), and check the role may use \
             ssmmessages:OpenDataChannel (docs/sessions.md, troubleshooting)"
        ),
        _ => err.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials(token: Option<&str>) -> aws_credential_types::Credentials {
        aws_credential_types::Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(str::to_owned),
            None,
            "test",
        )
    }

    #[test]
    fn the_upgrade_is_signed_for_ssmmessages_over_the_host_header() {
        let at = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600);
        let url = "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/s-1?role=publish_subscribe&cell-number=AAA";
        let headers = upgrade_headers(url, &credentials(Some("tok")), "eu-west-1", at).unwrap();
        let get = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.as_str())
        };
        let auth = get("authorization").expect("signed");
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/eu-west-1/ssmmessages/aws4_request, "
            ),
            "{auth}"
        );
        assert!(
            auth.contains("SignedHeaders=host;x-amz-date;x-amz-security-token"),
            "{auth}"
        );
        assert_eq!(get("x-amz-date"), Some("20260101T000000Z"));
        assert_eq!(get("x-amz-security-token"), Some("tok"));
        // The same request signed again at the same time gives the same signature; another
        // path does not.
        let again = upgrade_headers(url, &credentials(Some("tok")), "eu-west-1", at).unwrap();
        assert_eq!(headers, again);
        let other = upgrade_headers(
            &url.replace("s-1", "s-2"),
            &credentials(Some("tok")),
            "eu-west-1",
            at,
        )
        .unwrap();
        assert_ne!(headers, other);
    }

    #[test]
    fn a_presigned_stream_url_is_not_signed_again() {
        let url = "wss://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/s-1?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc";
        let headers =
            upgrade_headers(url, &credentials(None), "eu-west-1", SystemTime::now()).unwrap();
        assert!(headers.is_empty(), "{headers:?}");
    }
}
