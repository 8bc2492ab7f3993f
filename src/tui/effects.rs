//! Running [`Effect`]s: each is a spawned task with its own copies of what it needs, whose
//! owned result comes back to the event loop as an [`Action`]. All AWS work of the TUI is
//! here, through the same library functions as the CLI.

use tokio::sync::mpsc::UnboundedSender;
use tokio_util::sync::CancellationToken;

use super::action::{Action, AuditRun, AuditSummary, Finished, Identity, Outcome};
use super::app::Effect;
use crate::app::{Error, RunRequest, Settings, perform};
use crate::aws::{AwsContext, StsApi, home_region};
use crate::inventory::discover;
use crate::playbook::{ExecOptions, Plan, resolve_parameters};
use crate::signin::{Prompt, SsoConfig};

use super::signin::SignInResult;

pub struct Runner {
    pub settings: Settings,
    pub ctx: AwsContext,
    pub regions: Vec<String>,
    pub actions: UnboundedSender<Action>,
    /// The profile's IAM Identity Center settings, when it signs in that way.
    pub sso: Option<SsoConfig>,
    /// The running playbook's stop switch.
    cancel: Option<CancellationToken>,
    /// The sign-in in progress (aborted by Esc).
    sign_in: Option<tokio::task::JoinHandle<()>>,
}

impl Runner {
    pub fn new(
        settings: Settings,
        ctx: AwsContext,
        regions: Vec<String>,
        actions: UnboundedSender<Action>,
    ) -> Runner {
        Runner {
            settings,
            ctx,
            regions,
            actions,
            sso: None,
            cancel: None,
            sign_in: None,
        }
    }

    pub fn run(&mut self, effect: Effect) {
        let tx = self.actions.clone();
        let settings = self.settings.clone();
        let ctx = self.ctx.clone();
        let regions = self.regions.clone();
        match effect {
            Effect::LoadInventory => {
                tokio::spawn(async move {
                    let selection = settings.selection(false, &[]);
                    let result = match selection {
                        Ok(selection) => discover(&ctx, &regions, &selection)
                            .await
                            .map_err(Error::from),
                        Err(e) => Err(e),
                    };
                    if let (Ok(inventory), Some(path)) =
                        (&result, settings.inventory_cache(&regions))
                    {
                        let inventory = inventory.clone();
                        // Only a convenience for the next start: a failure is logged, not shown.
                        drop(tokio::task::spawn_blocking(move || {
                            if let Err(err) = crate::inventory::cache::save(&path, &inventory) {
                                tracing::warn!(
                                    "cannot cache the inventory in {}: {err}",
                                    path.display()
                                );
                            }
                        }));
                    }
                    let _ = tx.send(Action::InventoryLoaded(result));
                });
            }
            Effect::LoadIdentity => {
                tokio::spawn(async move {
                    let _ = tx.send(Action::IdentityLoaded(identity(&ctx, &regions).await));
                });
            }
            Effect::LoadAudit => {
                // The log can be large: read and verify it off the event loop.
                tokio::task::spawn_blocking(move || {
                    let _ = tx.send(Action::AuditLoaded(audit(&settings)));
                });
            }
            Effect::Plan {
                playbook,
                targets,
                dry_run,
                incident,
            } => {
                tokio::spawn(async move {
                    let result = make_plan(
                        &settings, &ctx, &regions, &playbook, &targets, dry_run, incident,
                    )
                    .await
                    .map(Box::new);
                    let _ = tx.send(Action::Planned(result));
                });
            }
            Effect::Execute(plan) => {
                let cancel = CancellationToken::new();
                self.cancel = Some(cancel.clone());
                // The executor's future borrows across awaits in ways that are not `Send`
                // for every lifetime; it runs on a blocking thread of its own instead.
                let handle = tokio::runtime::Handle::current();
                tokio::task::spawn_blocking(move || {
                    let result =
                        handle.block_on(execute(&settings, &ctx, &plan, cancel, tx.clone()));
                    let _ = tx.send(Action::RunFinished(result));
                });
            }
            Effect::Interrupt => {
                if let Some(cancel) = &self.cancel {
                    cancel.cancel();
                }
            }
            // The terminal hand-over is the event loop's (it owns the terminal).
            Effect::Session(_) => {}
            Effect::SignIn { device_code } => {
                let Some(sso) = self.sso.clone() else {
                    return;
                };
                let method = crate::app::sign_in_method(device_code);
                self.sign_in = Some(tokio::spawn(async move {
                    let prompts = tx.clone();
                    let prompt = move |p: Prompt| {
                        let _ = prompts.send(Action::SignIn(SignInResult::Prompt(p)));
                    };
                    let result =
                        crate::signin::sign_in(ctx.sdk_config(), &sso, method, true, &prompt)
                            .await
                            .map(|_| ())
                            .map_err(Error::from);
                    let _ = tx.send(Action::SignIn(SignInResult::SignedIn(result)));
                }));
            }
            Effect::CancelSignIn => {
                if let Some(task) = self.sign_in.take() {
                    task.abort();
                }
            }
            Effect::ListAccounts => {
                let Some(sso) = self.sso.clone() else {
                    return;
                };
                tokio::spawn(async move {
                    let result = portal_call(&ctx, &sso, |portal, token, login| async move {
                        let accounts = portal.accounts(&token, &login).await?;
                        Ok(accounts.into_iter().map(|a| (a.id, a.name)).collect())
                    })
                    .await;
                    let _ = tx.send(Action::SignIn(SignInResult::Accounts(result)));
                });
            }
            Effect::ListRoles(account) => {
                let Some(sso) = self.sso.clone() else {
                    return;
                };
                tokio::spawn(async move {
                    let result = portal_call(&ctx, &sso, |portal, token, login| async move {
                        portal.roles(&token, &account, &login).await
                    })
                    .await;
                    let _ = tx.send(Action::SignIn(SignInResult::Roles(result)));
                });
            }
            Effect::UseRole { account, role } => {
                let Some(sso) = self.sso.clone() else {
                    return;
                };
                tokio::spawn(async move {
                    match use_role(&settings, sso, account, role).await {
                        Ok(ctx) => {
                            let _ = tx.send(Action::ContextReady(Box::new(ctx)));
                        }
                        Err(err) => {
                            let _ = tx.send(Action::SignIn(SignInResult::Ready(Err(err))));
                        }
                    }
                });
            }
        }
    }
}

