//! `breakglass session TARGET` (a shell) and `breakglass forward TARGET PORT [LOCAL]` (port
//! forwarding): the flags as a request to the session and forwarding use cases.

use super::args::{ForwardArgs, SessionArgs};
use crate::app::forward::ForwardRequest;
use crate::app::session::ShellRequest;
use crate::app::{ExitCode, Result, Settings};

/// `breakglass session TARGET`.
pub async fn session(settings: &Settings, args: &SessionArgs) -> Result<ExitCode> {
    let request = ShellRequest {
        target: args.target.clone(),
        incident: args.incident.clone(),
        plugin: args.plugin,
    };
    let ctx = settings.aws_context().await?;
    crate::app::session::shell(settings, &ctx, &request).await
}

/// `breakglass forward TARGET REMOTE_PORT [LOCAL_PORT]`.
pub async fn forward(settings: &Settings, args: &ForwardArgs) -> Result<ExitCode> {
    let request = ForwardRequest {
        target: args.target.clone(),
        incident: args.incident.clone(),
        remote_port: args.remote_port,
        local_port: args.local_port,
        plugin: args.plugin,
    };
    let ctx = settings.aws_context().await?;
    crate::app::forward::forward(settings, &ctx, &request).await
}
