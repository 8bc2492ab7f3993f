//! The command-line front end: parse, dispatch, and map errors to exit codes with hints.

mod args;
mod audit;
mod demo;
mod list;
mod login;
mod output;
mod playbook;
mod progress;
mod resume;
mod run;
mod session;

pub use args::{
    AuditCommand, AuditReportArgs, AuditShowArgs, AuditVerifyArgs, Cli, Command, DemoArgs,
    ForwardArgs, GlobalArgs, ListArgs, LoginArgs, LogoutArgs, PlaybookCommand, ReportFormat,
    ResumeArgs, RunArgs, RunOptions, SessionArgs,
};
pub use list::render_table;
pub use playbook::describe as describe_playbook;
pub use progress::{progress_line, render_plan};

use clap::Parser;

use crate::app::{Error, ExitCode, Overrides, Settings};

/// Entry point of the binary.
pub fn main() -> std::process::ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::InvalidInput.into()
            } else {
                ExitCode::Success.into()
            };
        }
    };
    init_tracing();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: failed to start the async runtime: {err}");
            return ExitCode::Failed.into();
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code.into(),
        Err(err) => {
            report(&err);
            err.exit_code().into()
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, Error> {
    let settings = Settings::new(&Overrides {
        profile: cli.global.profile.clone(),
        regions: cli.global.regions.clone(),
        config: cli.global.config.clone(),
        audit_log: cli.global.audit_log.clone(),
        output: cli.global.output,
    })?;
    if let (Some(playbook), None) = (&cli.playbook, &cli.command) {
        return run::run(&settings, playbook, &cli.run).await;
    }
    if cli.playbook.is_some() {
        return Err(Error::InvalidArgument {
            what: "arguments",
            value: std::env::args().skip(1).collect::<Vec<_>>().join(" "),
            reason: "`--playbook` runs a playbook and cannot be combined with a command".into(),
            hint: "use either `breakglass --playbook NAME --target …` or `breakglass run NAME \
                   --target …`"
                .into(),
        });
    }
    if cli.run.is_set() {
        return Err(Error::InvalidArgument {
            what: "arguments",
            value: std::env::args().skip(1).collect::<Vec<_>>().join(" "),
            reason: "`--target`, `--incident`, `--dry-run`, `--yes` and `--param` need a \
                     playbook"
                .into(),
            hint: "add `--playbook NAME` (see `breakglass playbook list`)".into(),
        });
    }
    match &cli.command {
        Some(Command::Login(args)) => login::login(&settings, args).await,
        Some(Command::Logout(args)) => login::logout(&settings, args).await,
        Some(Command::Whoami) => login::whoami(&settings).await,
        Some(Command::List(args)) => list::run(&settings, args).await,
        Some(Command::Session(args)) => session::session(&settings, args).await,
        Some(Command::Forward(args)) => session::forward(&settings, args).await,
        Some(Command::Demo(args)) => demo::run(&settings, args).await,
        Some(Command::Run(args)) => run::run(&settings, &args.playbook, &args.options).await,
        Some(Command::Resume(args)) => resume::run(&settings, args).await,
        Some(Command::Playbook(command)) => playbook::run(&settings, command),
        Some(Command::Audit(AuditCommand::Verify(args))) => audit::verify(&settings, args),
        Some(Command::Audit(AuditCommand::Show(args))) => audit::show(&settings, args),
        Some(Command::Audit(AuditCommand::Report(args))) => audit::report(&settings, args),
        None => {
            use std::io::IsTerminal;
            if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
                crate::tui::run(&settings).await
            } else {
                // Not a terminal: the usage, as for a missing command.
                use clap::CommandFactory;
                let _ = Cli::command().print_help();
                Ok(ExitCode::InvalidInput)
            }
        }
    }
}

/// Prints an error, its causes and the hint on stderr.
pub fn report(err: &Error) {
    eprintln!("error: {err}");
    for cause in crate::text::causes(err) {
        eprintln!("  caused by: {cause}");
    }
    if let Some(hint) = err.hint() {
        eprintln!("hint: {hint}");
    }
}

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
fn init_tracing() {
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
