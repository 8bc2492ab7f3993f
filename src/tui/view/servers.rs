//! The server list: mark, name, state, SSM agent, isolation, incident, zone; filtered and
//! sorted, with the cursor kept in view however long the list is.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Row, Table, TableState};

use super::super::app::App;
use super::super::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let visible = app.visible();
    let total = app.inventory.as_ref().map_or(0, |i| i.servers.len());
    let title = format!(
        " Servers {}/{}{}{}{} · sort {} ",
        visible.len(),
        total,
        match app.cached_at {
            Some(at) if app.loading => format!(" · cached {} UTC, listing…", at.format("%H:%M")),
            Some(at) => format!(" · cached {} UTC", at.format("%H:%M")),
            None => String::new(),
        },
        if app.filter.is_empty() {
            String::new()
        } else {
            format!(" · /{}", app.filter)
        },
        if app.marked.is_empty() {
            String::new()
        } else {
            format!(" · {} marked", app.marked.len())
        },
        app.sort.label()
    );
    let block = Block::new()
        .borders(Borders::TOP)
        .title(Span::styled(title, theme.title()));
    if visible.is_empty() {
        let text = if app.loading {
            "Loading the Security Servers…".to_owned()
        } else if let Some(err) = &app.load_error {
            format!("Could not list the servers: {err}\n\nr retries.")
        } else if total == 0 {
            "No Security Servers found in these regions (the discovery filter is in the config).\n\nr reloads."
                .to_owned()
        } else {
            format!("No server matches /{}. Esc clears the filter.", app.filter)
        };
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let wide = area.width >= 110;
    // Only the rows that fit are built: a frame costs the same for 50 servers or 5,000.
    let height = usize::from(area.height.saturating_sub(2)).max(1);
    let offset = app.cursor.saturating_sub(height - 1);
    let rows = visible.iter().skip(offset).take(height).map(|s| {
        let mark = if app.marked.contains(&s.instance_id) {
            "●"
        } else {
            " "
        };
        let mut cells = vec![
            Line::from(mark),
            Line::from(s.instance_id.clone()),
            Line::from(s.name.clone().unwrap_or_else(|| "-".into())),
            Line::from(Span::styled(s.state.clone(), theme.status(&s.state))),
            Line::from(Span::styled(
                s.ssm.ping_status.clone(),
                theme.status(&s.ssm.ping_status),
            )),
            Line::from(Span::styled(
                s.isolation.label().to_owned(),
                theme.status(s.isolation.label()),
            )),
        ];
        if wide {
            cells.push(Line::from(s.incident.clone().unwrap_or_else(|| "-".into())));
            cells.push(Line::from(s.availability_zone.clone().unwrap_or_default()));
            cells.push(Line::from(s.private_ip.clone().unwrap_or_default()));
        }
        Row::new(cells)
    });
    let mut widths = vec![
        Constraint::Length(1),
        Constraint::Length(19),
        Constraint::Min(10),
        Constraint::Length(10),
        Constraint::Length(14),
        Constraint::Length(10),
    ];
    let mut header = vec!["", "INSTANCE", "NAME", "STATE", "SSM", "ISOLATION"];
    if wide {
        widths.extend([
            Constraint::Length(12),
            Constraint::Length(11),
            Constraint::Length(15),
        ]);
        header.extend(["INCIDENT", "ZONE", "PRIVATE IP"]);
    }
    let table = Table::new(rows, widths)
        .header(Row::new(header).style(theme.dim()))
        .row_highlight_style(theme.cursor())
        .block(block);
    let mut state = TableState::default().with_selected(Some(app.cursor - offset));
    frame.render_stateful_widget(table, area, &mut state);
}
