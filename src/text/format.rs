//! How a command prints: the output format chosen with `--output`, and the width tables are
//! rendered at.

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
