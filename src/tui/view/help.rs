//! The `?` overlay: every key, as the keymap has it now.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph};

use super::super::action::Command;
use super::super::keymap::Keymap;
use super::super::theme::Theme;
use super::centered;

pub fn draw(frame: &mut Frame, area: Rect, theme: Theme, keys: &Keymap) {
    let entries: &[(Command, &str)] = &[
        (Command::Up, "up"),
        (Command::Down, "down"),
        (Command::Top, "first"),
        (Command::Bottom, "last"),
        (Command::PageDown, "page down"),
        (Command::Open, "open / choose / confirm"),
        (Command::Back, "back / cancel"),
        (Command::Mark, "mark a server"),
        (Command::MarkAll, "mark all shown"),
        (Command::Filter, "filter"),
        (Command::Sort, "change the order"),
        (Command::Refresh, "reload"),
        (
            Command::Playbooks,
            "run a playbook on the marked (or current) servers",
        ),
        (Command::DryRun, "dry run the chosen playbook now"),
        (Command::ToggleDryRun, "DRY RUN mode on/off"),
        (Command::Session, "shell on the server (Session Manager)"),
        (Command::Audit, "audit trail"),
        (Command::Servers, "servers"),
        (
            Command::Palette,
            "command line (:run NAME, :incident ID, …)",
        ),
        (Command::Quit, "quit"),
    ];
    let mut lines: Vec<Line> = entries
        .iter()
        .map(|(command, what)| {
            Line::from(vec![
                Span::styled(format!("{:>8}  ", keys.key_for(*command)), theme.title()),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::from(vec![
        Span::styled(format!("{:>8}  ", "Ctrl-C"), theme.title()),
        Span::raw("stop a running playbook between calls"),
    ]));
    let rect = centered(area, 64, u16::try_from(lines.len() + 2).unwrap_or(24));
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Keys (any key closes) ")),
        rect,
    );
}
