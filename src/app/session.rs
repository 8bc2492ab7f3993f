//! Session Manager shells, for `breakglass session` and the TUI's shell key alike (native
//! client or the AWS plugin): the target resolved to one server, StartSession and
//! TerminateSession audited through the same recorder as playbook steps, the shell recorded,
//! and session_started / session_ended records with the transcript's SHA-256. The terminal
//! is the caller's to hand over. Port forwarding (`forward.rs`) shares the audited parts.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::{Value, json};

use super::error::{Error, ExitCode, Result};
use super::guard::check_incident;
use super::prepare::{identify, resolve};
use super::settings::Settings;
use crate::audit::{AuditLog, RecordKind};
use crate::aws::{
    AwsContext, CallerIdentity, SessionApi, SessionResumer, Ssm, SsmApi, StreamAccess, home_region,
};
use crate::datachannel::client::{Channel, Endpoint, SessionKind};
use crate::datachannel::payload::Size;
use crate::inventory::Server;
use crate::playbook::{CallResult, Recorder, RunMeta};
use crate::shell::plugin::{self, Launch, Plugin};
use crate::shell::{End, Transcript, attach, native::Native, terminal};
use crate::text::printable;

const SHELL_DOCUMENT: &str = "SSM-SessionManagerRunShell";

/// A shell on one server.
#[derive(Debug, Clone)]
pub struct ShellRequest {
    /// An instance id or `Name` that names exactly one server.
    pub target: String,
    pub incident: Option<String>,
    /// Use the AWS session-manager-plugin (else the config's choice, else native).
    pub plugin: bool,
}

/// One session's audit trail and AWS side.
pub(super) struct Audited {
    pub(super) recorder: Recorder,
    pub(super) ssm: Ssm,
    pub(super) server: Server,
}

impl Audited {
    pub(super) fn record(&self, kind: RecordKind, body: Value) -> Result<()> {
        self.recorder.record(kind, body).map_err(Error::Audit)
    }

    fn call_body(&self, operation: &str) -> Value {
        json!({ "target": self.server.instance_id, "service": "ssm", "operation": operation })
    }

    /// StartSession, announced before and answered after.
    pub(super) async fn start(
        &self,
        document: &str,
        parameters: &[(String, Vec<String>)],
    ) -> Result<StreamAccess> {
        let params = json!({
            "Target": self.server.instance_id, "DocumentName": document,
            "Parameters": parameters.iter().cloned().collect::<std::collections::BTreeMap<_, _>>(),
        });
        self.recorder
            .intent(self.call_body("StartSession"), params)
            .map_err(Error::Audit)?;
        let started = self
            .ssm
            .start_session(&self.server.instance_id, Some(document), parameters)
            .await;
        let mut subject = self.call_body("StartSession");
        let written = match &started {
            Ok(access) => {
                subject["session_id"] = json!(access.session_id);
                let request_id = access.request_id.as_deref();
                self.recorder
                    .outcome(subject, CallResult::Ok, request_id, None)
            }
            Err(err) => {
                let request_id = err.request_id.as_deref();
                self.recorder
                    .outcome(subject, CallResult::Error, request_id, Some(err))
            }
        };
        written.map_err(Error::Audit)?;
        Ok(started?)
    }

    /// The native client's data channel for the session `access`, signed, with KMS at hand
    /// and `ResumeSession` to resume it.
    pub(super) async fn open(
        &self,
        ctx: &AwsContext,
        access: &StreamAccess,
        kind: SessionKind,
        size: Option<Size>,
    ) -> std::result::Result<Channel, String> {
        let region = &self.server.region;
        let endpoint = Endpoint {
            kind,
            session_id: access.session_id.clone(),
            target: self.server.instance_id.clone(),
            keys: Some(Box::new(ctx.kms(region))),
            signing: ctx.stream_signing(region),
            stream_url: access.stream_url.clone(),
            token: access.token.clone(),
            size,
        };
        let resumer = SessionResumer {
            ssm: self.ssm.clone(),
            session_id: access.session_id.clone(),
        };
        Channel::open(endpoint, resumer).await
    }

