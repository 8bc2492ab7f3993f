//! IAM Identity Center in the sandbox: the OIDC service (RegisterClient, the device
//! authorization grant with pending / slow-down / expired answers, authorization code with
//! PKCE, refresh tokens) with a local approval page, and the SSO portal (ListAccounts,
//! ListAccountRoles, GetRoleCredentials — real credentials minted by moto's STS —, Logout).
//! These APIs are not SigV4-signed; they are recognised by their paths.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The account and roles the sandbox offers.
pub const ACCOUNT_ID: &str = "123456789012";
pub const ACCOUNT_NAME: &str = "xroad-sandbox";
pub const ROLES: &[&str] = &["IncidentResponder", "ReadOnly"];
/// How long a device code lives, and the polling interval asked of clients.
const DEVICE_CODE_LIFETIME: Duration = Duration::from_secs(600);
const INTERVAL: Duration = Duration::from_secs(1);
const TOKEN_LIFETIME: u64 = 3600;

#[derive(Debug)]
struct Device {
    client_id: String,
    user_code: String,
    issued: Instant,
    last_poll: Option<Instant>,
    approved: bool,
    denied: bool,
}

#[derive(Debug)]
struct AuthCode {
    client_id: String,
    challenge: String,
    redirect_uri: String,
}

/// The sign-in state of the sandbox.
#[derive(Debug, Default)]
pub struct SsoState {
    clients: BTreeMap<String, String>,
    devices: BTreeMap<String, Device>,
    codes: BTreeMap<String, AuthCode>,
    /// Access token → user name.
    tokens: BTreeMap<String, String>,
    refresh: BTreeMap<String, String>,
    /// Approve every device request without the page (scripted drills and tests).
    pub auto_approve: bool,
    /// Drill and test knobs (`/sim-api/sso`).
    pub knobs: Knobs,
}

/// Lifetimes and misbehaviour of the sandbox's IAM Identity Center, for drills and tests.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct Knobs {
    /// How long a device code lives (600 s when unset).
    pub device_code_seconds: Option<u64>,
    /// How long access tokens live (3600 s when unset).
    pub token_seconds: Option<u64>,
    /// How long role credentials live (3600 s when unset).
    pub credentials_seconds: Option<i64>,
    /// Refuse refresh tokens (as after an administrator revoked the session).
    pub refuse_refresh: bool,
    /// Answer this many token polls with `slow_down`.
    pub slow_down: u32,
}

