//! Port forwarding to one server (`breakglass forward`): with the native client (no plugin
//! needed; smux when the agent multiplexes) or the AWS plugin, the local port bound on
//! 127.0.0.1 before the session starts, StartSession and TerminateSession audited as for a
//! shell, session_started / session_ended recorded (the forwarded bytes are not).

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::mpsc;

use super::error::{Error, ExitCode, Result};
use super::session::{Audited, finish, plugin_choice, plugin_failed, plugin_launch, prepare};
use super::settings::Settings;
use crate::audit::RecordKind;
use crate::aws::{AwsContext, StreamAccess};
use crate::datachannel::client::SessionKind;
use crate::datachannel::forward::{self, Mode, Notice};
use crate::shell::End;
use crate::shell::plugin;

const PORT_DOCUMENT: &str = "AWS-StartPortForwardingSession";

/// A local port forwarded to a port of one server.
#[derive(Debug, Clone)]
pub struct ForwardRequest {
    pub target: String,
    pub incident: Option<String>,
    pub remote_port: u16,
    /// Default: the remote port; 0 picks a free one.
    pub local_port: Option<u16>,
    /// Use the AWS session-manager-plugin (else the config's choice, else native).
    pub plugin: bool,
}

/// Forwards until Ctrl-C, the session's end, or a failure.
pub async fn forward(
    settings: &Settings,
    ctx: &AwsContext,
    args: &ForwardRequest,
) -> Result<ExitCode> {
    let program = plugin_choice(settings, args.plugin)?;
    let (audited, caller) = prepare(settings, ctx, &args.target, args.incident.as_deref()).await?;
    let mut local = args.local_port.unwrap_or(args.remote_port);
    // The native client listens itself: a port in use fails here, before anything starts.
    let listener = match program {
        Some(_) => None,
        None => {
            let listener = listen(local).await?;
            local = listener.local_addr().map_or(local, |a| a.port());
            Some(listener)
        }
    };
    let parameters = vec![
        ("portNumber".to_owned(), vec![args.remote_port.to_string()]),
        ("localPortNumber".to_owned(), vec![local.to_string()]),
    ];
    let access = audited.start(PORT_DOCUMENT, &parameters).await?;
    let started = Instant::now();
    audited.record(
        RecordKind::SessionStarted,
        json!({
            "target": audited.server.instance_id, "session_id": access.session_id,
            "client": if program.is_some() { "plugin" } else { "native" },
            "responder": caller.arn,
            "forward": { "remote_port": args.remote_port, "local_port": local },
            "transcript": null, "recording": "port forwarding: the bytes are not recorded",
        }),
    )?;
    eprintln!(
        "Forwarding 127.0.0.1:{local} to port {} of {} (session {}). Ctrl-C stops.",
        args.remote_port, audited.server.instance_id, access.session_id
    );
    let end = match (program, listener) {
        (Some(program), _) => {
            let ports = (args.remote_port, local);
            through_plugin(program, settings, &audited, &access, ports).await
        }
        (None, Some(listener)) => natively(ctx, &audited, &access, listener).await,
        (None, None) => End::Failed("no local listener".into()),
    };
    finish(&audited, &access.session_id, started, end, None, None).await
}

/// The local listener, on the loopback interface only.
async fn listen(port: u16) -> Result<TcpListener> {
    TcpListener::bind(("127.0.0.1", port))
        .await
        .map_err(|err| Error::InvalidArgument {
            what: "local port",
            value: port.to_string(),
            reason: format!("cannot listen on 127.0.0.1:{port}: {err}"),
            hint: "name a free local port as the third argument (`breakglass forward TARGET 4000 \
                   14000`), or 0 for any free one"
                .into(),
        })
}

/// The native client: connections to the listener carried over the session's data channel.
async fn natively(
    ctx: &AwsContext,
    audited: &Audited,
    access: &StreamAccess,
    listener: TcpListener,
) -> End {
    let channel = match audited.open(ctx, access, SessionKind::Port, None).await {
        Ok(channel) => channel,
        Err(err) => return End::Failed(err),
    };
    let (notices, mut told) = mpsc::unbounded_channel();
    let printer = tokio::spawn(async move {
        while let Some(notice) = told.recv().await {
            eprintln!("{}", describe(&notice));
        }
    });
    let stop = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let ended = forward::serve(channel, listener, stop, notices).await;
    let _ = printer.await;
    match ended {
        Ok(message) => End::Closed(message),
        Err(message) => End::Failed(message),
    }
}

/// One line for the responder.
fn describe(notice: &Notice) -> String {
    match notice {
        Notice::Ready(Mode::Mux { .. }) => {
            "Session ready; connections are multiplexed (smux), any number at once.".into()
        }
        Notice::Ready(Mode::Basic) => {
            "Session ready; this agent forwards one connection at a time.".into()
        }
        Notice::Accepted(peer) => format!("Connection accepted from {peer}."),
        Notice::PortRefused => "The agent could not connect to the port on the server: is the \
                                service there listening? (the agent's log says more)"
            .into(),
        Notice::Reconnecting(attempt) => {
            format!("The connection to Session Manager dropped; resuming (attempt {attempt}).")
        }
        Notice::Reconnected => "Resumed.".into(),
    }
}

/// The AWS plugin listens on the local port until Ctrl-C.
async fn through_plugin(
    program: PathBuf,
    settings: &Settings,
    audited: &Audited,
    access: &StreamAccess,
    (remote, local): (u16, u16),
) -> End {
    let request = json!({
        "Target": audited.server.instance_id, "DocumentName": PORT_DOCUMENT,
        "Parameters": { "portNumber": [remote.to_string()], "localPortNumber": [local.to_string()] },
    });
    let launch = plugin_launch(program, settings, &audited.server, access, &request);
    let child = tokio::process::Command::new(&launch.program)
        .args(launch.args())
        .env(plugin::RESPONSE_VAR, &launch.response)
        .kill_on_drop(true)
        .spawn();
    let mut child = match child {
        Err(err) => return plugin_failed(&launch.program, &err),
        Ok(child) => child,
    };
    loop {
        // Ctrl-C reaches the plugin too (same process group); we wait for it to stop.
        tokio::select! {
            status = child.wait() => return match status {
                Ok(s) if s.success() => End::Closed(String::new()),
                Ok(s) => End::Failed(format!("the session-manager-plugin exited with {s}")),
                Err(err) => End::Failed(err.to_string()),
            },
            _ = tokio::signal::ctrl_c() => {}
        }
    }
}