    /// TerminateSession, announced and answered; failures are reported, not fatal.
    pub(super) async fn terminate(&self, session_id: &str) -> Result<()> {
        let subject = self.call_body("TerminateSession");
        self.recorder
            .intent(subject.clone(), json!({ "SessionId": session_id }))
            .map_err(Error::Audit)?;
        let written = match self.ssm.terminate_session(session_id).await {
            Ok(applied) => {
                self.recorder
                    .outcome(subject, CallResult::Ok, applied.request_id(), None)
            }
            Err(err) => {
                eprintln!("warning: could not terminate session {session_id}: {err}");
                let request_id = err.request_id.as_deref();
                self.recorder
                    .outcome(subject, CallResult::Error, request_id, Some(&err))
            }
        };
        written.map_err(Error::Audit)
    }
}

/// The one server a session goes to, who we are, and an audit recorder for it.
pub(super) async fn prepare(
    settings: &Settings,
    ctx: &AwsContext,
    target: &str,
    incident: Option<&str>,
) -> Result<(Audited, CallerIdentity)> {
    let incident = incident.map(check_incident).transpose()?;
    let regions = settings.regions(ctx)?;
    let caller = identify(ctx, home_region(regions.iter().map(String::as_str))).await?;
    let targets = [target.to_owned()];
    let (resolution, _) = resolve(settings, ctx, &caller, &regions, &targets, true).await?;
    let server = match (resolution.servers.as_slice(), resolution.missing.first()) {
        ([one], None) => one.clone(),
        (_, Some(missing)) => return Err(Error::Target(missing.clone())),
        (many, None) => {
            return Err(Error::InvalidArgument {
                what: "target",
                value: target.to_owned(),
                reason: format!(
                    "a session goes to one server, and this matches {}",
                    many.len()
                ),
                hint: "name one instance id or Name (see `breakglass list`)".into(),
            });
        }
    };
    let log = AuditLog::open(&settings.audit_log_path()?)?;
    let recorder = Recorder::new(
        log,
        RunMeta {
            run_id: uuid::Uuid::now_v7().to_string(),
            incident,
            actor: Some(caller.arn.clone()),
            dry_run: false,
        },
        None,
    );
    let ssm = ctx.ssm(&server.region);
    Ok((
        Audited {
            recorder,
            ssm,
            server,
        },
        caller,
    ))
}

/// The AWS plugin when asked for (`--plugin`, or `[sessions] plugin = true`), found before
/// anything starts; `None` for the native client.
pub(super) fn plugin_choice(settings: &Settings, asked: bool) -> Result<Option<PathBuf>> {
    if !(asked || settings.config.config.sessions.plugin) {
        return Ok(None);
    }
    plugin::find()
        .map(Some)
        .map_err(|reason| Error::InvalidArgument {
            what: "session client",
            value: "--plugin".into(),
            reason,
            hint: "install the plugin, or run without --plugin (and without `[sessions] plugin`) \
                   for the native client"
                .into(),
        })
}

/// How the plugin is started for the session `access` on `server`; `request` is the
/// StartSession request it was opened with.
pub(super) fn plugin_launch(
    program: PathBuf,
    settings: &Settings,
    server: &Server,
    access: &StreamAccess,
    request: &Value,
) -> Launch {
    Launch {
        program,
        response: json!({ "SessionId": access.session_id, "TokenValue": access.token, "StreamUrl": access.stream_url })
            .to_string(),
        region: server.region.clone(),
        profile: settings.aws.profile.clone().unwrap_or_default(),
        request: request.to_string(),
        endpoint: plugin::ssm_endpoint(&server.region),
    }
}

/// Why the plugin could not start, and what to do about it.
pub(super) fn plugin_failed(program: &Path, err: &std::io::Error) -> End {
    End::Failed(format!(
        "cannot start the plugin {}: {err} (reinstall the AWS session-manager-plugin, or drop \
         --plugin to use the built-in client)",
        program.display()
    ))
}

