//! Colours and emphasis, in one place; with `NO_COLOR` set every style is plain (bold and
//! reverse video stay, so the cursor and banners remain visible).

use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    color: bool,
}

impl Theme {
    /// Honours `NO_COLOR` (any non-empty value).
    pub fn from_env() -> Theme {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    pub fn plain() -> Theme {
        Theme { color: false }
    }

    fn fg(self, color: Color) -> Style {
        if self.color {
            Style::new().fg(color)
        } else {
            Style::new()
        }
    }

    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    pub fn dim(self) -> Style {
        if self.color {
            Style::new().fg(Color::DarkGray)
        } else {
            Style::new()
        }
    }

    pub fn cursor(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    pub fn banner(self) -> Style {
        if self.color {
            Style::new()
                .bg(Color::Yellow)
                .fg(Color::Black)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
        }
    }

    pub fn error(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    pub fn ok(self) -> Style {
        self.fg(Color::Green)
    }

    pub fn warn(self) -> Style {
        self.fg(Color::Yellow)
    }

    /// A status word (`Online`, `isolated`, `failed`, …) coloured by what it means.
    pub fn status(self, word: &str) -> Style {
        match word {
            "Online" | "running" | "succeeded" | "already_done" | "would_succeed" => self.ok(),
            "isolated" | "ConnectionLost" | "not_verifiable" | "stopping" | "pending"
            | "skipped" | "interrupted" => self.warn(),
            "failed" | "would_fail" | "Inactive" | "stopped" | "terminated" | "sign_in_needed" => {
                self.error()
            }
            _ => Style::new(),
        }
    }
}
