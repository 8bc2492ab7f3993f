//! One server in full: network interfaces and their groups, Auto Scaling and target groups,
//! SSM agent, isolation, tags.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use super::super::app::App;
use super::super::theme::Theme;

pub fn draw(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let Some(s) = app.current() else {
        frame.render_widget(Paragraph::new("No server selected."), area);
        return;
    };
    let head = |t: &str| Line::from(Span::styled(t.to_owned(), theme.title()));
    let kv = |k: &str, v: String| {
        Line::from(vec![
            Span::styled(format!("  {k:<18}"), theme.dim()),
            Span::raw(v),
        ])
    };
    let mut lines = vec![
        kv("instance", s.instance_id.clone()),
        kv("name", s.name.clone().unwrap_or_else(|| "-".into())),
        kv("state", s.state.clone()),
        kv(
            "region / zone",
            format!(
                "{} / {}",
                s.region,
                s.availability_zone.clone().unwrap_or_default()
            ),
        ),
        kv("private ip", s.private_ip.clone().unwrap_or_default()),
        kv("vpc", s.vpc_id.clone().unwrap_or_default()),
        kv("platform", s.platform.clone()),
        kv("isolation", s.isolation.label().to_owned()),
        kv("incident", s.incident.clone().unwrap_or_else(|| "-".into())),
        Line::raw(""),
        head("SSM agent"),
        kv("ping", s.ssm.ping_status.clone()),
        Line::raw(""),
        head("Network interfaces"),
    ];
    for eni in &s.network_interfaces {
        let groups: Vec<String> = eni
            .groups
            .iter()
            .map(|g| format!("{} ({})", g.id, g.name))
            .collect();
        lines.push(kv(
            &format!("#{} {}", eni.device_index, eni.id),
            format!(
                "{}  groups: {}",
                eni.private_ip.clone().unwrap_or_default(),
                groups.join(", ")
            ),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(head("Volumes"));
    for volume in &s.volumes {
        lines.push(kv(
            &volume.device,
            format!(
                "{}{}",
                volume.volume_id,
                if volume.delete_on_termination {
                    "  (deleted on termination)"
                } else {
                    ""
                }
            ),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(head("Auto Scaling and load balancing"));
    match &s.auto_scaling_group {
        Some(asg) => lines.push(kv(
            "group",
            format!(
                "{} ({}{})",
                asg.name,
                asg.lifecycle_state,
                if asg.protected_from_scale_in {
                    ", protected from scale-in"
                } else {
                    ""
                }
            ),
        )),
        None => lines.push(kv("group", "-".into())),
    }
    lines.push(kv(
        "target groups",
        if s.target_groups.is_empty() {
            "-".into()
        } else {
            s.target_groups.join(", ")
        },
    ));
    lines.push(Line::raw(""));
    lines.push(head("Recent audit events"));
    let events: Vec<&String> = app
        .audit
        .iter()
        .flat_map(|a| a.runs.iter())
        .flat_map(|r| r.events.iter())
        .filter(|e| e.contains(&s.instance_id))
        .take(8)
        .collect();
    if events.is_empty() {
        lines.push(Line::from(Span::styled(
            "  none in this audit log",
            theme.dim(),
        )));
    }
    for event in events {
        lines.push(Line::raw(format!("  {event}")));
    }
    lines.push(Line::raw(""));
    lines.push(head("Tags"));
    for (k, v) in &s.tags {
        lines.push(kv(k, v.clone()));
    }
    let title = format!(
        " {} ",
        s.name.clone().unwrap_or_else(|| s.instance_id.clone())
    );
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((app.detail_scroll, 0))
            .block(
                Block::new()
                    .borders(Borders::TOP)
                    .title(Span::styled(title, theme.title())),
            ),
        area,
    );
}
