//! `breakglass demo`: the local game-day sandbox (emulated AWS plus a seeded X-Road estate).

use super::args::DemoArgs;
use super::list::render_table;
use crate::app::Settings;
use crate::app::{Error, ExitCode, Result};
use crate::aws::{AwsContext, SandboxEndpoint};
use crate::cli::output::print_stdout;
use crate::inventory::{Selection, TagFilter, discover};
use crate::sandbox::{
    ADMIN_UI_PORT, AdminUi, MotoServer, SANDBOX_ACCOUNT, Seeder, Simulator, seed_evidence,
    seed_instance_role,
};
use crate::signin::{self, Method, Prompt, SsoConfig, SsoRole};
use crate::text::error_chain;
use crate::text::terminal_width;

const REGION: &str = "eu-west-1";
/// The emulator accepts any key; these are not secrets.
const ACCESS_KEY: &str = "sandbox";
const SECRET_KEY: &str = "sandbox-not-a-secret";
/// The sandbox's IAM Identity Center, as an AWS CLI `sso-session` and profile. The session
/// name is unlikely to clash with a real one; its cached token is removed on exit.
const SSO_SESSION: &str = "breakglass-game-day-sandbox";
const SSO_START_URL: &str = "https://sandbox.awsapps.com/start";
const PROFILE: &str = "sandbox";
const ROLE: &str = "IncidentResponder";

/// The sign-in settings of the sandbox.
fn sandbox_sso() -> SsoConfig {
    SsoConfig {
        session_name: Some(SSO_SESSION.into()),
        start_url: SSO_START_URL.into(),
        region: REGION.into(),
        scopes: vec![signin::profile::DEFAULT_SCOPE.into()],
        account_id: Some(SANDBOX_ACCOUNT.into()),
        role_name: Some(ROLE.into()),
        profile: Some(PROFILE.into()),
    }
}

/// The AWS config file the sandbox's profile lives in (never the user's own).
fn aws_config_text() -> String {
    format!(
        "# GAME DAY / SANDBOX: written by `breakglass demo`, removed when it stops.\n\
         [sso-session {SSO_SESSION}]\nsso_start_url = {SSO_START_URL}\nsso_region = {REGION}\n\
         sso_registration_scopes = {}\n\n[profile {PROFILE}]\nsso_session = {SSO_SESSION}\n\
         sso_account_id = {SANDBOX_ACCOUNT}\nsso_role_name = {ROLE}\nregion = {REGION}\n",
        signin::profile::DEFAULT_SCOPE
    )
}

