//! The audit trail: its verification, the runs it holds, and one run's timeline.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, List, ListItem, ListState, Paragraph};

use super::super::app::App;
use super::super::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let Some(audit) = &app.audit else {
        frame.render_widget(Paragraph::new("Reading the audit log…"), area);
        return;
    };
    let [head, body] = Layout::vertical([Constraint::Length(2), Constraint::Min(1)]).areas(area);
    let verdict = if audit.intact {
        theme.ok()
    } else {
        theme.error()
    };
    frame.render_widget(
        Paragraph::new(vec![
            Line::from(vec![
                Span::styled(" Audit ", theme.title()),
                Span::raw(audit.path.clone()),
            ]),
            Line::from(Span::styled(format!(" {}", audit.verdict), verdict)),
        ]),
        head,
    );
    if audit.runs.is_empty() {
        frame.render_widget(Paragraph::new(" No runs yet."), body);
        return;
    }
    if app.audit_open {
        let Some(run) = audit.runs.get(app.audit_cursor) else {
            return;
        };
        let lines: Vec<Line> = run.events.iter().map(|e| Line::raw(e.clone())).collect();
        frame.render_widget(
            Paragraph::new(lines).scroll((app.audit_scroll, 0)).block(
                Block::new().borders(Borders::TOP).title(Span::styled(
                    format!(" {} · {} · {} ", run.playbook, run.run_id, run.status),
                    theme.title(),
                )),
            ),
            body,
        );
        return;
    }
    let items: Vec<ListItem> = audit
        .runs
        .iter()
        .map(|r| {
            ListItem::new(Line::from(vec![
                Span::raw(format!("{:<20} ", r.started)),
                Span::styled(format!("{:<14} ", r.status), theme.status(&r.status)),
                Span::raw(format!(
                    "{:<16} {:<12} {}",
                    r.playbook,
                    r.incident.clone().unwrap_or_else(|| "-".into()),
                    r.run_id
                )),
            ]))
        })
        .collect();
    let list = List::new(items).highlight_style(theme.cursor()).block(
        Block::new()
            .borders(Borders::TOP)
            .title(" Runs (newest first) "),
    );
    let mut state = ListState::default().with_selected(Some(app.audit_cursor));
    frame.render_stateful_widget(list, body, &mut state);
}
