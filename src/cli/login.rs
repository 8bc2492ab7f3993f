//! `breakglass login`, `logout` and `whoami`: signing in through IAM Identity Center with
//! the AWS CLI's conventions, picking the account and role, and showing who you are.

use std::io::{BufRead, IsTerminal, Write};
use std::time::Duration;

use chrono::Utc;

use crate::app::Settings;
use crate::app::{Error, ExitCode, Result};
use crate::cli::args::{LoginArgs, LogoutArgs};
use crate::signin::{self, Method, Prompt, SignInError, SsoConfig, cache, selection};
use crate::text::OutputFormat;

/// The unsigned configuration IAM Identity Center's own calls use (endpoint overrides such
/// as `AWS_ENDPOINT_URL_SSO_OIDC` still apply).
async fn sso_sdk(settings: &Settings, region: &str) -> aws_types::SdkConfig {
    let client = &settings.aws.client;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .no_credentials()
        .region(aws_types::region::Region::new(region.to_owned()))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(client.connect_timeout_secs))
                .operation_attempt_timeout(Duration::from_secs(client.attempt_timeout_secs))
                .build(),
        );
    if let Some(profile) = &settings.aws.profile {
        loader = loader.profile_name(profile);
    }
    loader.load().await
}

async fn sso_config(settings: &Settings, sso_session: Option<&str>) -> Result<SsoConfig> {
    let profile = settings.aws.profile.as_deref();
    signin::profile::resolve(profile, sso_session)
        .await?
        .ok_or_else(|| {
            Error::from(SignInError::Config(format!(
                "profile `{}` does not sign in through IAM Identity Center (no sso_session or \
                 sso_start_url)",
                profile.unwrap_or("default")
            )))
        })
}

fn show(prompt: Prompt) {
    let prompt = &prompt;
    let mut err = std::io::stderr().lock();
    match prompt {
        Prompt::Browser { url, opened } => {
            let _ = if *opened {
                writeln!(
                    err,
                    "Opened your browser to sign in. If it did not open, visit:\n\n  {url}\n"
                )
            } else {
                writeln!(
                    err,
                    "Open this address in a browser on this machine to sign in:\n\n  {url}\n"
                )
            };
        }
        Prompt::Device {
            uri,
            uri_complete,
            user_code,
            opened,
        } => {
            let _ = writeln!(
                err,
                "To sign in, open\n\n  {uri_complete}\n\nor {uri} and enter the code\n\n  {user_code}\n"
            );
            if std::io::stderr().is_terminal()
                && let Some(qr) = signin::qr_code(uri_complete)
            {
                let _ = writeln!(err, "{qr}");
            }
            if *opened {
                let _ = writeln!(err, "(the page was opened in your browser)");
            }
        }
        Prompt::SlowDown { interval } => {
            let _ = writeln!(
                err,
                "asked to poll more slowly: every {}s",
                interval.as_secs()
            );
        }
    }
    if !matches!(prompt, Prompt::SlowDown { .. }) {
        let _ = writeln!(err, "Waiting for approval… (Ctrl-C cancels)");
    }
}

/// `breakglass login`.
pub async fn login(settings: &Settings, args: &LoginArgs) -> Result<ExitCode> {
    let sso = sso_config(settings, args.sso_session.as_deref()).await?;
    let sdk = sso_sdk(settings, &sso.region).await;
    let method = crate::app::sign_in_method(args.use_device_code);
    eprintln!(
        "Signing in to {} ({}) with {}.",
        sso.start_url,
        sso.region,
        match method {
            Method::AuthorizationCode => "your browser",
            Method::DeviceCode => "a device code",
        }
    );
    let token = tokio::select! {
        result = signin::sign_in(&sdk, &sso, method, !args.no_browser, &show) => result?,
        _ = tokio::signal::ctrl_c() => return Err(SignInError::Cancelled.into()),
    };

    let portal = signin::portal::Portal::new(&sdk, &sso.region);
    let login = sso.login_command();
    let account = match args.account.clone().or_else(|| sso.account_id.clone()) {
        Some(account) => account,
        None => {
            let accounts = portal.accounts(&token.access_token, &login).await?;
            let names: Vec<String> = accounts
                .iter()
                .map(|a| format!("{} ({})", a.id, a.name))
                .collect();
            let index = pick("account", &names, "--account ID")?;
            accounts[index].id.clone()
        }
    };
    let role = match args.role.clone().or_else(|| sso.role_name.clone()) {
        Some(role) => role,
        None => {
            let roles = portal.roles(&token.access_token, &account, &login).await?;
            let index = pick("role", &roles, "--role NAME")?;
            roles[index].clone()
        }
    };
    let credentials = portal
        .role_credentials(&token.access_token, &account, &role, &login)
        .await?;
    if sso.account_id.as_deref() != Some(&account) || sso.role_name.as_deref() != Some(&role) {
        selection::set(
            &signin::selection_key(&sso),
            &selection::Selection {
                account_id: account.clone(),
                role_name: role.clone(),
            },
        )?;
    }
    let token_left = token.expiry().map(|at| at - Utc::now());
    let credentials_left = chrono::DateTime::from_timestamp_millis(credentials.expiration_ms)
        .map(|at| at - Utc::now());
    match settings.output {
        OutputFormat::Json => crate::cli::output::print_json(&serde_json::json!({
            "start_url": sso.start_url, "sso_session": sso.session_name, "profile": sso.profile,
            "account_id": account, "role_name": role, "token_expires_at": token.expires_at,
            "credentials_expire_at": chrono::DateTime::from_timestamp_millis(credentials.expiration_ms)
                .map(|t| t.to_rfc3339()),
        }))?,
        OutputFormat::Table => println!(
            "Signed in to {} — account {account}, role {role}.\nSign-in valid for {}; role \
             credentials for {} (renewed automatically).",
            sso.start_url,
            human(token_left),
            human(credentials_left),
        ),
    }
    Ok(ExitCode::Success)
}

