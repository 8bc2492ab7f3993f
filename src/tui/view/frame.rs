//! The whole frame: the status bar on top, the screen, the key hints or input line at the
//! bottom, and the toasts; the screens themselves are drawn by their own modules.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Clear, Paragraph};

use super::super::action::Command;
use super::super::app::{App, Input, Screen};
use super::super::keymap::Keymap;
use super::super::theme::Theme;
use super::{audit, detail, flow, help, servers, signin};

pub fn draw(frame: &mut Frame, app: &App, theme: Theme, keys: &Keymap) {
    let [top, body, bottom] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(1),
        Constraint::Length(1),
    ])
    .areas(frame.area());
    status_bar(frame, top, app, theme);
    match app.screen {
        Screen::Servers => servers::draw(frame, body, app, theme),
        Screen::Detail => detail::draw(frame, body, app, theme),
        Screen::Playbooks => flow::draw(frame, body, app, theme),
        Screen::Audit => audit::draw(frame, body, app, theme),
        Screen::SignIn => signin::draw(frame, body, app, theme),
    }
    frame.render_widget(footer(app, theme, keys), bottom);
    if app.screen == Screen::Playbooks {
        flow::draw_overlay(frame, body, app, theme);
    }
    toasts(frame, body, app, theme);
    if app.help {
        help::draw(frame, body, theme, keys);
    }
}

/// Seconds as `1h 05m`, `12m`, `40s`.
pub fn duration(seconds: i64) -> String {
    if seconds <= 0 {
        "expired".into()
    } else if seconds >= 3600 {
        format!("{}h {:02}m", seconds / 3600, (seconds % 3600) / 60)
    } else if seconds >= 60 {
        format!("{}m", seconds / 60)
    } else {
        format!("{seconds}s")
    }
}

/// The top line: who and where on the left, the banners always visible on the right.
/// The top line: who and where on the left, the banners always visible on the right. The
/// labelled form is used when it fits; otherwise labels and the product name go, so
/// everything still fits at 80 columns.
fn status_bar(frame: &mut Frame, area: Rect, app: &App, theme: Theme) {
    let wide_banners = banners(app, theme, false);
    let wide = identity_spans(app, theme, true);
    let width = |spans: &[Span]| spans.iter().map(Span::width).sum::<usize>();
    let (spans, banners) = if width(&wide) + width(&wide_banners) <= usize::from(area.width) {
        (wide, wide_banners)
    } else {
        (identity_spans(app, theme, false), banners(app, theme, true))
    };
    let banner_width = width(&banners);
    let [left, right] = Layout::horizontal([
        Constraint::Min(0),
        Constraint::Length(u16::try_from(banner_width).unwrap_or(0)),
    ])
    .areas(area);
    frame.render_widget(Paragraph::new(Line::from(spans)), left);
    frame.render_widget(Paragraph::new(Line::from(banners)), right);
}

fn identity_spans(app: &App, theme: Theme, labelled: bool) -> Vec<Span<'static>> {
    let label = |l: &'static str| if labelled { l } else { "" };
    let mut spans = Vec::new();
    let sep = || Span::styled(" │ ", theme.dim());
    if labelled {
        spans.push(Span::styled(" breakglass", theme.title()));
        spans.push(sep());
    }
    match &app.identity {
        Some(identity) => {
            spans.push(Span::raw(format!("{}{}", label("acct "), identity.account)));
            let role = identity
                .arn
                .split(":assumed-role/")
                .nth(1)
                .and_then(|r| r.split('/').next())
                .unwrap_or("-");
            spans.push(sep());
            spans.push(Span::raw(format!("{}{role}", label("role "))));
            if let Some(left) = identity.credentials_left {
                spans.push(sep());
                let style = if left < 600 {
                    theme.error()
                } else {
                    theme.dim()
                };
                spans.push(Span::styled(format!("creds {}", duration(left)), style));
            }
        }
        None => spans.push(Span::styled("signing in…", theme.dim())),
    }
    spans.push(sep());
    spans.push(Span::raw(app.regions.join(",")));
    spans.push(sep());
    spans.push(match &app.incident {
        Some(id) => Span::styled(format!("{}{id}", label("incident ")), theme.warn()),
        None => Span::styled("no incident", theme.dim()),
    });
    spans
}

fn banners(app: &App, theme: Theme, short: bool) -> Vec<Span<'static>> {
    let mut banners = Vec::new();
    if app.sandbox {
        let text = if short {
            " GAME DAY "
        } else {
            " GAME DAY / SANDBOX "
        };
        banners.push(Span::styled(text, theme.banner()));
    }
    if app.dry_run {
        banners.push(Span::raw(" "));
        banners.push(Span::styled(" DRY RUN ", theme.banner()));
    }
    banners
}

fn footer(app: &App, theme: Theme, keys: &Keymap) -> Paragraph<'static> {
    let line = match app.input {
        Input::Filter => Line::from(vec![
            Span::styled("/", theme.title()),
            Span::raw(format!("{}▏", app.filter)),
            Span::styled("  Enter keep · Esc clear", theme.dim()),
        ]),
        Input::Palette => Line::from(vec![
            Span::styled(":", theme.title()),
            Span::raw(format!("{}▏", app.palette)),
            Span::styled(
                "  servers · audit · run NAME · dry-run on|off · incident ID · quit",
                theme.dim(),
            ),
        ]),
        Input::Incident | Input::Confirm => {
            Line::from(Span::styled("type, then Enter · Esc cancels", theme.dim()))
        }
        Input::None => {
            let k = |c: Command| keys.key_for(c);
            let hints = match app.screen {
                Screen::Servers => format!(
                    "{} help  {} quit  {} mark  {} filter  {} details  {} playbooks  {} shell  {} audit  {} dry-run",
                    k(Command::Help),
                    k(Command::Quit),
                    k(Command::Mark),
                    k(Command::Filter),
                    k(Command::Open),
                    k(Command::Playbooks),
                    k(Command::Session),
                    k(Command::Audit),
                    k(Command::ToggleDryRun),
                ),
                Screen::Detail => format!(
                    "{} back  {} playbooks  {} shell  {} help",
                    k(Command::Back),
                    k(Command::Playbooks),
                    k(Command::Session),
                    k(Command::Help)
                ),
                Screen::Playbooks => flow::hints(app, keys),
                Screen::SignIn => {
                    "Enter sign in (browser)  d device code  Esc cancel  q quit".to_owned()
                }
                Screen::Audit => format!(
                    "{} open  {} back  {} reload  {} help",
                    k(Command::Open),
                    k(Command::Back),
                    k(Command::Refresh),
                    k(Command::Help)
                ),
            };
            Line::from(Span::styled(hints, theme.dim()))
        }
    };
    Paragraph::new(line)
}

fn toasts(frame: &mut Frame, body: Rect, app: &App, theme: Theme) {
    for (i, toast) in app.toasts.iter().rev().enumerate() {
        let width = u16::try_from(toast.text.chars().count() + 2)
            .unwrap_or(u16::MAX)
            .min(body.width);
        let y = body
            .bottom()
            .saturating_sub(1 + u16::try_from(i).unwrap_or(0));
        if y < body.y {
            break;
        }
        let area = Rect::new(body.right().saturating_sub(width), y, width, 1);
        frame.render_widget(Clear, area);
        let style = if toast.error {
            theme.error()
        } else {
            theme.ok()
        };
        frame.render_widget(
            Paragraph::new(Span::styled(format!(" {} ", toast.text), style)),
            area,
        );
    }
}

/// A centred box of at most `width`×`height` inside `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