/// `(status, error type, body)`.
pub type Answer = (u16, Option<&'static str>, Value);

fn oidc_error(status: u16, kind: &'static str, error: &str, description: &str) -> Answer {
    (
        status,
        Some(kind),
        json!({ "error": error, "error_description": description }),
    )
}

fn token() -> String {
    format!("sandbox-{}", uuid::Uuid::now_v7().simple())
}

/// The base64url (no padding) SHA-256 of a PKCE verifier.
pub fn challenge_of(verifier: &str) -> String {
    aws_smithy_types::base64::encode(Sha256::digest(verifier.as_bytes()))
        .replace('+', "-")
        .replace('/', "_")
        .trim_end_matches('=')
        .to_owned()
}

impl SsoState {
    /// Every secret handed out so far (client secrets, device and authorization codes,
    /// access and refresh tokens), for tests that scan artifacts for leaks.
    pub fn secrets(&self) -> impl Iterator<Item = &String> {
        self.clients
            .values()
            .chain(self.devices.keys())
            .chain(self.codes.keys())
            .chain(self.tokens.keys())
            .chain(self.refresh.keys())
    }

    /// The OIDC operations; `None` when `path` is not one.
    pub fn oidc(&mut self, path: &str, body: &Value, endpoint: &str) -> Option<Answer> {
        Some(match path {
            "/client/register" => {
                let (id, secret) = (token(), token());
                self.clients.insert(id.clone(), secret.clone());
                (
                    200,
                    None,
                    json!({
                        "clientId": id, "clientSecret": secret,
                        "clientIdIssuedAt": chrono::Utc::now().timestamp(),
                        "clientSecretExpiresAt": chrono::Utc::now().timestamp() + 90 * 86400,
                        "authorizationEndpoint": format!("{endpoint}/sim-sso/authorize"),
                        "tokenEndpoint": format!("{endpoint}/token"),
                    }),
                )
            }
            "/device_authorization" => {
                let client = body["clientId"].as_str().unwrap_or_default();
                if !self.clients.contains_key(client) {
                    return Some(oidc_error(
                        400,
                        "InvalidClientException",
                        "invalid_client",
                        "unknown client",
                    ));
                }
                let device_code = token();
                let user_code = format!(
                    "SBOX-{}",
                    &uuid::Uuid::now_v7().simple().to_string()[24..28]
                )
                .to_uppercase();
                self.devices.insert(
                    device_code.clone(),
                    Device {
                        client_id: client.to_owned(),
                        user_code: user_code.clone(),
                        issued: Instant::now(),
                        last_poll: None,
                        approved: self.auto_approve,
                        denied: false,
                    },
                );
                (
                    200,
                    None,
                    json!({
                        "deviceCode": device_code, "userCode": user_code,
                        "verificationUri": format!("{endpoint}/sim-sso/device"),
                        "verificationUriComplete": format!("{endpoint}/sim-sso/device?user_code={user_code}"),
                        "expiresIn": self.knobs.device_code_seconds.unwrap_or(DEVICE_CODE_LIFETIME.as_secs()),
                        "interval": INTERVAL.as_secs(),
                    }),
                )
            }
            "/token" => self.create_token(body),
            _ => return None,
        })
    }

    fn issue(&mut self, user: &str) -> Answer {
        let (access, refresh) = (token(), token());
        self.tokens.insert(access.clone(), user.to_owned());
        self.refresh.insert(refresh.clone(), user.to_owned());
        (
            200,
            None,
            json!({
                "accessToken": access, "tokenType": "Bearer",
                "expiresIn": self.knobs.token_seconds.unwrap_or(TOKEN_LIFETIME),
                "refreshToken": refresh,
            }),
        )
    }

    fn create_token(&mut self, body: &Value) -> Answer {
        let client = body["clientId"].as_str().unwrap_or_default();
        let secret = body["clientSecret"].as_str().unwrap_or_default();
        if self.clients.get(client).map(String::as_str) != Some(secret) {
            return oidc_error(
                400,
                "InvalidClientException",
                "invalid_client",
                "unknown client or secret",
            );
        }
        match body["grantType"].as_str().unwrap_or_default() {
            "urn:ietf:params:oauth:grant-type:device_code" => {
                let code = body["deviceCode"].as_str().unwrap_or_default();
                let Some(device) = self.devices.get_mut(code).filter(|d| d.client_id == client)
                else {
                    return oidc_error(
                        400,
                        "InvalidGrantException",
                        "invalid_grant",
                        "unknown device code",
                    );
                };
                let now = Instant::now();
                let lifetime = self
                    .knobs
                    .device_code_seconds
                    .map_or(DEVICE_CODE_LIFETIME, Duration::from_secs);
                if now.duration_since(device.issued) > lifetime {
                    return oidc_error(
                        400,
                        "ExpiredTokenException",
                        "expired_token",
                        "the device code expired",
                    );
                }
                if device.denied {
                    return oidc_error(
                        400,
                        "AccessDeniedException",
                        "access_denied",
                        "the user denied the request",
                    );
                }
                let too_fast = device
                    .last_poll
                    .is_some_and(|t| now.duration_since(t) < INTERVAL / 2);
                device.last_poll = Some(now);
                if too_fast || self.knobs.slow_down > 0 {
                    self.knobs.slow_down = self.knobs.slow_down.saturating_sub(1);
                    return oidc_error(400, "SlowDownException", "slow_down", "polling too fast");
                }
                if !device.approved {
                    return oidc_error(
                        400,
                        "AuthorizationPendingException",
                        "authorization_pending",
                        "waiting for the user",
                    );
                }
                self.devices.remove(code);
                self.issue("sandbox-responder")
            }
            "authorization_code" => {
                let code = body["code"].as_str().unwrap_or_default();
                let verifier = body["codeVerifier"].as_str().unwrap_or_default();
                let redirect = body["redirectUri"].as_str().unwrap_or_default();
                match self.codes.remove(code) {
                    Some(c)
                        if c.client_id == client
                            && c.redirect_uri == redirect
                            && c.challenge == challenge_of(verifier) =>
                    {
                        self.issue("sandbox-responder")
                    }
                    _ => oidc_error(
                        400,
                        "InvalidGrantException",
                        "invalid_grant",
                        "bad code, redirect URI or PKCE verifier",
                    ),
                }
            }
            "refresh_token" => {
                let refresh = body["refreshToken"].as_str().unwrap_or_default();
                let known = self.refresh.remove(refresh);
                match known.filter(|_| !self.knobs.refuse_refresh) {
                    Some(user) => self.issue(&user),
                    None => oidc_error(
                        400,
                        "InvalidGrantException",
                        "invalid_grant",
                        "unknown refresh token",
                    ),
                }
            }
            other => oidc_error(
                400,
                "UnsupportedGrantTypeException",
                "unsupported_grant_type",
                other,
            ),
        }
    }

    /// The user of a valid access token.
    pub fn user(&self, token: Option<&str>) -> Option<&str> {
        self.tokens.get(token?).map(String::as_str)
    }

    pub fn logout(&mut self, token: Option<&str>) {
        if let Some(token) = token {
            self.tokens.remove(token);
        }
    }

    /// The user codes of device requests nobody has decided on yet.
    pub fn pending_user_codes(&self) -> Vec<String> {
        self.devices
            .values()
            .filter(|d| !d.approved && !d.denied)
            .map(|d| d.user_code.clone())
            .collect()
    }

    /// The approval page's action: approve (or deny) the device request with `user_code`.
    pub fn decide(&mut self, user_code: &str, approve: bool) -> bool {
        match self
            .devices
            .values_mut()
            .find(|d| d.user_code.eq_ignore_ascii_case(user_code))
        {
            Some(device) => {
                device.approved = approve;
                device.denied = !approve;
                true
            }
            None => false,
        }
    }

    /// The authorize page's action (PKCE): a code for the redirect.
    pub fn authorize(
        &mut self,
        client_id: &str,
        redirect_uri: &str,
        challenge: &str,
    ) -> Option<String> {
        if !self.clients.contains_key(client_id) {
            return None;
        }
        let code = token();
        self.codes.insert(
            code.clone(),
            AuthCode {
                client_id: client_id.to_owned(),
                challenge: challenge.to_owned(),
                redirect_uri: redirect_uri.to_owned(),
            },
        );
        Some(code)
    }
}

/// The portal's account and role lists.
pub fn accounts() -> Value {
    json!({ "accountList": [{ "accountId": ACCOUNT_ID, "accountName": ACCOUNT_NAME,
                              "emailAddress": "sandbox@example.invalid" }] })
}

pub fn roles(account: &str) -> Value {
    let list: Vec<Value> = if account == ACCOUNT_ID {
        ROLES
            .iter()
            .map(|r| json!({ "roleName": r, "accountId": ACCOUNT_ID }))
            .collect()
    } else {
        Vec::new()
    };
    json!({ "roleList": list })
}

/// The fields of moto's `AssumeRole` answer, as the portal returns them.
pub fn role_credentials(assume_role_xml: &str, lifetime_seconds: i64) -> Option<Value> {
    let get = |tag: &str| {
        assume_role_xml
            .split(&format!("<{tag}>"))
            .nth(1)?
            .split(&format!("</{tag}>"))
            .next()
            .map(str::to_owned)
    };
    Some(json!({ "roleCredentials": {
        "accessKeyId": get("AccessKeyId")?,
        "secretAccessKey": get("SecretAccessKey")?,
        "sessionToken": get("SessionToken")?,
        "expiration": (chrono::Utc::now().timestamp() + lifetime_seconds) * 1000,
    } }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_flow_answers_pending_slow_down_then_a_token() {
        let mut sso = SsoState::default();
        let (_, _, client) = sso
            .oidc("/client/register", &json!({}), "http://sim")
            .unwrap();
        let auth =
            json!({ "clientId": client["clientId"], "clientSecret": client["clientSecret"] });
        let (_, _, device) = sso
            .oidc("/device_authorization", &auth, "http://sim")
            .unwrap();
        let mut poll = auth.clone();
        poll["grantType"] = "urn:ietf:params:oauth:grant-type:device_code".into();
        poll["deviceCode"] = device["deviceCode"].clone();
        assert_eq!(
            sso.oidc("/token", &poll, "").unwrap().1,
            Some("AuthorizationPendingException")
        );
        assert_eq!(
            sso.oidc("/token", &poll, "").unwrap().1,
            Some("SlowDownException")
        );
        assert!(sso.decide(device["userCode"].as_str().unwrap(), true));
        std::thread::sleep(INTERVAL);
        let (status, kind, token) = sso.oidc("/token", &poll, "").unwrap();
        assert_eq!((status, kind), (200, None));
        assert!(sso.user(token["accessToken"].as_str()).is_some());
        assert_eq!(
            challenge_of("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