/// Asks the user to choose one of `items` (or takes the only one).
fn pick(what: &str, items: &[String], flag: &str) -> Result<usize> {
    match items.len() {
        0 => Err(SignInError::NoSuchRole(format!("no {what} is assigned to you")).into()),
        1 => Ok(0),
        _ if !std::io::stdin().is_terminal() => Err(SignInError::NoSuchRole(format!(
            "choose the {what} with `{flag}`: {}",
            items.join(", ")
        ))
        .into()),
        _ => {
            eprintln!("Choose the {what}:");
            for (i, item) in items.iter().enumerate() {
                eprintln!("  {}) {item}", i + 1);
            }
            let mut line = String::new();
            eprint!("{what} [1-{}]: ", items.len());
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .map_err(|e| SignInError::Service(format!("cannot read the answer: {e}")))?;
            line.trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=items.len()).contains(n))
                .map(|n| n - 1)
                .ok_or_else(|| {
                    SignInError::NoSuchRole(format!("`{}` is not one of the choices", line.trim()))
                        .into()
                })
        }
    }
}

/// `1h 05m`, `12m`, or `expired`.
pub fn human(left: Option<chrono::Duration>) -> String {
    match left {
        None => "unknown".into(),
        Some(d) if d.num_seconds() <= 0 => "expired".into(),
        Some(d) if d.num_hours() > 0 => format!("{}h {:02}m", d.num_hours(), d.num_minutes() % 60),
        Some(d) if d.num_minutes() > 0 => format!("{}m", d.num_minutes()),
        Some(d) => format!("{}s", d.num_seconds()),
    }
}

/// `breakglass logout`.
pub async fn logout(settings: &Settings, args: &LogoutArgs) -> Result<ExitCode> {
    let sso = sso_config(settings, args.sso_session.as_deref()).await?;
    let sdk = sso_sdk(settings, &sso.region).await;
    let path = cache::token_path(sso.cache_key())?;
    let source = signin::TokenSource::new(sso.clone(), sdk.clone());
    if let Some(token) = source.cached()? {
        let portal = signin::portal::Portal::new(&sdk, &sso.region);
        // An already expired or revoked token cannot sign out: removing it is what counts.
        if let Err(err) = portal.logout(&token.access_token).await
            && !matches!(err, SignInError::NotSignedIn { .. })
        {
            eprintln!("warning: IAM Identity Center did not confirm the sign-out: {err}");
        }
    }
    let removed = cache::remove(&path)?;
    println!(
        "{} {} ({}).",
        if removed {
            "Signed out of"
        } else {
            "Not signed in to"
        },
        sso.start_url,
        path.display()
    );
    Ok(ExitCode::Success)
}

/// `breakglass whoami`.
pub async fn whoami(settings: &Settings) -> Result<ExitCode> {
    let ctx = settings.aws_context().await?;
    let region = ctx
        .default_region()
        .or_else(|| settings.config.config.regions.first().cloned())
        .unwrap_or_else(|| "us-east-1".into());
    use crate::aws::StsApi;
    let identity = ctx.sts(&region).get_caller_identity().await?;
    let alias = ctx.iam(&region).account_alias().await;
    let credentials_left = match ctx.sdk_config().credentials_provider() {
        Some(provider) => {
            use aws_credential_types::provider::ProvideCredentials;
            provider
                .provide_credentials()
                .await
                .ok()
                .and_then(|c| c.expiry())
                .map(|at| chrono::DateTime::<Utc>::from(at) - Utc::now())
        }
        None => None,
    };
    let sso = signin::resolve_role(settings.aws.profile.as_deref())
        .await
        .ok()
        .flatten();
    let token = match &sso {
        Some(role) => signin::TokenSource::new(role.config.clone(), ctx.sdk_config().clone())
            .cached()
            .ok()
            .flatten(),
        None => None,
    };
    let token_left = token
        .as_ref()
        .and_then(|t| t.expiry())
        .map(|at| at - Utc::now());
    // For IAM Identity Center roles the session name is the user's name.
    let user = identity.arn.contains(":assumed-role/").then(|| {
        identity
            .arn
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .to_owned()
    });
    match settings.output {
        OutputFormat::Json => crate::cli::output::print_json(&serde_json::json!({
            "account": identity.account, "account_alias": alias, "arn": identity.arn,
            "user": user, "sso_start_url": sso.as_ref().map(|r| r.config.start_url.clone()),
            "token_seconds_left": token_left.map(|d| d.num_seconds()),
            "credentials_seconds_left": credentials_left.map(|d| d.num_seconds()),
        }))?,
        OutputFormat::Table => {
            println!(
                "account      {}{}",
                identity.account,
                alias.map(|a| format!(" ({a})")).unwrap_or_default()
            );
            println!("identity     {}", identity.arn);
            if let Some(user) = user {
                println!("user         {user}");
            }
            if let Some(role) = &sso {
                println!(
                    "sign-in      {} — {} left",
                    role.config.start_url,
                    human(token_left)
                );
            }
            println!("credentials  {} left", human(credentials_left));
        }
    }
    Ok(ExitCode::Success)
}
