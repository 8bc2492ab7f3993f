//! The playbook screens: the list to pick from, the plan, the confirmation, live progress
//! and the result.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Clear, List, ListItem, ListState, Paragraph, Row, Table, Wrap,
};

use super::super::action::Command;
use super::super::app::App;
use super::super::flow::{Flow, FlowStep, Progress};
use super::super::keymap::Keymap;
use super::super::theme::Theme;
use super::{centered, duration};
use crate::playbook::{Plan, RunStatus};

const SPINNER: [&str; 4] = ["⠋", "⠙", "⠸", "⠴"];

fn block(title: String, theme: Theme) -> Block<'static> {
    Block::new()
        .borders(Borders::TOP)
        .title(Span::styled(title, theme.title()))
}

fn target_names(app: &App, flow: &Flow) -> String {
    let names: Vec<String> = flow.targets.iter().map(|id| app.server_label(id)).collect();
    names.join(", ")
}

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let Some(flow) = &app.flow else {
        return;
    };
    match &flow.step {
        FlowStep::Pick | FlowStep::AskIncident { .. } => {
            let items: Vec<ListItem> = app
                .playbooks
                .iter()
                .map(|(name, description)| {
                    ListItem::new(Line::from(vec![
                        Span::styled(format!("{name:<18}"), theme.title()),
                        Span::raw(description.clone()),
                    ]))
                })
                .collect();
            let title = format!(" Playbook for {} ", target_names(app, flow));
            let list = List::new(items)
                .highlight_style(theme.cursor())
                .block(block(title, theme));
            let mut state = ListState::default().with_selected(Some(flow.cursor));
            frame.render_stateful_widget(list, area, &mut state);
        }
        FlowStep::Planning { playbook, .. } => frame.render_widget(
            Paragraph::new(format!("Planning `{playbook}`…")).block(block(" Plan ".into(), theme)),
            area,
        ),
        FlowStep::Planned { plan } | FlowStep::Confirm { plan, .. } => {
            frame.render_widget(
                Paragraph::new(plan_lines(plan, theme))
                    .wrap(Wrap { trim: false })
                    .scroll((flow.scroll, 0))
                    .block(block(plan_title(plan), theme)),
                area,
            );
        }
        FlowStep::Running { plan, progress } => {
            progress_table(frame, area, app, plan, progress, None, theme);
        }
        FlowStep::Done {
            plan,
            progress,
            result,
        } => {
            let status = match result {
                Ok(f) => Some(f.status),
                Err(_) => None,
            };
            progress_table(frame, area, app, plan, progress, Some(status), theme);
        }
    }
}

fn plan_title(plan: &Plan) -> String {
    format!(
        " Plan: {} · {} · {} target(s) ",
        plan.playbook.name,
        if plan.dry_run { "DRY RUN" } else { "LIVE" },
        plan.targets.len()
    )
}

fn plan_lines(plan: &Plan, theme: Theme) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    if let Some(incident) = &plan.incident {
        lines.push(Line::from(vec![
            Span::styled("incident ", theme.dim()),
            Span::raw(incident.clone()),
        ]));
    }
    for target in &plan.targets {
        lines.push(Line::from(Span::styled(
            format!(
                "{} {} ({})",
                target.instance_id,
                target.name.clone().unwrap_or_default(),
                target.region
            ),
            theme.title(),
        )));
        for warning in &target.warnings {
            lines.push(Line::from(Span::styled(
                format!("  ! {warning}"),
                theme.warn(),
            )));
        }
        for step in &target.steps {
            lines.push(Line::from(vec![
                Span::raw(format!("  {}. {} ", step.step, step.name)),
                Span::styled(format!("[{}]", step.action), theme.dim()),
                if step.confirm {
                    Span::styled(" destructive", theme.error())
                } else {
                    Span::raw("")
                },
            ]));
            for call in &step.calls {
                lines.push(Line::from(Span::styled(
                    format!(
                        "       {}:{} {} — {}",
                        call.service, call.operation, call.resource, call.purpose
                    ),
                    theme.dim(),
                )));
            }
            for note in &step.notes {
                lines.push(Line::from(Span::styled(
                    format!("     note: {note}"),
                    theme.warn(),
                )));
            }
        }
    }
    lines
}

