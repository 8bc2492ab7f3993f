//! Diagnostic logs on stderr (`BREAKGLASS_LOG`), with the secret-bearing crates capped.

/// The AWS SDK's and the HTTP stack's crates: at debug and trace they log whole requests
/// and responses, bearer tokens, session tokens and stream tokens included.
const SECRET_BEARING_LOGS: [&str; 12] = [
    "aws_config",
    "aws_credential_types",
    "aws_runtime",
    "aws_sigv4",
    "aws_smithy_http",
    "aws_smithy_http_client",
    "aws_smithy_runtime",
    "aws_smithy_runtime_api",
    "h2",
    "hyper",
    "hyper_util",
    "tungstenite",
];

/// Diagnostic logs on stderr, filtered by `BREAKGLASS_LOG` (off when unset); the crates in
/// [`SECRET_BEARING_LOGS`] are held at `info` whatever it asks.
pub(super) fn init_tracing() {
    use tracing_subscriber::filter::{FilterExt, LevelFilter, Targets};
    use tracing_subscriber::layer::{Layer, SubscriberExt};
    use tracing_subscriber::util::SubscriberInitExt;
    let asked = tracing_subscriber::EnvFilter::try_from_env("BREAKGLASS_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("off"));
    let capped = Targets::new()
        .with_default(LevelFilter::TRACE)
        .with_targets(SECRET_BEARING_LOGS.map(|target| (target, LevelFilter::INFO)));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(asked.and(capped));
    let _ = tracing_subscriber::registry().with(layer).try_init();
}
