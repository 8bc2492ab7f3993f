//! The binary's entry: parse, start the runtime, dispatch to a command, and map an error
//! to its exit code with its causes and hint on stderr.

use clap::Parser;

use super::args::{AuditCommand, Cli, Command};
use super::{audit, demo, list, login, playbook, resume, run, session};
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
    super::logging::init_tracing();
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