/// A recorded shell on the request's server, on this process's terminal.
pub async fn shell(settings: &Settings, ctx: &AwsContext, args: &ShellRequest) -> Result<ExitCode> {
    let config = &settings.config.config.sessions;
    let program = plugin_choice(settings, args.plugin)?;
    let use_plugin = program.is_some();
    let (audited, caller) = prepare(settings, ctx, &args.target, args.incident.as_deref()).await?;
    let transcripts = config
        .transcripts
        .clone()
        .or_else(|| crate::paths::state_dir().map(|d| d.join("transcripts")));
    let access = audited.start(SHELL_DOCUMENT, &[]).await?;
    let started = Instant::now();
    let (cols, rows) = terminal::size();
    let title = format!(
        "breakglass session {} to {} ({})",
        access.session_id,
        audited.server.instance_id,
        audited.server.name.clone().unwrap_or_default()
    );
    let mut transcript = match (config.record, &transcripts) {
        (true, Some(dir)) => {
            match Transcript::create(dir, &access.session_id, cols, rows, &title) {
                Ok(t) => Some(t),
                Err(err) => {
                    // No record, no shell: end the session that was just started.
                    let _ = audited.terminate(&access.session_id).await;
                    return Err(Error::InvalidArgument {
                        what: "transcript directory",
                        value: dir.display().to_string(),
                        reason: format!("cannot write the session transcript: {err}"),
                        hint: "fix the directory (or `[sessions] transcripts`), then start again"
                            .into(),
                    });
                }
            }
        }
        _ => None,
    };
    audited.record(
        RecordKind::SessionStarted,
        json!({
            "target": audited.server.instance_id, "session_id": access.session_id,
            "client": if use_plugin { "plugin" } else { "native" },
            "responder": caller.arn,
            "transcript": transcript.as_ref().map(|t| t.path().display().to_string()),
            "recording": if config.record { "on" } else { "off (config [sessions] record = false)" },
        }),
    )?;
    eprintln!(
        "Session {} to {} — {}. Type `exit` to end it.\r",
        access.session_id,
        title.rsplit(" to ").next().unwrap_or_default(),
        if transcript.is_some() {
            "recorded"
        } else {
            "NOT recorded"
        }
    );
    let (end, record_error) = match &program {
        Some(program) => {
            let request =
                json!({ "Target": audited.server.instance_id, "DocumentName": SHELL_DOCUMENT });
            let launch = plugin_launch(
                program.clone(),
                settings,
                &audited.server,
                &access,
                &request,
            );
            match Plugin::start(&launch, cols, rows) {
                Ok(mut remote) => attach(&mut remote, transcript.as_mut()).await,
                Err(err) => (plugin_failed(program, &err), None),
            }
        }
        None => {
            let size = Size {
                cols: u32::from(cols),
                rows: u32::from(rows),
            };
            match audited
                .open(ctx, &access, SessionKind::Shell, Some(size))
                .await
            {
                Ok(channel) => attach(&mut Native(channel), transcript.as_mut()).await,
                Err(err) => (End::Failed(err), None),
            }
        }
    };
    finish(
        &audited,
        &access.session_id,
        started,
        end,
        transcript,
        record_error,
    )
    .await
}

/// TerminateSession, the transcript sealed, `session_ended`, and the exit code.
pub(super) async fn finish(
    audited: &Audited,
    session_id: &str,
    started: Instant,
    end: End,
    transcript: Option<Transcript>,
    record_error: Option<String>,
) -> Result<ExitCode> {
    let terminated = audited.terminate(session_id).await;
    let sealed = transcript.map(Transcript::seal).transpose();
    let (sealed, seal_error) = match sealed {
        Ok(sealed) => (sealed, None),
        Err(err) => (None, Some(err.to_string())),
    };
    audited.record(
        RecordKind::SessionEnded,
        json!({
            "target": audited.server.instance_id, "session_id": session_id,
            "end": end.describe(),
            "duration_seconds": started.elapsed().as_secs(),
            "transcript": sealed.as_ref().map(|s| s.path.display().to_string()),
            "transcript_sha256": sealed.as_ref().map(|s| s.sha256.clone()),
            "transcript_bytes": sealed.as_ref().map(|s| s.bytes),
            "recording_error": record_error.or(seal_error),
        }),
    )?;
    terminated?;
    eprintln!("\r\nSession {session_id} {}.", printable(&end.describe()));
    if let Some(sealed) = &sealed {
        eprintln!(
            "Transcript: {} (sha256 {})",
            sealed.path.display(),
            sealed.sha256
        );
    }
    Ok(match end {
        End::Failed(_) => ExitCode::Failed,
        End::Closed(_) | End::Hangup => ExitCode::Success,
    })
}