/// A portal call with a fresh token.
async fn portal_call<T, F, Fut>(ctx: &AwsContext, sso: &SsoConfig, call: F) -> Outcome<T>
where
    F: FnOnce(crate::signin::portal::Portal, String, String) -> Fut,
    Fut: std::future::Future<Output = Result<T, crate::signin::SignInError>>,
{
    let source = crate::signin::TokenSource::new(sso.clone(), ctx.sdk_config().clone());
    let token = source.token().await?;
    let portal = crate::signin::portal::Portal::new(ctx.sdk_config(), &sso.region);
    Ok(call(portal, token.access_token, sso.login_command()).await?)
}

/// Remembers the pick (unless the profile names it) and loads a context that uses it.
async fn use_role(
    settings: &Settings,
    sso: SsoConfig,
    account: String,
    role: String,
) -> Outcome<AwsContext> {
    if sso.account_id.as_deref() != Some(&account) || sso.role_name.as_deref() != Some(&role) {
        crate::signin::selection::set(
            &crate::signin::selection_key(&sso),
            &crate::signin::selection::Selection {
                account_id: account.clone(),
                role_name: role.clone(),
            },
        )?;
    }
    let role = crate::signin::SsoRole {
        config: sso,
        account_id: account,
        role_name: role,
    };
    let ctx = role.context(AwsContext::load(&settings.aws).await);
    ctx.check_credentials().await?;
    Ok(ctx)
}

