//! The sign-in screen: what to open, the user code and its QR code while waiting, then the
//! account and role to choose.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph, Wrap};

use super::super::app::App;
use super::super::signin::Stage;
use super::super::theme::Theme;
use crate::signin::Prompt;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let Some(signin) = &app.signin else {
        return;
    };
    let block = Block::new().borders(Borders::TOP).title(Span::styled(
        format!(" Sign in · {} ", signin.start_url),
        theme.title(),
    ));
    let spinner = ["⠋", "⠙", "⠸", "⠴"][usize::try_from(app.tick % 4).unwrap_or(0)];
    let text: Vec<Line> = match &signin.stage {
        Stage::Ready => vec![
            Line::raw("You are not signed in to IAM Identity Center (or the sign-in expired)."),
            Line::raw(""),
            Line::raw("Enter  sign in with the browser on this machine"),
            Line::raw("d      sign in with a code, on this or another device"),
        ],
        Stage::Waiting(None) => vec![Line::raw(format!("{spinner} starting the sign-in…"))],
        Stage::Waiting(Some(Prompt::Browser { url, opened })) => vec![
            Line::raw(if *opened {
                "Your browser opened the sign-in page. If it did not, open:"
            } else {
                "Open this address in a browser on this machine:"
            }),
            Line::from(Span::styled(url.clone(), theme.title())),
            Line::raw(""),
            Line::raw(format!("{spinner} waiting for approval… (Esc cancels)")),
        ],
        Stage::Waiting(Some(Prompt::Device {
            uri,
            uri_complete,
            user_code,
            ..
        })) => {
            let mut lines = vec![
                Line::raw("Open (or scan) this address and approve:"),
                Line::from(Span::styled(uri_complete.clone(), theme.title())),
                Line::raw(format!("or open {uri} and enter the code")),
                Line::from(Span::styled(format!("    {user_code}"), theme.banner())),
                Line::raw(format!("{spinner} waiting for approval… (Esc cancels)")),
            ];
            if let Some(qr) = crate::signin::qr_code(uri_complete)
                && area.height > 30
            {
                lines.extend(qr.lines().map(|l| Line::raw(l.to_owned())));
            }
            lines
        }
        Stage::Waiting(Some(Prompt::SlowDown { .. })) => {
            vec![Line::raw(format!(
                "{spinner} waiting for approval… (Esc cancels)"
            ))]
        }
        Stage::Finishing => vec![Line::raw(format!(
            "{spinner} getting the role's credentials…"
        ))],
        Stage::Failed(err) => vec![
            Line::from(Span::styled(err.clone(), theme.error())),
            Line::raw(""),
            Line::raw("Enter tries again with the browser, d with a code."),
        ],
        Stage::PickAccount | Stage::PickRole => {
            let (what, items): (&str, Vec<String>) = if signin.stage == Stage::PickAccount {
                (
                    "Choose the account:",
                    signin
                        .accounts
                        .iter()
                        .map(|(id, name)| format!("{id}  {name}"))
                        .collect(),
                )
            } else {
                ("Choose the role:", signin.roles.clone())
            };
            let [head, list] =
                Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
            frame.render_widget(Paragraph::new(what).block(block), head);
            let items: Vec<ListItem> = items.into_iter().map(ListItem::new).collect();
            let mut state = ListState::default().with_selected(Some(signin.cursor));
            frame.render_stateful_widget(
                List::new(items).highlight_style(theme.cursor()),
                list,
                &mut state,
            );
            return;
        }
    };
    frame.render_widget(
        Paragraph::new(text).wrap(Wrap { trim: false }).block(block),
        area,
    );
}