fn progress_table(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    plan: &Plan,
    progress: &Progress,
    finished: Option<Option<RunStatus>>,
    theme: Theme,
) {
    let spinner = SPINNER[usize::try_from(app.tick % 4).unwrap_or(0)];
    let elapsed = progress.started.elapsed().as_secs();
    let headline = match finished {
        None if progress.interrupting => format!("{spinner} stopping after the call in flight"),
        None => format!("{spinner} running"),
        Some(Some(status)) => status.as_str().to_owned(),
        Some(None) => "failed to run".to_owned(),
    };
    let title = format!(
        " {} {} · {} · {} call(s) · {} ",
        if plan.dry_run { "Dry run" } else { "Run" },
        plan.playbook.name,
        headline,
        progress.calls,
        duration(i64::try_from(elapsed).unwrap_or(0).max(1)),
    );
    let rows = progress.rows.iter().map(|row| {
        let detail = match (
            row.status.as_str(),
            progress.in_flight.get(&row.instance_id),
        ) {
            ("running", Some(call)) => format!("{call}…"),
            _ => row.detail.clone(),
        };
        Row::new(vec![
            Line::from(if row.name.is_empty() {
                row.instance_id.clone()
            } else {
                row.name.clone()
            }),
            Line::from(format!("{}/{} {}", row.step, row.steps, row.step_name)),
            Line::from(Span::styled(row.status.clone(), theme.status(&row.status))),
            Line::from(detail),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(11),
            Constraint::Length(20),
            Constraint::Length(14),
            Constraint::Min(10),
        ],
    )
    .header(Row::new(["TARGET", "STEP", "STATUS", "DETAIL"]).style(theme.dim()))
    .block(block(title, theme));
    let rows_height = u16::try_from(progress.rows.len() + 2).unwrap_or(u16::MAX);
    let table_area = Rect {
        height: area.height.min(rows_height.max(3)),
        ..area
    };
    frame.render_widget(table, table_area);
    if let Some(status) = finished {
        let next = next_steps(plan, status);
        let below = Rect {
            y: table_area.bottom(),
            height: area.bottom().saturating_sub(table_area.bottom()),
            ..area
        };
        frame.render_widget(Paragraph::new(next).wrap(Wrap { trim: false }), below);
    }
}

fn next_steps(plan: &Plan, status: Option<RunStatus>) -> String {
    let resume = format!("breakglass resume {}", plan.run_id);
    let what = match status {
        Some(RunStatus::Succeeded) if plan.dry_run => {
            "Every step would succeed. Turn DRY RUN off (D) to run it for real.".to_owned()
        }
        Some(RunStatus::Succeeded) => "Done. The audit trail has every call (a: audit).".to_owned(),
        Some(RunStatus::Failed) if plan.dry_run => {
            "Some steps would fail: fix the role's permissions before the real incident.".to_owned()
        }
        Some(RunStatus::Failed | RunStatus::Interrupted) => {
            format!("Not finished. Fix the cause, then `{resume}`.")
        }
        Some(RunStatus::SignInNeeded) => {
            format!("The credentials expired: `breakglass login`, then `{resume}`.")
        }
        None => "The run could not start; see the message below.".to_owned(),
    };
    format!(
        "\n{what}\nRun id {} · Enter or Esc returns to the servers.",
        plan.run_id
    )
}

/// The confirmation box over the plan.
pub fn draw_overlay(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let Some(flow) = &app.flow else {
        return;
    };
    let (title, mut lines) = match &flow.step {
        FlowStep::AskIncident { playbook } => (
            " Incident id ".to_owned(),
            vec![
                Line::raw(format!(
                    "`{playbook}` will act for real on {}.",
                    target_names(app, flow)
                )),
                Line::raw("Every record and tag carries the incident id. Type it:"),
            ],
        ),
        FlowStep::Confirm { plan, need } => {
            let mut lines = vec![
                Line::from(Span::styled(
                    format!(
                        "LIVE: {} on {}",
                        plan.playbook.name,
                        target_names(app, flow)
                    ),
                    theme.error(),
                )),
                Line::raw(format!(
                    "incident {}",
                    plan.incident.clone().unwrap_or_default()
                )),
            ];
            lines.push(Line::raw(if need.is_empty() {
                "Press Enter to run it, Esc to go back.".to_owned()
            } else if plan.targets.len() > 1 {
                format!("It has destructive steps. Type the number of targets ({need}) to run it:")
            } else {
                format!("It has destructive steps. Type `{need}` to run it:")
            }));
            (" Confirm ".to_owned(), lines)
        }
        _ => return,
    };
    lines.push(Line::from(Span::styled(
        format!("> {}▏", flow.typed),
        theme.title(),
    )));
    let height = u16::try_from(lines.len() + 2).unwrap_or(8);
    let rect = centered(area, 70, height);
    frame.render_widget(Clear, rect);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(Block::bordered().title(Span::styled(title, theme.title()))),
        rect,
    );
}

pub fn hints(app: &App, keys: &Keymap) -> String {
    let k = |c: Command| keys.key_for(c);
    match app.flow.as_ref().map(|f| &f.step) {
        Some(FlowStep::Pick) => format!(
            "{} plan  {} dry run now  {} back  {} help",
            k(Command::Open),
            k(Command::DryRun),
            k(Command::Back),
            k(Command::Help)
        ),
        Some(FlowStep::Planned { plan }) if plan.dry_run => format!(
            "{} run the dry run  {} back",
            k(Command::Open),
            k(Command::Back)
        ),
        Some(FlowStep::Planned { .. }) => format!(
            "{} run LIVE (asks to confirm)  {} dry run  {} back",
            k(Command::Open),
            k(Command::DryRun),
            k(Command::Back)
        ),
        Some(FlowStep::Running { .. }) => "Ctrl-C stops between calls".to_owned(),
        Some(FlowStep::Done { .. }) => format!("{} back to the servers", k(Command::Open)),
        _ => String::new(),
    }
}