async fn identity(ctx: &AwsContext, regions: &[String]) -> Outcome<Identity> {
    let region = home_region(regions.iter().map(String::as_str));
    let caller = ctx.sts(region).get_caller_identity().await?;
    let credentials_left = match ctx.sdk_config().credentials_provider() {
        Some(provider) => {
            use aws_credential_types::provider::ProvideCredentials;
            provider
                .provide_credentials()
                .await
                .ok()
                .and_then(|c| c.expiry())
                .and_then(|at| at.duration_since(std::time::SystemTime::now()).ok())
                .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        }
        None => None,
    };
    Ok(Identity {
        account: caller.account,
        arn: caller.arn,
        credentials_left,
    })
}

async fn make_plan(
    settings: &Settings,
    ctx: &AwsContext,
    regions: &[String],
    name: &str,
    targets: &[String],
    dry_run: bool,
    incident: Option<String>,
) -> crate::app::Result<Plan> {
    let playbook = settings.playbook(name)?;
    let parameters = resolve_parameters(&playbook, &[])?;
    // Planned against the estate as it is now, not as it was listed.
    let request = RunRequest {
        playbook,
        parameters,
        targets: targets.to_vec(),
        any_instance: false,
        incident,
        dry_run,
        run_id: None,
        regions: Some(regions.to_vec()),
        account: None,
    };
    Ok(crate::app::prepare(settings, ctx, request).await?.plan)
}

async fn execute(
    settings: &Settings,
    ctx: &AwsContext,
    plan: &Plan,
    cancel: CancellationToken,
    tx: UnboundedSender<Action>,
) -> crate::app::Result<Finished> {
    let playbook = settings.playbook(&plan.playbook.name)?;
    let region = home_region(plan.targets.iter().map(|t| t.region.as_str()));
    // Asked again rather than taken from the plan: the confirmation can come minutes
    // later, after the sign-in expired or the profile's credentials changed.
    let caller = crate::app::caller(settings, ctx, region).await?;
    let (events, mut receiver) = tokio::sync::mpsc::unbounded_channel();
    let forward = tokio::spawn(async move {
        while let Some(event) = receiver.recv().await {
            let _ = tx.send(Action::Exec(event));
        }
    });
    let options = ExecOptions {
        concurrency: settings.concurrency(None)?,
        done_before: std::collections::HashSet::new(),
        cancel,
        resumed: false,
        missing: Vec::new(),
    };
    let performed = perform(settings, ctx, &playbook, plan, &caller, &options, events).await?;
    let _ = forward.await;
    let outcome = performed.outcome.map_err(crate::Error::Audit)?;
    Ok(Finished {
        status: outcome.status,
        targets: outcome.targets,
        audit_head: performed.head,
    })
}

/// One record of a run's timeline.
fn timeline_line(e: &crate::audit::view::Event) -> String {
    let parts = [
        e.target.as_deref(),
        e.step.as_deref(),
        e.operation.as_deref(),
        e.result.as_deref(),
        e.detail.as_deref(),
    ];
    let rest: Vec<&str> = parts.into_iter().flatten().collect();
    format!(
        "{} {:<13} {}",
        e.time,
        e.kind,
        crate::text::printable(&rest.join("  "))
    )
}

/// The audit log, newest run first, each with its timeline.
fn audit(settings: &Settings) -> Outcome<AuditSummary> {
    use crate::audit::view::{AuditFile, Event, RunFacts};
    let path = settings.audit_log_path()?;
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(source) => return Err(Error::InputFile { path, source }),
    };
    let file = AuditFile::parse(&bytes).map_err(|source| Error::InputFile {
        path: path.clone(),
        source,
    })?;
    let verdict = file.verdict();
    let mut runs = Vec::new();
    for listing in file.runs().into_iter().rev() {
        let Ok(view) = file.select(Some(&listing.run_id)) else {
            continue;
        };
        let facts = RunFacts::of(&view);
        let events = Event::all(&view).iter().map(timeline_line).collect();
        runs.push(AuditRun {
            run_id: listing.run_id.clone(),
            incident: listing.incident.clone(),
            started: listing.first_ts.chars().take(19).collect(),
            status: facts.status_label(),
            playbook: facts.playbook_label().unwrap_or_else(|| "-".into()),
            events,
        });
    }
    Ok(AuditSummary {
        path: path.display().to_string(),
        verdict: verdict.headline,
        intact: verdict.intact,
        runs,
    })
}
