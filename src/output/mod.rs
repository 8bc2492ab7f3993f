//! Output helpers shared by commands: the width-aware table and JSON printing.

mod table;

pub use table::{Column, Table, truncate};

use std::io::Write;

use crate::error::Error;

/// Output format chosen with `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum OutputFormat {
    #[default]
    Table,
    Json,
}

/// The width to render tables at: `COLUMNS`, else the terminal's, else 80.
pub fn terminal_width() -> usize {
    if let Some(cols) = std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse::<usize>().ok())
        .filter(|&c| c > 0)
    {
        return cols;
    }
    if std::io::IsTerminal::is_terminal(&std::io::stdout())
        && let Ok((cols, _)) = crossterm::terminal::size()
    {
        return usize::from(cols);
    }
    80
}

/// Writes to stdout; a closed pipe (`breakglass list | head`) is not an error.
pub fn print_stdout(text: &str) -> Result<(), Error> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(err) if err.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output(err)),
        _ => Ok(()),
    }
}

/// Pretty JSON plus a trailing newline, on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> Result<(), Error> {
    let mut text =
        serde_json::to_string_pretty(value).map_err(|e| Error::Output(std::io::Error::other(e)))?;
    text.push('\n');
    print_stdout(&text)
}
