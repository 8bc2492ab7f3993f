//! HTTP side of the sandbox's IAM Identity Center: the OIDC and portal paths the SDK calls,
//! and the approval pages a responder's browser opens (`/sim-sso/device`,
//! `/sim-sso/authorize`).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Response, StatusCode, header};
use serde_json::{Value, json};

use super::request::form_field;
use super::server::App;
use super::sso;

/// Whether the request is one of the sign-in paths.
pub fn is_sso(path: &str) -> bool {
    matches!(
        path,
        "/client/register" | "/device_authorization" | "/token" | "/logout"
    ) || path.starts_with("/assignment/")
        || path == "/federation/credentials"
        || path.starts_with("/sim-sso/")
        || path == "/authorize"
}

fn json_reply(status: u16, kind: Option<&str>, body: Value) -> Response<Body> {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    headers.insert("x-amzn-RequestId", HeaderValue::from_static("sandbox-sso"));
    if let Some(kind) = kind.and_then(|k| HeaderValue::from_str(k).ok()) {
        headers.insert("x-amzn-ErrorType", kind);
    }
    response
}

fn page(body: String) -> Response<Body> {
    let mut response = Response::new(Body::from(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>breakglass sandbox sign-in</title>\
         </head><body><p><strong>GAME DAY / SANDBOX</strong> — simulated IAM Identity Center.</p>\
         {body}</body></html>"
    )));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Answers a sign-in request.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();
    let bearer = request
        .headers()
        .get("x-amz-sso_bearer_token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let bytes = axum::body::to_bytes(request.into_body(), 1 << 20)
        .await
        .unwrap_or_default();
    let form = String::from_utf8_lossy(&bytes).into_owned();
    let unauthorized = || {
        json_reply(
            401,
            Some("UnauthorizedException"),
            json!({ "message": "the session token is not valid (signed out or expired)" }),
        )
    };
    let lock = || app.state.lock().unwrap_or_else(|p| p.into_inner());
    match (method.as_str(), path.as_str()) {
        ("POST", "/client/register" | "/device_authorization" | "/token") => {
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            match lock().sso.oidc(&path, &body, &app.endpoint) {
                Some((status, kind, body)) => json_reply(status, kind, body),
                None => json_reply(404, None, json!({})),
            }
        }
        ("GET", "/assignment/accounts") => match lock().sso.user(bearer.as_deref()) {
            Some(_) => json_reply(200, None, sso::accounts()),
            None => unauthorized(),
        },
        ("GET", "/assignment/roles") => match lock().sso.user(bearer.as_deref()) {
            Some(_) => json_reply(
                200,
                None,
                sso::roles(&form_field(&query, "account_id").unwrap_or_default()),
            ),
            None => unauthorized(),
        },
        ("GET", "/federation/credentials") => {
            let user = lock().sso.user(bearer.as_deref()).map(str::to_owned);
            let Some(user) = user else {
                return unauthorized();
            };
            let role = form_field(&query, "role_name").unwrap_or_default();
            let account = form_field(&query, "account_id").unwrap_or_default();
            if account != sso::ACCOUNT_ID || !sso::ROLES.contains(&role.as_str()) {
                return json_reply(
                    403,
                    Some("ForbiddenException"),
                    json!({ "message": "no such role assignment" }),
                );
            }
            match mint(app, &account, &role, &user).await {
                Some(credentials) => json_reply(200, None, credentials),
                None => json_reply(
                    500,
                    None,
                    json!({ "message": "the emulator's STS did not answer" }),
                ),
            }
        }
        ("POST", "/logout") => {
            lock().sso.logout(bearer.as_deref());
            json_reply(200, None, json!({}))
        }
        ("GET", "/sim-sso/device") => {
            let code = escape(&form_field(&query, "user_code").unwrap_or_default());
            page(format!(
                "<form method=\"post\"><label>Code <input name=\"user_code\" value=\"{code}\"></label>\
                 <button name=\"decision\" value=\"approve\">Allow</button>\
                 <button name=\"decision\" value=\"deny\">Deny</button></form>"
            ))
        }
        ("POST", "/sim-sso/device") => {
            let code = form_field(&form, "user_code").unwrap_or_default();
            let approve = form_field(&form, "decision").as_deref() != Some("deny");
            if lock().sso.decide(&code, approve) {
                page(format!(
                    "<p>{} — you can close this window.</p>",
                    if approve { "Allowed" } else { "Denied" }
                ))
            } else {
                page("<p>Unknown or expired code.</p>".into())
            }
        }
        ("GET", "/sim-sso/authorize" | "/authorize") => page(format!(
            "<form method=\"post\"><input type=\"hidden\" name=\"q\" value=\"{}\">\
             <button>Allow breakglass</button></form>",
            escape(&query)
        )),
        ("POST", "/sim-sso/authorize" | "/authorize") => {
            let original = form_field(&form, "q").unwrap_or_default();
            let client = form_field(&original, "client_id").unwrap_or_default();
            let redirect = form_field(&original, "redirect_uri").unwrap_or_default();
            let challenge = form_field(&original, "code_challenge").unwrap_or_default();
            let state = form_field(&original, "state").unwrap_or_default();
            let code = lock().sso.authorize(&client, &redirect, &challenge);
            match code {
                Some(code)
                    if redirect.starts_with("http://127.0.0.1")
                        || redirect.starts_with("http://localhost") =>
                {
                    let target = format!(
                        "{redirect}?code={code}&state={}",
                        percent_encoding::utf8_percent_encode(
                            &state,
                            percent_encoding::NON_ALPHANUMERIC
                        )
                    );
                    let mut response = Response::new(Body::empty());
                    *response.status_mut() = StatusCode::FOUND;
                    if let Ok(location) = HeaderValue::from_str(&target) {
                        response.headers_mut().insert(header::LOCATION, location);
                    }
                    response
                }
                _ => page(
                    "<p>Unknown client, or a redirect that is not a loopback address.</p>".into(),
                ),
            }
        }
        _ => json_reply(
            404,
            None,
            json!({ "message": format!("no such sign-in path: {method} {path}") }),
        ),
    }
}

/// Real temporary credentials for the role, from moto's STS (it checks no signature, only
/// reads the credential scope).
async fn mint(app: &App, account: &str, role: &str, user: &str) -> Option<Value> {
    let body = format!(
        "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A{account}%3Arole%2F{role}\
         &RoleSessionName={user}"
    );
    let request = super::request::to_moto(&app.moto, ("sandbox", "us-east-1", "sts"))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .ok()?;
    let response = app.client.request(request).await.ok()?;
    let bytes = http_body_util::BodyExt::collect(response.into_body())
        .await
        .ok()?
        .to_bytes();
    let lifetime = app
        .state
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .sso
        .knobs
        .credentials_seconds
        .unwrap_or(3600);
    let credentials = sso::role_credentials(&String::from_utf8_lossy(&bytes), lifetime)?;
    let secrets = ["secretAccessKey", "sessionToken"].map(|field| {
        credentials["roleCredentials"][field]
            .as_str()
            .map(str::to_owned)
    });
    let mut state = app.state.lock().unwrap_or_else(|p| p.into_inner());
    let role = &credentials["roleCredentials"];
    if let (Some(id), Some(secret)) = (role["accessKeyId"].as_str(), &secrets[0]) {
        state.signing_keys.insert(id.to_owned(), secret.clone());
    }
    state.issued.extend(secrets.into_iter().flatten());
    Some(credentials)
}