pub async fn run(settings: &Settings, args: &DemoArgs) -> Result<ExitCode> {
    eprintln!("== GAME DAY / SANDBOX: nothing here touches a real AWS account ==");
    let moto = tokio::task::spawn_blocking(|| MotoServer::start(&|msg| eprintln!("{msg}")))
        .await
        .map_err(|e| Error::Sandbox(e.to_string()))?
        .map_err(|e| Error::Sandbox(error_chain(&e)))?;
    // The simulator answers what moto lacks and forwards the rest: one endpoint for all.
    let simulator = Simulator::start(&moto.endpoint())
        .await
        .map_err(|e| Error::Sandbox(format!("cannot start the simulator: {e}")))?;
    // The seeding keys are placeholders, not secrets; sessions opened with them (as the
    // interoperability check does) sign their upgrade with them.
    simulator.trust_keys([(ACCESS_KEY.to_owned(), SECRET_KEY.to_owned())]);
    // Every sandbox server's port 4000 answers with a stand-in admin UI page.
    let admin_ui = AdminUi::start()
        .await
        .map_err(|e| Error::Sandbox(format!("cannot start the stand-in admin UI: {e}")))?;
    simulator.serve_port(ADMIN_UI_PORT, admin_ui.address());
    eprintln!(
        "emulator: moto at {} (pid {}); simulator at {}",
        moto.endpoint(),
        moto.pid(),
        simulator.endpoint()
    );
    let mut aws = settings.aws.clone();
    aws.profile = None;
    aws.sandbox = Some(SandboxEndpoint {
        endpoint_url: simulator.endpoint(),
        region: REGION.into(),
        access_key_id: ACCESS_KEY.into(),
        secret_access_key: SECRET_KEY.into(),
    });
    let ctx = AwsContext::load(&aws).await;
    let estate = Seeder::new(&ctx, REGION).xroad_estate().await?;
    // Snapshots complete and targets drain after a while, as in AWS.
    simulator.set_timing(
        std::time::Duration::from_secs(8),
        std::time::Duration::from_secs(10),
    );
    // A new security group is unseen for a moment, as EC2's eventual consistency has it.
    simulator.set_new_group_delay(std::time::Duration::from_secs(1));
    // Standby, detaching and coming back take a moment, as in AWS.
    simulator.set_lifecycle_transition(std::time::Duration::from_secs(2));
    let config = simulator.sandbox_dir().join("breakglass.toml");
    let text = seed_evidence(&ctx, REGION).await?;
    let production: Vec<String> = estate
        .servers
        .iter()
        .filter(|(name, _)| name.starts_with("ss-prod"))
        .map(|(_, id)| id.clone())
        .collect();
    seed_instance_role(&ctx, REGION, &production).await?;
    std::fs::write(&config, text)
        .map_err(|e| Error::Sandbox(format!("cannot write {}: {e}", config.display())))?;
    simulator.manage(estate.agents());
    eprintln!(
        "seeded {} Security Servers in {} (VPC {}), Auto Scaling group {}",
        estate.servers.len(),
        estate.region,
        estate.network.vpc_id,
        estate.auto_scaling_group
    );
    // Sign in as a responder would: the simulated IAM Identity Center's device flow
    // (approved automatically here), then the role's credentials for everything else.
    let aws_config = simulator.sandbox_dir().join("aws-config");
    std::fs::write(&aws_config, aws_config_text())
        .map_err(|e| Error::Sandbox(format!("cannot write {}: {e}", aws_config.display())))?;
    simulator.auto_approve_sign_in(true);
    let sso = sandbox_sso();
    let show = |prompt: Prompt| {
        if let Prompt::Device { user_code, .. } = prompt {
            eprintln!(
                "signing in to the sandbox's IAM Identity Center (code {user_code}, approved automatically)"
            );
        }
    };
    let signed_in = signin::sign_in(ctx.sdk_config(), &sso, Method::DeviceCode, false, &show).await;
    let result = match signed_in {
        Ok(_) => signed_in_demo(settings, args, &simulator, &config, &aws_config).await,
        Err(err) => Err(err.into()),
    };
    // The sandbox's token and client registrations leave the shared cache with it.
    let _ = signin::forget(&sso);
    drop(simulator);
    drop(admin_ui);
    drop(moto);
    result
}

/// The part of the demo that runs signed in.
async fn signed_in_demo(
    settings: &Settings,
    args: &DemoArgs,
    simulator: &Simulator,
    config: &std::path::Path,
    aws_config: &std::path::Path,
) -> Result<ExitCode> {
    let mut aws = settings.aws.clone();
    aws.profile = None;
    aws.sandbox = Some(SandboxEndpoint {
        endpoint_url: simulator.endpoint(),
        region: REGION.into(),
        access_key_id: ACCESS_KEY.into(),
        secret_access_key: SECRET_KEY.into(),
    });
    let role = SsoRole {
        config: sandbox_sso(),
        account_id: SANDBOX_ACCOUNT.into(),
        role_name: ROLE.into(),
    };
    let ctx = role.context(AwsContext::load(&aws).await);
    let caller = {
        use crate::aws::StsApi;
        ctx.sts(REGION).get_caller_identity().await?
    };
    eprintln!("signed in: {}", caller.arn);
    let selection = match TagFilter::parse(crate::config::DEFAULT_FILTER) {
        Ok(filter) => Selection::Filters(vec![filter]),
        Err(_) => Selection::All,
    };
    let inventory = discover(&ctx, &[REGION.to_owned()], &selection).await?;
    print_stdout(&render_table(&inventory, terminal_width()))?;
    let env = format!(
        "AWS_ENDPOINT_URL={} AWS_REGION={REGION} AWS_CONFIG_FILE={} AWS_PROFILE={PROFILE} \
         BREAKGLASS_CONFIG={}",
        simulator.endpoint(),
        aws_config.display(),
        config.display()
    );
    if args.seed_only {
        // A reader that went away must not stop the sandbox: the output is best effort.
        let _ = print_stdout(&format!(
            "\nThe sandbox is running. In another terminal:\n\n  export {env}\n  breakglass list\n  \
             breakglass forward ss-prod-1 4000 14000   # a stand-in admin UI: http://127.0.0.1:14000/\n\n\
             Press Ctrl-C to stop it.\n"
        ));
        wait_for_stop().await;
        eprintln!("stopping the sandbox");
    } else {
        eprintln!(
            "\nRun `breakglass demo --seed-only` to keep the sandbox running and use the CLI \
             against it."
        );
    }
    Ok(ExitCode::Success)
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
